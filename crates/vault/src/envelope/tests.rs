use warden_core::SystemEntropy;

use super::*;

fn master() -> MasterKey {
    MasterKey::generate(&SystemEntropy)
}

fn secret(name: &str, version: u32, kind: SecretKind) -> SecretRef {
    let (Ok(name), Some(version)) = (SecretName::new(name), SecretVersion::new(version)) else {
        unreachable!("test addresses are valid")
    };
    SecretRef { name, version, kind }
}

fn openai() -> SecretRef {
    secret("prod/openai", 1, SecretKind::ApiKey)
}

const PLAINTEXT: &[u8] = br#"{"api_key":"sk-live-0123456789abcdef"}"#;

fn sealed(master: &MasterKey, at: &SecretRef, plaintext: &[u8]) -> SealedSecret {
    match seal(master, &SystemEntropy, at, plaintext) {
        Ok(sealed) => sealed,
        Err(e) => unreachable!("sealing a valid plaintext succeeds: {e}"),
    }
}

fn opened(master: &MasterKey, at: &SecretRef, record: &SealedSecret) -> Result<Vec<u8>, VaultError> {
    open(master, at, record).map(|p| p.to_vec())
}

#[test]
fn round_trips_every_size_up_to_the_limit() {
    let master = master();
    for len in [0, 1, 15, 16, 17, 1024, MAX_PLAINTEXT_LEN] {
        let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let record = sealed(&master, &openai(), &plaintext);
        assert_eq!(record.ciphertext().len(), len + TAG_LEN);
        assert_eq!(
            record.wrapped_key().len(),
            WRAPPED_KEY_LEN,
            "MasterKey::seal's layout changed"
        );
        assert_eq!(opened(&master, &openai(), &record), Ok(plaintext));
    }
}

#[test]
fn refuses_plaintext_over_the_limit() {
    let too_big = vec![b'x'; MAX_PLAINTEXT_LEN + 1];
    assert_eq!(
        seal(&master(), &SystemEntropy, &openai(), &too_big).err(),
        Some(VaultError::DataTooLarge {
            len: MAX_PLAINTEXT_LEN + 1,
            max: MAX_PLAINTEXT_LEN
        })
    );
}

#[test]
fn every_seal_draws_a_new_data_key_and_nonces() {
    let master = master();
    let a = sealed(&master, &openai(), PLAINTEXT);
    let b = sealed(&master, &openai(), PLAINTEXT);
    assert_ne!(a.nonce(), b.nonce());
    assert_ne!(a.ciphertext(), b.ciphertext());
    assert_ne!(a.wrapped_key(), b.wrapped_key());
    assert_eq!(a.key_id(), b.key_id());
}

#[test]
fn a_flipped_bit_anywhere_fails_to_open() {
    let master = master();
    let record = sealed(&master, &openai(), PLAINTEXT);
    for i in 0..record.wrapped_key.0.len() {
        let mut tampered = record.clone();
        tampered.wrapped_key.0[i] ^= 0x01;
        assert!(opened(&master, &openai(), &tampered).is_err(), "wrapped key byte {i}");
    }
    for i in 0..NONCE_LEN {
        let mut tampered = record.clone();
        tampered.nonce[i] ^= 0x80;
        assert_eq!(
            opened(&master, &openai(), &tampered),
            Err(VaultError::Decryption),
            "nonce byte {i}"
        );
    }
    for i in 0..record.ciphertext.len() {
        let mut tampered = record.clone();
        tampered.ciphertext[i] ^= 0x01;
        assert_eq!(
            opened(&master, &openai(), &tampered),
            Err(VaultError::Decryption),
            "ciphertext byte {i}"
        );
    }
    // The key id is a hint for choosing the master key, and it is authenticated too.
    for i in 0..KEY_ID_LEN {
        let mut tampered = record.clone();
        tampered.key_id.0[i] ^= 0x01;
        assert!(opened(&master, &openai(), &tampered).is_err(), "key id byte {i}");
    }
    let mut truncated = record.clone();
    truncated.ciphertext.pop();
    assert!(opened(&master, &openai(), &truncated).is_err());
    assert_eq!(opened(&master, &openai(), &record).ok().as_deref(), Some(PLAINTEXT));
}

#[test]
fn a_record_moved_to_another_name_version_or_type_fails() {
    let master = master();
    let original = openai();
    let record = sealed(&master, &original, PLAINTEXT);
    let elsewhere = [
        secret("prod/openai2", 1, SecretKind::ApiKey),
        secret("staging/openai", 1, SecretKind::ApiKey),
        secret("prod/openai", 2, SecretKind::ApiKey),
        secret("prod/openai", 1, SecretKind::Generic),
        secret("prod/openai", 1, SecretKind::Password),
    ];
    for other in &elsewhere {
        assert_eq!(
            opened(&master, other, &record),
            Err(VaultError::Decryption),
            "{other:?}"
        );
    }
}

