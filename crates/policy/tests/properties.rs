//! Invariants of the engine, checked on random policy sets, plus a differential test against a small
//! reference evaluator written here from the semantics alone.

use proptest::prelude::*;
use serde_json::{Map, Value};
use warden_core::Timestamp;
use warden_policy::{Effect, PolicySet, PrincipalStatus, Request, Subject};

const ACTIONS: &[&str] = &["a:x", "a:y", "b:x"];
const ACTION_PATTERNS: &[&str] = &["a:x", "a:y", "b:x", "a:*", "*"];
const RESOURCES: &[&str] = &["r/1", "r/2", "s/1", "r/2/deep"];
const RESOURCE_PATTERNS: &[&str] = &["r/1", "r/2", "s/1", "r/*", "r/**", "*"];
const ROLES: &[&str] = &["admin", "user"];
const SCOPES: &[&str] = &["a:x", "a:*", "b:x", "*"];

#[derive(Debug, Clone)]
enum Cond {
    RoleContains(usize),
    /// `context.flag eq <bool>`; the flag may be missing from the request.
    FlagEq(bool),
}

#[derive(Debug, Clone)]
struct SpecRule {
    effect: Effect,
    priority: i64,
    actions: Vec<usize>,
    resources: Vec<usize>,
    cond: Option<Cond>,
}

#[derive(Debug, Clone)]
struct SpecRequest {
    action: usize,
    resource: usize,
    roles: Vec<usize>,
    flag: Option<bool>,
    scopes: Option<Vec<usize>>,
}

fn rule_strategy() -> impl Strategy<Value = SpecRule> {
    (
        prop_oneof![Just(Effect::Allow), Just(Effect::Deny)],
        0i64..4,
        prop::collection::vec(0..ACTION_PATTERNS.len(), 1..3),
        prop::collection::vec(0..RESOURCE_PATTERNS.len(), 1..3),
        prop::option::of(prop_oneof![
            (0..ROLES.len()).prop_map(Cond::RoleContains),
            any::<bool>().prop_map(Cond::FlagEq)
        ]),
    )
        .prop_map(|(effect, priority, actions, resources, cond)| SpecRule {
            effect,
            priority,
            actions,
            resources,
            cond,
        })
}

fn request_strategy() -> impl Strategy<Value = SpecRequest> {
    (
        0..ACTIONS.len(),
        0..RESOURCES.len(),
        prop::collection::vec(0..ROLES.len(), 0..3),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(0..SCOPES.len(), 0..3)),
    )
        .prop_map(|(action, resource, roles, flag, scopes)| SpecRequest {
            action,
            resource,
            roles,
            flag,
            scopes,
        })
}

fn yaml(rules: &[(String, SpecRule)]) -> String {
    let mut out = String::from("rules:\n");
    for (name, rule) in rules {
        let list = |items: &[usize], names: &[&str]| {
            let quoted: Vec<String> = items.iter().map(|i| format!("\"{}\"", names[*i])).collect();
            format!("[{}]", quoted.join(", "))
        };
        out.push_str(&format!(
            "  - name: {name}\n    effect: {}\n    priority: {}\n    actions: {}\n    resources: {}\n",
            rule.effect,
            rule.priority,
            list(&rule.actions, ACTION_PATTERNS),
            list(&rule.resources, RESOURCE_PATTERNS)
        ));
        match &rule.cond {
            Some(Cond::RoleContains(role)) => out.push_str(&format!(
                "    conditions: {{path: principal.roles, op: contains, value: {}}}\n",
                ROLES[*role]
            )),
            Some(Cond::FlagEq(flag)) => out.push_str(&format!(
                "    conditions: {{path: context.flag, op: eq, value: {flag}}}\n"
            )),
            None => {}
        }
    }
    out
}

fn named(rules: &[SpecRule]) -> Vec<(String, SpecRule)> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| (format!("rule-{i}"), r.clone()))
        .collect()
}

fn load(rules: &[(String, SpecRule)]) -> PolicySet {
    match PolicySet::from_yaml("generated.yaml", &yaml(rules)) {
        Ok(set) => set,
        Err(e) => unreachable!("generated policy loads: {e}\n{}", yaml(rules)),
    }
}

fn request(spec: &SpecRequest) -> Request {
    let mut context = Map::new();
    if let Some(flag) = spec.flag {
        context.insert("flag".to_owned(), Value::Bool(flag));
    }
    Request {
        principal: Subject {
            agent_id: "id-1".to_owned(),
            name: "agent".to_owned(),
            roles: spec.roles.iter().map(|r| ROLES[*r].to_owned()).collect(),
            capabilities: Vec::new(),
            scopes: spec
                .scopes
                .as_ref()
                .map(|s| s.iter().map(|i| SCOPES[*i].to_owned()).collect()),
            tier: None,
            status: PrincipalStatus::Active,
            attributes: Map::new(),
        },
        action: ACTIONS[spec.action].to_owned(),
        resource: RESOURCES[spec.resource].to_owned(),
        resource_attributes: Map::new(),
        context,
        findings: Map::new(),
        now: Timestamp::from_unix(1_794_830_400),
    }
}

// ---- The reference evaluator: the semantics, read off the issue, with no cleverness. ----

fn reference_glob(pattern: &str, value: &str) -> bool {
    if pattern == "*" || pattern == value {
        return true;
    }
    if let Some(prefix) = pattern.strip_suffix("/**") {
        return value.starts_with(&format!("{prefix}/"));
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix) && !value[prefix.len()..].contains('/');
    }
    false
}

