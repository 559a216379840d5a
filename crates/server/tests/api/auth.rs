//! Password login: every failure looks the same, repeated failures lock the account, changes follow
//! the policy and the history, and an inactive agent gets nothing by any means.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::credentials::{TestKey, create_api_key, register_key};
use crate::support::{ADMIN, PASSWORD, TestApp, json_request, on_each_store};

#[tokio::test]
async fn password_login_answers_the_pair_and_every_failure_looks_the_same() {
    let app = TestApp::start().await;
    let id = app.agent("pw_bot", &[]).await;
    let ok = app.login_as("pw_bot", PASSWORD).await;
    let body = ok.ok(StatusCode::OK);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["identity"], "pw_bot");
    assert_eq!(body["agent_id"], id.as_str());
    assert_eq!(body["provider"], "password");
    assert_ne!(ok.str("access_token"), ok.str("refresh_token"));

    // An agent registered without a password cannot log in with one.
    let no_password = app.post("/v1/agents", Some(ADMIN), json!({"name": "keyless"})).await;
    no_password.ok(StatusCode::CREATED);

    let wrong = app
        .login_as("pw_bot", "Correct-Horse-43!")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let unknown = app
        .login_as("nobody_here", PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let passwordless = app
        .login_as("keyless", PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong, unknown,
        "a wrong password and an unknown identity must be indistinguishable"
    );
    assert_eq!(wrong, passwordless);
    assert_eq!(wrong, "invalid credentials");

    let refused = app.login_as("pw_bot", "").await;
    assert_eq!(refused.header("www-authenticate"), "Bearer realm=\"warden\"");
    refused.problem(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_until_the_lockout_ends() {
    let app = TestApp::start().await;
    app.agent("locked_bot", &[]).await;
    for _ in 0..5 {
        app.login_as("locked_bot", "Wrong-Horse-00!")
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right password is refused, with how long to wait.
    let locked = app.login_as("locked_bot", PASSWORD).await;
    locked.problem(StatusCode::LOCKED);
    assert_eq!(locked.header("retry-after"), "300");

    app.advance(299);
    let still = app.login_as("locked_bot", PASSWORD).await;
    still.problem(StatusCode::LOCKED);
    assert_eq!(still.header("retry-after"), "1");

    app.advance(1);
    app.login_as("locked_bot", PASSWORD).await.ok(StatusCode::OK);

    // The success cleared the count: four new failures do not lock.
    for _ in 0..4 {
        app.login_as("locked_bot", "Wrong-Horse-00!")
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    app.login_as("locked_bot", PASSWORD).await.ok(StatusCode::OK);

    let events = app.events().await;
    assert!(
        events.iter().any(|e| e["kind"] == "auth.lockout"),
        "no auth.lockout event"
    );
}

#[tokio::test]
async fn lockout_threshold_follows_the_configuration() {
    let app = TestApp::start_with(|c| c.auth.lockout.max_failed_attempts = 2).await;
    app.agent("strict_bot", &[]).await;
    for _ in 0..2 {
        app.login_as("strict_bot", "Wrong-Horse-00!")
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    app.login_as("strict_bot", PASSWORD).await.problem(StatusCode::LOCKED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_passwords_each_count_toward_the_lockout() {
    on_each_store(async |app: &TestApp| {
        app.agent("raced_bot", &[]).await;
        let wrong = json!({"identity": "raced_bot", "secret": "Wrong-Horse-00!"});
        let requests = (0..16)
            .map(|_| json_request(Method::POST, "/v1/auth/login", None, &wrong))
            .collect();
        for reply in app.concurrently(requests).await {
            assert!(
                matches!(reply.status, StatusCode::UNAUTHORIZED | StatusCode::LOCKED),
                "{:?}",
                reply.body
            );
        }
        // Sixteen failures happened; however they interleaved, at least five were counted.
        app.login_as("raced_bot", PASSWORD).await.problem(StatusCode::LOCKED);
    })
    .await;
}

#[tokio::test]
async fn password_change_enforces_policy_history_and_the_old_password() {
    let app = TestApp::start().await;
    app.agent("changing_bot", &[]).await;
    let (access, _) = app.login("changing_bot").await;
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});

    let short = app
        .post("/v1/auth/password", Some(&access), change(PASSWORD, "Sh0rt!"))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(short.contains("at least 12 characters"), "{short}");
    let no_upper = app
        .post(
            "/v1/auth/password",
            Some(&access),
            change(PASSWORD, "all-lowercase-1234"),
        )
        .await;
    assert!(no_upper.problem(StatusCode::BAD_REQUEST).contains("uppercase"));
    let no_digit = app
        .post(
            "/v1/auth/password",
            Some(&access),
            change(PASSWORD, "No-Digits-Here-At-All"),
        )
        .await;
    assert!(no_digit.problem(StatusCode::BAD_REQUEST).contains("digit"));

    let same = app
        .post("/v1/auth/password", Some(&access), change(PASSWORD, PASSWORD))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(same.contains("used recently"), "{same}");

    let wrong_old = app
        .post(
            "/v1/auth/password",
            Some(&access),
            change("Not-The-Password-1", "Brand-New-Pass-77?"),
        )
        .await;
    assert!(wrong_old.problem(StatusCode::UNAUTHORIZED).contains("old_password"));
    app.post("/v1/auth/password", None, change(PASSWORD, "Brand-New-Pass-77?"))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    let changed = app
        .post(
            "/v1/auth/password",
            Some(&access),
            change(PASSWORD, "Brand-New-Pass-77?"),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{:?}", changed.body);
    app.login_as("changing_bot", PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.login_as("changing_bot", "Brand-New-Pass-77?")
        .await
        .ok(StatusCode::OK);

    // The previous password is remembered.
    let back = app
        .post(
            "/v1/auth/password",
            Some(&access),
            change("Brand-New-Pass-77?", PASSWORD),
        )
        .await;
    assert!(back.problem(StatusCode::BAD_REQUEST).contains("used recently"));
}

#[tokio::test]
async fn an_inactive_agent_cannot_log_in_by_any_means() {
    let app = TestApp::start().await;
    let id = app.agent("sleepy_bot", &[]).await;
    let (_, key) = create_api_key(&app, &id).await;
    let signer = TestKey::ed25519();
    register_key(&app, &id, &signer).await.ok(StatusCode::CREATED);
    app.set_status(&id, "suspend").await.ok(StatusCode::OK);

    let detail = app
        .login_as("sleepy_bot", PASSWORD)
        .await
        .problem(StatusCode::FORBIDDEN);
    assert!(detail.contains("suspended"), "{detail}");
    // Without the right password the status is not revealed.
    assert_eq!(
        app.login_as("sleepy_bot", "Wrong-Horse-00!")
            .await
            .problem(StatusCode::UNAUTHORIZED),
        "invalid credentials"
    );
    app.post("/v1/auth/login", None, json!({"api_key": key}))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.post("/v1/auth/challenge", None, json!({"agent_id": id}))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    app.advance(1);
    app.set_status(&id, "release").await.ok(StatusCode::OK);
    app.login_as("sleepy_bot", PASSWORD).await.ok(StatusCode::OK);
}

#[tokio::test]
async fn an_expired_lock_does_not_relock_on_the_next_mistake() {
    let app = TestApp::start().await;
    app.agent("cooling_bot", &[]).await;
    for _ in 0..5 {
        app.login_as("cooling_bot", "Wrong-Horse-00!")
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    app.login_as("cooling_bot", PASSWORD).await.problem(StatusCode::LOCKED);
    app.advance(300);
    // One mistake after the lock ran out counts as the first of a new series.
    app.login_as("cooling_bot", "Wrong-Horse-00!")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.login_as("cooling_bot", PASSWORD).await.ok(StatusCode::OK);
}

#[tokio::test]
async fn a_passport_cannot_change_the_password() {
    let app = TestApp::start().await;
    app.agent("guarded_bot", &["db:read"]).await;
    let (access, _) = app.login("guarded_bot").await;
    let passport = app.passport_token(&access, json!({})).await;
    let body = json!({"old_password": PASSWORD, "new_password": "Another-Horse-43!"});
    app.post("/v1/auth/password", Some(&passport), body.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    app.login_as("guarded_bot", PASSWORD).await.ok(StatusCode::OK);
    assert_eq!(
        app.post("/v1/auth/password", Some(&access), body).await.status,
        StatusCode::NO_CONTENT
    );
}
