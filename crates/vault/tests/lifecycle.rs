//! A secret's life through the public interface only, as the server will drive it: the `PUT` body parsed,
//! sealed, stored as bytes, read back and opened; rotated to a new version; the master key rotated
//! under it. Every value along the way is printed with `Debug` and every refusal with `Display`, and
//! the plaintext appears in none of them.

use serde_json::json;
use warden_core::{MasterKey, SystemEntropy, Timestamp};
use warden_vault::rotation::is_due;
use warden_vault::{
    KeyId, NewSecret, RotationDays, RotationPolicy, SealedSecret, SecretData, SecretMetadata, SecretName, SecretRef,
    SecretVersion, VaultError, open, rewrap, seal,
};

const MARKER: &str = "sk-live-PLAINTEXT-MARKER-7f3a";

#[test]
fn store_read_rotate_and_rekey_without_showing_the_value() {
    let mut printed = Vec::<String>::new();
    let master = MasterKey::generate(&SystemEntropy);
    let body = json!({"type": "api_key", "data": {"api_key": MARKER}, "tags": ["llm"]});
    let new: NewSecret = match serde_json::from_value(body) {
        Ok(new) => new,
        Err(e) => unreachable!("valid body: {e}"),
    };
    printed.push(format!("{new:?}"));
    let Ok(name) = SecretName::new("prod/openai") else {
        unreachable!("valid name")
    };
    let v1 = SecretRef {
        name: name.clone(),
        version: SecretVersion::FIRST,
        kind: new.kind,
    };
    let stored = match seal(&master, &SystemEntropy, &v1, new.data.expose_bytes()) {
        Ok(sealed) => sealed.encode(),
        Err(e) => unreachable!("{e}"),
    };
    assert!(!contains(&stored, MARKER.as_bytes()), "the record holds the plaintext");

    // Read it back.
    let read = SealedSecret::decode(&stored)
        .and_then(|record| open(&master, &v1, &record))
        .and_then(SecretData::from_plaintext);
    printed.push(format!("{read:?}"));
    let Ok(read) = read else { unreachable!("it opens") };
    assert_eq!(read.to_value().ok(), Some(json!({"api_key": MARKER})));

    // Refusals: another version, the wrong key, tampered bytes.
    let Some(v2_version) = SecretVersion::FIRST.next() else {
        unreachable!("2 follows 1")
    };
    let v2 = SecretRef {
        version: v2_version,
        ..v1.clone()
    };
    let other_key = MasterKey::generate(&SystemEntropy);
    let mut tampered = stored.clone();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    let refusals = [
        SealedSecret::decode(&stored).and_then(|r| open(&master, &v2, &r)),
        SealedSecret::decode(&stored).and_then(|r| open(&other_key, &v1, &r)),
        SealedSecret::decode(&tampered).and_then(|r| open(&master, &v1, &r)),
        SealedSecret::decode(&stored[..stored.len() - 1]).and_then(|r| open(&master, &v1, &r)),
    ];
    for refusal in refusals {
        let Err(error) = refusal else { unreachable!("refused") };
        printed.push(error.to_string());
        printed.push(format!("{error:?}"));
    }

    // Rotate the secret: version 2 with a new value; version 1 still reads.
    let Ok(rotated) = SecretData::from_value(json!({"api_key": "sk-live-second"})) else {
        unreachable!("valid data")
    };
    let v2_stored = match seal(&master, &SystemEntropy, &v2, rotated.expose_bytes()) {
        Ok(sealed) => sealed,
        Err(e) => unreachable!("{e}"),
    };
    printed.push(format!("{v2_stored:?}"));

    // Rotate the master key under both versions; the old key no longer opens them.
    let new_master = MasterKey::generate(&SystemEntropy);
    let v1_record = SealedSecret::decode(&stored);
    let moved = v1_record.and_then(|r| rewrap(&master, &new_master, &SystemEntropy, &v1, &r));
    let Ok(moved) = moved else { unreachable!("rewraps") };
    assert_eq!(moved.key_id(), KeyId::of(&new_master));
    let reopened = open(&new_master, &v1, &moved).and_then(SecretData::from_plaintext);
    assert_eq!(
        reopened.ok().and_then(|d| d.to_value().ok()),
        Some(json!({"api_key": MARKER}))
    );
    assert!(matches!(
        open(&master, &v1, &moved),
        Err(VaultError::WrongMasterKey { .. })
    ));

    for line in &printed {
        assert!(!line.contains(MARKER), "plaintext shown: {line}");
    }
}

#[test]
fn metadata_drives_the_rotation_schedule() {
    let (Ok(name), Ok(days)) = (SecretName::new("prod/db"), RotationDays::new(15)) else {
        unreachable!("valid")
    };
    let policy = RotationPolicy::none().with_exception(warden_vault::SecretKind::Database, days);
    let metadata = SecretMetadata {
        name,
        kind: warden_vault::SecretKind::Database,
        version: SecretVersion::FIRST,
        owner: "admin".to_owned(),
        tags: warden_vault::Tags::default(),
        created_at: Timestamp::from_unix(0),
        version_created_at: Timestamp::from_unix(0),
        expires_at: None,
        rotation_days: None,
    };
    let due = metadata.rotation_due_at(&policy);
    assert_eq!(due, Some(Timestamp::from_unix(15 * 86_400)));
    assert!(!is_due(due, Timestamp::from_unix(15 * 86_400 - 1)));
    assert!(is_due(due, Timestamp::from_unix(15 * 86_400)));
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
