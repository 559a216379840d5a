//! Access, refresh and passport tokens: JWTs signed with the keyring's Ed25519 key.
//!
//! Verification is deliberately narrow: only `EdDSA`, only a `kid` that the keyring knows and that
//! still verifies, never a key named by the token itself (`jwk`, `jku`, `x5u`, `x5c` are refused),
//! and the token's `typ` claim must be the kind the caller expects, so a refresh token can never pass
//! as an access token or a passport. Time checks use the injected clock, with a configurable skew.

mod cache;
mod revocation;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use warden_core::Timestamp;

pub use cache::VerifiedCache;
pub use revocation::RevocationList;

use crate::keyring::{ALGORITHM, Keyring};

/// The longest token accepted; anything larger is refused before it is parsed.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Access,
    Refresh,
    Passport,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
            TokenKind::Passport => "passport",
        }
    }

    /// The JOSE header `typ`, so even a header-only check tells the kinds apart.
    fn header_type(self) -> &'static str {
        match self {
            TokenKind::Access => "at+jwt",
            TokenKind::Refresh => "refresh+jwt",
            TokenKind::Passport => "passport+jwt",
        }
    }
}

/// `aud` as RFC 7519 allows it: one string or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}

/// The delegation chain of RFC 8693 §4.1: who acts for the subject, and for whom they acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

impl Actor {
    pub fn depth(&self) -> usize {
        1 + self.act.as_ref().map_or(0, |a| a.depth())
    }
}

/// Every claim Warden puts in a token. Passport-only claims are absent from access and refresh tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: Audience,
    /// The agent id.
    pub sub: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub typ: TokenKind,
    /// The login session (refresh family) the token descends from; revoking it kills them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// How the session was authenticated (`password`, `api_key`, `public_key`, `certificate`), so a
    /// refreshed session keeps saying how it began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<String>,
    /// The agent's name: its login identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
}

impl Claims {
    /// The bare claims of a token of `kind` for `sub`, valid from `now` for `ttl_seconds`.
    pub fn new(
        kind: TokenKind,
        issuer: &str,
        audience: Audience,
        sub: &str,
        jti: String,
        now: Timestamp,
        ttl_seconds: u64,
    ) -> Self {
        Claims {
            iss: issuer.to_owned(),
            aud: audience,
            sub: sub.to_owned(),
            jti,
            iat: now.unix(),
            nbf: now.unix(),
            exp: now.plus(ttl_seconds).unix(),
            typ: kind,
            sid: None,
            amr: None,
            name: None,
            agent_id: None,
            roles: None,
            capabilities: None,
            scopes: None,
            tier: None,
            act: None,
        }
    }

    pub fn issued_at(&self) -> Timestamp {
        Timestamp::from_unix(self.iat)
    }

    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_unix(self.exp)
    }
}

/// Why a token was refused. The messages name the check that failed, never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("the token is malformed")]
    Malformed,
    #[error("algorithm `{0}` is not accepted; tokens must be signed with EdDSA")]
    Algorithm(String),
    #[error("the token header carries `{0}`; keys are never taken from a token")]
    ForbiddenHeader(&'static str),
    #[error("the token has no `kid`")]
    MissingKeyId,
    #[error("the token was signed by an unknown or retired key")]
    UnknownKey,
    #[error("the token signature is invalid")]
    Signature,
    #[error("the token expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("expected a {} token, got a {} token", .expected.as_str(), .found.as_str())]
    WrongType { expected: TokenKind, found: TokenKind },
    #[error("the token was issued by another issuer")]
    Issuer,
    #[error("the token is meant for another audience")]
    Audience,
    #[error("the token was revoked")]
    Revoked,
    #[error("no signing key is available")]
    NoKey,
}

/// What verification expects besides a valid signature.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub issuer: String,
    pub audience: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway: u64,
}

/// Signs `claims` with the keyring's current key.
pub fn sign(claims: &Claims, keyring: &Keyring) -> Result<String, TokenError> {
    let key = keyring.current();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid().to_owned());
    header.typ = Some(claims.typ.header_type().to_owned());
    jsonwebtoken::encode(&header, claims, key.encoding_key()).map_err(|_| TokenError::NoKey)
}

/// Verifies a token of `kind` completely: size, header, key, signature, type, issuer, audience and
/// time. Revocation is the caller's to check (see [`RevocationList`]).
///
/// Issuing goes through `jsonwebtoken`; verifying is done here on the compact form, because this is
/// the hot path of every request: `jsonwebtoken` parses the header twice and the claims twice, here
/// each is parsed once. The signature is checked with ed25519-dalek's `verify_strict` (RFC 8032 checks
/// plus rejection of small-order keys); BENCHMARKS.md has the figures against aws-lc-rs.
pub fn verify(
    token: &str,
    kind: TokenKind,
    keyring: &Keyring,
    expect: &Expectations,
    now: Timestamp,
) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let (signing_input, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let (header, payload) = signing_input.split_once('.').ok_or(TokenError::Malformed)?;
    let kid = check_header(header)?;
    let key = keyring.verifier(&kid, now).ok_or(TokenError::UnknownKey)?;
    verify_signature(key.ed25519(), signing_input.as_bytes(), signature)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    check_claims(&claims, kind, expect, now)?;
    Ok(claims)
}

/// Checks a JWS signature (base64url, no padding, strict) over `signing_input` with an Ed25519 key.
pub(crate) fn verify_signature(
    key: &ed25519_dalek::VerifyingKey,
    signing_input: &[u8],
    signature: &str,
) -> Result<(), TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Signature)?;
    let bytes: [u8; 64] = bytes.as_slice().try_into().map_err(|_| TokenError::Signature)?;
    key.verify_strict(signing_input, &ed25519_dalek::Signature::from_bytes(&bytes))
        .map_err(|_| TokenError::Signature)
}

/// Reads the protected header ourselves before the library does, so that only `EdDSA` passes, any
/// key-carrying or critical parameter is refused by name, and the `kid` is returned.
pub(crate) fn check_header(encoded: &str) -> Result<String, TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| TokenError::Malformed)?;
    let header: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    match header.get("alg").and_then(Value::as_str) {
        Some(ALGORITHM) => {}
        Some(other) => return Err(TokenError::Algorithm(other.chars().take(32).collect())),
        None => return Err(TokenError::Malformed),
    }
    // Critical extensions we do not understand must make the token invalid (RFC 7515 §4.1.11).
    for name in ["jwk", "jku", "x5u", "x5c", "crit"] {
        if header.contains_key(name) {
            return Err(TokenError::ForbiddenHeader(name));
        }
    }
    match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => Ok(kid.clone()),
        Some(_) => Err(TokenError::Malformed),
        None => Err(TokenError::MissingKeyId),
    }
}

/// The claim checks, separate from the signature so they can be tested exhaustively.
pub fn check_claims(claims: &Claims, kind: TokenKind, expect: &Expectations, now: Timestamp) -> Result<(), TokenError> {
    if claims.typ != kind {
        return Err(TokenError::WrongType {
            expected: kind,
            found: claims.typ,
        });
    }
    if claims.iss != expect.issuer {
        return Err(TokenError::Issuer);
    }
    if !claims.aud.contains(&expect.audience) {
        return Err(TokenError::Audience);
    }
    let now = now.unix();
    let leeway = i64::try_from(expect.leeway).unwrap_or(i64::MAX);
    if now >= claims.exp.saturating_add(leeway) {
        return Err(TokenError::Expired);
    }
    if now.saturating_add(leeway) < claims.nbf || now.saturating_add(leeway) < claims.iat {
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
