//! Challenge-response login with a registered Ed25519 or P-256 public key.
//!
//! The server hands out a random nonce ([`new_challenge`]) and keeps only its hash; the agent signs
//! [`challenge_message`] for that nonce with its private key; the server takes the challenge back
//! from the store (once) and checks the signature against the agent's registered keys
//! ([`verify_challenge`]). Signatures are checked by aws-lc-rs; nothing here implements curve
//! arithmetic.
//!
//! This module keeps no state: taking a challenge exactly once is the store's job.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm,
};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rustls_pki_types::SubjectPublicKeyInfoDer;
use rustls_pki_types::pem::PemObject;
use warden_core::{Entropy, Seconds, Timestamp, random_bytes};
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ED25519};
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::IdentityError;
use crate::repo::{ChallengeRecord, KeyAlgorithm, PublicKeyRecord};

/// Prefix of every signed challenge. It binds the signature to this purpose, so a signature an
/// agent's key makes for anything else can never be replayed as a login, and the other way round.
pub const CHALLENGE_DOMAIN: &[u8] = b"warden-key-login-v1:";

/// Longest public key text accepted; a P-256 PEM is under 200 bytes.
const MAX_KEY_TEXT: usize = 4096;
/// Longest signature text accepted; a DER ECDSA P-256 signature is at most 72 bytes (96 in base64).
const MAX_SIGNATURE_TEXT: usize = 256;
/// Longest nonce accepted back; ours are 43 characters.
const MAX_NONCE_TEXT: usize = 128;

const ED25519_KEY_LEN: usize = 32;
const P256_POINT_LEN: usize = 65;

/// Standard or URL-safe base64, padded or not: agents' tooling produces all four.
const BASE64_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT_PADDING);
const BASE64_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT_PADDING);
const LENIENT_PADDING: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);

/// Reads a public key as an administrator pastes it: a PEM `PUBLIC KEY` (SubjectPublicKeyInfo),
/// base64 of the same DER, or base64 of the raw key (32 bytes for Ed25519, the 65-byte uncompressed
/// point for P-256). Returns the raw key to store in [`PublicKeyRecord::public_key`]. A key of
/// another algorithm than `algorithm` is refused.
pub fn parse_public_key(algorithm: KeyAlgorithm, text: &str) -> Result<Vec<u8>, IdentityError> {
    let text = text.trim();
    if text.len() > MAX_KEY_TEXT {
        return Err(bad_key(format!("longer than {MAX_KEY_TEXT} bytes")));
    }
    let raw = if text.starts_with("-----BEGIN") {
        let der = SubjectPublicKeyInfoDer::from_pem_slice(text.as_bytes())
            .map_err(|_| bad_key("not a PEM `PUBLIC KEY` block".into()))?;
        raw_key_from_spki(algorithm, der.as_ref())?
    } else {
        let bytes = decode_base64(text).ok_or_else(|| bad_key("neither PEM nor base64".into()))?;
        match (algorithm, bytes.len()) {
            (KeyAlgorithm::Ed25519, ED25519_KEY_LEN) | (KeyAlgorithm::P256, P256_POINT_LEN) => bytes,
            _ if bytes.first() == Some(&0x30) => raw_key_from_spki(algorithm, &bytes)?,
            (_, len) => {
                return Err(bad_key(format!("{len} bytes is not a raw {} key", algorithm.as_str())));
            }
        }
    };
    validate_raw_key(algorithm, &raw)?;
    Ok(raw)
}

/// The raw key inside a DER SubjectPublicKeyInfo, after checking its algorithm is `algorithm`.
fn raw_key_from_spki(algorithm: KeyAlgorithm, der: &[u8]) -> Result<Vec<u8>, IdentityError> {
    let spki = match SubjectPublicKeyInfo::from_der(der) {
        Ok(([], spki)) => spki,
        _ => return Err(bad_key("malformed SubjectPublicKeyInfo".into())),
    };
    let id = &spki.algorithm;
    let matches = match algorithm {
        KeyAlgorithm::Ed25519 => id.algorithm == OID_SIG_ED25519 && id.parameters.is_none(),
        KeyAlgorithm::P256 => {
            id.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY
                && id.parameters.as_ref().and_then(|p| p.as_oid().ok()) == Some(OID_EC_P256)
        }
    };
    if !matches {
        return Err(bad_key(format!("the key is not a {} key", algorithm.as_str())));
    }
    Ok(spki.subject_public_key.data.to_vec())
}

