use std::sync::atomic::{AtomicU8, Ordering};

use super::*;

/// Different bytes on every call, the same sequence on every run.
#[derive(Debug, Default)]
struct CountingEntropy(AtomicU8);

impl Entropy for CountingEntropy {
    fn fill(&self, buf: &mut [u8]) {
        let start = self.0.fetch_add(1, Ordering::Relaxed);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = start.wrapping_mul(31).wrapping_add(i as u8);
        }
    }
}

/// Argon2's minimum costs: a hash takes microseconds instead of tens of milliseconds.
fn cheap() -> PasswordHasher {
    match PasswordHasher::new(8, 1, 1) {
        Ok(hasher) => hasher,
        Err(e) => unreachable!("the minimum argon2 parameters are valid: {e}"),
    }
}

const GOOD: &str = "Correct-Horse-42";

fn violations(policy: &PasswordPolicy, password: &str) -> Vec<String> {
    match policy.check(&Secret::new(password)) {
        Ok(()) => Vec::new(),
        Err(IdentityError::WeakPassword(broken)) => broken,
        Err(other) => vec![format!("unexpected error: {other}")],
    }
}

#[test]
fn default_policy_is_the_seed_policy() {
    let seed = r#"{"min_length": 12, "require_uppercase": true, "require_lowercase": true,
        "require_numbers": true, "require_special": true, "max_age_days": 90, "history_size": 5}"#;
    let parsed: Result<PasswordPolicy, _> = serde_json::from_str(seed);
    assert_eq!(parsed.ok(), Some(PasswordPolicy::default()));
    let partial: Result<PasswordPolicy, _> = serde_json::from_str(r#"{"min_length": 20}"#);
    assert_eq!(partial.ok().map(|p| (p.min_length, p.history_size)), Some((20, 5)));
}

