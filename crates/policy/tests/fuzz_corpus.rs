//! The fuzzer's committed corpus (`fuzz/corpus/policy_parser`: the seeds and any crash repros) through the
//! parser on the stable toolchain, so a fixed crash stays fixed without running the fuzzer; and the
//! hostile shapes a fuzzer finds slowly (deep nesting, alias bombs) refused with an error, not a crash.

use std::path::Path;

use serde_json::Map;
use warden_core::Timestamp;
use warden_policy::{PolicySet, PrincipalStatus, Request, Subject};

fn request() -> Request {
    Request {
        principal: Subject {
            agent_id: "id-ops".to_owned(),
            name: "ops".to_owned(),
            roles: vec!["operator".to_owned()],
            capabilities: vec![],
            scopes: None,
            tier: None,
            status: PrincipalStatus::Active,
            attributes: Map::new(),
        },
        action: "secret:read".to_owned(),
        resource: "secret:prod/db".to_owned(),
        resource_attributes: Map::new(),
        context: Map::new(),
        findings: Map::new(),
        now: Timestamp::from_unix(1_794_830_400),
    }
}

#[test]
fn every_corpus_file_loads_or_is_refused_without_panicking() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/policy_parser");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        unreachable!("{} exists", dir.display())
    };
    let mut seeds = 0;
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            // A running fuzzer replaces corpus entries with smaller ones as it goes.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => unreachable!("{} is readable: {e}", path.display()),
        };
        // The fuzz target skips what is not UTF-8; so does this.
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Ok(set) = PolicySet::from_yaml("corpus.yaml", text) {
            let decision = set.explain(&request(), &[]);
            assert_eq!(&decision.policy_set_hash, set.hash(), "{}", path.display());
        }
        seeds += 1;
    }
    assert!(
        seeds >= 5,
        "the corpus lost its seeds: {seeds} files in {}",
        dir.display()
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let flow = format!("rules: {}{}", "[".repeat(depth), "]".repeat(depth));
    let mut nots = String::from("rules:\n  - name: deep\n    effect: deny\n    actions: [x]\n    conditions: ");
    nots.push_str(&"{not: ".repeat(depth));
    nots.push_str("{path: context.x, op: exists}");
    nots.push_str(&"}".repeat(depth));
    let block: String = (0..depth).map(|i| format!("{}- \n", " ".repeat(i % 200))).collect();
    for text in [flow, nots, block] {
        let Err(error) = PolicySet::from_yaml("deep.yaml", &text) else {
            unreachable!("a {depth}-deep document is refused")
        };
        assert!(!error.errors.is_empty());
    }
}

#[test]
fn alias_bombs_are_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    text.push_str("rules: *a11\n");
    assert!(PolicySet::from_yaml("bomb.yaml", &text).is_err());
}
