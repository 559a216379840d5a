//! The README's walkthrough over a real listener: every way to log in, refresh and its reuse
//! detection, revocation, passports and token exchange; then the passports are verified by an
//! independent JWT implementation (PyJWT) against `/.well-known/jwks.json`.

use std::process::Command;
use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server, field, plain_client};

/// Verifies a JWT against a JWKS URL as the README shows, printing the outcome as JSON.
const PYJWT_VERIFY: &str = r#"
import json, sys
import jwt
url, token = sys.argv[1], sys.argv[2]
try:
    client = jwt.PyJWKClient(url)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key, algorithms=["EdDSA"], audience="warden", issuer="warden")
    print(json.dumps({"ok": True, "claims": claims}))
except jwt.PyJWTError as error:
    print(json.dumps({"ok": False, "error": type(error).__name__, "detail": str(error)}))
"#;

/// Runs the PyJWT check; `None` when `WARDEN_TEST_PYTHON` is unset.
fn pyjwt(sandbox: &Sandbox, python: &str, jwks_url: &str, token: &str) -> Value {
    let mut command = Command::new(python);
    command
        .args(["-c", PYJWT_VERIFY, jwks_url, token])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    let (status, stdout, stderr) = sandbox.run_bounded(command, Duration::from_secs(30));
    assert!(status.success(), "the PyJWT script failed: {status}\n{stderr}");
    let parsed = serde_json::from_str::<Value>(stdout.trim());
    let Ok(value) = parsed else {
        unreachable!("PyJWT printed no JSON: {stdout:?} / {stderr}")
    };
    value
}