#[test]
fn policy_rejects_unknown_keys() {
    let typo: Result<PasswordPolicy, _> = serde_json::from_str(r#"{"min_lenght": 20}"#);
    assert!(typo.is_err());
}

#[test]
fn a_good_password_passes() {
    assert!(violations(&PasswordPolicy::default(), GOOD).is_empty());
}

#[test]
fn each_rule_is_reported_alone() {
    let policy = PasswordPolicy::default();
    let cases = [
        ("Short-42a", "at least 12 characters"),
        ("correct-horse-42", "uppercase"),
        ("CORRECT-HORSE-42", "lowercase"),
        ("Correct-Horse-xy", "digit"),
        ("CorrectHorse4242", "special"),
    ];
    for (password, rule) in cases {
        let broken = violations(&policy, password);
        assert_eq!(broken.len(), 1, "{password:?} broke {broken:?}");
        assert!(
            broken[0].contains(rule),
            "{password:?}: {broken:?} should mention {rule}"
        );
    }
}

#[test]
fn every_broken_rule_is_listed_and_the_password_is_not() {
    let broken = violations(&PasswordPolicy::default(), "abc");
    assert_eq!(broken.len(), 4, "{broken:?}");
    let error = PasswordPolicy::default().check(&Secret::new("abc"));
    let shown = error.map_err(|e| format!("{e} {e:?}")).err().unwrap_or_default();
    assert!(!shown.contains("abc"), "{shown}");
}

#[test]
fn length_counts_characters_and_is_bounded_in_bytes() {
    let lax = PasswordPolicy {
        min_length: 4,
        require_uppercase: false,
        require_lowercase: false,
        require_numbers: false,
        require_special: false,
        ..PasswordPolicy::default()
    };
    assert!(violations(&lax, "äöüß").is_empty(), "four characters, eight bytes");
    assert!(violations(&lax, "").iter().any(|v| v.contains("at least 4")));
    let huge = "a".repeat(MAX_PASSWORD_BYTES + 1);
    assert!(violations(&lax, &huge).iter().any(|v| v.contains("at most 1024 bytes")));
    let zero = PasswordPolicy { min_length: 0, ..lax };
    assert_eq!(violations(&zero, "").len(), 1, "an empty password is never accepted");
}

#[test]
fn hash_and_verify_round_trip() {
    let hasher = cheap();
    let password = Secret::new(GOOD);
    let phc = hasher.hash(&password, &CountingEntropy::default()).unwrap_or_default();
    assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{phc}");
    assert!(hasher.verify(&password, &phc));
    assert!(!hasher.verify(&Secret::new("Correct-Horse-43"), &phc));
    assert!(!hasher.verify(&Secret::new(""), &phc));
}

#[test]
fn salts_differ_between_hashes() {
    let hasher = cheap();
    let entropy = CountingEntropy::default();
    let a = hasher.hash(&Secret::new(GOOD), &entropy).unwrap_or_default();
    let b = hasher.hash(&Secret::new(GOOD), &entropy).unwrap_or_default();
    assert_ne!(a, b);
}

#[test]
fn a_hasher_verifies_hashes_made_with_other_costs() {
    let old = cheap()
        .hash(&Secret::new(GOOD), &CountingEntropy::default())
        .unwrap_or_default();
    let stronger = PasswordHasher::new(16, 2, 1).unwrap_or_else(|_| cheap());
    assert!(stronger.verify(&Secret::new(GOOD), &old));
}

#[test]
fn malformed_or_foreign_hashes_never_match() {
    let hasher = cheap();
    let password = Secret::new(GOOD);
    let phc = hasher.hash(&password, &CountingEntropy::default()).unwrap_or_default();
    let argon2i = phc.replacen("$argon2id$", "$argon2i$", 1);
    let truncated = &phc[..phc.len() - 5];
    for bad in [
        "",
        "$",
        "plaintext",
        "$argon2id$v=19$m=8,t=1,p=1$",
        truncated,
        &argon2i,
        &"$".repeat(10_000),
    ] {
        assert!(!hasher.verify(&password, bad), "{bad:?} matched");
    }
}

#[test]
fn the_dummy_hash_is_well_formed_and_never_matches() {
    let hasher = cheap();
    assert!(PasswordHash::new(&hasher.dummy_phc).is_ok(), "{}", hasher.dummy_phc);
    assert!(!hasher.verify(&Secret::new(GOOD), &hasher.dummy_phc));
    hasher.dummy_verify(&Secret::new(GOOD));
    assert!(PasswordHasher::default().dummy_phc.contains("m=19456,t=2,p=1"));
}

#[test]
fn overlong_passwords_are_neither_hashed_nor_verified() {
    let hasher = cheap();
    let huge = Secret::new("A1-".repeat(400));
    assert!(matches!(
        hasher.hash(&huge, &CountingEntropy::default()),
        Err(IdentityError::WeakPassword(_))
    ));
    assert!(!hasher.verify(&huge, &hasher.dummy_phc));
}

#[test]
fn invalid_costs_are_refused() {
    assert!(matches!(
        PasswordHasher::new(0, 1, 1),
        Err(IdentityError::Invalid { .. })
    ));
    assert!(matches!(
        PasswordHasher::new(8, 0, 1),
        Err(IdentityError::Invalid { .. })
    ));
}

fn set(
    record: Option<&PasswordRecord>,
    password: &str,
    policy: &PasswordPolicy,
) -> Result<PasswordRecord, IdentityError> {
    let entropy = CountingEntropy::default();
    change(
        record,
        &Secret::new(password),
        policy,
        &cheap(),
        &entropy,
        "a1",
        Timestamp::from_unix(1_000),
    )
}

#[test]
fn change_refuses_the_current_and_remembered_passwords() -> Result<(), IdentityError> {
    let policy = PasswordPolicy {
        history_size: 2,
        ..PasswordPolicy::default()
    };
    let first = set(None, "Password-One-1", &policy)?;
    assert!(first.history.is_empty());
    let second = set(Some(&first), "Password-Two-2", &policy)?;
    let third = set(Some(&second), "Password-Three-3", &policy)?;
    assert_eq!(
        third.history,
        vec![second.hash.clone(), first.hash.clone()],
        "newest first"
    );

    for reused in ["Password-Three-3", "Password-Two-2", "Password-One-1"] {
        let refused = set(Some(&third), reused, &policy);
        assert!(
            matches!(refused, Err(IdentityError::PasswordReused(3))),
            "{reused} was accepted"
        );
    }

    // One more change pushes the first password out of the window of two.
    let fourth = set(Some(&third), "Password-Four-4", &policy)?;
    assert_eq!(fourth.history.len(), 2);
    assert!(set(Some(&fourth), "Password-One-1", &policy).is_ok());
    assert!(set(Some(&fourth), "Password-Two-2", &policy).is_err());
    Ok(())
}

#[test]
fn change_with_no_history_still_refuses_the_current_password() -> Result<(), IdentityError> {
    let policy = PasswordPolicy {
        history_size: 0,
        ..PasswordPolicy::default()
    };
    let first = set(None, "Password-One-1", &policy)?;
    assert!(matches!(
        set(Some(&first), "Password-One-1", &policy),
        Err(IdentityError::PasswordReused(1))
    ));
    let second = set(Some(&first), "Password-Two-2", &policy)?;
    assert!(second.history.is_empty());
    Ok(())
}

#[test]
fn change_clears_failures_and_checks_the_policy() -> Result<(), IdentityError> {
    let policy = PasswordPolicy::default();
    let mut record = set(None, "Password-One-1", &policy)?;
    record.failed_attempts = 4;
    record.locked_until = Some(Timestamp::from_unix(5_000));
    let changed = set(Some(&record), "Password-Two-2", &policy)?;
    assert_eq!((changed.failed_attempts, changed.locked_until), (0, None));
    assert_eq!(changed.changed_at, Timestamp::from_unix(1_000));
    assert!(matches!(
        set(Some(&record), "weak", &policy),
        Err(IdentityError::WeakPassword(_))
    ));
    Ok(())
}

#[test]
fn change_refuses_another_agents_record() -> Result<(), IdentityError> {
    let policy = PasswordPolicy::default();
    let mut record = set(None, "Password-One-1", &policy)?;
    record.agent_id = "someone-else".into();
    assert!(matches!(
        set(Some(&record), "Password-Two-2", &policy),
        Err(IdentityError::Invalid { .. })
    ));
    Ok(())
}

fn record(changed_at: i64, locked_until: Option<i64>) -> PasswordRecord {
    PasswordRecord {
        agent_id: "a1".into(),
        hash: String::new(),
        changed_at: Timestamp::from_unix(changed_at),
        history: Vec::new(),
        failed_attempts: 0,
        locked_until: locked_until.map(Timestamp::from_unix),
    }
}

#[test]
fn passwords_expire_after_max_age() {
    let policy = PasswordPolicy {
        max_age_days: Some(1),
        ..PasswordPolicy::default()
    };
    let r = record(1_000, None);
    assert!(!expired(&r, &policy, Timestamp::from_unix(1_000 + 86_399)));
    assert!(expired(&r, &policy, Timestamp::from_unix(1_000 + 86_400)));
    let forever = PasswordPolicy {
        max_age_days: None,
        ..policy
    };
    assert!(!expired(&r, &forever, Timestamp::from_unix(i64::MAX)));
}

#[test]
fn lockout_arithmetic() {
    let policy = LockoutPolicy::default();
    let now = Timestamp::from_unix(1_000);
    assert_eq!(policy.lock_after(4, now), None);
    assert_eq!(policy.lock_after(5, now), Some(Timestamp::from_unix(1_300)));
    assert_eq!(policy.lock_after(9, now), Some(Timestamp::from_unix(1_300)));
    let never_off = LockoutPolicy {
        max_failed_attempts: 0,
        ..policy
    };
    assert_eq!(never_off.lock_after(0, now), None);
    assert_eq!(never_off.lock_after(1, now), Some(Timestamp::from_unix(1_300)));

    let locked = record(0, Some(1_300));
    assert_eq!(
        is_locked(&locked, Timestamp::from_unix(1_299)),
        Some(Timestamp::from_unix(1_300))
    );
    assert_eq!(is_locked(&locked, Timestamp::from_unix(1_300)), None);
    assert_eq!(is_locked(&record(0, None), now), None);
}

#[test]
fn debug_output_never_shows_a_password() {
    let hasher = cheap();
    let password = Secret::new(GOOD);
    let entropy = CountingEntropy::default();
    let record = change(
        None,
        &password,
        &PasswordPolicy::default(),
        &hasher,
        &entropy,
        "a1",
        Timestamp::EPOCH,
    );
    let shown = format!("{password:?} {hasher:?} {record:?} {:?}", PasswordPolicy::default());
    assert!(!shown.contains(GOOD), "{shown}");
}
