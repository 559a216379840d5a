//! The life of a token: refresh rotation with reuse detection, revocation one by one or by session,
//! type confusion, expiry, and the agent-wide kill switches (quarantine, revoke, revoke-all-tokens).

use axum::http::{Method, StatusCode};
use serde_json::json;
use warden_core::Timestamp;
use warden_identity::repo::TokenRepository;

use crate::support::{ADMIN, PASSWORD, START, TestApp, json_request, on_each_store, unverified_claims};

/// Whether `token` still authenticates as a bearer (access token or passport).
async fn works(app: &TestApp, token: &str) -> bool {
    app.passport(token, json!({})).await.status == StatusCode::OK
        || app
            .post("/v1/auth/token-exchange", Some(token), json!({"subject_token": token}))
            .await
            .status
            == StatusCode::OK
}

async fn refresh(app: &TestApp, refresh_token: &str) -> crate::support::Reply {
    app.post("/v1/auth/refresh", None, json!({"refresh_token": refresh_token}))
        .await
}

async fn revoke(app: &TestApp, token: &str) {
    let reply = app.post("/v1/auth/revoke", None, json!({"token": token})).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{:?}", reply.body);
}

#[tokio::test]
async fn refresh_gives_a_new_pair_and_spends_the_old_refresh_token() {
    let app = TestApp::start().await;
    let id = app.agent("fresh_bot", &[]).await;
    let (access, refresh_token) = app.login("fresh_bot").await;
    app.advance(10);

    let next = refresh(&app, &refresh_token).await;
    let body = next.ok(StatusCode::OK);
    assert_eq!(body["agent_id"], id.as_str());
    assert_eq!(body["token_type"], "bearer");
    let (access2, refresh2) = (next.str("access_token"), next.str("refresh_token"));
    assert_ne!(access2, access);
    assert_ne!(refresh2, refresh_token);
    // Same session, later issue.
    let (old, new) = (unverified_claims(&refresh_token), unverified_claims(&refresh2));
    assert_eq!(old["sid"], new["sid"]);
    assert_eq!(new["iat"], START + 10);
    assert!(works(&app, &access2).await);

    // The old refresh token is spent: the next pair comes only from the new one.
    let third = refresh(&app, &refresh2).await;
    third.ok(StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_revokes_the_whole_session() {
    on_each_store(async |app: &TestApp| {
        app.agent("stolen_bot", &["data:read"]).await;
        let (access1, refresh1) = app.login("stolen_bot").await;
        let passport = app.passport_token(&access1, json!({})).await;
        let rotated = refresh(app, &refresh1).await;
        rotated.ok(StatusCode::OK);
        let (access2, refresh2) = (rotated.str("access_token"), rotated.str("refresh_token"));
        // Another session of the same agent, which must survive.
        let (other_access, other_refresh) = app.login("stolen_bot").await;

        // The thief (or the victim) replays the spent refresh token.
        let detail = refresh(app, &refresh1).await.problem(StatusCode::UNAUTHORIZED);
        assert!(detail.contains("reuse"), "{detail}");

        // Everything in that session is dead now: the newer refresh token, both access tokens, and a
        // passport minted in the session.
        refresh(app, &refresh2).await.problem(StatusCode::UNAUTHORIZED);
        for token in [&access1, &access2, &passport] {
            let detail = app.passport(token, json!({})).await.problem(StatusCode::UNAUTHORIZED);
            assert_eq!(detail, "the token was revoked");
            assert!(!works(app, token).await);
        }
        assert!(works(app, &other_access).await, "the other session was not involved");
        refresh(app, &other_refresh).await.ok(StatusCode::OK);

        let events = app.events().await;
        assert!(
            events.iter().any(|e| e["kind"] == "auth.refresh_reuse"),
            "no auth.refresh_reuse event"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_refreshes_of_one_token_leave_at_most_one_pair_and_then_kill_the_session() {
    on_each_store(async |app: &TestApp| {
        app.agent("racing_refresher", &[]).await;
        let (access, refresh_token) = app.login("racing_refresher").await;
        let body = json!({"refresh_token": refresh_token});
        let requests = (0..8)
            .map(|_| json_request(Method::POST, "/v1/auth/refresh", None, &body))
            .collect();
        let replies = app.concurrently(requests).await;
        let winners: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::OK).collect();
        assert!(
            winners.len() <= 1,
            "{} refreshes succeeded with one refresh token",
            winners.len()
        );
        for loser in replies.iter().filter(|r| r.status != StatusCode::OK) {
            loser.problem(StatusCode::UNAUTHORIZED);
        }
        // The others were reuse: the session is over, including whatever the winner got.
        assert!(!works(app, &access).await);
        for winner in winners {
            assert!(!works(app, &winner.str("access_token")).await);
            refresh(app, &winner.str("refresh_token"))
                .await
                .problem(StatusCode::UNAUTHORIZED);
        }
    })
    .await;
}

#[tokio::test]
async fn revoking_an_access_token_ends_it_and_a_refresh_token_ends_its_session() {
    let app = TestApp::start().await;
    app.agent("revoking_bot", &[]).await;
    let (access, refresh_token) = app.login("revoking_bot").await;
    // A passport, used once (so it sits in the verified-token cache), then revoked.
    let passport = app.passport_token(&access, json!({})).await;
    assert!(works(&app, &passport).await);
    revoke(&app, &passport).await;
    assert!(
        !works(&app, &passport).await,
        "a revoked passport was served from the cache"
    );
    assert!(works(&app, &access).await);
    revoke(&app, &access).await;
    let detail = app.passport(&access, json!({})).await.problem(StatusCode::UNAUTHORIZED);
    assert!(detail.contains("revoked"), "{detail}");
    // Only that token: the session's refresh token still works.
    let next = refresh(&app, &refresh_token).await;
    next.ok(StatusCode::OK);
    let (access2, refresh2) = (next.str("access_token"), next.str("refresh_token"));
    assert!(works(&app, &access2).await);

    revoke(&app, &refresh2).await;
    refresh(&app, &refresh2).await.problem(StatusCode::UNAUTHORIZED);
    assert!(
        !works(&app, &access2).await,
        "revoking the refresh token ends its whole session"
    );

    // Revoking garbage is refused; revoking an expired token is a no-op success (RFC 7009).
    app.post("/v1/auth/revoke", None, json!({"token": "garbage"}))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let (access3, _) = app.login("revoking_bot").await;
    app.advance(3700);
    revoke(&app, &access3).await;
}

#[tokio::test]
async fn a_token_of_the_wrong_kind_is_refused_by_name() {
    let app = TestApp::start().await;
    app.agent("confused_bot", &["x:read"]).await;
    let (access, refresh_token) = app.login("confused_bot").await;
    let passport = app.passport_token(&access, json!({})).await;

    let detail = refresh(&app, &access).await.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(detail, "expected a refresh token, got a access token");
    let detail = refresh(&app, &passport).await.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(detail, "expected a refresh token, got a passport token");

    let detail = app
        .passport(&refresh_token, json!({}))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert!(detail.contains("got a refresh token"), "{detail}");

    let exchange = json!({"subject_token": access});
    let detail = app
        .post("/v1/auth/token-exchange", Some(&access), exchange)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(detail, "expected a passport token, got a access token");
    let exchange = json!({"subject_token": refresh_token});
    let detail = app
        .post("/v1/auth/token-exchange", Some(&access), exchange)
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(detail, "expected a passport token, got a refresh token");

    // None of those refusals spent or broke anything.
    refresh(&app, &refresh_token).await.ok(StatusCode::OK);
}

#[tokio::test]
async fn access_tokens_expire_after_their_lifetime_and_the_clock_skew() {
    let app = TestApp::start().await;
    app.agent("mortal_bot", &[]).await;
    let (access, refresh_token) = app.login("mortal_bot").await;
    assert_eq!(unverified_claims(&access)["exp"], START + 3600);
    app.advance(3600 + 29);
    assert!(works(&app, &access).await, "the 30 s skew still covers it");
    app.advance(1);
    let detail = app.passport(&access, json!({})).await.problem(StatusCode::UNAUTHORIZED);
    assert_eq!(detail, "the token expired");

    // The refresh token lives a week, then it expires too.
    refresh(&app, &refresh_token).await.ok(StatusCode::OK);
    let (_, refresh2) = app.login("mortal_bot").await;
    app.advance(7 * 86_400 + 31);
    assert_eq!(
        refresh(&app, &refresh2).await.problem(StatusCode::UNAUTHORIZED),
        "the token expired"
    );
}

#[tokio::test]
async fn quarantine_ends_every_token_and_release_allows_only_new_logins() {
    on_each_store(async |app: &TestApp| {
        let id = app.agent("suspect_bot", &["db:read"]).await;
        let (access, refresh_token) = app.login("suspect_bot").await;
        let passport = app.passport_token(&access, json!({})).await;
        assert!(works(app, &passport).await);

        let quarantined = app.set_status(&id, "quarantine").await;
        assert_eq!(quarantined.ok(StatusCode::OK)["status"], "quarantined");
        for token in [&access, &passport] {
            assert!(!works(app, token).await, "a token outlived the quarantine");
        }
        let refused = refresh(app, &refresh_token).await;
        assert!(
            matches!(refused.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
            "{:?}",
            refused.body
        );
        app.login_as("suspect_bot", PASSWORD)
            .await
            .problem(StatusCode::FORBIDDEN);

        app.advance(1);
        app.set_status(&id, "release").await.ok(StatusCode::OK);
        // The old credentials stay dead…
        for token in [&access, &passport] {
            let detail = app.passport(token, json!({})).await.problem(StatusCode::UNAUTHORIZED);
            assert_eq!(detail, "the token was revoked");
            assert!(
                !works(app, token).await,
                "a pre-quarantine token came back after release"
            );
        }
        refresh(app, &refresh_token).await.problem(StatusCode::UNAUTHORIZED);
        // …and a new login works.
        let (fresh, _) = app.login("suspect_bot").await;
        assert!(works(app, &fresh).await);
    })
    .await;
}

#[tokio::test]
async fn revocation_is_final() {
    let app = TestApp::start().await;
    let id = app.agent("doomed_bot", &[]).await;
    let (access, _) = app.login("doomed_bot").await;
    assert_eq!(
        app.set_status(&id, "revoke").await.ok(StatusCode::OK)["status"],
        "revoked"
    );
    assert!(!works(&app, &access).await);
    app.advance(1);
    for change in ["release", "quarantine", "suspend", "revoke"] {
        let detail = app.set_status(&id, change).await.problem(StatusCode::FORBIDDEN);
        assert!(detail.contains("final"), "{change}: {detail}");
    }
    app.login_as("doomed_bot", PASSWORD)
        .await
        .problem(StatusCode::FORBIDDEN);
    let record = app.get(&format!("/v1/agents/{id}"), Some(ADMIN)).await;
    assert_eq!(record.ok(StatusCode::OK)["status"], "revoked");
}

#[tokio::test]
async fn revoking_an_agents_tokens_leaves_its_status_alone() {
    let app = TestApp::start().await;
    let id = app.agent("reset_bot", &["a:b"]).await;
    let (access, refresh_token) = app.login("reset_bot").await;
    let passport = app.passport_token(&access, json!({})).await;
    app.agent("bystander_bot", &[]).await;
    let (agent_access, _) = app.login("bystander_bot").await;

    // Only the administrator may do it.
    let path = format!("/v1/agents/{id}/tokens/revoke");
    app.post(&path, Some(&access), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN);
    let done = app.post(&path, Some(ADMIN), json!({})).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{:?}", done.body);

    for token in [&access, &passport] {
        assert_eq!(app.passport(token, json!({})).await.status, StatusCode::UNAUTHORIZED);
    }
    refresh(&app, &refresh_token).await.problem(StatusCode::UNAUTHORIZED);
    assert!(works(&app, &agent_access).await, "another agent's tokens are untouched");
    let record = app.get(&format!("/v1/agents/{id}"), Some(ADMIN)).await;
    assert_eq!(record.ok(StatusCode::OK)["status"], "active");

    app.advance(1);
    let (fresh, _) = app.login("reset_bot").await;
    assert!(works(&app, &fresh).await);
}

#[tokio::test]
async fn expired_revocations_are_purged_from_the_store() {
    let app = TestApp::start().await;
    app.agent("purged_bot", &[]).await;
    let (access, refresh_token) = app.login("purged_bot").await;
    let access_jti = unverified_claims(&access)["jti"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let family = unverified_claims(&refresh_token)["sid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    revoke(&app, &access).await;
    revoke(&app, &refresh_token).await;

    let store = &app.state.store;
    let at_start = Timestamp::from_unix(START);
    let before = match store.revocations(at_start).await {
        Ok(list) => list,
        Err(e) => unreachable!("revocations: {e}"),
    };
    assert!(before.tokens.iter().any(|(jti, _)| *jti == access_jti));
    assert!(before.families.iter().any(|(f, _)| *f == family));

    // The access token's entry is moot after its expiry; the family lasts as long as the refresh token.
    app.advance(3601);
    let purged = store.purge_expired(app.state.now()).await;
    assert!(matches!(purged, Ok(n) if n >= 1), "{purged:?}");
    let after = match store.revocations(at_start).await {
        Ok(list) => list,
        Err(e) => unreachable!("revocations: {e}"),
    };
    assert!(
        !after.tokens.iter().any(|(jti, _)| *jti == access_jti),
        "the expired entry is still stored"
    );
    assert!(
        after.families.iter().any(|(f, _)| *f == family),
        "a live family revocation was purged"
    );
    assert!(after.tokens.len() + after.families.len() < before.tokens.len() + before.families.len());
}

#[tokio::test]
async fn a_login_in_the_same_second_as_a_release_gets_a_working_token() {
    let app = TestApp::start().await;
    let id = app.agent("flapping_bot", &["db:read"]).await;
    let (before, _) = app.login("flapping_bot").await;
    app.set_status(&id, "quarantine").await.ok(StatusCode::OK);
    // No clock movement: quarantine, release and the new login share one second.
    app.set_status(&id, "release").await.ok(StatusCode::OK);
    assert!(!works(&app, &before).await, "the pre-quarantine token must stay dead");
    let (after, _) = app.login("flapping_bot").await;
    assert!(works(&app, &after).await, "a token issued after the release must work");
    let passport = app.passport_token(&after, json!({})).await;
    assert!(
        works(&app, &passport).await,
        "a passport issued after the release must work"
    );
}
