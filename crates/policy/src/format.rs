//! Policy files: the raw YAML shapes of every accepted format, and their translation into [`Rule`]s.
//!
//! One file may hold any of these top-level keys (anything else is an error):
//! - `rules:` — Warden's format ([`warden`]);
//! - `policies:` as a mapping with `policies:` inside — the zta-agent file of seed 004 ([`zta`]);
//! - `policies:` as a list — the 371OS policy of seed 000 ([`os371`]);
//! - `roles:`, or `security: {access_control: {roles: …}}` as seed 001 writes it — role tables ([`roles`]);
//! - `auth:` — zta-agent's authentication settings, accepted and ignored here (they configure login,
//!   not policy). Likewise the other keys under `security:` (credential rotation, audit).

mod os371;
mod raw;
mod roles;
mod warden;
mod zta;

use serde_saphyr::Spanned;

use crate::error::LoadError;
use crate::roles::Role;
use crate::rule::{Format, Origin};
use crate::{Pattern, Rule};
use raw::{RawFile, RawPolicies};

/// What one file contributes to a policy set.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub rules: Vec<Rule>,
    pub roles: Vec<(Role, Origin)>,
}

/// A place to collect errors while translating one file.
pub(crate) struct Sink<'a> {
    pub file: &'a str,
    pub errors: Vec<LoadError>,
}

impl Sink<'_> {
    pub fn error(&mut self, line: Option<u64>, rule: Option<&str>, message: impl Into<String>) {
        self.errors.push(LoadError {
            file: self.file.to_owned(),
            line,
            rule: rule.map(str::to_owned),
            message: message.into(),
        });
    }

    pub fn origin(&self, line: u64, format: Format) -> Origin {
        Origin {
            file: self.file.to_owned(),
            line: Some(line),
            format,
        }
    }
}

/// Parses one YAML policy file. Every error found is reported, not just the first; the rules that did
/// translate come back too, so set-wide checks (duplicate names) can report against them.
pub(crate) fn parse_file(file: &str, text: &str) -> (Parsed, Vec<LoadError>) {
    let raw: RawFile = match serde_saphyr::from_str(text) {
        Ok(raw) => raw,
        Err(error) => {
            let line = error.location().map(|l| l.line());
            let error = LoadError {
                file: file.to_owned(),
                line,
                rule: None,
                message: error.to_string(),
            };
            return (Parsed::default(), vec![error]);
        }
    };
    let mut sink = Sink {
        file,
        errors: Vec::new(),
    };
    let mut parsed = Parsed::default();
    if let Some(rules) = raw.rules {
        warden::translate(rules, &mut sink, &mut parsed);
    }
    match raw.policies {
        Some(RawPolicies::Zta(file)) => zta::translate(file.policies, &mut sink, &mut parsed),
        Some(RawPolicies::Os371(policies)) => os371::translate(policies, &mut sink, &mut parsed),
        None => {}
    }
    let mut role_lists = Vec::new();
    role_lists.extend(raw.roles);
    role_lists.extend(raw.security.and_then(|s| s.access_control).map(|a| a.roles));
    for roles in role_lists {
        roles::translate(roles, &mut sink, &mut parsed);
    }
    (parsed, sink.errors)
}

/// Compiles a list of patterns, reporting each bad one.
pub(crate) fn patterns(texts: &[String], sink: &mut Sink<'_>, line: u64, rule: &str, field: &str) -> Vec<Pattern> {
    if texts.is_empty() {
        sink.error(Some(line), Some(rule), format!("`{field}` cannot be empty"));
    }
    texts
        .iter()
        .filter_map(|text| match Pattern::parse(text) {
            Ok(pattern) => Some(pattern),
            Err(message) => {
                sink.error(Some(line), Some(rule), format!("`{field}`: {message}"));
                None
            }
        })
        .collect()
}

pub(crate) fn line_of<T>(spanned: &Spanned<T>) -> u64 {
    spanned.referenced.line()
}