fn reference_matches(rule: &SpecRule, req: &SpecRequest) -> bool {
    let action_ok = rule
        .actions
        .iter()
        .any(|a| reference_glob(ACTION_PATTERNS[*a], ACTIONS[req.action]));
    let resource_ok = rule
        .resources
        .iter()
        .any(|r| reference_glob(RESOURCE_PATTERNS[*r], RESOURCES[req.resource]));
    let cond_ok = match &rule.cond {
        None => true,
        Some(Cond::RoleContains(role)) => req.roles.contains(role),
        // A deny rule reading a missing attribute matches; an allow rule does not.
        Some(Cond::FlagEq(flag)) => match req.flag {
            None => rule.effect == Effect::Deny,
            Some(actual) => actual == *flag,
        },
    };
    action_ok && resource_ok && cond_ok
}

fn reference_decide(rules: &[SpecRule], req: &SpecRequest) -> Effect {
    let matching: Vec<&SpecRule> = rules.iter().filter(|r| reference_matches(r, req)).collect();
    let Some(top) = matching.iter().map(|r| r.priority).max() else {
        return Effect::Deny;
    };
    if matching.iter().any(|r| r.priority == top && r.effect == Effect::Deny) {
        return Effect::Deny;
    }
    if let Some(scopes) = &req.scopes
        && !scopes.iter().any(|s| reference_glob(SCOPES[*s], ACTIONS[req.action]))
    {
        return Effect::Deny;
    }
    Effect::Allow
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_engine_agrees_with_the_reference(
        rules in prop::collection::vec(rule_strategy(), 0..8),
        requests in prop::collection::vec(request_strategy(), 1..8),
    ) {
        let set = load(&named(&rules));
        for spec in &requests {
            let decision = set.evaluate(&request(spec), &[]);
            prop_assert_eq!(decision.decision, reference_decide(&rules, spec), "request {:?}", spec);
            if let Some(rule) = &decision.deciding_rule {
                prop_assert!(decision.matching_rules.contains(rule));
            }
        }
    }

    #[test]
    fn default_deny(spec in request_strategy()) {
        prop_assert_eq!(PolicySet::empty().evaluate(&request(&spec), &[]).decision, Effect::Deny);
    }

    #[test]
    fn adding_a_deny_never_grants(
        rules in prop::collection::vec(rule_strategy(), 0..6),
        extra in rule_strategy(),
        spec in request_strategy(),
    ) {
        let before = load(&named(&rules)).evaluate(&request(&spec), &[]);
        let mut more = named(&rules);
        more.push(("extra".to_owned(), SpecRule { effect: Effect::Deny, ..extra }));
        let after = load(&more).evaluate(&request(&spec), &[]);
        if before.decision == Effect::Deny {
            prop_assert_eq!(after.decision, Effect::Deny);
        }
    }

    #[test]
    fn adding_an_allow_never_denies(
        rules in prop::collection::vec(rule_strategy(), 0..6),
        extra in rule_strategy(),
        spec in request_strategy(),
    ) {
        let before = load(&named(&rules)).evaluate(&request(&spec), &[]);
        let mut more = named(&rules);
        more.push(("extra".to_owned(), SpecRule { effect: Effect::Allow, ..extra }));
        let after = load(&more).evaluate(&request(&spec), &[]);
        if before.decision == Effect::Allow {
            prop_assert_eq!(after.decision, Effect::Allow);
        }
    }

    #[test]
    fn rule_order_never_matters(
        rules in prop::collection::vec(rule_strategy(), 0..8),
        seed in any::<u64>(),
        spec in request_strategy(),
    ) {
        let forward = named(&rules);
        let mut shuffled = forward.clone();
        // A deterministic shuffle from the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = usize::try_from(state % (i as u64 + 1)).unwrap_or(0);
            shuffled.swap(i, j);
        }
        let (a, b) = (load(&forward), load(&shuffled));
        prop_assert_eq!(a.hash(), b.hash());
        let (x, y) = (a.evaluate(&request(&spec), &[]), b.evaluate(&request(&spec), &[]));
        prop_assert_eq!(x.decision, y.decision);
        prop_assert_eq!(x.deciding_rule, y.deciding_rule);
        prop_assert_eq!(x.matching_rules, y.matching_rules);
    }

    #[test]
    fn scopes_bound_every_allow(
        rules in prop::collection::vec(rule_strategy(), 0..8),
        spec in request_strategy(),
    ) {
        let decision = load(&named(&rules)).evaluate(&request(&spec), &[]);
        if decision.decision == Effect::Allow
            && let Some(scopes) = &spec.scopes
        {
            prop_assert!(scopes.iter().any(|s| reference_glob(SCOPES[*s], ACTIONS[spec.action])));
        }
    }

    /// A delegated passport carries a subset of its parent's scopes: it never allows what the parent
    /// was denied.
    #[test]
    fn a_narrower_passport_never_allows_more(
        rules in prop::collection::vec(rule_strategy(), 0..8),
        spec in request_strategy(),
        parent in prop::collection::vec(0..SCOPES.len(), 0..4),
        keep in prop::collection::vec(any::<bool>(), 4),
    ) {
        let set = load(&named(&rules));
        let child: Vec<usize> = parent.iter().zip(&keep).filter(|(_, k)| **k).map(|(s, _)| *s).collect();
        let as_parent = set.evaluate(&request(&SpecRequest { scopes: Some(parent.clone()), ..spec.clone() }), &[]);
        let as_child = set.evaluate(&request(&SpecRequest { scopes: Some(child), ..spec }), &[]);
        if as_parent.decision == Effect::Deny {
            prop_assert_eq!(as_child.decision, Effect::Deny);
        }
    }
}
