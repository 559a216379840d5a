//! No secret reaches the logs, even at trace level, nor the database in the clear: the whole identity
//! flow runs against a server logging at `debug` (and `trace` for Warden's crates), then its output
//! and its SQLite files are searched for every secret it saw.

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::harness::{Api, CHEAP_ARGON2, LOG_FILTER, Options, Sandbox, Secrets, Server, field, read_text};
use crate::pki::{csr, https_client, setup_server_tls};

const PASSWORD_A: &str = "Sesame-Secret-7781!";
const PASSWORD_A2: &str = "Renewed-Sesame-9034#";
const PASSWORD_B: &str = "Hidden-Phrase-5520$";
const PASSWORD_B2: &str = "Reset-Phrase-6631%";
const WRONG_PASSWORD: &str = "Guessed-Wrong-1234&";

fn ok(reply: &crate::harness::Reply, status: u16, what: &str) {
    assert_eq!(reply.status, status, "{what}: {:?}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_or_the_database_in_the_clear() {
    let sandbox = Sandbox::new();
    let data = sandbox.data.display().to_string();
    // `init` prints the admin token; `serve` below must never print or log it.
    let (status, _, stderr) = sandbox.run(&["init", "--data-dir", &data]);
    assert!(status.success(), "warden init: {stderr}");
    let (server_ca, tls_yaml) = setup_server_tls(&sandbox);
    sandbox.write_config(&format!("{tls_yaml}{CHEAP_ARGON2}"));
    let client = https_client(&server_ca.pem, None, None);
    let options = Options {
        env: vec![("WARDEN_LOG".into(), LOG_FILTER.into())],
        https: Some(client.clone()),
    };
    let mut server = Server::start(&sandbox, &options).await;
    let api = Api::new(client, &server.base);

    let admin = sandbox.admin_token();
    let master_key = read_text(&sandbox.data.join("master.key")).trim().to_owned();
    let mut secrets = Secrets::default();
    secrets.add("admin token", &admin);
    secrets.add("master key", &master_key);
    for (label, password) in [
        ("password A", PASSWORD_A),
        ("new password A", PASSWORD_A2),
        ("password B", PASSWORD_B),
    ] {
        secrets.add(label, password);
    }
    secrets.add("admin-set password B", PASSWORD_B2);
    secrets.add("wrong password", WRONG_PASSWORD);

    // Passwords: registration, login, a wrong one, a change by the agent, a reset by the admin.
    let alpha = api
        .create_agent(
            &admin,
            "alpha_bot",
            &["agent:execute", "context:read"],
            Some(PASSWORD_A),
        )
        .await;
    let beta = api
        .create_agent(&admin, "beta_bot", &["context:read"], Some(PASSWORD_B))
        .await;
    let login = api.password_login("alpha_bot", PASSWORD_A).await;
    secrets.pair("password login", &login);
    let wrong = api
        .post(
            "/v1/auth/login",
            None,
            &json!({ "identity": "alpha_bot", "secret": WRONG_PASSWORD }),
        )
        .await;
    ok(&wrong, 401, "wrong password");
    let changed = api
        .post(
            "/v1/auth/password",
            Some(&field(&login, "access_token")),
            &json!({ "old_password": PASSWORD_A, "new_password": PASSWORD_A2 }),
        )
        .await;
    ok(&changed, 204, "password change");
    let relogin = api.password_login("alpha_bot", PASSWORD_A2).await;
    secrets.pair("second password login", &relogin);
    let reset = api
        .post(
            &format!("/v1/agents/{beta}/password"),
            Some(&admin),
            &json!({ "password": PASSWORD_B2 }),
        )
        .await;
    ok(&reset, 204, "admin password reset");
    let beta_login = api.password_login("beta_bot", PASSWORD_B2).await;
    secrets.pair("beta login", &beta_login);

    // API key.
    let key = api
        .post(&format!("/v1/agents/{alpha}/api-keys"), Some(&admin), &json!({}))
        .await;
    ok(&key, 201, "api key");
    let api_key = key.str("key");
    // `wdn_<12 hex>_<secret>`; the secret itself may contain `_`.
    let Some(secret_part) = api_key.get("wdn_".len() + 12 + 1..) else {
        unreachable!("api key too short: {api_key}")
    };
    secrets.add("API key", &api_key);
    secrets.add("API key secret part", secret_part);
    let by_key = api.post("/v1/auth/login", None, &json!({ "api_key": api_key })).await;
    ok(&by_key, 200, "api key login");
    secrets.pair("api key login", &by_key.body);
    let mut bad_key = api_key.clone();
    bad_key.replace_range(bad_key.len() - 4.., "AAAA");
    let refused = api.post("/v1/auth/login", None, &json!({ "api_key": bad_key })).await;
    ok(&refused, 401, "wrong api key");

    // Challenge-response.
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new());
    let Ok(pkcs8) = pkcs8 else {
        unreachable!("generate an Ed25519 key")
    };
    let Ok(pair) = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()) else {
        unreachable!("load the Ed25519 key")
    };
    let public = json!({ "algorithm": "ed25519", "public_key": STANDARD.encode(pair.public_key().as_ref()) });
    ok(
        &api.post(&format!("/v1/agents/{alpha}/public-keys"), Some(&admin), &public)
            .await,
        201,
        "public key",
    );
    let challenge = api
        .post("/v1/auth/challenge", None, &json!({ "agent_id": alpha }))
        .await;
    ok(&challenge, 200, "challenge");
    let nonce = challenge.str("nonce");
    let signature = STANDARD.encode(pair.sign(format!("warden-key-login-v1:{nonce}").as_bytes()).as_ref());
    let by_signature = api
        .post(
            "/v1/auth/key-login",
            None,
            &json!({ "agent_id": alpha, "nonce": nonce, "signature": signature }),
        )
        .await;
    ok(&by_signature, 200, "key login");
    secrets.pair("key login", &by_signature.body);

    // Refresh, and a reuse that revokes the session.
    let refreshed = api
        .post(
            "/v1/auth/refresh",
            None,
            &json!({ "refresh_token": field(&login, "refresh_token") }),
        )
        .await;
    ok(&refreshed, 200, "refresh");
    secrets.pair("refreshed", &refreshed.body);
    let reuse = api
        .post(
            "/v1/auth/refresh",
            None,
            &json!({ "refresh_token": field(&login, "refresh_token") }),
        )
        .await;
    ok(&reuse, 401, "refresh reuse");
    let wrong_kind = api
        .post(
            "/v1/auth/refresh",
            None,
            &json!({ "refresh_token": field(&relogin, "access_token") }),
        )
        .await;
    ok(&wrong_kind, 401, "an access token presented as a refresh token");

    // Passports and token exchange.
    let access = field(&relogin, "access_token");
    let issued = api
        .post(
            "/v1/auth/passport",
            Some(&access),
            &json!({ "scopes": ["context:read"] }),
        )
        .await;
    ok(&issued, 200, "passport");
    let passport = issued.str("passport");
    secrets.token("passport", &passport);
    let exchanged = api
        .post(
            "/v1/auth/token-exchange",
            Some(&field(&beta_login, "access_token")),
            &json!({ "subject_token": passport, "scopes": ["context:read"] }),
        )
        .await;
    ok(&exchanged, 200, "token exchange");
    secrets.token("exchanged passport", &exchanged.str("passport"));

    // Revocation by the holder and by the admin; then the revoked and a mangled token are refused.
    let holder = by_key.str("access_token");
    ok(
        &api.post("/v1/auth/revoke", Some(&holder), &json!({ "token": holder }))
            .await,
        204,
        "revoke by holder",
    );
    ok(
        &api.post(
            "/v1/auth/revoke",
            Some(&admin),
            &json!({ "token": exchanged.str("passport") }),
        )
        .await,
        204,
        "revoke by admin",
    );
    ok(
        &api.post("/v1/auth/passport", Some(&holder), &json!({})).await,
        401,
        "revoked token",
    );
    let mangled = format!("{access}x");
    ok(
        &api.post("/v1/auth/passport", Some(&mangled), &json!({})).await,
        401,
        "mangled token",
    );
    ok(
        &api.get("/v1/agents", Some(&format!("{admin}x"))).await,
        403,
        "almost the admin token",
    );

    // A client certificate, and mTLS login with it.
    let (request, client_key) = csr("alpha_bot");
    let certificate = api
        .post(
            &format!("/v1/agents/{alpha}/certificate"),
            Some(&admin),
            &json!({ "csr": request }),
        )
        .await;
    ok(&certificate, 201, "certificate");
    let identity = format!("{}{client_key}", certificate.str("certificate"));
    let mtls = Api::new(https_client(&server_ca.pem, Some(&identity), None), &server.base);
    let by_certificate = mtls.post("/v1/auth/login", None, &json!({})).await;
    ok(&by_certificate, 200, "certificate login");
    secrets.pair("certificate login", &by_certificate.body);
    let cert_passport = mtls.post("/v1/auth/passport", None, &json!({})).await;
    ok(&cert_passport, 200, "passport by certificate");
    secrets.token("certificate passport", &cert_passport.str("passport"));
    ok(
        &api.post(&format!("/v1/agents/{beta}/revoke"), Some(&admin), &json!({}))
            .await,
        200,
        "revoke agent",
    );

    // Stop, so that everything the server would write is written.
    let stopped = server.terminate(Duration::from_secs(10)).await;
    assert!(
        stopped.is_some_and(|s| s.success()),
        "serve did not stop cleanly: {stopped:?}"
    );

    let stdout = server.stdout_text();
    let stderr = server.stderr_text();
    assert!(stderr.contains("DEBUG"), "the log level did not take effect:\n{stderr}");
    assert!(stderr.contains("request"), "requests were not logged at debug level");
    let mut logs = stdout.into_bytes();
    logs.extend_from_slice(stderr.as_bytes());
    let control = Secrets(vec![("control".into(), "/v1/auth/token-exchange".into())]);
    assert!(
        !control.found_in(&logs).is_empty(),
        "the search finds nothing, not even a logged path"
    );
    let leaked = secrets.found_in(&logs);
    assert!(leaked.is_empty(), "secrets in the server's output: {leaked:?}");
    assert!(
        !String::from_utf8_lossy(&logs).contains("$argon2"),
        "a password hash in the server's output"
    );

    // The database holds hashes and token ids, never the secrets themselves.
    let mut database = Vec::new();
    for name in ["warden.db", "warden.db-wal", "warden.db-shm", "warden.db-journal"] {
        if let Ok(bytes) = std::fs::read(sandbox.data.join(name)) {
            database.extend(bytes);
        }
    }
    assert!(database.len() > 4096, "the database files were not found");
    let control = Secrets(vec![("control".into(), format!("agent:{alpha}"))]);
    assert!(
        !control.found_in(&database).is_empty(),
        "the search finds nothing, not even an audit resource"
    );
    let in_database = secrets.found_in(&database);
    assert!(in_database.is_empty(), "secrets stored in the clear: {in_database:?}");
    let raw_master = STANDARD.decode(&master_key);
    let Ok(raw_master) = raw_master else {
        unreachable!("master key is not base64")
    };
    assert!(
        !database.windows(raw_master.len()).any(|w| w == raw_master.as_slice()),
        "the raw master key is in the database"
    );
}
