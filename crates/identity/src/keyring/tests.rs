use warden_core::{ManualClock, SystemEntropy};

use super::*;
use crate::repo::SigningKeyRecord;

fn master() -> MasterKey {
    MasterKey::generate(&SystemEntropy)
}

fn generated(now: i64, master: &MasterKey) -> SigningKeyRecord {
    match generate_key(Timestamp::from_unix(now), master, &SystemEntropy) {
        Ok(record) => record,
        Err(e) => unreachable!("key generation failed: {e}"),
    }
}

fn loaded(records: &[SigningKeyRecord], master: &MasterKey, now: i64) -> Keyring {
    match Keyring::load(records, master, Timestamp::from_unix(now)) {
        Ok(Some(ring)) => ring,
        other => unreachable!("expected a keyring, got {other:?}"),
    }
}

#[test]
fn empty_store_has_no_keyring() {
    assert!(matches!(Keyring::load(&[], &master(), Timestamp::EPOCH), Ok(None)));
}

#[test]
fn the_private_key_is_sealed_and_bound_to_its_kid() {
    let master = master();
    let mut record = generated(1_700_000_000, &master);
    assert!(record.kid.starts_with("key-2023-11-14-"), "{}", record.kid);
    assert_eq!(record.public_key.len(), 32);
    // A sealed key copied under another kid refuses to open.
    record.kid = "key-forged".into();
    assert!(Keyring::load(&[record], &master, Timestamp::EPOCH).is_err());
}

#[test]
fn wrong_master_key_refuses_to_load() {
    let record = generated(1_700_000_000, &master());
    assert!(Keyring::load(&[record], &master(), Timestamp::EPOCH).is_err());
}

#[test]
fn retired_keys_verify_only_inside_their_grace_period() {
    let master = master();
    let mut old = generated(1_000, &master);
    let new = generated(2_000, &master);
    old.retired_at = Some(Timestamp::from_unix(2_000));
    old.verify_until = Some(Timestamp::from_unix(3_000));
    let records = [old.clone(), new.clone()];

    let ring = loaded(&records, &master, 2_500);
    assert_eq!(ring.current().kid(), new.kid);
    assert!(ring.verifier(&old.kid, Timestamp::from_unix(2_999)).is_some());
    assert!(ring.verifier(&old.kid, Timestamp::from_unix(3_000)).is_none());
    let jwks = ring.jwks(Timestamp::from_unix(2_500));
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        ring.jwks(Timestamp::from_unix(3_000))["keys"].as_array().map(Vec::len),
        Some(1)
    );

    // Loaded after the grace period, the old key is gone entirely.
    let later = loaded(&records, &master, 3_001);
    assert!(later.verifier(&old.kid, Timestamp::from_unix(2_500)).is_none());
}

#[test]
fn jwks_entries_are_okp_ed25519_with_kid() {
    let master = master();
    let record = generated(1_000, &master);
    let ring = loaded(std::slice::from_ref(&record), &master, 1_000);
    let key = &ring.jwks(Timestamp::from_unix(1_000))["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(key["kid"], record.kid.as_str());
    assert_eq!(key["x"].as_str().map(str::len), Some(43));
    assert!(key.get("d").is_none(), "the JWKS must never carry a private key");
}

#[test]
fn next_rotation_is_random_within_bounds() {
    let policy = RotationPolicy {
        min: Seconds::hours(24),
        max: Seconds::hours(168),
        grace: Seconds::hours(24),
    };
    let clock = ManualClock::at(Timestamp::from_unix(1_000_000));
    let now = warden_core::Clock::now(&clock);
    let picks: Vec<i64> = (0..200)
        .map(|_| policy.next_rotation(now, &SystemEntropy).unix())
        .collect();
    assert!(
        picks
            .iter()
            .all(|p| (now.plus(86_400).unix()..=now.plus(604_800).unix()).contains(p))
    );
    let distinct: std::collections::HashSet<_> = picks.iter().collect();
    assert!(
        distinct.len() > 150,
        "rotation times should be unpredictable, got {} distinct",
        distinct.len()
    );
    let fixed = RotationPolicy {
        min: Seconds::hours(1),
        max: Seconds::hours(1),
        grace: Seconds::hours(1),
    };
    assert_eq!(fixed.next_rotation(now, &SystemEntropy), now.plus(3600));
}
