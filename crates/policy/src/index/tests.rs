//! The index invariant on random sets: every rule that matches a request is among its candidates,
//! whatever the rule's patterns and conditions (principal pins included, in every shape the index
//! recognises and several it must not), and whichever way the lookup narrows.

use proptest::prelude::*;
use serde_json::{Map, Value};
use warden_core::Timestamp;

use crate::evaluate::judge;
use crate::path::Facts;
use crate::{PolicySet, PrincipalStatus, Request, Subject};

const ACTIONS: &[&str] = &["a:x", "a:y", "b:x"];
const ACTION_PATTERNS: &[&str] = &["a:x", "a:y", "b:x", "a:*", "*"];
const RESOURCES: &[&str] = &["r/1", "r/2", "s/1", "r/2/deep"];
const RESOURCE_PATTERNS: &[&str] = &["r/1", "r/2", "s/1", "r/*", "r/**", "*", "s*", "r/*/deep"];
const AGENT_IDS: &[&str] = &["a1", "a2", "a3"];
const NAMES: &[&str] = &["n1", "n2", "n3"];
const CONDITIONS: &[Option<&str>] = &[
    None,
    Some(r#"{path: principal.agent_id, op: eq, value: "a1"}"#),
    Some(r#"{path: principal.id, op: eq, value: "a2"}"#),
    Some(r#"{path: principal.name, op: in, value: ["n1", "n2"]}"#),
    Some(r#"{all: [{path: principal.agent_id, op: eq, value: "a2"}, {path: context.flag, op: eq, value: true}]}"#),
    Some(r#"{all: [{path: context.flag, op: eq, value: true}, {all: [{path: principal.name, op: eq, value: "n2"}]}]}"#),
    Some(r#"{all: [{path: principal.agent_id, op: eq, value: "a1"}, {path: principal.name, op: eq, value: "n3"}]}"#),
    Some(r#"{any: [{path: principal.agent_id, op: eq, value: "a1"}, {path: context.flag, op: eq, value: true}]}"#),
    Some(r#"{not: {path: principal.agent_id, op: eq, value: "a1"}}"#),
    Some(r#"{path: principal.agent_id, op: ne, value: "a1"}"#),
    Some(r#"{path: principal.agent_id, op: eq, value: 1}"#),
    Some(r#"{path: principal.agent_id, op: in, value: ["a1", 2]}"#),
    Some(r#"{path: principal.agent_id, op: regex, value: "a[12]"}"#),
    Some(r#"{path: context.flag, op: eq, value: true}"#),
];

#[derive(Debug, Clone)]
struct SpecRule {
    deny: bool,
    actions: Vec<usize>,
    resources: Vec<usize>,
    condition: usize,
}

fn rule_strategy() -> impl Strategy<Value = SpecRule> {
    (
        any::<bool>(),
        prop::collection::vec(0..ACTION_PATTERNS.len(), 1..3),
        prop::collection::vec(0..RESOURCE_PATTERNS.len(), 1..3),
        0..CONDITIONS.len(),
    )
        .prop_map(|(deny, actions, resources, condition)| SpecRule {
            deny,
            actions,
            resources,
            condition,
        })
}

fn quoted(items: &[usize], names: &[&str]) -> String {
    let items: Vec<String> = items
        .iter()
        .filter_map(|i| names.get(*i))
        .map(|name| format!("\"{name}\""))
        .collect();
    format!("[{}]", items.join(", "))
}

fn load(rules: &[SpecRule]) -> PolicySet {
    let mut yaml = String::from("rules:\n");
    for (i, rule) in rules.iter().enumerate() {
        yaml.push_str(&format!(
            "  - name: rule-{i:02}\n    effect: {}\n    actions: {}\n    resources: {}\n",
            if rule.deny { "deny" } else { "allow" },
            quoted(&rule.actions, ACTION_PATTERNS),
            quoted(&rule.resources, RESOURCE_PATTERNS),
        ));
        if let Some(Some(condition)) = CONDITIONS.get(rule.condition) {
            yaml.push_str(&format!("    conditions: {condition}\n"));
        }
    }
    match PolicySet::from_yaml("generated.yaml", &yaml) {
        Ok(set) => set,
        Err(e) => unreachable!("generated policy loads: {e}\n{yaml}"),
    }
}

fn request(agent: usize, name: usize, action: usize, resource: usize, flag: Option<bool>) -> Request {
    let text = |names: &[&str], i: usize| names.get(i).copied().unwrap_or_default().to_owned();
    let mut context = Map::new();
    if let Some(flag) = flag {
        context.insert("flag".to_owned(), Value::Bool(flag));
    }
    Request {
        principal: Subject {
            agent_id: text(AGENT_IDS, agent),
            name: text(NAMES, name),
            roles: Vec::new(),
            capabilities: Vec::new(),
            scopes: None,
            tier: None,
            status: PrincipalStatus::Active,
            attributes: Map::new(),
        },
        action: text(ACTIONS, action),
        resource: text(RESOURCES, resource),
        resource_attributes: Map::new(),
        context,
        findings: Map::new(),
        now: Timestamp::from_unix(1_794_830_400),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_matching_rule_is_a_candidate(
        rules in prop::collection::vec(rule_strategy(), 0..30),
        agent in 0..AGENT_IDS.len(),
        name in 0..NAMES.len(),
        action in 0..ACTIONS.len(),
        resource in 0..RESOURCES.len(),
        flag in prop::option::of(any::<bool>()),
    ) {
        let set = load(&rules);
        let request = request(agent, name, action, resource, flag);
        let facts = Facts { request: &request, roles: &[] };
        let candidates = set.index.candidates(&request);
        prop_assert!(candidates.windows(2).all(|w| w[0] < w[1]), "ascending, each once: {:?}", candidates);
        let mut matching = Vec::new();
        for (id, rule) in set.rules.iter().enumerate() {
            if judge(rule, &facts).matched() {
                prop_assert!(
                    candidates.contains(&(id as u32)),
                    "rule `{}` matches {:?} but is not a candidate ({:?})", rule.name, request, candidates
                );
                matching.push(rule.name.clone());
            }
        }
        let mut decided = set.evaluate(&request, &[]).matching_rules;
        decided.sort();
        prop_assert_eq!(decided, matching);
    }
}

#[test]
fn pinned_rules_are_found_by_id_or_name_only() {
    let set = load(&[
        SpecRule {
            deny: false,
            actions: vec![0],
            resources: vec![5],
            condition: 1,
        },
        SpecRule {
            deny: false,
            actions: vec![0],
            resources: vec![5],
            condition: 3,
        },
        SpecRule {
            deny: true,
            actions: vec![4],
            resources: vec![5],
            condition: 7,
        },
    ]);
    // rule-00 pins agent a1; rule-01 pins names n1 and n2; rule-02 (an `any`) pins nothing.
    assert_eq!(set.index.candidates(&request(0, 2, 0, 0, None)), vec![0, 2]);
    assert_eq!(set.index.candidates(&request(1, 0, 0, 0, None)), vec![1, 2]);
    assert_eq!(set.index.candidates(&request(2, 2, 0, 0, None)), vec![2]);
}
