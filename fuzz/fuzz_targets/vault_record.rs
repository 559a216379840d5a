//! Sealed vault records are read back from the database, which is not trusted to be intact: whatever the
//! bytes, decoding must answer `Ok` or `Err` and never panic; a record that decodes must encode back to the
//! very same bytes (one record, one encoding); opening it must not panic, and a record that opens must
//! survive a master-key rotation with the same plaintext.
//!
//! The seeds in `corpus/vault_record` are records sealed under the key and address below (and a few
//! broken ones); `crates/vault/tests/fuzz_corpus.rs` replays them and writes them anew when asked.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run vault_record -- -max_total_time=300` from `fuzz/`'s parent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_core::{MasterKey, SystemEntropy};
use warden_vault::{SealedSecret, SecretKind, SecretName, SecretRef, SecretVersion, open, rewrap};

// The same key and address as crates/vault/tests/fuzz_corpus.rs.
const FUZZ_MASTER_KEY: [u8; 32] = [0x42; 32];
const NEXT_MASTER_KEY: [u8; 32] = [0x43; 32];

fn address() -> SecretRef {
    let (Ok(name), Some(version)) = (SecretName::new("fuzz/openai"), SecretVersion::new(1)) else {
        panic!("the fuzz address is valid")
    };
    SecretRef {
        name,
        version,
        kind: SecretKind::ApiKey,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(record) = SealedSecret::decode(data) else {
        return;
    };
    assert_eq!(record.encode(), data, "decoding is not canonical");
    let (Ok(master), Ok(next)) = (
        MasterKey::from_bytes(&FUZZ_MASTER_KEY),
        MasterKey::from_bytes(&NEXT_MASTER_KEY),
    ) else {
        panic!("32-byte keys are master keys")
    };
    let address = address();
    let Ok(plaintext) = open(&master, &address, &record) else {
        return;
    };
    let Ok(moved) = rewrap(&master, &next, &SystemEntropy, &address, &record) else {
        panic!("a record that opens can be rewrapped")
    };
    assert_eq!(moved.ciphertext(), record.ciphertext());
    let reopened = open(&next, &address, &moved).map(|p| p.to_vec());
    assert_eq!(
        reopened.ok(),
        Some(plaintext.to_vec()),
        "rewrapping changed the plaintext"
    );
});
