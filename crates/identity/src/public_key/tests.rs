use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, EcdsaSigningAlgorithm,
    Ed25519KeyPair, KeyPair as _,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use warden_core::SystemEntropy;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const NOW: Timestamp = Timestamp::from_unix(1_700_000_000);

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .filter_map(|i| text.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

fn pem(spki_der: &[u8]) -> String {
    let body = STANDARD.encode(spki_der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    )
}

fn record(algorithm: KeyAlgorithm, public_key: Vec<u8>) -> PublicKeyRecord {
    PublicKeyRecord {
        id: "k1".into(),
        agent_id: "agent-1".into(),
        algorithm,
        public_key,
        created_at: NOW,
    }
}

/// An agent's key: it can register itself as PEM or raw, and sign challenges.
trait AgentKey {
    fn algorithm(&self) -> KeyAlgorithm;
    fn raw(&self) -> Vec<u8>;
    fn spki_der(&self) -> Vec<u8>;
    fn sign(&self, message: &[u8]) -> Vec<u8>;
}

impl AgentKey for Ed25519KeyPair {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Ed25519
    }
    fn raw(&self) -> Vec<u8> {
        self.public_key().as_ref().to_vec()
    }
    fn spki_der(&self) -> Vec<u8> {
        self.public_key()
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .unwrap_or_default()
    }
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        Ed25519KeyPair::sign(self, message).as_ref().to_vec()
    }
}

impl AgentKey for EcdsaKeyPair {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::P256
    }
    fn raw(&self) -> Vec<u8> {
        self.public_key().as_ref().to_vec()
    }
    fn spki_der(&self) -> Vec<u8> {
        self.public_key()
            .as_der()
            .map(|d| d.as_ref().to_vec())
            .unwrap_or_default()
    }
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        EcdsaKeyPair::sign(self, &SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default()
    }
}

fn ed25519() -> Result<Ed25519KeyPair, aws_lc_rs::error::Unspecified> {
    Ed25519KeyPair::generate()
}

fn p256(alg: &'static EcdsaSigningAlgorithm) -> Result<EcdsaKeyPair, aws_lc_rs::error::Unspecified> {
    EcdsaKeyPair::generate(alg)
}

fn all_keys() -> Result<Vec<Box<dyn AgentKey>>, aws_lc_rs::error::Unspecified> {
    Ok(vec![
        Box::new(ed25519()?),
        Box::new(p256(&ECDSA_P256_SHA256_ASN1_SIGNING)?),
        Box::new(p256(&ECDSA_P256_SHA256_FIXED_SIGNING)?),
    ])
}

