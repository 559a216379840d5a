//! The whole identity flow, and a passport verified against the JWKS by an independent JWS
//! implementation (aws-lc-rs Ed25519 directly, not the JWT library Warden signs with).

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::support::{ADMIN, START, TestApp};

/// Verifies a compact JWS against a JWKS by hand: the header's kid picks the key, Ed25519 checks the
/// signature over `header.payload`, and the payload comes back as JSON.
pub fn verify_with_jwks(token: &str, jwks: &Value) -> Option<Value> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header["alg"] != "EdDSA" {
        return None;
    }
    let key = jwks["keys"].as_array()?.iter().find(|k| k["kid"] == header["kid"])?;
    let x = URL_SAFE_NO_PAD.decode(key["x"].as_str()?).ok()?;
    let signed = format!("{}.{}", token.split('.').next()?, payload);
    UnparsedPublicKey::new(&ED25519, x)
        .verify(signed.as_bytes(), &URL_SAFE_NO_PAD.decode(signature).ok()?)
        .ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[tokio::test]
async fn register_login_passport_and_verify_against_the_jwks() {
    let app = TestApp::start().await;
    let id = app.agent("research_bot", &["agent:execute", "context:read"]).await;
    let (access, _refresh) = app.login("research_bot").await;

    let reply = app.passport(&access, json!({"scopes": ["context:read"]})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let passport = reply.str("passport");
    assert_eq!(reply.body["expires_in"], 300);

    let jwks = app.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, StatusCode::OK);
    let Some(claims) = verify_with_jwks(&passport, &jwks.body) else {
        unreachable!("the passport verifies against the JWKS")
    };
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["typ"], "passport");
    assert_eq!(claims["scopes"], json!(["context:read"]));
    assert_eq!(claims["roles"], json!(["researcher"]));
    assert_eq!(claims["capabilities"], json!(["web_search"]));
    assert_eq!(claims["tier"], "standard");
    assert_eq!(claims["iss"], "warden");
    assert_eq!(claims["exp"], START + 300);
    for claim in ["jti", "iat", "nbf", "aud"] {
        assert!(!claims[claim].is_null(), "passport lacks `{claim}`");
    }

    // A tampered passport fails the same independent check.
    let mut forged = passport.clone();
    forged.insert(passport.len() / 2, 'A');
    assert!(verify_with_jwks(&forged, &jwks.body).is_none());

    // Asking for a scope the agent was never given is refused.
    let wider = app.passport(&access, json!({"scopes": ["agent:delete"]})).await;
    assert_eq!(wider.status, StatusCode::FORBIDDEN, "{:?}", wider.body);

    // Every step was recorded.
    let events = app.get("/v1/events?limit=100", Some(ADMIN)).await;
    let kinds: Vec<String> = events
        .body
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["event"]["kind"].as_str().unwrap_or("").to_owned())
        .collect();
    for kind in ["agent.created", "auth.login", "token.issued", "passport.issued"] {
        assert!(kinds.iter().any(|k| k == kind), "no `{kind}` event in {kinds:?}");
    }
}
