use warden_core::{AuditEvent, AuditOutcome, Timestamp};

use super::*;
use crate::config::ledger::AuditConfig;

fn opened() -> (NoteSigner, hmac::Key) {
    let Ok(keys) = open_keys("test.example/ledger", &[9u8; 64]) else {
        unreachable!("64 bytes open")
    };
    keys
}

fn ledger() -> Ledger {
    let (signer, id_key) = opened();
    Ledger {
        verifier_key: signer.verifier_key(),
        signer,
        origin: "test.example/ledger".into(),
        id_key,
        tree: Mutex::new(MerkleTree::new()),
        witness_key: witnessing::WitnessKey::from_seed([5; 32]),
    }
}

#[test]
fn identifiers_are_keyed_and_payloads_dropped_on_request() {
    let ledger = ledger();
    let event = AuditEvent::new(Timestamp::from_unix(1), "auth.login", "agent-1", AuditOutcome::Success)
        .detail("api_key_id", "key_123")
        .detail("context", serde_json::json!({"body": "private"}))
        .detail("agent_id", "agent-1");
    let keep = AuditConfig {
        retention_days: None,
        include_payloads: true,
    };
    let shaped = ledger.shape(event.clone(), &keep);
    let keyed = shaped.details["api_key_id"].as_str().unwrap_or_default().to_owned();
    assert!(keyed.starts_with("hmac-sha256:"), "{keyed}");
    assert!(!keyed.contains("key_123"));
    // The same id always maps to the same value (matchable), a different one does not.
    assert_eq!(keyed, ledger.keyed_id("key_123"));
    assert_ne!(keyed, ledger.keyed_id("key_124"));
    assert_eq!(shaped.details["context"]["body"], "private");
    assert_eq!(shaped.details["agent_id"], "agent-1");
    let drop = AuditConfig {
        retention_days: None,
        include_payloads: false,
    };
    let shaped = ledger.shape(event, &drop);
    assert!(shaped.details.get("context").is_none());
    assert_eq!(shaped.details["agent_id"], "agent-1");
}

#[test]
fn malformed_key_material_is_refused() {
    assert!(open_keys("o", &[1u8; 63]).is_err());
    assert!(origin_of("+abc+def").is_err());
    assert_eq!(
        origin_of("warden.local/ledger+01020304+AQ").ok(),
        Some("warden.local/ledger")
    );
}
