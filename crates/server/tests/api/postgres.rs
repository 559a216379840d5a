//! The whole identity flow on PostgreSQL (a fresh schema per test), when `WARDEN_TEST_POSTGRES_URL`
//! names a server; otherwise each test prints `SKIPPED: …` and passes.

use axum::http::StatusCode;
use serde_json::json;
use warden_identity::repo::TokenRepository;

use crate::credentials::{TestKey, challenge, create_api_key, key_login, register_key};
use crate::flow::verify_with_jwks;
use crate::support::{ADMIN, PASSWORD, TestApp, skipped, unverified_claims};

async fn postgres_app() -> Option<TestApp> {
    let app = TestApp::start_postgres_with(|_| {}).await;
    if app.is_none() {
        skipped("the whole test");
    }
    app
}

#[tokio::test]
async fn full_identity_flow_on_postgres() {
    let Some(app) = postgres_app().await else { return };
    assert_eq!(app.backend(), "postgres");
    assert_eq!(app.get("/readyz", None).await.ok(StatusCode::OK)["store"], "postgres");

    // Register and log in.
    let id = app.agent("pg_bot", &["pg:read", "pg:write"]).await;
    let actor_id = app.agent("pg_actor", &[]).await;
    app.post("/v1/agents", Some(ADMIN), json!({"name": "pg_bot"}))
        .await
        .problem(StatusCode::CONFLICT);
    let (access, refresh1) = app.login("pg_bot").await;

    // Refresh rotates; replaying the spent token ends the session.
    let rotated = app
        .post("/v1/auth/refresh", None, json!({"refresh_token": refresh1}))
        .await;
    rotated.ok(StatusCode::OK);
    let (access2, refresh2) = (rotated.str("access_token"), rotated.str("refresh_token"));
    app.passport_token(&access2, json!({})).await;
    let reuse = app
        .post("/v1/auth/refresh", None, json!({"refresh_token": refresh1}))
        .await;
    assert!(reuse.problem(StatusCode::UNAUTHORIZED).contains("reuse"));
    app.post("/v1/auth/refresh", None, json!({"refresh_token": refresh2}))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    for token in [&access, &access2] {
        assert_eq!(
            app.passport(token, json!({})).await.problem(StatusCode::UNAUTHORIZED),
            "the token was revoked"
        );
    }
    // The revocation is in the store, not only in this process's memory.
    let stored = app.state.store.revocations(app.state.now()).await;
    let family = unverified_claims(&refresh1)["sid"].clone();
    assert!(
        matches!(&stored, Ok(r) if r.families.iter().any(|(f, _)| *f == family)),
        "{stored:?}"
    );

    // A new session; a passport; an exchange that narrows it for another agent.
    let (access, _) = app.login("pg_bot").await;
    let passport = app
        .passport_token(&access, json!({"scopes": ["pg:read", "pg:write"], "ttl": "10m"}))
        .await;
    let (actor_access, _) = app.login("pg_actor").await;
    let exchanged = app
        .post(
            "/v1/auth/token-exchange",
            Some(&actor_access),
            json!({"subject_token": passport, "scopes": ["pg:read"]}),
        )
        .await;
    exchanged.ok(StatusCode::OK);
    let jwks = app.jwks().await;
    let Some(claims) = verify_with_jwks(&exchanged.str("passport"), &jwks) else {
        unreachable!("the exchanged passport verifies")
    };
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["scopes"], json!(["pg:read"]));
    assert_eq!(claims["act"]["sub"], actor_id.as_str());
    let wider = json!({"subject_token": exchanged.str("passport"), "scopes": ["pg:write"]});
    app.post("/v1/auth/token-exchange", Some(&actor_access), wider)
        .await
        .problem(StatusCode::FORBIDDEN);

    // Quarantine ends everything at once; release allows new logins only.
    app.set_status(&id, "quarantine").await.ok(StatusCode::OK);
    app.passport(&access, json!({})).await.problem(StatusCode::FORBIDDEN);
    let as_actor = json!({"subject_token": passport});
    app.post("/v1/auth/token-exchange", Some(&actor_access), as_actor.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    app.login_as("pg_bot", PASSWORD).await.problem(StatusCode::FORBIDDEN);
    app.advance(1);
    app.set_status(&id, "release").await.ok(StatusCode::OK);
    app.passport(&access, json!({})).await.problem(StatusCode::UNAUTHORIZED);
    app.post("/v1/auth/token-exchange", Some(&actor_access), as_actor)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let (fresh, _) = app.login("pg_bot").await;
    app.passport_token(&fresh, json!({})).await;

    let kinds: Vec<String> = app
        .events()
        .await
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_owned))
        .collect();
    for kind in [
        "agent.created",
        "auth.login",
        "token.issued",
        "auth.refresh_reuse",
        "passport.issued",
        "passport.exchanged",
        "agent.quarantine",
        "agent.release",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no `{kind}` event in {kinds:?}");
    }
    app.finish().await;
}

#[tokio::test]
async fn credentials_and_lockout_on_postgres() {
    let Some(app) = postgres_app().await else { return };
    let id = app.agent("pg_keys", &[]).await;

    let (key_id, key) = create_api_key(&app, &id).await;
    app.post("/v1/auth/login", None, json!({"api_key": key}))
        .await
        .ok(StatusCode::OK);
    let deleted = app.delete(&format!("/v1/api-keys/{key_id}"), Some(ADMIN)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
    app.post("/v1/auth/login", None, json!({"api_key": key}))
        .await
        .problem(StatusCode::UNAUTHORIZED);

    for signer in [TestKey::ed25519(), TestKey::p256()] {
        register_key(&app, &id, &signer).await.ok(StatusCode::CREATED);
        let nonce = challenge(&app, &id).await;
        let answer = signer.answer(&nonce);
        key_login(&app, &id, &nonce, &answer).await.ok(StatusCode::OK);
        key_login(&app, &id, &nonce, &answer)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }

    let (access, _) = app.login("pg_keys").await;
    let change = json!({"old_password": PASSWORD, "new_password": "Postgres-Pass-99!"});
    assert_eq!(
        app.post("/v1/auth/password", Some(&access), change).await.status,
        StatusCode::NO_CONTENT
    );
    let back = json!({"old_password": "Postgres-Pass-99!", "new_password": PASSWORD});
    app.post("/v1/auth/password", Some(&access), back)
        .await
        .problem(StatusCode::BAD_REQUEST);

    for _ in 0..5 {
        app.login_as("pg_keys", PASSWORD)
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    app.login_as("pg_keys", "Postgres-Pass-99!")
        .await
        .problem(StatusCode::LOCKED);
    app.advance(300);
    app.login_as("pg_keys", "Postgres-Pass-99!").await.ok(StatusCode::OK);
    app.finish().await;
}
