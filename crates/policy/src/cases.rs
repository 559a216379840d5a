//! Policy test cases as data: a YAML file of requests, each with the decision expected of it, and the
//! check of a [`PolicySet`] against them. The engine's own corpus (`tests/cases/*.yaml`) and
//! `warden policy test` both run through here, so a case means the same thing in either place.
//!
//! A case file:
//!
//! ```yaml
//! fixtures: [warden_example.yaml]   # the corpus only: policy files, resolved by the caller
//! policy: |                         # the corpus only: inline policy YAML
//!   rules: [...]
//! cases:
//!   - name: operator reads a prod secret   # required
//!     principal: {name: ops, roles: [operator], capabilities: [secrets]}
//!     action: "secret:read"                # required
//!     resource: "secret:prod/db/password"  # default `operation`
//!     context: {ip: 10.1.2.3, mfa: true}   # also resource_attributes, findings
//!     now: "2026-11-16T10:00:00Z"          # RFC 3339; default Monday 2026-11-16 12:00 UTC
//!     grants: [{id: g1, agent_id: ops, action: "secret:read", resource: "secret:prod/x", expires_at: 1794834000}]
//!     expect: allow                        # required: allow | deny
//!     rule: read-prod-secrets-from-the-office   # the deciding rule, `none` for none
//!     basis: rule        # inactive | rule | grant | no_match | outside_scopes
//!     missing: []        # the missing attributes, in order
//!     obligations: {audit_logging: true}
//! ```
//!
//! Only `expect` is always checked; `rule`, `basis`, `missing` and `obligations` are checked when given.
//! This module reads no file: a case file's `fixtures` are names the caller resolves.

use std::fmt;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use serde_saphyr::Spanned;
use warden_core::Timestamp;

use crate::{Basis, Decision, Effect, Grant, PolicySet, PrincipalStatus, Request, Subject};

/// The instant a case is judged at unless it says otherwise: Monday 2026-11-16 12:00 UTC.
pub const DEFAULT_NOW: Timestamp = Timestamp::from_unix(1_794_830_400);

/// A parsed case file.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFile {
    /// Policy files the cases are written against, by name; resolving them is the caller's job.
    pub fixtures: Vec<String>,
    /// Inline policy YAML, loaded after the fixtures.
    pub policy: Option<String>,
    pub cases: Vec<Case>,
}

/// A case file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CaseFileError {
    /// 1-based, when the YAML parser tells it.
    pub line: Option<u64>,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCaseFile {
    #[serde(default)]
    fixtures: Vec<String>,
    #[serde(default)]
    policy: Option<String>,
    cases: Vec<Spanned<Case>>,
}

impl CaseFile {
    /// Parses a case file; unknown keys, a bad `now` or an unknown `basis` are errors with a line.
    pub fn from_yaml(text: &str) -> Result<CaseFile, CaseFileError> {
        let raw: RawCaseFile = serde_saphyr::from_str(text).map_err(|error| CaseFileError {
            line: error.location().map(|l| l.line()),
            message: error.to_string(),
        })?;
        let cases = raw
            .cases
            .into_iter()
            .map(|spanned| Case {
                line: Some(spanned.referenced.line()),
                ..spanned.value
            })
            .collect();
        Ok(CaseFile {
            fixtures: raw.fixtures,
            policy: raw.policy,
            cases,
        })
    }
}

/// One request and what the policy set should answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// Where the case starts in its file, when it was read by [`CaseFile::from_yaml`].
    #[serde(skip)]
    pub line: Option<u64>,
    pub principal: CasePrincipal,
    pub action: String,
    #[serde(default = "default_resource")]
    pub resource: String,
    #[serde(default)]
    pub resource_attributes: Map<String, Value>,
    #[serde(default)]
    pub context: Map<String, Value>,
    #[serde(default)]
    pub findings: Map<String, Value>,
    #[serde(default = "default_now", deserialize_with = "rfc3339")]
    pub now: Timestamp,
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// The decision expected.
    pub expect: Effect,
    /// The deciding rule expected; `none` means no rule decided. `None`: not checked.
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub basis: Option<BasisKind>,
    #[serde(default)]
    pub missing: Option<Vec<String>>,
    #[serde(default)]
    pub obligations: Option<Map<String, Value>>,
}

/// The caller in a case; only `name` is required.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasePrincipal {
    pub name: String,
    /// Defaults to `name`.
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Present: the caller holds a passport with these scopes.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub tier: Option<String>,
    /// Defaults to `active`.
    #[serde(default)]
    pub status: Option<PrincipalStatus>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

fn default_resource() -> String {
    "operation".to_owned()
}

fn default_now() -> Timestamp {
    DEFAULT_NOW
}

fn rfc3339<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(deserializer)?;
    Timestamp::parse_rfc3339(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("`now`: `{text}` is not an RFC 3339 timestamp")))
}

/// [`Basis`] without its detail, as a case names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BasisKind {
    Inactive,
    Rule,
    Grant,
    NoMatch,
    OutsideScopes,
}

