//! Dotted attribute paths (`principal.roles`, `context.ip`, `findings.pii`) and reading them from a
//! request. A path is checked when the policy loads, so a typo is a load error, not a silent miss.

use std::fmt;

use serde_json::{Map, Value};

use crate::Request;

/// Where a condition looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Path {
    PrincipalId,
    PrincipalName,
    /// The principal's roles with everything they inherit.
    PrincipalRoles,
    PrincipalCapabilities,
    PrincipalScopes,
    PrincipalTier,
    PrincipalStatus,
    PrincipalAttribute(Vec<String>),
    Action,
    Resource,
    ResourceAttribute(Vec<String>),
    Context(Vec<String>),
    Findings(Vec<String>),
}

/// A value read from a request, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attr<'a> {
    Str(&'a str),
    Strs(&'a [String]),
    Json(&'a Value),
}

impl<'a> Attr<'a> {
    /// JSON strings become `Str`, so operators handle text one way whatever its source.
    fn from_json(value: &'a Value) -> Attr<'a> {
        match value {
            Value::String(s) => Attr::Str(s),
            other => Attr::Json(other),
        }
    }
}

/// A request plus what the engine derived from it once (the expanded roles).
#[derive(Debug)]
pub(crate) struct Facts<'a> {
    pub request: &'a Request,
    pub roles: &'a [String],
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, String> {
        let mut parts = text.split('.');
        let root = parts.next().unwrap_or("");
        let rest: Vec<String> = parts.map(str::to_owned).collect();
        if rest.iter().any(String::is_empty) {
            return Err(format!("path `{text}` has an empty segment"));
        }
        let path = match (root, rest.as_slice()) {
            ("action", []) => Path::Action,
            ("resource", []) => Path::Resource,
            ("resource", [id]) if id == "id" => Path::Resource,
            ("resource", _) => Path::ResourceAttribute(rest),
            ("context", [_, ..]) => Path::Context(rest),
            ("findings", [_, ..]) => Path::Findings(rest),
            ("principal", [field]) => match field.as_str() {
                "agent_id" | "id" => Path::PrincipalId,
                "name" => Path::PrincipalName,
                "roles" => Path::PrincipalRoles,
                "capabilities" => Path::PrincipalCapabilities,
                "scopes" => Path::PrincipalScopes,
                "tier" => Path::PrincipalTier,
                "status" => Path::PrincipalStatus,
                other => {
                    return Err(format!(
                        "`principal.{other}` is not a principal attribute (agent_id, name, roles, capabilities, \
                         scopes, tier, status); custom ones are under `principal.attributes.{other}`"
                    ));
                }
            },
            ("principal", [first, _, ..]) if first == "attributes" => Path::PrincipalAttribute(rest[1..].to_vec()),
            _ => {
                return Err(format!(
                    "path `{text}` must start with principal, action, resource, context or findings \
                     (context and findings need a key, as in `context.ip`)"
                ));
            }
        };
        Ok(path)
    }

    /// Reads the attribute, or `None` when the request lacks it.
    pub(crate) fn read<'a>(&self, facts: &Facts<'a>) -> Option<Attr<'a>> {
        let request = facts.request;
        let principal = &request.principal;
        match self {
            Path::PrincipalId => Some(Attr::Str(&principal.agent_id)),
            Path::PrincipalName => Some(Attr::Str(&principal.name)),
            Path::PrincipalRoles => Some(Attr::Strs(facts.roles)),
            Path::PrincipalCapabilities => Some(Attr::Strs(&principal.capabilities)),
            Path::PrincipalScopes => principal.scopes.as_deref().map(Attr::Strs),
            Path::PrincipalTier => principal.tier.as_deref().map(Attr::Str),
            Path::PrincipalStatus => Some(Attr::Str(principal.status.as_str())),
            Path::PrincipalAttribute(keys) => nested(&principal.attributes, keys).map(Attr::from_json),
            Path::Action => Some(Attr::Str(&request.action)),
            Path::Resource => Some(Attr::Str(&request.resource)),
            Path::ResourceAttribute(keys) => nested(&request.resource_attributes, keys).map(Attr::from_json),
            Path::Context(keys) => nested(&request.context, keys).map(Attr::from_json),
            Path::Findings(keys) => nested(&request.findings, keys).map(Attr::from_json),
        }
    }
}

/// A JSON `null` counts as absent: a caller sending `"mfa": null` has not said MFA happened.
fn nested<'a>(map: &'a Map<String, Value>, keys: &[String]) -> Option<&'a Value> {
    let (first, rest) = keys.split_first()?;
    let mut value = map.get(first)?;
    for key in rest {
        value = value.as_object()?.get(key)?;
    }
    (!value.is_null()).then_some(value)
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, keys): (&str, &[String]) = match self {
            Path::PrincipalId => ("principal.agent_id", &[]),
            Path::PrincipalName => ("principal.name", &[]),
            Path::PrincipalRoles => ("principal.roles", &[]),
            Path::PrincipalCapabilities => ("principal.capabilities", &[]),
            Path::PrincipalScopes => ("principal.scopes", &[]),
            Path::PrincipalTier => ("principal.tier", &[]),
            Path::PrincipalStatus => ("principal.status", &[]),
            Path::PrincipalAttribute(keys) => ("principal.attributes", keys),
            Path::Action => ("action", &[]),
            Path::Resource => ("resource", &[]),
            Path::ResourceAttribute(keys) => ("resource", keys),
            Path::Context(keys) => ("context", keys),
            Path::Findings(keys) => ("findings", keys),
        };
        f.write_str(head)?;
        for key in keys {
            write!(f, ".{key}")?;
        }
        Ok(())
    }
}
