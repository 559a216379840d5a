//! The scenario in each engine's own terms: Warden's YAML and `Request`, Cedar's policy text, `Request`
//! and entities.
//!
//! Where the two engines' semantics differ, the Cedar text spells out Warden's meaning:
//! - a rule pinned to an agent is a Warden condition `principal.agent_id eq …` and a Cedar
//!   `principal == Agent::"…"` scope;
//! - `prefix/**` (any depth) is Cedar's `resource.path like "prefix/*"` (Cedar's `*` crosses `/`);
//! - Warden's deny rule whose condition reads an attribute the request lacks matches (fail closed), and
//!   its allow rule does not; in Cedar a missing attribute is an error that drops the policy, so a
//!   forbid reads `!(context has a) || …` and a permit `context has a && …`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

use anyhow::Context as _;
use cedar_policy::{Context, Entities, Entity, EntityUid, RestrictedExpression};
use serde_json::{Map, Value};
use warden_core::Timestamp;
use warden_policy::{PrincipalStatus, Request, Subject};

use super::scenario::{Cond, Effect, RequestSpec, Resources, RuleSpec, Test, agent_id};

/// Monday 2026-11-23 00:00:00 UTC; requests fall in the week after it.
const BASE: i64 = 1_795_392_000;

pub fn warden_yaml(rules: &[RuleSpec]) -> String {
    let mut out = String::from("rules:\n");
    for rule in rules {
        let effect = match rule.effect {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        };
        let _ = writeln!(out, "  - name: {}\n    effect: {effect}", rule.name);
        let _ = writeln!(out, "    actions: [\"{}\"]", rule.action.unwrap_or("*"));
        match &rule.resources {
            Resources::Any => {}
            Resources::Exact(name) => {
                let _ = writeln!(out, "    resources: [\"{name}\"]");
            }
            Resources::Under(prefix) => {
                let _ = writeln!(out, "    resources: [\"{prefix}**\"]");
            }
        }
        let mut tests = Vec::new();
        if let Some(agent) = rule.agent {
            tests.push(format!(
                "{{path: principal.agent_id, op: eq, value: \"{}\"}}",
                agent_id(agent)
            ));
        }
        if let Some(cond) = rule.condition {
            tests.push(warden_condition(cond));
        }
        if !tests.is_empty() {
            out.push_str("    conditions:\n      all:\n");
            for test in tests {
                let _ = writeln!(out, "        - {test}");
            }
        }
    }
    out
}

fn warden_condition(cond: Cond) -> String {
    let test = match cond.test {
        Test::RiskBelow(n) => format!("{{path: context.risk_score, op: lt, value: {n}}}"),
        Test::RiskAbove(n) => format!("{{path: context.risk_score, op: gt, value: {n}}}"),
        Test::IpIn(net) => format!("{{path: context.ip, op: cidr, value: \"{net}\"}}"),
        Test::Hours(start, end) => format!("{{time: {{start: \"{start:02}:00\", end: \"{end:02}:00\"}}}}"),
    };
    if cond.negated { format!("{{not: {test}}}") } else { test }
}

pub fn cedar_text(rules: &[RuleSpec]) -> String {
    let mut out = String::new();
    for rule in rules {
        let effect = match rule.effect {
            Effect::Allow => "permit",
            Effect::Deny => "forbid",
        };
        let principal = rule.agent.map_or("principal".to_owned(), |a| {
            format!("principal == Agent::\"{}\"", agent_id(a))
        });
        let action = rule
            .action
            .map_or("action".to_owned(), |a| format!("action == Action::\"{a}\""));
        let mut when = Vec::new();
        let resource = match &rule.resources {
            Resources::Any => "resource".to_owned(),
            Resources::Exact(name) => format!("resource == Resource::\"{name}\""),
            Resources::Under(prefix) => {
                when.push(format!("resource.path like \"{prefix}*\""));
                "resource".to_owned()
            }
        };
        if let Some(cond) = rule.condition {
            when.push(cedar_condition(cond, rule.effect));
        }
        let _ = write!(
            out,
            "@id(\"{}\")\n{effect} ({principal}, {action}, {resource})",
            rule.name
        );
        if !when.is_empty() {
            let _ = write!(out, "\nwhen {{ {} }}", when.join(" && "));
        }
        out.push_str(";\n\n");
    }
    out
}

fn cedar_condition(cond: Cond, effect: Effect) -> String {
    let test = match cond.test {
        Test::RiskBelow(n) => format!("context.risk_score < {n}"),
        Test::RiskAbove(n) => format!("context.risk_score > {n}"),
        Test::IpIn(net) => format!("context.ip.isInRange(ip(\"{net}\"))"),
        Test::Hours(start, end) => {
            format!("(context.now.toTime() >= duration(\"{start}h\") && context.now.toTime() < duration(\"{end}h\"))")
        }
    };
    let test = if cond.negated { format!("!({test})") } else { test };
    match (cond.test.attribute(), effect) {
        (None, _) => test,
        (Some(attribute), Effect::Allow) => format!("(context has {attribute} && {test})"),
        (Some(attribute), Effect::Deny) => format!("(!(context has {attribute}) || {test})"),
    }
}

pub fn warden_request(spec: &RequestSpec) -> Request {
    let mut context = Map::new();
    if let Some(risk) = spec.risk_score {
        context.insert("risk_score".into(), Value::from(risk));
    }
    if let Some(ip) = &spec.ip {
        context.insert("ip".into(), Value::from(ip.clone()));
    }
    Request {
        principal: Subject {
            agent_id: agent_id(spec.agent),
            name: agent_id(spec.agent),
            roles: Vec::new(),
            capabilities: Vec::new(),
            scopes: None,
            tier: None,
            status: PrincipalStatus::Active,
            attributes: Map::new(),
        },
        action: spec.action.to_owned(),
        resource: spec.resource.clone(),
        resource_attributes: Map::new(),
        context,
        findings: Map::new(),
        now: Timestamp::from_unix(BASE + i64::from(spec.offset)),
    }
}

/// Cedar's request and the entities it is judged with (the resource, carrying its `path`).
pub fn cedar_request(spec: &RequestSpec) -> anyhow::Result<(cedar_policy::Request, Entities)> {
    let uid = |kind: &str, id: &str| EntityUid::from_str(&format!("{kind}::\"{id}\"")).context("entity uid");
    let principal = uid("Agent", &agent_id(spec.agent))?;
    let action = uid("Action", spec.action)?;
    let resource = uid("Resource", &spec.resource)?;
    let mut pairs = vec![(
        "now".to_owned(),
        RestrictedExpression::new_datetime(Timestamp::from_unix(BASE + i64::from(spec.offset)).rfc3339()),
    )];
    if let Some(risk) = spec.risk_score {
        pairs.push(("risk_score".to_owned(), RestrictedExpression::new_long(risk)));
    }
    if let Some(ip) = &spec.ip {
        pairs.push(("ip".to_owned(), RestrictedExpression::new_ip(ip)));
    }
    let context = Context::from_pairs(pairs)?;
    let attrs = HashMap::from([(
        "path".to_owned(),
        RestrictedExpression::new_string(spec.resource.clone()),
    )]);
    let entities = Entities::from_entities([Entity::new(resource.clone(), attrs, HashSet::new())?], None)?;
    let request = cedar_policy::Request::new(principal, action, resource, context, None)?;
    Ok((request, entities))
}
