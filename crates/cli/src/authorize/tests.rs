use serde::Deserialize;
use serde_json::{Value, json};

use super::{Attribute, DecisionView, object, render};

fn attribute(text: &str) -> Attribute {
    match Attribute::parse(text) {
        Ok(attribute) => attribute,
        Err(error) => unreachable!("{text}: {error}"),
    }
}

#[test]
fn values_are_json_when_they_parse_and_text_otherwise() {
    for (text, key, value) in [
        ("mfa=true", "mfa", json!(true)),
        ("risk_score=42", "risk_score", json!(42)),
        ("ratio=0.5", "ratio", json!(0.5)),
        ("tags=[\"a\",\"b\"]", "tags", json!(["a", "b"])),
        ("ip=10.1.2.3", "ip", json!("10.1.2.3")),
        ("who=ops", "who", json!("ops")),
        ("code=\"42\"", "code", json!("42")),
        ("empty=", "empty", json!("")),
        ("query=a=b", "query", json!("a=b")),
    ] {
        assert_eq!(
            attribute(text),
            Attribute {
                key: key.to_owned(),
                value
            },
            "{text}"
        );
    }
}

#[test]
fn a_key_without_a_value_is_refused_by_name() {
    let Err(error) = Attribute::parse("foo") else {
        unreachable!("`foo` parsed")
    };
    assert!(error.contains("`foo`") && error.contains("KEY=VALUE"), "{error}");
    let Err(error) = Attribute::parse("=1") else {
        unreachable!("`=1` parsed")
    };
    assert!(error.contains("key before `=` is empty"), "{error}");
}

#[test]
fn a_key_given_twice_is_refused() {
    let twice = vec![attribute("mfa=true"), attribute("mfa=false")];
    let Err(error) = object("--context", twice) else {
        unreachable!("a repeated key was accepted")
    };
    assert_eq!(error.to_string(), "--context: `mfa` is given twice");
    let once = object("--context", vec![attribute("mfa=true"), attribute("ip=10.0.0.1")]);
    assert!(once.is_ok_and(|map| map.len() == 2));
}

fn view(value: Value) -> DecisionView {
    match DecisionView::deserialize(&value) {
        Ok(view) => view,
        Err(error) => unreachable!("{value}: {error}"),
    }
}

#[test]
fn a_deny_with_its_trace_reads_top_down() {
    let answer = json!({
        "decision": "deny", "decision_id": "d-1", "policy": "abc", "policy_version": 3,
        "reasons": ["rule `prod-needs-mfa` denies"], "obligations": {"audit_logging": true},
        "findings": [], "ledger_index": 17, "deciding_rule": "prod-needs-mfa", "basis": "rule",
        "matching_rules": ["prod-needs-mfa"], "missing_attributes": ["context.mfa"],
        "trace": [
            {"rule": "prod-needs-mfa", "effect": "deny", "priority": 100,
             "outcome": {"kind": "matched_on_missing", "detail": "context.mfa"}},
            {"rule": "after-hours", "effect": "deny", "priority": 90, "outcome": {"kind": "matched"}},
            {"rule": "allow-readers", "effect": "allow", "priority": 0, "outcome": {"kind": "resource_differs"}},
            {"rule": "ops-only", "effect": "allow", "priority": 0,
             "outcome": {"kind": "missing_capability", "detail": "secrets"}},
            {"rule": "future", "effect": "allow", "priority": 0, "outcome": {"kind": "some_new_kind"}},
        ],
    });
    let text = render(&view(answer));
    let expected = "deny
  rule         prod-needs-mfa
  basis        rule
  matching     prod-needs-mfa
  reason       rule `prod-needs-mfa` denies
  obligation   audit_logging = true
  missing      context.mfa
  policy       abc (version 3)
  decision id  d-1 (audit event 17)
trace (each rule Warden considered, in order):
  matched   prod-needs-mfa (deny, priority 100): `context.mfa` is missing (fail closed)
  matched   after-hours (deny, priority 90)
  skipped   allow-readers: resource differs
  skipped   ops-only: lacks capability `secrets`
  skipped   future: some new kind
";
    assert_eq!(text, expected);
}

#[test]
fn only_an_explicit_allow_allows() {
    let allow = view(json!({"decision": "allow", "basis": "grant", "grant_id": "grt_1"}));
    assert!(allow.is_allow());
    let text = render(&allow);
    assert!(
        text.starts_with("allow\n  rule         (none)\n  basis        grant\n  grant        grt_1\n"),
        "{text}"
    );
    assert!(!text.contains("trace"), "no trace unless asked: {text}");
    for decision in ["deny", "ALLOW", "allowed", ""] {
        assert!(!view(json!({ "decision": decision })).is_allow(), "{decision}");
    }
}
