//! `warden policy validate` and `warden policy test`: offline, on the seed fixtures and case corpus of
//! the policy crate, run through the real binary in a temporary directory.

use std::path::PathBuf;

use crate::harness::{Sandbox, read_text, write};

fn policy_tests() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policy/tests")
}

fn fixture(name: &str) -> String {
    policy_tests().join("fixtures").join(name).display().to_string()
}

/// The corpus file `name` without its `fixtures:` line: for `warden policy test` the policy comes from
/// the command line.
fn corpus_cases(name: &str) -> String {
    let text = read_text(&policy_tests().join("cases").join(name));
    assert!(text.contains("\nfixtures:"), "{name} names its fixtures");
    text.lines()
        .filter(|line| !line.starts_with("fixtures:"))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
fn validate_prints_the_counts_and_the_hash_of_a_good_set() {
    let sandbox = Sandbox::new();
    let example = fixture("warden_example.yaml");
    let (status, stdout, stderr) = sandbox.run(&["policy", "validate", &example, &fixture("seed004_zta_agent.yaml")]);
    assert!(status.success(), "{status}\n{stdout}\n{stderr}");
    assert!(stdout.contains("policy set ok:"), "{stdout}");
    assert!(stdout.contains(" rules, 3 roles"), "{stdout}");
    let Some(hash) = stdout.lines().find_map(|line| line.strip_prefix("hash: ")) else {
        unreachable!("no hash line in {stdout}")
    };
    assert!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hash:?}"
    );
    // The hash names the set, not the order of the files.
    let (_, again, _) = sandbox.run(&["policy", "validate", &fixture("seed004_zta_agent.yaml"), &example]);
    assert!(again.contains(hash), "{again}");
}

#[test]
fn validate_lists_every_error_with_file_and_line() {
    let sandbox = Sandbox::new();
    write(
        &sandbox.root().join("bad.yaml"),
        b"rules:
  - name: empty-actions
    effect: allow
    actions: []
  - name: broken-regex
    effect: deny
    actions: [x]
    conditions: {path: context.x, op: regex, value: \"(\"}
",
    );
    let (status, stdout, stderr) = sandbox.run(&["policy", "validate", "bad.yaml"]);
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stdout.contains("hash"), "a refused set has no hash: {stdout}");
    assert!(stderr.contains("2 error(s)"), "{stderr}");
    assert!(
        stderr.contains("bad.yaml:2: rule `empty-actions`: `actions` cannot be empty"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.yaml:5: rule `broken-regex`: ") && stderr.contains("invalid regex"),
        "{stderr}"
    );
}

#[test]
fn test_passes_the_corpus_cases_against_their_fixtures() {
    let sandbox = Sandbox::new();
    write(
        &sandbox.root().join("example.cases.yaml"),
        corpus_cases("warden_example.yaml").as_bytes(),
    );
    write(
        &sandbox.root().join("zta.cases.yaml"),
        corpus_cases("seed004_zta_agent.yaml").as_bytes(),
    );
    let (status, stdout, stderr) = sandbox.run(&[
        "policy",
        "test",
        &fixture("warden_example.yaml"),
        &fixture("seed004_zta_agent.yaml"),
        "--cases",
        "example.cases.yaml",
        "--cases",
        "zta.cases.yaml",
    ]);
    assert!(status.success(), "{status}\n{stdout}\n{stderr}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("ok   example.cases.yaml:3: operator reads a prod secret from the office with mfa"),
        "{stdout}"
    );
    let passed = stdout.lines().filter(|line| line.starts_with("ok   ")).count();
    assert!(passed > 40, "{stdout}");
    assert!(stdout.contains(&format!("{passed} passed, 0 failed")), "{stdout}");
}

#[test]
fn test_shows_the_diff_and_trace_of_a_wrong_expectation() {
    let sandbox = Sandbox::new();
    write(
        &sandbox.root().join("cases.yaml"),
        b"cases:
  - name: mfa allows the office read
    principal: {name: ops, roles: [operator], capabilities: [secrets]}
    action: \"secret:read\"
    resource: \"secret:prod/db/password\"
    context: {ip: 10.1.2.3, mfa: true}
    now: \"2026-11-16T10:00:00Z\"
    expect: allow
    rule: read-prod-secrets-from-the-office
  - name: no mfa is wrongly expected to allow
    principal: {name: ops, roles: [operator], capabilities: [secrets]}
    action: \"secret:read\"
    resource: \"secret:prod/db/password\"
    context: {ip: 10.1.2.3}
    expect: allow
    rule: read-prod-secrets-from-the-office
    missing: []
",
    );
    let (status, stdout, stderr) = sandbox.run(&[
        "policy",
        "test",
        &fixture("warden_example.yaml"),
        "--cases",
        "cases.yaml",
    ]);
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("ok   cases.yaml:2: mfa allows the office read"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FAIL cases.yaml:10: no mfa is wrongly expected to allow"),
        "{stdout}"
    );
    for expected in [
        "! decision     expected allow",
        "actual   deny",
        "! rule         expected read-prod-secrets-from-the-office",
        "actual   prod-secrets-need-mfa",
        "! missing      expected []",
        "actual   [\"context.mfa\"]",
        "basis        rule (not checked)",
        "prod-secrets-need-mfa (deny, priority 100): matched: `context.mfa` is missing (fail closed)",
        "1 passed, 1 failed",
    ] {
        assert!(stdout.contains(expected), "`{expected}` not in\n{stdout}");
    }
    assert!(stderr.contains("1 of 2 case(s) failed"), "{stderr}");
}

#[test]
fn test_refuses_a_case_file_that_names_its_own_policy() {
    let sandbox = Sandbox::new();
    let corpus = policy_tests().join("cases/warden_example.yaml").display().to_string();
    let (status, stdout, stderr) =
        sandbox.run(&["policy", "test", &fixture("warden_example.yaml"), "--cases", &corpus]);
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("cannot name its own policy"), "{stderr}");
    assert!(stdout.is_empty(), "nothing runs: {stdout}");
}
