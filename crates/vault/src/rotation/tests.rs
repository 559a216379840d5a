use super::*;

fn days(n: u32) -> RotationDays {
    match RotationDays::new(n) {
        Ok(days) => days,
        Err(e) => unreachable!("{e}"),
    }
}

const DAY: i64 = 86_400;

#[test]
fn the_secret_beats_its_type_which_beats_the_default() {
    let policy = RotationPolicy::with_default(days(30)).with_exception(SecretKind::Database, days(15));
    assert_eq!(policy.interval(SecretKind::ApiKey, None), Some(days(30)));
    assert_eq!(policy.interval(SecretKind::Database, None), Some(days(15)));
    assert_eq!(policy.interval(SecretKind::Database, Some(days(7))), Some(days(7)));
    assert_eq!(policy.interval(SecretKind::ApiKey, Some(days(90))), Some(days(90)));
    let none = RotationPolicy::none();
    assert_eq!(none.interval(SecretKind::ApiKey, None), None);
    assert_eq!(none.interval(SecretKind::ApiKey, Some(days(1))), Some(days(1)));
    let only_exception = RotationPolicy::none().with_exception(SecretKind::Payment, days(10));
    assert_eq!(only_exception.interval(SecretKind::Payment, None), Some(days(10)));
    assert_eq!(only_exception.interval(SecretKind::Generic, None), None);
}

#[test]
fn due_at_counts_whole_days_from_the_version() {
    let policy = RotationPolicy::with_default(days(30)).with_exception(SecretKind::Database, days(15));
    let created = Timestamp::from_unix(1_800_000_000);
    let due = policy.due_at(created, SecretKind::Database, None);
    assert_eq!(due, Some(Timestamp::from_unix(1_800_000_000 + 15 * DAY)));
    assert_eq!(RotationPolicy::none().due_at(created, SecretKind::Database, None), None);
    let far = policy.due_at(Timestamp::from_unix(i64::MAX - 5), SecretKind::Generic, None);
    assert_eq!(
        far,
        Some(Timestamp::from_unix(i64::MAX)),
        "saturates rather than wrapping"
    );
}

#[test]
fn due_means_at_or_after_the_instant() {
    let due = Some(Timestamp::from_unix(1000));
    assert!(!is_due(due, Timestamp::from_unix(999)));
    assert!(is_due(due, Timestamp::from_unix(1000)));
    assert!(is_due(due, Timestamp::from_unix(5000)));
    assert!(!is_due(None, Timestamp::from_unix(i64::MAX)));
}

#[test]
fn expiring_within_includes_the_window_edge_and_the_overdue() {
    let now = Timestamp::from_unix(10 * DAY);
    let at = |d: i64| Some(Timestamp::from_unix(d * DAY));
    assert!(expiring_within(at(17), now, 7));
    assert!(!expiring_within(Some(Timestamp::from_unix(17 * DAY + 1)), now, 7));
    assert!(expiring_within(at(3), now, 7), "overdue");
    assert!(expiring_within(at(10), now, 0));
    assert!(!expiring_within(at(11), now, 0));
    assert!(!expiring_within(None, now, u32::MAX));
    assert!(expiring_within(at(1_000_000), now, u32::MAX));
}

#[test]
fn days_are_bounded() {
    assert!(RotationDays::new(0).is_err());
    assert!(RotationDays::new(MAX_ROTATION_DAYS + 1).is_err());
    assert_eq!(
        RotationDays::new(MAX_ROTATION_DAYS).map(RotationDays::get),
        Ok(MAX_ROTATION_DAYS)
    );
    assert_eq!(days(2).as_seconds().get(), 2 * 86_400);
}

fn parsed(json: serde_json::Value) -> Result<RotationPolicy, VaultError> {
    let Ok(raw) = serde_json::from_value::<RawRotationConfig>(json) else {
        unreachable!("well-shaped configuration")
    };
    RotationPolicy::try_from(raw)
}

#[test]
fn configuration_errors_name_the_field() {
    use serde_json::json;
    let error = |json| parsed(json).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        error(json!({"default_days": 0})),
        "`credential_rotation.default_days` is invalid: `0` is not 1 to 36500 days"
    );
    let message = error(json!({"exceptions": [{"type": "api_key", "days": 5}, {"type": "ssh", "days": 5}]}));
    assert!(
        message.starts_with(
            "`credential_rotation.exceptions[1].type` is invalid: `ssh` is not a secret type; use one of `api_key`"
        ),
        "{message}"
    );
    let message =
        error(json!({"exceptions": [{"type": "database", "days": 5}, {"type": "database_password", "days": 9}]}));
    assert_eq!(
        message,
        "`credential_rotation.exceptions[1].type` is invalid: `database` already has an exception"
    );
    let message = error(json!({"exceptions": [{"type": "payment", "days": 99999}]}));
    assert!(
        message.starts_with("`credential_rotation.exceptions[0].days`"),
        "{message}"
    );
    assert!(
        serde_json::from_value::<RawRotationConfig>(json!({"default": 30})).is_err(),
        "unknown keys are refused"
    );
    assert_eq!(parsed(json!({})), Ok(RotationPolicy::none()));
}
