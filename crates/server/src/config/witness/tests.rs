//! `witness:` and `ledger.witnesses:` as written, accepted and refused.

use std::path::Path;

use crate::config::{Config, ConfigError, Overrides, parse};

fn resolve(text: &str) -> Result<Config, ConfigError> {
    Config::resolve(parse("test.yaml", text)?, Overrides::default(), Path::new("/data"))
}

fn error(text: &str) -> String {
    resolve(text).err().map(|e| e.to_string()).unwrap_or_default()
}

// The ledger key of the signed-note vectors (PeterNeumann) and a native cosignature/v1 key
// (transparency-dev/formats note_cosigv1_test.go).
const LOG_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const WITNESS_KEY: &str = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";

#[test]
fn a_witness_section_resolves() {
    let text = format!(
        "witness:\n  name: w.example/warden\n  logs:\n    - verifier_key: \"{LOG_KEY}\"\n    - verifier_key: \"{LOG_KEY}\"\n      origin: other.example/log\n"
    );
    let config = resolve(&text).unwrap_or_else(|e| unreachable!("{e}"));
    let witness = config.witness.unwrap_or_else(|| unreachable!("a witness"));
    assert_eq!(witness.name, "w.example/warden");
    assert_eq!(witness.logs.len(), 2);
    assert_eq!(
        witness.log("PeterNeumann").map(|l| l.verifier_key.as_str()),
        Some(LOG_KEY)
    );
    assert!(witness.log("other.example/log").is_some());
    assert!(witness.log("nobody").is_none());
    assert!(resolve("{}").is_ok_and(|c| c.witness.is_none() && c.ledger.witnesses.is_empty()));
}

#[test]
fn bad_witness_sections_are_refused() {
    let logs = format!("  logs:\n    - verifier_key: \"{LOG_KEY}\"\n");
    assert!(error(&format!("witness:\n  name: \"a b\"\n{logs}")).contains("witness.name"));
    assert!(error(&format!("witness:\n  name: \"a+b\"\n{logs}")).contains("witness.name"));
    assert!(error("witness:\n  name: w\n  logs:\n    - verifier_key: nope\n").contains("witness.logs[0].verifier_key"));
    // A cosignature key is not a log key.
    let cosigner = format!("witness:\n  name: w\n  logs:\n    - verifier_key: \"{WITNESS_KEY}\"\n");
    assert!(error(&cosigner).contains("witness.logs[0].verifier_key"));
    let twice = format!("witness:\n  name: w\n{logs}    - verifier_key: \"{LOG_KEY}\"\n");
    assert!(error(&twice).contains("listed twice"), "{}", error(&twice));
    assert!(error("witness:\n  logs: []\n").contains("name"));
    assert!(error("witness:\n  name: w\n  log: []\n").contains("log"));
}

#[test]
fn ledger_witnesses_resolve_and_bad_ones_are_refused() {
    let text =
        format!("ledger:\n  witnesses:\n    - url: https://w.example/w1/\n      verifier_key: \"{WITNESS_KEY}\"\n");
    let config = resolve(&text).unwrap_or_else(|e| unreachable!("{e}"));
    let witness = &config.ledger.witnesses[0];
    assert_eq!(witness.url, "https://w.example/w1", "the trailing slash is dropped");
    assert_eq!(witness.verifier.verifier_key(), WITNESS_KEY);
    let bad_url = text.replace("https://w.example/w1/", "ftp://w.example");
    assert!(error(&bad_url).contains("ledger.witnesses[0].url"));
    // A log (0x01) key is not a witness key.
    let log_key = text.replace(WITNESS_KEY, LOG_KEY);
    assert!(error(&log_key).contains("ledger.witnesses[0].verifier_key"));
    let twice = format!("{text}    - url: https://w.example/other\n      verifier_key: \"{WITNESS_KEY}\"\n");
    assert!(error(&twice).contains("ledger.witnesses[1].verifier_key"));
}