#[test]
fn rfc8032_test_1_verifies_through_the_login_path() {
    // RFC 8032, section 7.1, TEST 1: the empty message.
    let public_key = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    let signature = hex(concat!(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555",
        "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    ));
    assert_eq!((public_key.len(), signature.len()), (32, 64));
    assert!(verify_signature(KeyAlgorithm::Ed25519, &public_key, b"", &signature));
    assert!(!verify_signature(KeyAlgorithm::Ed25519, &public_key, b"x", &signature));
    let mut flipped = signature.clone();
    flipped[0] ^= 1;
    assert!(!verify_signature(KeyAlgorithm::Ed25519, &public_key, b"", &flipped));
    assert!(
        !verify_signature(KeyAlgorithm::P256, &public_key, b"", &signature),
        "wrong algorithm"
    );
}

#[test]
fn the_message_is_domain_separated() {
    assert_eq!(challenge_message("abc"), b"warden-key-login-v1:abc".to_vec());
}

#[test]
fn challenges_hold_only_the_nonce_hash() {
    let (nonce, challenge) = new_challenge("agent-1", NOW, Seconds::new(60), &SystemEntropy);
    assert_eq!(nonce.len(), 43);
    assert_eq!(URL_SAFE_NO_PAD.decode(&nonce).map(|b| b.len()).ok(), Some(32));
    assert_eq!(challenge.nonce_hash, nonce_hash(&nonce));
    assert_eq!(challenge.expires_at, NOW.plus(60));
    assert!(!format!("{challenge:?}").contains(&nonce));
    let (other, _) = new_challenge("agent-1", NOW, Seconds::new(60), &SystemEntropy);
    assert_ne!(nonce, other);
}

#[test]
fn challenge_validity_checks_agent_and_expiry() {
    let (_, challenge) = new_challenge("agent-1", NOW, Seconds::new(60), &SystemEntropy);
    assert!(challenge_valid(&challenge, "agent-1", NOW));
    assert!(challenge_valid(&challenge, "agent-1", NOW.plus(59)));
    assert!(!challenge_valid(&challenge, "agent-1", NOW.plus(60)), "expired");
    assert!(
        !challenge_valid(&challenge, "agent-2", NOW),
        "another agent's challenge"
    );
}

#[test]
fn real_signatures_verify_and_wrong_ones_do_not() -> TestResult {
    for key in all_keys()? {
        let raw = parse_public_key(key.algorithm(), &URL_SAFE_NO_PAD.encode(key.raw()))?;
        let stored = record(key.algorithm(), raw);
        let (nonce, _) = new_challenge("agent-1", NOW, Seconds::new(60), &SystemEntropy);
        let signature = key.sign(&challenge_message(&nonce));
        let name = key.algorithm().as_str();

        for encoded in [
            STANDARD.encode(&signature),
            URL_SAFE_NO_PAD.encode(&signature),
            URL_SAFE.encode(&signature),
        ] {
            assert!(verify_challenge(&stored, &nonce, &encoded), "{name}: {encoded}");
        }
        let good = URL_SAFE_NO_PAD.encode(&signature);
        let (other_nonce, _) = new_challenge("agent-1", NOW, Seconds::new(60), &SystemEntropy);
        assert!(!verify_challenge(&stored, &other_nonce, &good), "{name}: wrong nonce");
        let bare = URL_SAFE_NO_PAD.encode(key.sign(nonce.as_bytes()));
        assert!(
            !verify_challenge(&stored, &nonce, &bare),
            "{name}: signature without the domain prefix"
        );

        let truncated = URL_SAFE_NO_PAD.encode(&signature[..signature.len() - 1]);
        let mut flipped = signature.clone();
        flipped[10] ^= 0x40;
        let flipped = URL_SAFE_NO_PAD.encode(&flipped);
        for bad in [&truncated, &flipped, "", "!!!!", "AAAA", &"A".repeat(100_000)] {
            assert!(!verify_challenge(&stored, &nonce, bad), "{name}: {bad:.40} accepted");
        }
        assert!(!verify_challenge(&stored, &"n".repeat(10_000), &good));
    }
    Ok(())
}

#[test]
fn another_keys_signature_is_refused() -> TestResult {
    let (mine, theirs) = (ed25519()?, ed25519()?);
    let stored = record(KeyAlgorithm::Ed25519, mine.raw());
    let signature = URL_SAFE_NO_PAD.encode(AgentKey::sign(&theirs, &challenge_message("n")));
    assert!(!verify_challenge(&stored, "n", &signature));

    let (mine, theirs) = (
        p256(&ECDSA_P256_SHA256_ASN1_SIGNING)?,
        p256(&ECDSA_P256_SHA256_ASN1_SIGNING)?,
    );
    let stored = record(KeyAlgorithm::P256, mine.raw());
    let signature = URL_SAFE_NO_PAD.encode(AgentKey::sign(&theirs, &challenge_message("n")));
    assert!(!verify_challenge(&stored, "n", &signature));
    Ok(())
}

#[test]
fn a_key_stored_under_the_wrong_algorithm_verifies_nothing() -> TestResult {
    let key = ed25519()?;
    let stored = record(KeyAlgorithm::P256, key.raw());
    let signature = URL_SAFE_NO_PAD.encode(AgentKey::sign(&key, &challenge_message("n")));
    assert!(!verify_challenge(&stored, "n", &signature));
    Ok(())
}

#[test]
fn pem_and_raw_forms_give_the_same_key() -> TestResult {
    for key in all_keys()? {
        let algorithm = key.algorithm();
        let raw = key.raw();
        let forms = [
            pem(&key.spki_der()),
            format!("  {}\n", pem(&key.spki_der())),
            STANDARD.encode(&raw),
            URL_SAFE.encode(&raw),
            URL_SAFE_NO_PAD.encode(&raw),
            STANDARD.encode(key.spki_der()),
        ];
        for form in forms {
            assert_eq!(
                parse_public_key(algorithm, &form)?,
                raw,
                "{}: {form}",
                algorithm.as_str()
            );
        }
    }
    Ok(())
}

#[test]
fn keys_of_another_algorithm_are_refused() -> TestResult {
    let ed = ed25519()?;
    let ec = p256(&ECDSA_P256_SHA256_ASN1_SIGNING)?;
    let cases = [
        (KeyAlgorithm::Ed25519, pem(&ec.spki_der())),
        (KeyAlgorithm::Ed25519, STANDARD.encode(ec.raw())),
        (KeyAlgorithm::Ed25519, STANDARD.encode(ec.spki_der())),
        (KeyAlgorithm::P256, pem(&ed.spki_der())),
        (KeyAlgorithm::P256, STANDARD.encode(ed.raw())),
        (KeyAlgorithm::P256, STANDARD.encode(ed.spki_der())),
    ];
    for (algorithm, text) in cases {
        let parsed = parse_public_key(algorithm, &text);
        assert!(
            matches!(parsed, Err(IdentityError::BadKey(..))),
            "{} accepted {text}",
            algorithm.as_str()
        );
    }
    Ok(())
}

#[test]
fn malformed_keys_are_refused() -> TestResult {
    let ec = p256(&ECDSA_P256_SHA256_ASN1_SIGNING)?;
    let mut off_curve = ec.raw();
    off_curve[64] ^= 1;
    let mut compressed = ec.raw()[..33].to_vec();
    compressed[0] = 0x02;
    let mut not_uncompressed = ec.raw();
    not_uncompressed[0] = 0x05;
    let certificate_pem = pem(&ec.spki_der()).replace("PUBLIC KEY", "CERTIFICATE");
    let mut trailing = ec.spki_der();
    trailing.push(0);
    let cases = [
        (KeyAlgorithm::P256, STANDARD.encode(&off_curve)),
        (KeyAlgorithm::P256, STANDARD.encode(&compressed)),
        (KeyAlgorithm::P256, STANDARD.encode(&not_uncompressed)),
        (KeyAlgorithm::P256, certificate_pem),
        (KeyAlgorithm::P256, STANDARD.encode(&trailing)),
        (
            KeyAlgorithm::P256,
            "-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----".into(),
        ),
        (KeyAlgorithm::Ed25519, STANDARD.encode([0u8; 31])),
        (KeyAlgorithm::Ed25519, STANDARD.encode([0u8; 33])),
        (KeyAlgorithm::Ed25519, "not base64 at all!".into()),
        (KeyAlgorithm::Ed25519, String::new()),
        (KeyAlgorithm::Ed25519, "A".repeat(1_000_000)),
    ];
    for (algorithm, text) in cases {
        let parsed = parse_public_key(algorithm, &text);
        assert!(
            matches!(parsed, Err(IdentityError::BadKey(..))),
            "{} accepted {text:.60}",
            algorithm.as_str()
        );
    }
    Ok(())
}

#[test]
fn errors_do_not_echo_the_key() {
    let text = STANDARD.encode([7u8; 40]);
    let shown = parse_public_key(KeyAlgorithm::Ed25519, &text)
        .map_err(|e| e.to_string())
        .err()
        .unwrap_or_default();
    assert!(!shown.is_empty() && !shown.contains(&text), "{shown}");
}
