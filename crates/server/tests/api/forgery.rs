//! Forged tokens: signed by a key Warden never had, with `alg: none` or HS256 keyed by the public key,
//! with keys named in the header, with edited payloads, or validly signed with the wrong claims.

use aws_lc_rs::signature::Ed25519KeyPair;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use warden_identity::token::{self, Audience, Claims, TokenKind};

use crate::support::{START, TestApp, unverified_claims, unverified_header};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims that would pass every check but the signature's.
fn access_claims(sub: &str) -> Value {
    json!({"iss": "warden", "aud": "warden", "sub": sub, "jti": "forged-jti", "iat": START, "nbf": START,
           "exp": START + 3600, "typ": "access", "sid": "forged-session"})
}

/// Signs `claims` with a brand-new Ed25519 key that Warden has never seen, under `kid`.
fn forge_with_fresh_key(kid: &str, claims: &Value) -> String {
    let pkcs8 = match Ed25519KeyPair::generate().and_then(|pair| pair.to_pkcs8v1()) {
        Ok(document) => document,
        Err(e) => unreachable!("Ed25519 key generation: {e}"),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some("at+jwt".to_owned());
    match jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(pkcs8.as_ref())) {
        Ok(token) => token,
        Err(e) => unreachable!("signing: {e}"),
    }
}

/// A compact JWS with exactly this header and payload, and `signature` as its third part.
fn assemble(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// Signs with Warden's own current key (what a forger cannot do): to show the claim checks, not the
/// signature, refuse these.
fn sign_with_wardens_key(app: &TestApp, claims: &Claims) -> String {
    match token::sign(claims, &app.state.keyring()) {
        Ok(token) => token,
        Err(e) => unreachable!("signing: {e}"),
    }
}

async fn as_bearer(app: &TestApp, token: &str) -> String {
    app.passport(token, json!({})).await.problem(StatusCode::UNAUTHORIZED)
}

#[tokio::test]
async fn tokens_not_signed_by_warden_are_refused() {
    let app = TestApp::start().await;
    let id = app.agent("target_bot", &["t:all"]).await;
    let (access, _) = app.login("target_bot").await;
    let kid = unverified_header(&access)["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let claims = access_claims(&id);

    let detail = as_bearer(&app, &forge_with_fresh_key("key-made-up", &claims)).await;
    assert_eq!(detail, "the token was signed by an unknown or retired key");
    let detail = as_bearer(&app, &forge_with_fresh_key(&kid, &claims)).await;
    assert_eq!(detail, "the token signature is invalid");

    // `alg: none`, with and without a signature part.
    let none = json!({"alg": "none", "typ": "at+jwt", "kid": kid});
    let detail = as_bearer(&app, &assemble(&none, &claims, b"")).await;
    assert!(detail.contains("`none`"), "{detail}");
    let unsigned = format!(
        "{}.{}.",
        b64(none.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    as_bearer(&app, &unsigned).await;

    // HS256 keyed with the public key, as raw bytes and as the JWKS text: the classic confusion.
    let jwks = app.jwks().await;
    let x = jwks["keys"][0]["x"].as_str().unwrap_or_default().to_owned();
    let public = URL_SAFE_NO_PAD.decode(&x).unwrap_or_default();
    for secret in [public.as_slice(), x.as_bytes()] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        let forged = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret));
        let Ok(forged) = forged else {
            unreachable!("HS256 signing")
        };
        let detail = as_bearer(&app, &forged).await;
        assert!(detail.contains("`HS256`"), "{detail}");
    }

    // Keys named by the token itself, or no key named at all.
    let jwk = json!({"alg": "EdDSA", "kid": kid, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": x}});
    assert!(
        as_bearer(&app, &assemble(&jwk, &claims, b"sig"))
            .await
            .contains("`jwk`")
    );
    let jku = json!({"alg": "EdDSA", "kid": kid, "jku": "https://evil.example/jwks.json"});
    assert!(
        as_bearer(&app, &assemble(&jku, &claims, b"sig"))
            .await
            .contains("`jku`")
    );
    let no_kid = json!({"alg": "EdDSA", "typ": "at+jwt"});
    assert_eq!(
        as_bearer(&app, &assemble(&no_kid, &claims, b"sig")).await,
        "the token has no `kid`"
    );

    // A real token whose payload was edited keeps a signature that no longer matches.
    let mut parts = access.split('.');
    let (header, _, signature) = (
        parts.next().unwrap_or_default(),
        parts.next(),
        parts.next().unwrap_or_default(),
    );
    let mut edited = unverified_claims(&access);
    edited["exp"] = json!(START + 10 * 365 * 86_400);
    let tampered = format!("{header}.{}.{signature}", b64(edited.to_string().as_bytes()));
    assert_eq!(as_bearer(&app, &tampered).await, "the token signature is invalid");
    // The untouched token still works: the refusals above were about the forgeries.
    app.passport(&access, json!({})).await.ok(StatusCode::OK);
}

#[tokio::test]
async fn validly_signed_tokens_with_wrong_claims_are_refused() {
    let app = TestApp::start().await;
    let id = app.agent("claims_bot", &[]).await;
    let now = app.state.now();
    let good = || {
        Claims::new(
            TokenKind::Access,
            "warden",
            Audience::One("warden".into()),
            &id,
            "jti-1".into(),
            now,
            600,
        )
    };
    // Control: the helper makes tokens Warden accepts.
    app.passport(&sign_with_wardens_key(&app, &good()), json!({}))
        .await
        .ok(StatusCode::OK);

    let mut wrong_issuer = good();
    wrong_issuer.iss = "https://evil.example".into();
    assert_eq!(
        as_bearer(&app, &sign_with_wardens_key(&app, &wrong_issuer)).await,
        "the token was issued by another issuer"
    );
    let mut wrong_audience = good();
    wrong_audience.aud = Audience::Many(vec!["billing".into(), "mail".into()]);
    assert_eq!(
        as_bearer(&app, &sign_with_wardens_key(&app, &wrong_audience)).await,
        "the token is meant for another audience"
    );
    let mut future = good();
    future.nbf = now.unix() + 3600;
    future.iat = now.unix() + 3600;
    future.exp = now.unix() + 7200;
    assert_eq!(
        as_bearer(&app, &sign_with_wardens_key(&app, &future)).await,
        "the token is not valid yet"
    );
    let mut ghost = good();
    ghost.sub = "no-such-agent".into();
    assert!(
        as_bearer(&app, &sign_with_wardens_key(&app, &ghost))
            .await
            .contains("no longer exists")
    );
}
