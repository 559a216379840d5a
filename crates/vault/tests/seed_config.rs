//! Seed 001's security configuration, as written, gives the rotation policy it describes: 30 days for
//! everything, 15 for database passwords. The fixture is the seed's "Example Configuration" block.

use serde::Deserialize;
use warden_core::Timestamp;
use warden_vault::{RawRotationConfig, RotationDays, RotationPolicy, SecretKind};

/// Only the part the vault reads; the rest of `security:` belongs to policy and audit.
#[derive(Deserialize)]
struct Seed {
    security: Security,
}

#[derive(Deserialize)]
struct Security {
    credential_rotation: RawRotationConfig,
}

fn days(n: u32) -> Option<RotationDays> {
    RotationDays::new(n).ok()
}

#[test]
fn seed_001_rotation_parses_as_written() {
    let text = include_str!("fixtures/seed001_security.yaml");
    let seed: Seed = match serde_saphyr::from_str(text) {
        Ok(seed) => seed,
        Err(e) => unreachable!("seed 001 parses: {e}"),
    };
    let Ok(policy) = RotationPolicy::try_from(seed.security.credential_rotation) else {
        unreachable!("seed 001's rotation is valid")
    };
    assert_eq!(policy.default_days(), days(30));
    assert_eq!(policy.interval(SecretKind::Database, None), days(15));
    for kind in SecretKind::ALL.into_iter().filter(|k| *k != SecretKind::Database) {
        assert_eq!(policy.interval(kind, None), days(30), "{kind}");
    }
    let stored = Timestamp::from_unix(1_800_000_000);
    assert_eq!(
        policy.due_at(stored, SecretKind::Database, None),
        Some(Timestamp::from_unix(1_800_000_000 + 15 * 86_400))
    );
}

#[test]
fn the_policy_deserializes_directly_too() {
    let text = "default_days: 30\nexceptions:\n  - type: database_password\n    days: 15\n";
    let policy: Result<RotationPolicy, _> = serde_saphyr::from_str(text);
    let (Some(thirty), Some(fifteen)) = (days(30), days(15)) else {
        unreachable!("valid intervals")
    };
    let expected = RotationPolicy::with_default(thirty).with_exception(SecretKind::Database, fifteen);
    assert_eq!(policy.ok(), Some(expected));
    let bad: Result<RotationPolicy, _> =
        serde_saphyr::from_str("default_days: 30\nexceptions:\n  - type: ssh\n    days: 15\n");
    let message = bad.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("`ssh` is not a secret type"), "{message}");
}
