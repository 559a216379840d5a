//! Credentials other than passwords: API keys (shown once, revocable) and challenge-response login
//! with registered Ed25519 and P-256 keys, where a nonce buys exactly one login.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair};
use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::support::{ADMIN, Reply, TestApp, json_request, on_each_store};

const CHALLENGE_DOMAIN: &[u8] = b"warden-key-login-v1:";

/// A key pair the test holds, as an agent would.
#[derive(Debug)]
pub enum TestKey {
    Ed25519(Ed25519KeyPair),
    P256(EcdsaKeyPair),
}

impl TestKey {
    pub fn ed25519() -> TestKey {
        match Ed25519KeyPair::generate() {
            Ok(pair) => TestKey::Ed25519(pair),
            Err(e) => unreachable!("Ed25519 key generation: {e}"),
        }
    }

    pub fn p256() -> TestKey {
        match EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING) {
            Ok(pair) => TestKey::P256(pair),
            Err(e) => unreachable!("P-256 key generation: {e}"),
        }
    }

    pub fn algorithm(&self) -> &'static str {
        match self {
            TestKey::Ed25519(_) => "ed25519",
            TestKey::P256(_) => "p256",
        }
    }

    /// The raw public key in base64 (32 bytes, or the 65-byte uncompressed point).
    pub fn public_b64(&self) -> String {
        match self {
            TestKey::Ed25519(pair) => STANDARD.encode(pair.public_key().as_ref()),
            TestKey::P256(pair) => STANDARD.encode(pair.public_key().as_ref()),
        }
    }

    /// A base64 signature of exactly `message`.
    pub fn sign_raw(&self, message: &[u8]) -> String {
        match self {
            TestKey::Ed25519(pair) => STANDARD.encode(pair.sign(message).as_ref()),
            TestKey::P256(pair) => match pair.sign(&SystemRandom::new(), message) {
                Ok(signature) => STANDARD.encode(signature.as_ref()),
                Err(e) => unreachable!("P-256 signing: {e}"),
            },
        }
    }

    /// The answer to a challenge: a signature of the domain prefix followed by the nonce.
    pub fn answer(&self, nonce: &str) -> String {
        self.sign_raw(&[CHALLENGE_DOMAIN, nonce.as_bytes()].concat())
    }
}

pub async fn register_key(app: &TestApp, agent_id: &str, key: &TestKey) -> Reply {
    let body = json!({"algorithm": key.algorithm(), "public_key": key.public_b64()});
    app.post(&format!("/v1/agents/{agent_id}/public-keys"), Some(ADMIN), body)
        .await
}