/// `passport` with its payload rewritten to carry `scopes`, keeping the original signature.
fn tampered(passport: &str, scopes: &[&str]) -> String {
    let parts: Vec<&str> = passport.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS has three parts");
    let decoded = URL_SAFE_NO_PAD.decode(parts[1]);
    let Ok(payload) = decoded else {
        unreachable!("passport payload is not base64url: {decoded:?}")
    };
    let parsed = serde_json::from_slice::<Value>(&payload);
    let Ok(mut claims) = parsed else {
        unreachable!("passport payload is not JSON: {parsed:?}")
    };
    claims["scopes"] = json!(scopes);
    let forged = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{}.{forged}.{}", parts[0], parts[2])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_walkthrough_over_a_real_listener() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);

    // 1. Register an agent with a password, as the README does.
    let body = json!({
        "name": "research_bot", "roles": ["researcher"], "capabilities": ["web_search"],
        "scopes": ["agent:execute", "context:read"], "tier": "standard", "password": PASSWORD,
    });
    let created = api.post("/v1/agents", Some(&admin), &body).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert!(created.request_id.is_some(), "every answer carries x-request-id");
    let bot = created.str("id");
    assert_eq!(created.str("name"), "research_bot");
    assert_eq!(created.str("status"), "active");
    assert_eq!(created.body["scopes"], json!(["agent:execute", "context:read"]));
    assert!(!created.str("created_at").is_empty());
    let unauthenticated = api.post("/v1/agents", None, &json!({ "name": "intruder" })).await;
    assert_eq!(unauthenticated.status, 401);

    // 2. Password login, and a wrong password.
    let login = api.password_login("research_bot", PASSWORD).await;
    assert_eq!(field(&login, "token_type"), "bearer");
    assert_eq!(field(&login, "provider"), "password");
    assert_eq!(field(&login, "identity"), "research_bot");
    assert!(login["expires_in"].as_u64().is_some_and(|s| s > 0));
    let wrong = api
        .post(
            "/v1/auth/login",
            None,
            &json!({ "identity": "research_bot", "secret": "Wrong-Horse-43?" }),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let agent_token = field(&login, "access_token");
    let not_admin = api.get("/v1/agents", Some(&agent_token)).await;
    assert_eq!(not_admin.status, 403, "an agent token is not the admin token");

    // 3. API key login.
    let key = api
        .post(&format!("/v1/agents/{bot}/api-keys"), Some(&admin), &json!({}))
        .await;
    assert_eq!(key.status, 201, "{:?}", key.body);
    let api_key = key.str("key");
    assert!(api_key.starts_with("wdn_"), "{api_key}");
    let by_key = api.post("/v1/auth/login", None, &json!({ "api_key": api_key })).await;
    assert_eq!(by_key.status, 200, "{:?}", by_key.body);
    assert_eq!(by_key.str("provider"), "api_key");
    assert_eq!(by_key.str("agent_id"), bot);

    // 4. Challenge-response with an Ed25519 key.
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng);
    let Ok(pkcs8) = pkcs8 else {
        unreachable!("generate an Ed25519 key")
    };
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref());
    let Ok(pair) = pair else {
        unreachable!("load the Ed25519 key: {pair:?}")
    };
    let public = STANDARD.encode(pair.public_key().as_ref());
    let registered = api
        .post(
            &format!("/v1/agents/{bot}/public-keys"),
            Some(&admin),
            &json!({ "algorithm": "ed25519", "public_key": public }),
        )
        .await;
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let challenge = api.post("/v1/auth/challenge", None, &json!({ "agent_id": bot })).await;
    assert_eq!(challenge.status, 200, "{:?}", challenge.body);
    let nonce = challenge.str("nonce");
    let signature = STANDARD.encode(pair.sign(format!("warden-key-login-v1:{nonce}").as_bytes()).as_ref());
    let answer = json!({ "agent_id": bot, "nonce": nonce, "signature": signature });
    let by_signature = api.post("/v1/auth/key-login", None, &answer).await;
    assert_eq!(by_signature.status, 200, "{:?}", by_signature.body);
    assert_eq!(by_signature.str("provider"), "public_key");
    let replayed = api.post("/v1/auth/key-login", None, &answer).await;
    assert_eq!(replayed.status, 401, "a nonce works once");

    // 5. Refresh; reusing a spent refresh token revokes the whole session.
    let first_refresh = field(&login, "refresh_token");
    let refreshed = api
        .post("/v1/auth/refresh", None, &json!({ "refresh_token": first_refresh }))
        .await;
    assert_eq!(refreshed.status, 200, "{:?}", refreshed.body);
    let second_refresh = refreshed.str("refresh_token");
    assert_ne!(second_refresh, first_refresh);
    let reuse = api
        .post("/v1/auth/refresh", None, &json!({ "refresh_token": first_refresh }))
        .await;
    assert_eq!(reuse.status, 401, "reusing a spent refresh token: {:?}", reuse.body);
    let family = api
        .post("/v1/auth/refresh", None, &json!({ "refresh_token": second_refresh }))
        .await;
    assert_eq!(
        family.status, 401,
        "the reuse must have revoked the newer refresh token too"
    );

    // 6. Revoke: a revoked access token stops working at once.
    let doomed = by_key.str("access_token");
    let before = api.post("/v1/auth/passport", Some(&doomed), &json!({})).await;
    assert_eq!(before.status, 200, "{:?}", before.body);
    let revoked = api
        .post("/v1/auth/revoke", Some(&doomed), &json!({ "token": doomed }))
        .await;
    assert_eq!(revoked.status, 204, "{:?}", revoked.body);
    let after = api.post("/v1/auth/passport", Some(&doomed), &json!({})).await;
    assert_eq!(after.status, 401, "a revoked token: {:?}", after.body);

    // 7. A passport carrying only the scope this task needs.
    let access = by_signature.str("access_token");
    let issued = api
        .post(
            "/v1/auth/passport",
            Some(&access),
            &json!({ "scopes": ["context:read"] }),
        )
        .await;
    assert_eq!(issued.status, 200, "{:?}", issued.body);
    let passport = issued.str("passport");
    assert!(
        issued.body["expires_in"].as_u64().is_some_and(|s| s > 0 && s <= 300),
        "{:?}",
        issued.body
    );
    let widened = api
        .post(
            "/v1/auth/passport",
            Some(&access),
            &json!({ "scopes": ["admin:everything"] }),
        )
        .await;
    assert!(
        widened.status == 400 || widened.status == 403,
        "a scope the agent lacks: {:?}",
        widened.body
    );

    // 8. Token exchange: another agent narrows the passport for delegation, never widening it.
    let helper = api
        .create_agent(&admin, "helper_bot", &["context:read"], Some(PASSWORD))
        .await;
    let helper_login = api.password_login("helper_bot", PASSWORD).await;
    let helper_access = field(&helper_login, "access_token");
    let exchange = json!({ "subject_token": passport, "scopes": ["context:read"] });
    let exchanged = api
        .post("/v1/auth/token-exchange", Some(&helper_access), &exchange)
        .await;
    assert_eq!(exchanged.status, 200, "{:?}", exchanged.body);
    let delegated = exchanged.str("passport");
    let widen = json!({ "subject_token": passport, "scopes": ["agent:execute"] });
    let refused = api.post("/v1/auth/token-exchange", Some(&helper_access), &widen).await;
    assert!(
        refused.status == 400 || refused.status == 403,
        "exchange must never widen: {:?}",
        refused.body
    );

    // 9. An independent implementation verifies the passports against the JWKS.
    let jwks = api.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, 200);
    assert!(
        jwks.body["keys"].as_array().is_some_and(|k| !k.is_empty()),
        "{:?}",
        jwks.body
    );
    let Some(python) = std::env::var_os("WARDEN_TEST_PYTHON") else {
        eprintln!("SKIPPED: PyJWT interoperability (WARDEN_TEST_PYTHON unset)");
        return;
    };
    let python = python.to_string_lossy().into_owned();
    let url = server.url("/.well-known/jwks.json");

    let verified = pyjwt(&sandbox, &python, &url, &passport);
    assert_eq!(verified["ok"], json!(true), "PyJWT rejected the passport: {verified}");
    let claims = &verified["claims"];
    assert_eq!(claims["sub"], json!(bot));
    assert_eq!(claims["scopes"], json!(["context:read"]));
    assert_eq!(claims["iss"], json!("warden"));
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert!(
        claims.get("act").is_none_or(Value::is_null),
        "a passport issued directly has no act: {claims}"
    );

    let verified = pyjwt(&sandbox, &python, &url, &delegated);
    assert_eq!(
        verified["ok"],
        json!(true),
        "PyJWT rejected the exchanged passport: {verified}"
    );
    let claims = &verified["claims"];
    assert_eq!(claims["sub"], json!(bot), "exchange keeps the subject");
    assert_eq!(claims["scopes"], json!(["context:read"]));
    assert_eq!(
        claims["act"]["sub"],
        json!(helper),
        "the act claim names the caller: {claims}"
    );

    let forged = tampered(&passport, &["agent:execute", "context:read"]);
    let rejected = pyjwt(&sandbox, &python, &url, &forged);
    assert_eq!(
        rejected["ok"],
        json!(false),
        "PyJWT accepted a tampered passport: {rejected}"
    );
    assert_eq!(rejected["error"], json!("InvalidSignatureError"), "{rejected}");
    let ours = api.post("/v1/auth/passport", Some(&forged), &json!({})).await;
    assert_eq!(
        ours.status, 401,
        "Warden must refuse the tampered passport too: {:?}",
        ours.body
    );
}