#[test]
fn halves_of_two_records_do_not_combine() {
    let master = master();
    let (a_ref, b_ref) = (openai(), secret("prod/stripe", 1, SecretKind::Payment));
    let a = sealed(&master, &a_ref, PLAINTEXT);
    let b = sealed(&master, &b_ref, b"{\"key\":\"rk_live\"}");
    // B's ciphertext under A's wrapped key and nonce, read as A and as B.
    let mut spliced = a.clone();
    spliced.ciphertext = b.ciphertext.clone();
    spliced.nonce = b.nonce;
    assert_eq!(opened(&master, &a_ref, &spliced), Err(VaultError::Decryption));
    assert_eq!(opened(&master, &b_ref, &spliced), Err(VaultError::Decryption));
    // B's wrapped key moved into A.
    let mut spliced = a.clone();
    spliced.wrapped_key = b.wrapped_key.clone();
    assert_eq!(opened(&master, &a_ref, &spliced), Err(VaultError::Decryption));
    // Same name, two versions: version 1's record read as version 2.
    let v2 = secret("prod/openai", 2, SecretKind::ApiKey);
    let second = sealed(&master, &v2, b"{\"api_key\":\"new\"}");
    assert_eq!(opened(&master, &v2, &a), Err(VaultError::Decryption));
    assert_eq!(opened(&master, &a_ref, &second), Err(VaultError::Decryption));
}

#[test]
fn the_wrong_master_key_is_named_not_guessed() {
    let (right, wrong) = (master(), master());
    let record = sealed(&right, &openai(), PLAINTEXT);
    assert_eq!(
        opened(&wrong, &openai(), &record),
        Err(VaultError::WrongMasterKey {
            record: KeyId::of(&right),
            offered: KeyId::of(&wrong),
        })
    );
}

#[test]
fn rewrap_moves_a_record_to_the_new_key_and_keeps_the_ciphertext() {
    let (old, new) = (master(), master());
    let record = sealed(&old, &openai(), PLAINTEXT);
    let Ok(moved) = rewrap(&old, &new, &SystemEntropy, &openai(), &record) else {
        unreachable!("rewrapping with the right old key succeeds")
    };
    assert_eq!(moved.key_id(), KeyId::of(&new));
    assert_eq!(moved.ciphertext(), record.ciphertext());
    assert_eq!(moved.nonce(), record.nonce());
    assert_ne!(moved.wrapped_key(), record.wrapped_key());
    assert_eq!(opened(&new, &openai(), &moved).ok().as_deref(), Some(PLAINTEXT));
    assert!(matches!(
        opened(&old, &openai(), &moved),
        Err(VaultError::WrongMasterKey { .. })
    ));
    // The old record still opens with the old key until it is overwritten: a crash between the two
    // leaves every record readable with the key its id names.
    assert_eq!(opened(&old, &openai(), &record).ok().as_deref(), Some(PLAINTEXT));
}

#[test]
fn rewrap_is_safe_to_repeat() {
    let (old, new) = (master(), master());
    let record = sealed(&old, &openai(), PLAINTEXT);
    let once = rewrap(&old, &new, &SystemEntropy, &openai(), &record);
    let twice = once
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|moved| rewrap(&old, &new, &SystemEntropy, &openai(), moved));
    assert!(once.is_ok());
    assert_eq!(once, twice, "a record already under the new key comes back unchanged");
}

#[test]
fn rewrap_refuses_a_record_it_cannot_unwrap() {
    let (old, new, other) = (master(), master(), master());
    let record = sealed(&other, &openai(), PLAINTEXT);
    assert!(matches!(
        rewrap(&old, &new, &SystemEntropy, &openai(), &record),
        Err(VaultError::WrongMasterKey { .. })
    ));
    let at_old = sealed(&old, &openai(), PLAINTEXT);
    let moved_elsewhere = secret("prod/other", 1, SecretKind::ApiKey);
    assert_eq!(
        rewrap(&old, &new, &SystemEntropy, &moved_elsewhere, &at_old).err(),
        Some(VaultError::Decryption)
    );
}

#[test]
fn key_ids_tell_keys_apart_and_show_no_key_material() {
    let (a, b) = (master(), master());
    assert_eq!(KeyId::of(&a), KeyId::of(&a));
    assert_ne!(KeyId::of(&a), KeyId::of(&b));
    let shown = KeyId::of(&a).to_string();
    assert_eq!(shown.len(), 16);
    assert!(shown.bytes().all(|c| c.is_ascii_hexdigit()));
    let key_hex: String = a.expose_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(!key_hex.contains(&shown));
}

#[test]
fn debug_output_shows_no_bytes() {
    let record = sealed(&master(), &openai(), PLAINTEXT);
    let debug = format!("{record:?}");
    assert!(debug.starts_with("SealedSecret { key_id: KeyId("), "{debug}");
    assert!(!debug.contains("sk-live"), "{debug}");
}

/// Bytes 0, 1, 2, … on every call, continuing where the last call stopped.
#[derive(Debug, Default)]
struct CountingEntropy(std::sync::atomic::AtomicU8);

impl Entropy for CountingEntropy {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            *b = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[test]
fn sealing_draws_all_randomness_from_the_injected_entropy() {
    let master = master();
    let a = seal(&master, &CountingEntropy::default(), &openai(), PLAINTEXT);
    let b = seal(&master, &CountingEntropy::default(), &openai(), PLAINTEXT);
    assert!(a.is_ok());
    assert_eq!(a, b, "the same entropy gives the same record");
    // Data key first (bytes 0..32), then the ciphertext nonce (32..44).
    let expected_nonce: Vec<u8> = (32..44).collect();
    assert_eq!(a.map(|r| r.nonce().to_vec()).ok(), Some(expected_nonce));
}