pub async fn challenge(app: &TestApp, agent_id: &str) -> String {
    let reply = app
        .post("/v1/auth/challenge", None, json!({"agent_id": agent_id}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["expires_in"], 60);
    reply.str("nonce")
}

pub async fn key_login(app: &TestApp, agent_id: &str, nonce: &str, signature: &str) -> Reply {
    app.post(
        "/v1/auth/key-login",
        None,
        json!({"agent_id": agent_id, "nonce": nonce, "signature": signature}),
    )
    .await
}

pub async fn create_api_key(app: &TestApp, agent_id: &str) -> (String, String) {
    let reply = app
        .post(&format!("/v1/agents/{agent_id}/api-keys"), Some(ADMIN), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    (reply.str("id"), reply.str("key"))
}

#[tokio::test]
async fn api_keys_are_shown_once_work_and_die_when_revoked() {
    let app = TestApp::start().await;
    let id = app.agent("keyed_bot", &[]).await;
    let (key_id, key) = create_api_key(&app, &id).await;
    assert!(key.starts_with("wdn_"), "{key}");
    assert!(key.contains(&key_id), "the key's visible prefix is its id");

    let login = app.post("/v1/auth/login", None, json!({"api_key": key})).await;
    assert_eq!(login.ok(StatusCode::OK)["provider"], "api_key");
    assert_eq!(login.body["agent_id"], id.as_str());

    // The key is never shown again: not by the agent's record, not in the audit trail.
    let record = app.get(&format!("/v1/agents/{id}"), Some(ADMIN)).await;
    assert!(!record.body.to_string().contains(&key));
    let events = Value::Array(app.events().await).to_string();
    assert!(
        !events.contains(&key[key.len() - 20..]),
        "the secret part leaked into the audit log"
    );

    // One changed character of the secret, a key with another id, garbage: all refused alike.
    let mut tampered = key.clone();
    let swap = if key[20..21] == *"A" { "B" } else { "A" };
    tampered.replace_range(20..21, swap);
    let other_id = format!("wdn_000000000000{}", &key[16..]);
    for bad in [tampered.as_str(), other_id.as_str(), "wdn_short", ""] {
        let detail = app
            .post("/v1/auth/login", None, json!({"api_key": bad}))
            .await
            .problem(StatusCode::UNAUTHORIZED);
        assert_eq!(detail, "invalid credentials", "{bad}");
    }

    // Only the administrator issues or revokes keys.
    let (access, _) = app.login("keyed_bot").await;
    app.post(&format!("/v1/agents/{id}/api-keys"), Some(&access), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.delete(&format!("/v1/api-keys/{key_id}"), Some(&access))
        .await
        .problem(StatusCode::FORBIDDEN);

    let revoked = app.delete(&format!("/v1/api-keys/{key_id}"), Some(ADMIN)).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{:?}", revoked.body);
    app.post("/v1/auth/login", None, json!({"api_key": key}))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.delete(&format!("/v1/api-keys/{key_id}"), Some(ADMIN))
        .await
        .problem(StatusCode::NOT_FOUND);

    // A second key for the same agent is unaffected by the first one's revocation.
    let (_, second) = create_api_key(&app, &id).await;
    assert_ne!(second, key);
    app.post("/v1/auth/login", None, json!({"api_key": second}))
        .await
        .ok(StatusCode::OK);
}

async fn challenge_login_works_with(key: TestKey) {
    let app = TestApp::start().await;
    let id = app.agent("signing_bot", &[]).await;
    let registered = register_key(&app, &id, &key).await;
    assert_eq!(registered.ok(StatusCode::CREATED)["algorithm"], key.algorithm());

    let nonce = challenge(&app, &id).await;
    let signature = key.answer(&nonce);
    let login = key_login(&app, &id, &nonce, &signature).await;
    assert_eq!(login.ok(StatusCode::OK)["provider"], "public_key");
    assert_eq!(login.body["agent_id"], id.as_str());
    // The tokens it answers with are good ones.
    app.passport_token(&login.str("access_token"), json!({})).await;

    // The same nonce and signature again: a replay.
    let replay = key_login(&app, &id, &nonce, &signature)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert!(replay.contains("nonce"), "{replay}");
}

#[tokio::test]
async fn ed25519_challenge_response_login_works_once_per_nonce() {
    challenge_login_works_with(TestKey::ed25519()).await;
}

#[tokio::test]
async fn p256_challenge_response_login_works_once_per_nonce() {
    challenge_login_works_with(TestKey::p256()).await;
}

#[tokio::test]
async fn challenge_answers_that_prove_nothing_are_refused() {
    let app = TestApp::start().await;
    let id = app.agent("careful_bot", &[]).await;
    let other = app.agent("other_bot", &[]).await;
    let key = TestKey::ed25519();
    register_key(&app, &id, &key).await.ok(StatusCode::CREATED);
    register_key(&app, &other, &TestKey::p256())
        .await
        .ok(StatusCode::CREATED);

    // Expired: the nonce lives 60 seconds.
    let nonce = challenge(&app, &id).await;
    app.advance(61);
    key_login(&app, &id, &nonce, &key.answer(&nonce))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // Signed by a key that was never registered.
    let nonce = challenge(&app, &id).await;
    let stranger = TestKey::ed25519();
    let detail = key_login(&app, &id, &nonce, &stranger.answer(&nonce))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert!(detail.contains("signature"), "{detail}");
    // …and that failed attempt spent the nonce, so the right signature cannot follow it.
    key_login(&app, &id, &nonce, &key.answer(&nonce))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // The nonce signed without the domain prefix: a signature made for another purpose.
    let nonce = challenge(&app, &id).await;
    key_login(&app, &id, &nonce, &key.sign_raw(nonce.as_bytes()))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // A nonce issued to one agent, answered in the name of another.
    let nonce = challenge(&app, &id).await;
    key_login(&app, &other, &nonce, &key.answer(&nonce))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // A nonce Warden never issued, and garbage signatures.
    let made_up = "A".repeat(43);
    key_login(&app, &id, &made_up, &key.answer(&made_up))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let nonce = challenge(&app, &id).await;
    key_login(&app, &id, &nonce, "not base64 at all!")
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // No challenge for an unknown agent, or for one without a key.
    let keyless = app.agent("keyless_bot", &[]).await;
    app.post("/v1/auth/challenge", None, json!({"agent_id": "no-such-agent"}))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.post("/v1/auth/challenge", None, json!({"agent_id": keyless}))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    // Keys that are not what they claim to be are refused at registration.
    let mislabelled = json!({"algorithm": "p256", "public_key": key.public_b64()});
    let detail = app
        .post(&format!("/v1/agents/{id}/public-keys"), Some(ADMIN), mislabelled)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("public key"), "{detail}");
    let unknown = json!({"algorithm": "rsa", "public_key": key.public_b64()});
    let detail = app
        .post(&format!("/v1/agents/{id}/public-keys"), Some(ADMIN), unknown)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("`algorithm`"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nonce_answered_many_times_at_once_logs_in_once() {
    on_each_store(async |app: &TestApp| {
        let id = app.agent("racing_signer", &[]).await;
        let key = TestKey::ed25519();
        register_key(app, &id, &key).await.ok(StatusCode::CREATED);
        let nonce = challenge(app, &id).await;
        let body = json!({"agent_id": id, "nonce": nonce, "signature": key.answer(&nonce)});
        let requests = (0..12)
            .map(|_| json_request(Method::POST, "/v1/auth/key-login", None, &body))
            .collect();
        let replies = app.concurrently(requests).await;
        let successes = replies.iter().filter(|r| r.status == StatusCode::OK).count();
        assert_eq!(successes, 1, "one nonce must buy exactly one login, got {successes}");
        for reply in replies.iter().filter(|r| r.status != StatusCode::OK) {
            reply.problem(StatusCode::UNAUTHORIZED);
        }
    })
    .await;
}
