use proptest::prelude::*;
use warden_core::{MasterKey, SystemEntropy};

use super::*;
use crate::{SecretKind, SecretName, SecretRef, SecretVersion, open, seal};

fn address() -> SecretRef {
    let (Ok(name), Some(version)) = (SecretName::new("prod/db"), SecretVersion::new(3)) else {
        unreachable!("valid address")
    };
    SecretRef {
        name,
        version,
        kind: SecretKind::Database,
    }
}

fn record(master: &MasterKey, plaintext: &[u8]) -> SealedSecret {
    match seal(master, &SystemEntropy, &address(), plaintext) {
        Ok(sealed) => sealed,
        Err(e) => unreachable!("sealing succeeds: {e}"),
    }
}

#[test]
fn encodes_the_documented_layout() {
    let master = MasterKey::generate(&SystemEntropy);
    let sealed = record(&master, b"{\"password\":\"p\"}");
    let bytes = sealed.encode();
    assert_eq!(&bytes[..4], b"WVLT");
    assert_eq!(bytes[4], 1);
    assert_eq!(&bytes[5..13], sealed.key_id().as_bytes());
    assert_eq!(&bytes[13..74], sealed.wrapped_key());
    assert_eq!(&bytes[74..86], sealed.nonce());
    assert_eq!(&bytes[86..90], &(sealed.ciphertext().len() as u32).to_be_bytes());
    assert_eq!(&bytes[90..], sealed.ciphertext());
    assert_eq!(bytes.len(), HEADER_LEN + 16 + 16);
    assert_eq!(SealedSecret::decode(&bytes), Ok(sealed));
}

#[test]
fn the_limits_are_what_they_say() {
    let master = MasterKey::generate(&SystemEntropy);
    assert_eq!(record(&master, b"").encode().len(), MIN_RECORD_LEN);
    let largest = record(&master, &vec![b'x'; MAX_PLAINTEXT_LEN]).encode();
    assert_eq!(largest.len(), MAX_RECORD_LEN);
    assert!(SealedSecret::decode(&largest).is_ok());
}

#[test]
fn every_truncation_and_every_extension_is_refused() {
    let bytes = record(&MasterKey::generate(&SystemEntropy), b"{}").encode();
    for len in 0..bytes.len() {
        assert!(
            SealedSecret::decode(&bytes[..len]).is_err(),
            "a {len}-byte prefix decoded"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        SealedSecret::decode(&longer),
        Err(VaultError::MalformedRecord("trailing bytes after the ciphertext"))
    );
}

#[test]
fn magic_format_and_length_are_checked() {
    let bytes = record(&MasterKey::generate(&SystemEntropy), b"{}").encode();
    let with = |at: usize, value: u8| {
        let mut b = bytes.clone();
        b[at] = value;
        SealedSecret::decode(&b)
    };
    assert_eq!(
        with(0, b'X'),
        Err(VaultError::MalformedRecord("not a vault record (bad magic)"))
    );
    assert_eq!(with(4, 2), Err(VaultError::MalformedRecord("unknown record format")));
    assert_eq!(with(4, 0), Err(VaultError::MalformedRecord("unknown record format")));
    let length_at = HEADER_LEN - 4;
    let mut huge = bytes.clone();
    huge[length_at..HEADER_LEN].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        SealedSecret::decode(&huge),
        Err(VaultError::MalformedRecord("ciphertext length out of range"))
    );
    let mut tiny = bytes[..HEADER_LEN].to_vec();
    tiny[length_at..].copy_from_slice(&15u32.to_be_bytes());
    tiny.extend_from_slice(&[0; 15]);
    assert_eq!(
        SealedSecret::decode(&tiny),
        Err(VaultError::MalformedRecord("ciphertext length out of range"))
    );
}

#[test]
fn every_flipped_bit_of_an_encoded_record_is_caught() {
    let master = MasterKey::generate(&SystemEntropy);
    let bytes = record(&master, b"{\"password\":\"hunter2\"}").encode();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut tampered = bytes.clone();
            tampered[i] ^= 1 << bit;
            let outcome = SealedSecret::decode(&tampered).and_then(|r| open(&master, &address(), &r));
            assert!(outcome.is_err(), "byte {i} bit {bit} went unnoticed");
        }
    }
}

fn any_record() -> impl Strategy<Value = SealedSecret> {
    (
        any::<[u8; 8]>(),
        proptest::collection::vec(any::<u8>(), WRAPPED_KEY_LEN),
        any::<[u8; NONCE_LEN]>(),
        proptest::collection::vec(any::<u8>(), TAG_LEN..600),
    )
        .prop_map(|(id, wrapped, nonce, ciphertext)| SealedSecret {
            key_id: KeyId::from_bytes(id),
            wrapped_key: Sealed(wrapped),
            nonce,
            ciphertext,
        })
}

proptest! {
    #[test]
    fn decode_inverts_encode(record in any_record()) {
        prop_assert_eq!(SealedSecret::decode(&record.encode()), Ok(record));
    }

    /// Arbitrary bytes: refused or decoded, never a panic; what decodes is canonical.
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(record) = SealedSecret::decode(&bytes) {
            prop_assert_eq!(record.encode(), bytes);
        }
    }

    /// Bytes behind a valid magic and format, so the length checks are what is exercised.
    #[test]
    fn decode_never_panics_past_the_header(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = b"WVLT\x01".to_vec();
        bytes.extend_from_slice(&tail);
        if let Ok(record) = SealedSecret::decode(&bytes) {
            prop_assert_eq!(record.encode(), bytes);
        }
    }

    /// Valid records with one byte changed, inserted or removed: the mutations a fuzzer reaches slowly
    /// from random bytes.
    #[test]
    fn mutated_records_never_panic(record in any_record(), at in any::<usize>(), byte in any::<u8>(), how in 0..3u8) {
        let mut bytes = record.encode();
        let at = at % bytes.len();
        match how {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ => { bytes.remove(at); }
        }
        if let Ok(decoded) = SealedSecret::decode(&bytes) {
            prop_assert_eq!(decoded.encode(), bytes);
        }
    }
}
