//! The zta-agent file (seed 004): `policies: {policies: [{name, conditions, effect, priority}]}` where
//! each condition is `attribute: {operator: operand, …}` and every test must hold.
//!
//! Attributes: `agent_id` is the agent's login identity (`principal.name`), `action_type` the action,
//! `resource` the resource; any other key is read from the request context (`context.<key>`), as
//! zta-agent read it from the context dictionary it was handed.

use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use super::raw::RawZtaPolicy;
use super::{Parsed, Sink, line_of};
use crate::path::Path;
use crate::rule::Format;
use crate::{Condition, Pattern, Rule, Test};

pub(super) fn translate(policies: Vec<Spanned<RawZtaPolicy>>, sink: &mut Sink<'_>, parsed: &mut Parsed) {
    for spanned in policies {
        let line = line_of(&spanned);
        let raw = spanned.value;
        let mut tests = Vec::new();
        let mut actions = None;
        for (attribute, operators) in &raw.conditions {
            let path = match attribute.as_str() {
                "agent_id" => Path::PrincipalName,
                "action_type" => Path::Action,
                "resource" => Path::Resource,
                other => match Path::parse(&format!("context.{other}")) {
                    Ok(path) => path,
                    Err(message) => {
                        sink.error(Some(line), Some(&raw.name), message);
                        continue;
                    }
                },
            };
            if operators.is_empty() {
                sink.error(
                    Some(line),
                    Some(&raw.name),
                    format!("condition `{attribute}` has no operator"),
                );
            }
            if path == Path::Action {
                actions = lift_actions(operators);
            }
            for (op, operand) in operators {
                match Test::compile(op, operand.clone()) {
                    Ok(test) => tests.push(Condition::Test {
                        path: path.clone(),
                        test,
                    }),
                    Err(message) => sink.error(Some(line), Some(&raw.name), format!("`{attribute}`: {message}")),
                }
            }
        }
        parsed.rules.push(Rule {
            name: raw.name,
            description: raw.description,
            origin: sink.origin(line, Format::ZtaAgent),
            effect: raw.effect,
            priority: raw.priority,
            actions: actions.unwrap_or_else(|| vec![Pattern::any()]),
            resources: vec![Pattern::any()],
            require_capabilities: Vec::new(),
            condition: (!tests.is_empty()).then_some(Condition::All(tests)),
            obligations: Map::new(),
        });
    }
}

/// When `action_type` is only `eq` or `in` over strings, the rule can only match those actions: say so
/// in `actions` so the index finds the rule by action. The test itself stays in the condition.
fn lift_actions(operators: &std::collections::BTreeMap<String, Value>) -> Option<Vec<Pattern>> {
    let mut lifted: Option<Vec<String>> = None;
    for (op, operand) in operators {
        let names: Vec<String> = match (op.as_str(), operand) {
            ("eq", Value::String(name)) => vec![name.clone()],
            ("in", Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
            _ => continue,
        };
        lifted = Some(match lifted {
            None => names,
            Some(previous) => previous.into_iter().filter(|n| names.contains(n)).collect(),
        });
    }
    lifted.map(|names| names.iter().map(|n| Pattern::exact(n)).collect())
}
