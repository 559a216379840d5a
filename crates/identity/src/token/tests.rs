//! Token verification, including every attack the foundation issue lists. The RFC 8037 A.4 vector
//! comes from `shared/corpora/jose/cookbook/curve25519/jws.json` (ietf-jose/cookbook, Unlicense).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use warden_core::{MasterKey, SystemEntropy};

use super::*;
use crate::keyring::{Keyring, generate_key};

const NOW: i64 = 1_800_000_000;

fn expectations() -> Expectations {
    Expectations {
        issuer: "warden".into(),
        audience: "warden".into(),
        leeway: 30,
    }
}

fn ring() -> Keyring {
    let master = MasterKey::generate(&SystemEntropy);
    let record = generate_key(Timestamp::from_unix(NOW - 10), &master, &SystemEntropy);
    let Ok(record) = record else {
        unreachable!("generation works")
    };
    match Keyring::load(&[record], &master, Timestamp::from_unix(NOW)) {
        Ok(Some(ring)) => ring,
        _ => unreachable!("a fresh key loads"),
    }
}

fn claims(kind: TokenKind) -> Claims {
    Claims::new(
        kind,
        "warden",
        Audience::One("warden".into()),
        "agent-1",
        "jti-1".into(),
        Timestamp::from_unix(NOW),
        300,
    )
}

fn signed(ring: &Keyring, claims: &Claims) -> String {
    match sign(claims, ring) {
        Ok(t) => t,
        Err(e) => unreachable!("signing failed: {e}"),
    }
}

fn check(token: &str, kind: TokenKind, ring: &Keyring, at: i64) -> Result<Claims, TokenError> {
    verify(token, kind, ring, &expectations(), Timestamp::from_unix(at))
}

#[test]
fn round_trip_and_header() {
    let ring = ring();
    let token = signed(&ring, &claims(TokenKind::Access));
    assert_eq!(
        check(&token, TokenKind::Access, &ring, NOW),
        Ok(claims(TokenKind::Access))
    );
    let header = jsonwebtoken::decode_header(&token).ok();
    assert_eq!(
        header.as_ref().and_then(|h| h.kid.clone()).as_deref(),
        Some(ring.current().kid())
    );
    assert_eq!(header.and_then(|h| h.typ).as_deref(), Some("at+jwt"));
}

#[test]
fn one_kind_never_passes_as_another() {
    let ring = ring();
    for (have, want) in [
        (TokenKind::Refresh, TokenKind::Access),
        (TokenKind::Access, TokenKind::Refresh),
        (TokenKind::Access, TokenKind::Passport),
        (TokenKind::Passport, TokenKind::Refresh),
    ] {
        let token = signed(&ring, &claims(have));
        assert_eq!(
            check(&token, want, &ring, NOW),
            Err(TokenError::WrongType {
                expected: want,
                found: have
            })
        );
    }
}

