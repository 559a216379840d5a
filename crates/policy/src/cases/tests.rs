use super::*;

const POLICY: &str = "rules:
  - {name: read-docs, effect: allow, actions: [\"doc:read\"], obligations: {audit_logging: true}}
  - {name: no-burning, effect: deny, priority: 5, actions: [\"doc:burn\"], conditions: {path: context.ok, op: eq, value: true}}
";

fn set() -> PolicySet {
    let Ok(set) = PolicySet::from_yaml("p.yaml", POLICY) else {
        unreachable!("the test policy loads")
    };
    set
}

fn file(text: &str) -> CaseFile {
    let parsed = CaseFile::from_yaml(text);
    let Ok(file) = parsed else {
        unreachable!("the case file parses: {parsed:?}")
    };
    file
}

#[test]
fn the_default_now_is_monday_noon_utc() {
    assert_eq!(Timestamp::parse_rfc3339("2026-11-16T12:00:00Z"), Some(DEFAULT_NOW));
    let file = file("cases: [{name: c, principal: {name: a}, action: x, expect: deny}]\n");
    assert_eq!(file.cases[0].now, DEFAULT_NOW);
    assert_eq!(file.cases[0].resource, "operation");
    let (request, grants) = file.cases[0].to_request();
    assert_eq!(request.principal.agent_id, "a");
    assert_eq!(request.principal.status, PrincipalStatus::Active);
    assert!(grants.is_empty());
}

#[test]
fn cases_know_their_line() {
    let file = file(
        "fixtures: [a.yaml]\ncases:\n  - name: one\n    principal: {name: a}\n    action: x\n    expect: deny\n  - {name: two, principal: {name: a}, action: x, expect: deny}\n",
    );
    assert_eq!(file.fixtures, ["a.yaml"]);
    let lines: Vec<_> = file.cases.iter().map(|c| c.line).collect();
    assert_eq!(lines, [Some(3), Some(7)]);
}

#[test]
fn bad_case_files_are_refused_with_a_line() {
    for (text, line, words) in [
        (
            "cases:\n  - {name: c, principal: {name: a}, action: x, expect: maybe}\n",
            2,
            "maybe",
        ),
        (
            "cases:\n  - {name: c, principal: {name: a}, action: x, expect: deny, now: tuesday}\n",
            2,
            "RFC 3339",
        ),
        (
            "cases:\n  - {name: c, principal: {name: a}, action: x, expect: deny, basis: luck}\n",
            2,
            "luck",
        ),
        ("cases: []\ncolour: blue\n", 2, "colour"),
    ] {
        let Err(error) = CaseFile::from_yaml(text) else {
            unreachable!("{text:?} is refused")
        };
        assert_eq!(error.line, Some(line), "{text:?}: {error}");
        assert!(error.message.contains(words), "{text:?}: {error}");
    }
}

#[test]
fn matching_cases_report_nothing() {
    let file = file(
        "cases:
  - {name: reads, principal: {name: a}, action: \"doc:read\", expect: allow, rule: read-docs, basis: rule, missing: [], obligations: {audit_logging: true}}
  - {name: burns, principal: {name: a}, action: \"doc:burn\", expect: deny, rule: no-burning, missing: [context.ok]}
  - {name: writes, principal: {name: a}, action: \"doc:write\", expect: deny, rule: none, basis: no_match}
",
    );
    assert_eq!(run(&set(), &file), []);
}

#[test]
fn every_differing_field_is_reported_with_both_values() {
    let file = file(
        "cases:
  - {name: wrong, principal: {name: a}, action: \"doc:burn\", expect: allow, rule: read-docs, basis: grant, missing: [], obligations: {}}
",
    );
    let mismatches = run(&set(), &file);
    let found: Vec<_> = mismatches
        .iter()
        .map(|m| (m.field, m.expected.as_str(), m.actual.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (Field::Decision, "allow", "deny"),
            (Field::Rule, "read-docs", "no-burning"),
            (Field::Basis, "grant", "rule"),
            (Field::Missing, "[]", "[\"context.ok\"]"),
        ]
    );
    assert_eq!(
        mismatches[0].to_string(),
        "case `wrong`: decision: expected allow, got deny"
    );
    let report = check(&set(), &file.cases[0]);
    assert!(!report.passed());
    assert!(!report.decision.trace.is_empty(), "the report carries the trace");
}
