//! Policy files are untrusted input (an admin uploads them; hot reload reads them): whatever the bytes,
//! loading must answer `Ok` or `Err` and never panic, overflow the stack or hang; a set that loads must
//! evaluate any request without panicking, and its decisions must be consistent.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run policy_parser -- -max_total_time=300` from `fuzz/`'s parent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use warden_core::Timestamp;
use warden_policy::{Basis, Effect, Grant, PolicySet, PolicySource, PrincipalStatus, Request, Subject};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(set) = PolicySet::from_yaml("fuzz.yaml", text) else {
        return;
    };
    // Loading is deterministic, and a set loaded alongside the empty file is the same set.
    let Ok(again) = PolicySet::load(&[
        PolicySource {
            file: "empty.yaml",
            text: "{}",
        },
        PolicySource {
            file: "fuzz.yaml",
            text,
        },
    ]) else {
        panic!("the text loaded alone but not beside an empty file")
    };
    assert_eq!(set.hash(), again.hash());

    let grants = grants();
    for request in requests(&set) {
        let decision = set.evaluate(&request, &grants);
        let explained = set.explain(&request, &grants);
        assert_eq!(&decision.policy_set_hash, set.hash());
        assert_eq!(decision.decision, explained.decision);
        assert_eq!(decision.deciding_rule, explained.deciding_rule);
        assert_eq!(decision.matching_rules, explained.matching_rules);
        match &decision.basis {
            Basis::Rule => {
                let Some(rule) = &decision.deciding_rule else {
                    panic!("a rule decided but none is named: {decision:?}")
                };
                assert!(decision.matching_rules.contains(rule), "{decision:?}");
            }
            Basis::Grant { .. } => assert!(decision.is_allow() && decision.matching_rules.is_empty()),
            Basis::NoMatch | Basis::Inactive { .. } | Basis::OutsideScopes => {
                assert_eq!(decision.decision, Effect::Deny, "{decision:?}")
            }
        }
        if request.principal.status != PrincipalStatus::Active {
            assert_eq!(decision.decision, Effect::Deny);
        }
    }
});

fn subject(name: &str, roles: &[&str], capabilities: &[&str], scopes: Option<&[&str]>) -> Subject {
    let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Subject {
        agent_id: format!("id-{name}"),
        name: name.to_owned(),
        roles: strings(roles),
        capabilities: strings(capabilities),
        scopes: scopes.map(strings),
        tier: Some("gold".to_owned()),
        status: PrincipalStatus::Active,
        attributes: object(json!({"team": "blue", "level": 3})),
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A few fixed requests over the seed vocabulary, plus one per rule asking for its first action
/// pattern's text on its first resource pattern's text (so fuzzed rules are exercised, not only parsed).
fn requests(set: &PolicySet) -> Vec<Request> {
    let monday_noon = Timestamp::from_unix(1_794_830_400);
    let saturday_night = Timestamp::from_unix(1_795_300_000);
    let context = object(json!({"ip": "10.1.2.3", "mfa": true, "risk_score": 42, "trusted": false}));
    let findings = object(json!({"prompt_injection": false}));
    let mut suspended = subject("sus", &["admin"], &[], None);
    suspended.status = PrincipalStatus::Suspended;
    let fixed = [
        (
            subject("ops", &["operator"], &["secrets"], None),
            "secret:read",
            "secret:prod/db/password",
        ),
        (subject("boss", &["admin", "finance"], &[], None), "delete", "operation"),
        (
            subject("viewer", &["viewer"], &[], Some(&["agent:*"])),
            "agent:view",
            "agent:x",
        ),
        (
            subject("nobody", &[], &[], Some(&[])),
            "task:execute",
            "task:batch/nightly",
        ),
        (suspended, "read", "operation"),
    ];
    let mut requests: Vec<Request> = fixed
        .into_iter()
        .flat_map(|(principal, action, resource)| {
            [monday_noon, saturday_night].map(|now| Request {
                principal: principal.clone(),
                action: action.to_owned(),
                resource: resource.to_owned(),
                resource_attributes: object(json!({"owner": "alice"})),
                context: context.clone(),
                findings: findings.clone(),
                now,
            })
        })
        .collect();
    for rule in set.rules().iter().take(16) {
        let (Some(action), Some(resource)) = (rule.actions.first(), rule.resources.first()) else {
            continue;
        };
        let mut principal = subject("ops", &["operator", "admin"], &[], None);
        principal.capabilities = rule.require_capabilities.clone();
        requests.push(Request {
            principal,
            action: action.as_str().to_owned(),
            resource: resource.as_str().to_owned(),
            resource_attributes: Map::new(),
            context: Map::new(),
            findings: Map::new(),
            now: monday_noon,
        });
    }
    requests
}

fn grants() -> Vec<Grant> {
    vec![Grant {
        id: "g1".to_owned(),
        agent_id: "id-nobody".to_owned(),
        action: "task:execute".to_owned(),
        resource: "task:batch/nightly".to_owned(),
        expires_at: Timestamp::from_unix(1_794_834_000),
        delegable: false,
        delegated_from: None,
    }]
}