#[test]
fn time_is_checked_with_leeway() {
    let ring = ring();
    let token = signed(&ring, &claims(TokenKind::Access));
    assert!(check(&token, TokenKind::Access, &ring, NOW + 300 + 29).is_ok());
    assert_eq!(
        check(&token, TokenKind::Access, &ring, NOW + 300 + 30),
        Err(TokenError::Expired)
    );
    assert!(check(&token, TokenKind::Access, &ring, NOW - 30).is_ok());
    assert_eq!(
        check(&token, TokenKind::Access, &ring, NOW - 31),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn issuer_and_audience_must_match() {
    let ring = ring();
    let mut c = claims(TokenKind::Access);
    c.iss = "someone-else".into();
    assert_eq!(
        check(&signed(&ring, &c), TokenKind::Access, &ring, NOW),
        Err(TokenError::Issuer)
    );
    let mut c = claims(TokenKind::Access);
    c.aud = Audience::Many(vec!["billing".into()]);
    assert_eq!(
        check(&signed(&ring, &c), TokenKind::Access, &ring, NOW),
        Err(TokenError::Audience)
    );
}

#[test]
fn a_token_from_another_keyring_is_unknown() {
    let token = signed(&ring(), &claims(TokenKind::Access));
    assert_eq!(
        check(&token, TokenKind::Access, &ring(), NOW),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn tampered_payload_fails_the_signature() {
    let ring = ring();
    let token = signed(&ring, &claims(TokenKind::Access));
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims(TokenKind::Access);
    forged.sub = "admin".into();
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap_or_default());
    let tampered = format!("{}.{}.{}", parts[0], payload, parts[2]);
    assert_eq!(
        check(&tampered, TokenKind::Access, &ring, NOW),
        Err(TokenError::Signature)
    );
    // And a signature with one bit flipped.
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
    sig[0] ^= 1;
    let flipped = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(
        check(&flipped, TokenKind::Access, &ring, NOW),
        Err(TokenError::Signature)
    );
}

fn with_header(ring: &Keyring, header: serde_json::Value, c: &Claims) -> String {
    let _ = ring;
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(c).unwrap_or_default());
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode([7u8; 64]))
}

#[test]
fn alg_none_and_other_algorithms_are_refused() {
    let ring = ring();
    let kid = ring.current().kid().to_owned();
    let c = claims(TokenKind::Access);
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(serde_json::json!({"alg": "none", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap_or_default())
    );
    assert!(check(&none, TokenKind::Access, &ring, NOW).is_err());
    for alg in ["HS256", "RS256", "ES256", "PS256"] {
        let token = with_header(&ring, serde_json::json!({"alg": alg, "kid": kid}), &c);
        assert!(
            matches!(
                check(&token, TokenKind::Access, &ring, NOW),
                Err(TokenError::Algorithm(_))
            ),
            "{alg} accepted"
        );
    }
}

#[test]
fn hmac_with_the_public_key_as_secret_is_refused() {
    // The classic confusion: sign HS256 using the published public key as the HMAC secret.
    let ring = ring();
    let public = ring.current_public_key();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(ring.current().kid().to_owned());
    let token = jsonwebtoken::encode(&header, &claims(TokenKind::Access), &EncodingKey::from_secret(&public));
    let Ok(token) = token else {
        unreachable!("hs256 encoding works")
    };
    assert!(matches!(
        check(&token, TokenKind::Access, &ring, NOW),
        Err(TokenError::Algorithm(_))
    ));
}

#[test]
fn keys_named_by_the_token_are_refused() {
    let ring = ring();
    let kid = ring.current().kid().to_owned();
    let c = claims(TokenKind::Access);
    let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode([1u8; 32])});
    let cases = [
        ("jwk", serde_json::json!({"alg": "EdDSA", "kid": kid, "jwk": jwk})),
        (
            "jku",
            serde_json::json!({"alg": "EdDSA", "kid": kid, "jku": "https://evil.example/jwks"}),
        ),
        (
            "x5u",
            serde_json::json!({"alg": "EdDSA", "kid": kid, "x5u": "https://evil.example/cert"}),
        ),
        ("x5c", serde_json::json!({"alg": "EdDSA", "kid": kid, "x5c": ["MIIB"]})),
        ("crit", serde_json::json!({"alg": "EdDSA", "kid": kid, "crit": ["exp"]})),
    ];
    for (name, header) in cases {
        let token = with_header(&ring, header, &c);
        assert_eq!(
            check(&token, TokenKind::Access, &ring, NOW),
            Err(TokenError::ForbiddenHeader(name))
        );
    }
    let no_kid = with_header(&ring, serde_json::json!({"alg": "EdDSA"}), &c);
    assert_eq!(
        check(&no_kid, TokenKind::Access, &ring, NOW),
        Err(TokenError::MissingKeyId)
    );
}

