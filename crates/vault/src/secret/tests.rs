use serde_json::json;

use super::*;
use crate::rotation::RotationPolicy;

fn days(n: u32) -> RotationDays {
    match RotationDays::new(n) {
        Ok(days) => days,
        Err(e) => unreachable!("{e}"),
    }
}

#[test]
fn tags_are_sorted_deduplicated_and_bounded() {
    let Ok(tags) = Tags::new(["prod", "llm", "prod", "team:ml"]) else {
        unreachable!("valid tags")
    };
    assert_eq!(tags.as_slice(), ["llm", "prod", "team:ml"]);
    assert!(tags.contains("prod") && !tags.contains("staging"));
    for bad in ["", "two words", "tab\t", &"t".repeat(MAX_TAG_LEN + 1)] {
        assert!(
            matches!(Tags::new([bad]), Err(VaultError::InvalidTag { .. })),
            "{bad:?}"
        );
    }
    let many: Vec<String> = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
    assert!(matches!(
        Tags::new(many),
        Err(VaultError::TooManyTags { count: 33, max: 32 })
    ));
}

#[test]
fn the_put_body_parses_into_checked_types() {
    let body = json!({
        "type": "api_key",
        "data": {"api_key": "sk-live-1"},
        "tags": ["llm", "prod"],
        "rotation_days": 30,
        "expires_at": "2027-01-31T00:00:00Z"
    });
    let Ok(secret) = serde_json::from_value::<NewSecret>(body) else {
        unreachable!("a valid body")
    };
    assert_eq!(secret.kind, SecretKind::ApiKey);
    assert_eq!(secret.data.expose_bytes(), br#"{"api_key":"sk-live-1"}"#);
    assert_eq!(secret.tags.as_slice(), ["llm", "prod"]);
    assert_eq!(secret.rotation_days, Some(days(30)));
    assert_eq!(secret.expires_at, Timestamp::parse_rfc3339("2027-01-31T00:00:00Z"));
    assert!(!format!("{secret:?}").contains("sk-live"));

    let minimal = serde_json::from_value::<NewSecret>(json!({"type": "generic", "data": {}}));
    assert!(minimal.is_ok_and(|s| s.tags.as_slice().is_empty() && s.expires_at.is_none()));
}

#[test]
fn bad_bodies_are_refused_without_echoing_data() {
    let refused = |body: serde_json::Value| {
        serde_json::from_value::<NewSecret>(body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let message = refused(json!({"type": "ssh", "data": {"k": "sk-live-1"}}));
    assert!(message.contains("`ssh` is not a secret type"), "{message}");
    let message = refused(json!({"type": "api_key", "data": "sk-live-1"}));
    assert!(
        message.contains("must be a JSON object") && !message.contains("sk-live"),
        "{message}"
    );
    let message = refused(json!({"type": "api_key", "data": {}, "rotation_days": 0}));
    assert!(message.contains("rotation_days"), "{message}");
    let message = refused(json!({"type": "api_key", "data": {}, "expires_at": "tomorrow"}));
    assert!(message.contains("RFC 3339"), "{message}");
    let message = refused(json!({"type": "api_key", "data": {}, "value": "x"}));
    assert!(message.contains("unknown field"), "{message}");
    let message = refused(json!({"data": {"k": "sk-live-1"}}));
    assert!(
        message.contains("missing field `type`") && !message.contains("sk-live"),
        "{message}"
    );
}

fn metadata(kind: SecretKind, rotation_days: Option<RotationDays>, expires_at: Option<i64>) -> SecretMetadata {
    let (Ok(name), Ok(tags)) = (SecretName::new("prod/db"), Tags::new(["prod"])) else {
        unreachable!("valid")
    };
    SecretMetadata {
        name,
        kind,
        version: SecretVersion::FIRST,
        owner: "admin".to_owned(),
        tags,
        created_at: Timestamp::from_unix(0),
        version_created_at: Timestamp::from_unix(1_000_000),
        expires_at: expires_at.map(Timestamp::from_unix),
        rotation_days,
    }
}

#[test]
fn the_next_deadline_is_the_earlier_of_rotation_and_expiry() {
    let policy = RotationPolicy::with_default(days(30));
    let rotation_at = Timestamp::from_unix(1_000_000 + 30 * 86_400);
    let m = metadata(SecretKind::ApiKey, None, None);
    assert_eq!(
        m.next_deadline(&policy),
        Some(Deadline {
            at: rotation_at,
            reason: DeadlineReason::Rotation
        })
    );
    let m = metadata(SecretKind::ApiKey, None, Some(2_000_000));
    assert_eq!(m.next_deadline(&policy).map(|d| d.reason), Some(DeadlineReason::Expiry));
    let m = metadata(SecretKind::ApiKey, None, Some(rotation_at.unix()));
    assert_eq!(m.next_deadline(&policy).map(|d| d.reason), Some(DeadlineReason::Expiry));
    assert_eq!(
        metadata(SecretKind::ApiKey, None, None).next_deadline(&RotationPolicy::none()),
        None
    );
}

#[test]
fn the_expiring_list_takes_what_falls_due_within_the_window_or_is_overdue() {
    let policy = RotationPolicy::with_default(days(30));
    let m = metadata(SecretKind::ApiKey, None, None);
    let due = 1_000_000 + 30 * 86_400;
    let at = |t: i64| Timestamp::from_unix(t);
    assert_eq!(m.expiring_within(&policy, at(due - 8 * 86_400), 7), None);
    assert!(m.expiring_within(&policy, at(due - 7 * 86_400), 7).is_some());
    assert!(
        m.expiring_within(&policy, at(due + 86_400), 0).is_some(),
        "overdue stays listed"
    );
    assert_eq!(m.current().version, SecretVersion::FIRST);
}
