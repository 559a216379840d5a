//! The canonical form of a policy set and its SHA-256: two sets that decide alike hash alike, whatever
//! file, order or format they were written in, as far as the rule model can tell.

use std::fmt::Write as _;

use aws_lc_rs::digest;
use serde::Serialize;
use serde_json::Value;

use crate::Rule;
use crate::roles::RoleTable;

/// SHA-256 over the canonical form of a policy set, in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PolicyHash(String);

impl PolicyHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PolicyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `rules` must already be in canonical (name) order.
pub(crate) fn policy_hash(rules: &[Rule], roles: &RoleTable) -> PolicyHash {
    let mut text = String::from("warden-policy-set v1\n");
    for rule in rules {
        write_rule(&mut text, rule);
    }
    roles.write_canonical(&mut text);
    let digest = digest::digest(&digest::SHA256, text.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest.as_ref() {
        let _ = write!(hex, "{byte:02x}");
    }
    PolicyHash(hex)
}

fn write_rule(out: &mut String, rule: &Rule) {
    let sorted = |items: Vec<String>| {
        let mut items = items;
        items.sort();
        items.dedup();
        items.join(" ")
    };
    let _ = writeln!(out, "rule {}", canonical_json(&Value::String(rule.name.clone())));
    let _ = writeln!(out, " effect {} priority {}", rule.effect, rule.priority);
    let _ = writeln!(
        out,
        " actions {}",
        sorted(rule.actions.iter().map(|p| p.canonical()).collect())
    );
    let _ = writeln!(
        out,
        " resources {}",
        sorted(rule.resources.iter().map(|p| p.canonical()).collect())
    );
    let _ = writeln!(out, " capabilities {}", sorted(rule.require_capabilities.clone()));
    if let Some(condition) = &rule.condition {
        let _ = writeln!(out, " when {condition}");
    }
    let _ = writeln!(
        out,
        " obligations {}",
        canonical_json(&Value::Object(rule.obligations.clone()))
    );
}

/// JSON with object keys sorted, whatever map order serde_json was built with.
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, value);
    out
}

fn write_json(out: &mut String, value: &Value) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(item) = map.get(key) {
                    write_json(out, item);
                }
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}
