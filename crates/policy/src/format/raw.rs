//! The YAML shapes as written, before any meaning is attached. Unknown keys are errors everywhere
//! except inside `auth:` and beside `access_control:` under `security:`, which configure other parts of
//! the system.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use serde_saphyr::Spanned;
use warden_core::Seconds;

use crate::Effect;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    #[expect(dead_code, reason = "zta-agent's login settings are accepted and ignored by policy")]
    pub auth: Option<IgnoredAny>,
    #[serde(default)]
    pub security: Option<RawSecurity>,
    #[serde(default)]
    pub roles: Option<Vec<Spanned<RawRole>>>,
    #[serde(default)]
    pub rules: Option<Vec<Spanned<RawRule>>>,
    #[serde(default)]
    pub policies: Option<RawPolicies>,
}

/// Seed 001's `security:` block; only `access_control` concerns policy.
#[derive(Debug, Deserialize)]
pub(crate) struct RawSecurity {
    #[serde(default)]
    pub access_control: Option<RawAccessControl>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccessControl {
    pub roles: Vec<Spanned<RawRole>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRole {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub permissions: Vec<String>,
    #[serde(default)]
    pub inherits: Vec<String>,
}

/// `policies:` is a mapping in the zta-agent file and a list in the 371OS file.
#[derive(Debug)]
pub(crate) enum RawPolicies {
    Zta(RawZtaFile),
    Os371(Vec<Spanned<RawOsPolicy>>),
}

impl<'de> Deserialize<'de> for RawPolicies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PoliciesVisitor;
        impl<'de> Visitor<'de> for PoliciesVisitor {
            type Value = RawPolicies;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of policies (371OS) or a mapping with `policies:` inside (zta-agent)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RawPolicies, A::Error> {
                Deserialize::deserialize(SeqAccessDeserializer::new(seq)).map(RawPolicies::Os371)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawPolicies, A::Error> {
                Deserialize::deserialize(MapAccessDeserializer::new(map)).map(RawPolicies::Zta)
            }
        }
        deserializer.deserialize_any(PoliciesVisitor)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawZtaFile {
    pub policies: Vec<Spanned<RawZtaPolicy>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawZtaPolicy {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// attribute → operator → operand; every test must hold.
    #[serde(default)]
    pub conditions: BTreeMap<String, BTreeMap<String, Value>>,
    pub effect: Effect,
    #[serde(default)]
    pub priority: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOsPolicy {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub conditions: Option<RawOsConditions>,
    pub actions: Vec<String>,
    #[serde(default)]
    pub enforcement: Option<RawEnforcement>,
    /// Warden extensions; the seed format has neither (its policies allow, at priority 0).
    #[serde(default)]
    pub effect: Option<Effect>,
    #[serde(default)]
    pub priority: i64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOsConditions {
    #[serde(default)]
    pub agent_role: Option<OneOrMany>,
    #[serde(default)]
    pub time_of_day: Option<RawTimeOfDay>,
    #[serde(default)]
    pub day_of_week: Option<Vec<u8>>,
    /// Warden extension: the zone `time_of_day` and `day_of_week` are read in (UTC by default).
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTimeOfDay {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnforcement {
    #[serde(default)]
    pub mfa_required: Option<bool>,
    #[serde(default)]
    pub session_duration: Option<Seconds>,
    #[serde(default)]
    pub audit_logging: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub effect: Effect,
    #[serde(default)]
    pub priority: i64,
    pub actions: OneOrMany,
    #[serde(default)]
    pub resources: Option<OneOrMany>,
    #[serde(default)]
    pub conditions: Option<RawCondition>,
    #[serde(default)]
    pub require_capabilities: Vec<String>,
    #[serde(default)]
    pub obligations: Map<String, Value>,
}

/// One node of a condition tree; exactly one shape must be used.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    #[serde(default)]
    pub all: Option<Vec<RawCondition>>,
    #[serde(default)]
    pub any: Option<Vec<RawCondition>>,
    #[serde(default)]
    pub not: Option<Box<RawCondition>>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub op: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub time: Option<RawTime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTime {
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
    #[serde(default)]
    pub days: Option<Vec<u8>>,
    #[serde(default)]
    pub timezone: Option<String>,
}