/// Has aws-lc-rs parse the raw key, which checks its length and, for P-256, that the point is
/// uncompressed and on the curve.
fn validate_raw_key(algorithm: KeyAlgorithm, raw: &[u8]) -> Result<(), IdentityError> {
    let (expected_len, verifier): (usize, &'static dyn VerificationAlgorithm) = match algorithm {
        KeyAlgorithm::Ed25519 => (ED25519_KEY_LEN, &ED25519),
        KeyAlgorithm::P256 => (P256_POINT_LEN, &ECDSA_P256_SHA256_ASN1),
    };
    if raw.len() != expected_len || (algorithm == KeyAlgorithm::P256 && raw.first() != Some(&0x04)) {
        return Err(bad_key(format!(
            "not a raw {} key (compressed points are not accepted)",
            algorithm.as_str()
        )));
    }
    ParsedPublicKey::new(verifier, raw)
        .map(drop)
        .map_err(|_| bad_key(format!("not a valid {} key", algorithm.as_str())))
}

fn bad_key(reason: String) -> IdentityError {
    IdentityError::BadKey("public key", reason)
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    BASE64_STANDARD
        .decode(text)
        .or_else(|_| BASE64_URL_SAFE.decode(text))
        .ok()
}

/// A new challenge for `agent_id`, valid for `ttl`: the nonce to send (base64url of 32 random
/// bytes) and the record to store, which holds only the nonce's hash so a read of the store does
/// not yield answerable challenges.
pub fn new_challenge(agent_id: &str, now: Timestamp, ttl: Seconds, entropy: &dyn Entropy) -> (String, ChallengeRecord) {
    let nonce = URL_SAFE_NO_PAD.encode(random_bytes::<32>(entropy));
    let record = ChallengeRecord {
        nonce_hash: nonce_hash(&nonce),
        agent_id: agent_id.to_owned(),
        expires_at: now.plus(ttl.get()),
    };
    (nonce, record)
}

/// SHA-256 of the nonce's text: the key under which a challenge is stored and taken back.
pub fn nonce_hash(nonce: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, nonce.as_bytes()).as_ref());
    out
}

/// The exact bytes an agent signs to answer `nonce`: `warden-key-login-v1:` followed by the nonce
/// as sent (its base64url text, not the decoded bytes).
pub fn challenge_message(nonce: &str) -> Vec<u8> {
    [CHALLENGE_DOMAIN, nonce.as_bytes()].concat()
}

/// Whether a challenge taken from the store may be answered: it was issued to `agent_id` and has
/// not expired at `now`.
pub fn challenge_valid(challenge: &ChallengeRecord, agent_id: &str, now: Timestamp) -> bool {
    challenge.agent_id == agent_id && now < challenge.expires_at
}

/// Whether `signature_b64` (standard or URL-safe base64) is the registered key's signature of
/// [`challenge_message`] for `nonce`. P-256 signatures may be ASN.1 DER or fixed-width `r || s`.
pub fn verify_challenge(record: &PublicKeyRecord, nonce: &str, signature_b64: &str) -> bool {
    if nonce.len() > MAX_NONCE_TEXT || signature_b64.len() > MAX_SIGNATURE_TEXT {
        return false;
    }
    let Some(signature) = decode_base64(signature_b64.trim()) else {
        return false;
    };
    verify_signature(
        record.algorithm,
        &record.public_key,
        &challenge_message(nonce),
        &signature,
    )
}

/// The single place signatures are checked, so the published test vectors exercise the same path
/// as logins.
fn verify_signature(algorithm: KeyAlgorithm, public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let verify = |verifier: &'static dyn VerificationAlgorithm| {
        UnparsedPublicKey::new(verifier, public_key)
            .verify(message, signature)
            .is_ok()
    };
    match algorithm {
        KeyAlgorithm::Ed25519 => verify(&ED25519),
        KeyAlgorithm::P256 => {
            verify(&ECDSA_P256_SHA256_ASN1) || (signature.len() == 64 && verify(&ECDSA_P256_SHA256_FIXED))
        }
    }
}

#[cfg(test)]
mod tests;
