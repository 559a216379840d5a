use serde_json::json;
use warden_core::{AuditEvent, AuditOutcome, Timestamp};

use super::leaf_bytes;

#[test]
fn a_leaf_is_canonical_json_with_sorted_keys() {
    let event = AuditEvent::new(
        Timestamp::from_unix(1_764_000_000),
        "policy.decision",
        "agent-7",
        AuditOutcome::Denied,
    )
    .resource("vault/openai")
    .detail("zeta", json!({"b": [1, true, null], "a": "x\"y\n\u{1}é"}))
    .detail("alpha", 2.5)
    .request_id(Some("req-1"));
    let bytes = leaf_bytes(42, &event);
    let expected = concat!(
        r#"{"action":"policy.decision","actor":"agent-7","#,
        r#""details":{"alpha":2.5,"zeta":{"a":"x\"y\n\u0001é","b":[1,true,null]}},"#,
        r#""index":42,"kind":"policy.decision","outcome":"denied","request_id":"req-1","#,
        r#""resource":"vault/openai","timestamp":1764000000}"#
    );
    assert_eq!(String::from_utf8_lossy(&bytes), expected);
    // It is JSON, and reads back to the same event fields.
    let Ok(parsed) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        unreachable!("leaf is JSON")
    };
    assert_eq!(parsed["details"], event.details);
    assert_eq!(parsed["index"], 42);
}

#[test]
fn no_request_id_is_null_and_the_index_is_bound() {
    let event = AuditEvent::new(Timestamp::from_unix(-5), "auth.login", "admin", AuditOutcome::Success);
    let bytes = leaf_bytes(0, &event);
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        r#"{"action":"auth.login","actor":"admin","details":{},"index":0,"kind":"auth.login","outcome":"success","request_id":null,"resource":"","timestamp":-5}"#
    );
    assert_ne!(leaf_bytes(1, &event), bytes);
}

#[test]
fn a_leaf_reads_back_to_its_index_and_event() {
    let event = AuditEvent::new(
        Timestamp::from_unix(1_764_000_000),
        "vault.read",
        "agent-1",
        AuditOutcome::Success,
    )
    .resource("secret:openai")
    .detail("version", 3)
    .detail("nested", json!({"z": [1.5, "é"], "a": null}));
    let bytes = leaf_bytes(7, &event);
    assert_eq!(super::parse_leaf(&bytes), Ok((7, event)));
}

#[test]
fn only_canonical_leaves_are_accepted() {
    let event = AuditEvent::new(Timestamp::from_unix(5), "k", "a", AuditOutcome::Failure);
    let canonical = String::from_utf8_lossy(&leaf_bytes(1, &event)).into_owned();
    // The same JSON with a space, reordered keys, an extra field or a changed byte is not this leaf.
    let spaced = canonical.replacen(',', ", ", 1);
    let reordered = format!(
        "{}{}",
        canonical.replacen(r#"{"action":"k","#, "{", 1).trim_end_matches('}'),
        r#","action":"k"}"#
    );
    let extra = canonical.replacen('{', r#"{"extra":1,"#, 1);
    for text in [spaced.as_str(), reordered.as_str()] {
        assert_eq!(
            super::parse_leaf(text.as_bytes()),
            Err(super::LeafError::NotCanonical),
            "{text}"
        );
    }
    assert!(matches!(
        super::parse_leaf(extra.as_bytes()),
        Err(super::LeafError::Json(_))
    ));
    assert!(matches!(super::parse_leaf(b"not json"), Err(super::LeafError::Json(_))));
    assert!(matches!(super::parse_leaf(b"{}"), Err(super::LeafError::Json(_))));
}
