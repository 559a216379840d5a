use std::sync::atomic::{AtomicU8, Ordering};

use proptest::prelude::*;
use warden_core::SystemEntropy;

use super::*;

/// Different bytes on every call, the same sequence on every run.
#[derive(Debug, Default)]
struct CountingEntropy(AtomicU8);

impl Entropy for CountingEntropy {
    fn fill(&self, buf: &mut [u8]) {
        let start = self.0.fetch_add(1, Ordering::Relaxed);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = start.wrapping_mul(97).wrapping_add((i as u8).wrapping_mul(13));
        }
    }
}

const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);

fn key() -> (Secret, ApiKeyRecord) {
    generate("agent-1", NOW, &SystemEntropy)
}

#[test]
fn a_generated_key_parses_and_matches_its_record() {
    let (key, record) = key();
    assert_eq!(key.expose().len(), KEY_LEN);
    assert!(key.expose().starts_with("wdn_"));
    let parsed = parse(key.expose());
    assert_eq!(parsed.map(|(id, _)| id), Some(record.id.as_str()));
    let (_, secret) = parsed.unwrap_or_default();
    assert!(matches(&record, secret));
    assert_eq!(
        (record.agent_id.as_str(), record.created_at, record.revoked_at),
        ("agent-1", NOW, None)
    );
}

#[test]
fn generation_is_driven_by_the_entropy() {
    let (a, record_a) = generate("a", NOW, &CountingEntropy::default());
    let (b, _) = generate("a", NOW, &CountingEntropy::default());
    assert_eq!(a, b, "same entropy, same key");
    assert_eq!(record_a.id, "000d1a273441");
    let entropy = CountingEntropy::default();
    let (c, _) = generate("a", NOW, &entropy);
    let (d, _) = generate("a", NOW, &entropy);
    assert_ne!(c, d);
}

#[test]
fn the_record_holds_no_part_of_the_secret() {
    let (key, record) = key();
    let Some((_, secret)) = parse(key.expose()) else {
        unreachable!("a generated key parses")
    };
    let shown = format!("{record:?} {key:?}");
    assert!(!shown.contains(secret), "{shown}");
    assert_ne!(record.secret_hash.as_slice(), secret.as_bytes());
}

#[test]
fn a_tampered_secret_does_not_match() {
    let (key, record) = key();
    let Some((_, secret)) = parse(key.expose()) else {
        unreachable!("a generated key parses")
    };
    for i in 0..secret.len() {
        let mut tampered = secret.as_bytes().to_vec();
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap_or_default();
        assert!(!matches(&record, &tampered), "changing character {i} went unnoticed");
    }
    assert!(!matches(&record, ""));
}

#[test]
fn another_keys_secret_does_not_match() {
    let (_, record) = key();
    let (other, _) = key();
    let Some((id, secret)) = parse(other.expose()) else {
        unreachable!("a generated key parses")
    };
    assert_ne!(id, record.id, "ids are random");
    assert!(!matches(&record, secret));
}

#[test]
fn a_revoked_key_never_matches() {
    let (key, mut record) = key();
    let Some((_, secret)) = parse(key.expose()) else {
        unreachable!("a generated key parses")
    };
    record.revoked_at = Some(NOW.plus(1));
    assert!(!matches(&record, secret));
}

#[test]
fn parse_rejects_anything_but_the_exact_shape() {
    let (key, _) = key();
    let key = key.expose();
    let valid_secret = &key[17..];
    let bad = [
        String::new(),
        "wdn_".into(),
        key[..KEY_LEN - 1].to_string(),
        format!("{key}A"),
        key.replacen("wdn_", "wdx_", 1),
        key.replacen("wdn_", "WDN_", 1),
        format!("wdn_ABCDEF012345_{valid_secret}"),
        format!("wdn_0123456789ag_{valid_secret}"),
        format!("wdn_0123456789ab-{valid_secret}"),
        format!("wdn_0123456789ab_{}+", &valid_secret[..42]),
        format!("wdn_0123456789ab_{}=", &valid_secret[..42]),
        format!("wdn_0123456789ab_{}é", &valid_secret[..41]),
        // 43 characters whose last one carries bits past the 32nd byte: not canonical.
        format!("wdn_0123456789ab_{}B", "A".repeat(42)),
        "wdn_".repeat(15),
        "x".repeat(10_000_000),
    ];
    for input in &bad {
        assert_eq!(
            parse(input),
            None,
            "{:?} accepted",
            input.chars().take(80).collect::<String>()
        );
    }
    let good = format!("wdn_0123456789ab_{}A", "A".repeat(42));
    assert_eq!(parse(&good), Some(("0123456789ab", &good[17..])));
}

proptest! {
    #[test]
    fn parse_never_panics(input in any::<String>()) {
        let _ = parse(&input);
    }

    #[test]
    fn parse_never_panics_on_near_misses(id in "[0-9a-f_]{12}", secret in "[A-Za-z0-9_=+/é-]{40,46}") {
        let candidate = format!("wdn_{id}_{secret}");
        if let Some((parsed_id, parsed_secret)) = parse(&candidate) {
            prop_assert_eq!(parsed_id, id.as_str());
            prop_assert_eq!(parsed_secret.len(), SECRET_LEN);
        }
    }
}