#[test]
fn garbage_and_huge_tokens_are_refused_without_panicking() {
    let ring = ring();
    let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
    assert_eq!(check(&huge, TokenKind::Access, &ring, NOW), Err(TokenError::TooLarge));
    for garbage in [
        "",
        ".",
        "..",
        "a.b.c",
        "eyJhbGciOiJFZERTQSJ9..",
        "\u{0}\u{1}",
        "💥.💥.💥",
    ] {
        assert!(
            check(garbage, TokenKind::Access, &ring, NOW).is_err(),
            "{garbage:?} accepted"
        );
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_strings_never_verify(s in ".{0,400}") {
        let ring = ring();
        proptest::prop_assert!(check(&s, TokenKind::Access, &ring, NOW).is_err());
    }
}

#[test]
fn revocation_by_token_and_by_family() {
    let mut c = claims(TokenKind::Access);
    c.sid = Some("family-1".into());
    let mut list = RevocationList::default();
    assert!(!list.is_revoked(&c));
    list.revoke_family("family-1", Timestamp::from_unix(NOW + 10));
    assert!(list.is_revoked(&c));
    let mut other = claims(TokenKind::Access);
    other.jti = "jti-2".into();
    assert!(!list.is_revoked(&other));
    list.revoke_token("jti-2", Timestamp::from_unix(NOW + 10));
    assert!(list.is_revoked(&other));
    list.purge(Timestamp::from_unix(NOW + 10));
    assert!(list.is_empty());
}

#[test]
fn the_cache_honours_expiry_and_key_retirement() {
    let ring = ring();
    let cache = VerifiedCache::new(4);
    let token = signed(&ring, &claims(TokenKind::Passport));
    let at = |t| Timestamp::from_unix(t);
    assert!(
        cache
            .verify(&token, TokenKind::Passport, &ring, &expectations(), at(NOW))
            .is_ok()
    );
    assert_eq!(cache.len(), 1);
    assert!(
        cache
            .verify(&token, TokenKind::Passport, &ring, &expectations(), at(NOW + 1))
            .is_ok()
    );
    assert_eq!(
        cache
            .verify(&token, TokenKind::Access, &ring, &expectations(), at(NOW))
            .err()
            .map(|e| matches!(e, TokenError::WrongType { .. })),
        Some(true)
    );
    assert_eq!(
        cache.verify(&token, TokenKind::Passport, &ring, &expectations(), at(NOW + 400)),
        Err(TokenError::Expired)
    );
    // A keyring that no longer holds the key refuses the cached token too.
    assert_eq!(
        cache.verify(&token, TokenKind::Passport, &self::ring(), &expectations(), at(NOW)),
        Err(TokenError::UnknownKey)
    );
    // The cache stays bounded.
    for i in 0..20 {
        let mut c = claims(TokenKind::Passport);
        c.jti = format!("j{i}");
        let _ = cache.verify(&signed(&ring, &c), TokenKind::Passport, &ring, &expectations(), at(NOW));
    }
    assert!(cache.len() <= 4);
}

/// RFC 8037 appendix A.4: the Ed25519 signature of the cookbook, reproduced by the same key path the
/// keyring uses to sign and verified by the same verifier it uses to verify.
#[test]
fn rfc8037_ed25519_vector() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpora/jose/cookbook/curve25519/jws.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        unreachable!("the cookbook corpus is beside the repo: {path}")
    };
    let Ok(vector) = serde_json::from_str::<serde_json::Value>(&text) else {
        unreachable!("valid JSON")
    };
    let d = URL_SAFE_NO_PAD
        .decode(vector["input"]["key"]["d"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let x = vector["input"]["key"]["x"].as_str().unwrap_or_default();
    let signing_input = vector["signing"]["sig-input"].as_str().unwrap_or_default();
    let expected = vector["signing"]["sig"].as_str().unwrap_or_default();

    let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(&d);
    let Ok(pair) = pair else {
        unreachable!("the RFC seed is valid")
    };
    let Ok(pkcs8) = pair.to_pkcs8v1() else {
        unreachable!("pkcs8 encoding")
    };
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_ed_der(pkcs8.as_ref()),
        Algorithm::EdDSA,
    );
    assert_eq!(signature.ok().as_deref(), Some(expected));

    // Verified by the exact function `verify` uses.
    let Ok(public) = URL_SAFE_NO_PAD.decode(x) else {
        unreachable!("valid x")
    };
    let Ok(public) = <[u8; 32]>::try_from(public.as_slice()) else {
        unreachable!("32-byte key")
    };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&public) else {
        unreachable!("valid point")
    };
    assert_eq!(verify_signature(&key, signing_input.as_bytes(), expected), Ok(()));
    let mut wrong = signing_input.to_owned();
    wrong.push('x');
    assert_eq!(
        verify_signature(&key, wrong.as_bytes(), expected),
        Err(TokenError::Signature)
    );
    // A non-canonical encoding of the same signature (a set trailing bit) is refused too.
    assert!(
        expected.ends_with('g'),
        "the vector's last character carries 2 data bits and 4 zero bits"
    );
    let mut bent = expected.to_owned();
    bent.pop();
    bent.push('h');
    assert_eq!(
        verify_signature(&key, signing_input.as_bytes(), &bent),
        Err(TokenError::Signature)
    );
}

/// RFC 7520 §4.1–4.4 (RS256, PS384, ES512, HS256): algorithms Warden does not issue are refused at
/// the header, before any key is looked up.
#[test]
fn rfc7520_algorithms_warden_does_not_issue_are_refused() {
    let ring = ring();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/jose/cookbook/jws");
    for file in [
        "4_1.rsa_v15_signature.json",
        "4_2.rsa-pss_signature.json",
        "4_3.ecdsa_signature.json",
        "4_4.hmac-sha2_integrity_protection.json",
    ] {
        let Ok(text) = std::fs::read_to_string(format!("{dir}/{file}")) else {
            unreachable!("corpus file {file}")
        };
        let Ok(vector) = serde_json::from_str::<serde_json::Value>(&text) else {
            unreachable!("valid JSON")
        };
        let compact = vector["output"]["compact"].as_str().unwrap_or_default();
        assert!(!compact.is_empty(), "{file} has a compact form");
        assert!(
            matches!(
                check(compact, TokenKind::Access, &ring, NOW),
                Err(TokenError::Algorithm(_))
            ),
            "{file}"
        );
    }
}