impl BasisKind {
    pub fn of(basis: &Basis) -> BasisKind {
        match basis {
            Basis::Inactive { .. } => BasisKind::Inactive,
            Basis::Rule => BasisKind::Rule,
            Basis::Grant { .. } => BasisKind::Grant,
            Basis::NoMatch => BasisKind::NoMatch,
            Basis::OutsideScopes => BasisKind::OutsideScopes,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BasisKind::Inactive => "inactive",
            BasisKind::Rule => "rule",
            BasisKind::Grant => "grant",
            BasisKind::NoMatch => "no_match",
            BasisKind::OutsideScopes => "outside_scopes",
        }
    }
}

impl Case {
    /// The question this case asks, and the grants the caller holds.
    pub fn to_request(&self) -> (Request, Vec<Grant>) {
        let p = &self.principal;
        let request = Request {
            principal: Subject {
                agent_id: p.agent_id.clone().unwrap_or_else(|| p.name.clone()),
                name: p.name.clone(),
                roles: p.roles.clone(),
                capabilities: p.capabilities.clone(),
                scopes: p.scopes.clone(),
                tier: p.tier.clone(),
                status: p.status.unwrap_or(PrincipalStatus::Active),
                attributes: p.attributes.clone(),
            },
            action: self.action.clone(),
            resource: self.resource.clone(),
            resource_attributes: self.resource_attributes.clone(),
            context: self.context.clone(),
            findings: self.findings.clone(),
            now: self.now,
        };
        (request, self.grants.clone())
    }

    /// What the case expects of `field`, rendered as [`Field::actual`] renders the answer; `None` when
    /// the case does not check it.
    pub fn expected(&self, field: Field) -> Option<String> {
        match field {
            Field::Decision => Some(self.expect.as_str().to_owned()),
            Field::Rule => self.rule.clone(),
            Field::Basis => self.basis.map(|b| b.as_str().to_owned()),
            Field::Missing => self.missing.as_deref().map(render_list),
            Field::Obligations => self.obligations.as_ref().map(render_map),
        }
    }

    fn matches(&self, field: Field, decision: &Decision) -> bool {
        match field {
            Field::Decision => self.expect == decision.decision,
            Field::Rule => self
                .rule
                .as_deref()
                .is_none_or(|rule| rule == decision.deciding_rule.as_deref().unwrap_or(NO_RULE)),
            Field::Basis => self.basis.is_none_or(|b| b == BasisKind::of(&decision.basis)),
            Field::Missing => self.missing.as_ref().is_none_or(|m| m == &decision.missing_attributes),
            Field::Obligations => self.obligations.as_ref().is_none_or(|o| o == &decision.obligations),
        }
    }
}

/// How a case and a decision name "no rule decided".
const NO_RULE: &str = "none";

/// A part of a decision a case can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Decision,
    Rule,
    Basis,
    Missing,
    Obligations,
}

impl Field {
    /// Every field, in the order reports list them.
    pub const ALL: [Field; 5] = [
        Field::Decision,
        Field::Rule,
        Field::Basis,
        Field::Missing,
        Field::Obligations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Decision => "decision",
            Field::Rule => "rule",
            Field::Basis => "basis",
            Field::Missing => "missing",
            Field::Obligations => "obligations",
        }
    }

    /// The decision's value for this field, rendered for a report.
    pub fn actual(self, decision: &Decision) -> String {
        match self {
            Field::Decision => decision.decision.as_str().to_owned(),
            Field::Rule => decision.deciding_rule.as_deref().unwrap_or(NO_RULE).to_owned(),
            Field::Basis => BasisKind::of(&decision.basis).as_str().to_owned(),
            Field::Missing => render_list(&decision.missing_attributes),
            Field::Obligations => render_map(&decision.obligations),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn render_list(items: &[String]) -> String {
    Value::from(items.to_vec()).to_string()
}

fn render_map(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

/// One field of one case that the policy set answered differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub case: String,
    pub field: Field,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "case `{}`: {}: expected {}, got {}",
            self.case, self.field, self.expected, self.actual
        )
    }
}

/// One case run: the decision (with its trace) and every field that differs from the expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseReport {
    pub decision: Decision,
    pub mismatches: Vec<Mismatch>,
}

impl CaseReport {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Runs one case through [`PolicySet::explain`] and compares every field the case checks.
pub fn check(set: &PolicySet, case: &Case) -> CaseReport {
    let (request, grants) = case.to_request();
    let decision = set.explain(&request, &grants);
    let mismatches = Field::ALL
        .into_iter()
        .filter(|&field| !case.matches(field, &decision))
        .map(|field| Mismatch {
            case: case.name.clone(),
            field,
            expected: case.expected(field).unwrap_or_default(),
            actual: field.actual(&decision),
        })
        .collect();
    CaseReport { decision, mismatches }
}

/// Runs every case of `file` against `set` (whatever policy the file names: the caller loaded `set`)
/// and returns every mismatch, in case order.
pub fn run(set: &PolicySet, file: &CaseFile) -> Vec<Mismatch> {
    file.cases.iter().flat_map(|case| check(set, case).mismatches).collect()
}

#[cfg(test)]
mod tests;
