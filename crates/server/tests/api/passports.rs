//! Passports: never wider than the agent, bounded in time, narrowed (never widened) by token exchange
//! with the delegation chain in `act`, and verifiable through a key rotation's grace period, then not.

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use warden_core::Seconds;

use crate::flow::verify_with_jwks;
use crate::support::{ADMIN, START, TestApp, unverified_header};

async fn verified(app: &TestApp, token: &str) -> Value {
    let jwks = app.jwks().await;
    match verify_with_jwks(token, &jwks) {
        Some(claims) => claims,
        None => unreachable!("the token does not verify against the JWKS"),
    }
}

async fn exchange(app: &TestApp, bearer: &str, body: Value) -> crate::support::Reply {
    app.post("/v1/auth/token-exchange", Some(bearer), body).await
}

#[tokio::test]
async fn passport_scopes_default_to_the_agents_and_can_only_narrow() {
    let app = TestApp::start().await;
    let id = app.agent("scoped_bot", &["s:one", "s:two", "s:three"]).await;
    let (access, _) = app.login("scoped_bot").await;

    let all = app.passport_token(&access, json!({})).await;
    assert_eq!(
        verified(&app, &all).await["scopes"],
        json!(["s:one", "s:two", "s:three"])
    );
    let one = app.passport_token(&access, json!({"scopes": ["s:two", "s:two"]})).await;
    assert_eq!(verified(&app, &one).await["scopes"], json!(["s:two"]));
    let none = app.passport_token(&access, json!({"scopes": []})).await;
    assert_eq!(verified(&app, &none).await["scopes"], json!([]));

    let detail = app
        .passport(&access, json!({"scopes": ["s:one", "s:admin"]}))
        .await
        .problem(StatusCode::FORBIDDEN);
    assert!(detail.contains("`s:admin`"), "{detail}");

    // The registration is what counts, as it is now: a scope taken away cannot be asked for.
    app.patch(&format!("/v1/agents/{id}"), Some(ADMIN), json!({"scopes": ["s:one"]}))
        .await
        .ok(StatusCode::OK);
    let after = app.passport_token(&access, json!({})).await;
    assert_eq!(verified(&app, &after).await["scopes"], json!(["s:one"]));
    let detail = app
        .passport(&access, json!({"scopes": ["s:three"]}))
        .await
        .problem(StatusCode::FORBIDDEN);
    assert!(detail.contains("`s:three`"), "{detail}");
}

#[tokio::test]
async fn passport_lifetimes_are_bounded() {
    let app = TestApp::start().await;
    app.agent("timed_bot", &[]).await;
    let (access, _) = app.login("timed_bot").await;
    for (ttl, seconds) in [(json!(30), 30), (json!("2m"), 120), (json!("1h"), 3600)] {
        let reply = app.passport(&access, json!({"ttl": ttl})).await;
        assert_eq!(reply.ok(StatusCode::OK)["expires_in"], seconds);
        assert_eq!(verified(&app, &reply.str("passport")).await["exp"], START + seconds);
    }
    for ttl in [json!(0), json!(3601), json!("2h"), json!("7d")] {
        let detail = app
            .passport(&access, json!({"ttl": ttl}))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert!(detail.contains("`ttl`"), "{ttl}: {detail}");
    }
    for ttl in [json!(-5), json!("soon"), json!("99999999999999999999d"), json!(1.5)] {
        let detail = app
            .passport(&access, json!({"ttl": ttl}))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert!(detail.contains("ttl"), "{ttl}: {detail}");
    }
}

#[tokio::test]
async fn an_extra_audience_is_added_to_warden_not_instead_of_it() {
    let app = TestApp::start().await;
    app.agent("aud_bot", &[]).await;
    let (access, _) = app.login("aud_bot").await;
    let passport = app.passport_token(&access, json!({"audience": "tool-server"})).await;
    assert_eq!(verified(&app, &passport).await["aud"], json!(["warden", "tool-server"]));
    // Warden still accepts it.
    exchange(&app, &passport, json!({"subject_token": passport}))
        .await
        .ok(StatusCode::OK);
    let own = app.passport_token(&access, json!({"audience": "warden"})).await;
    assert_eq!(verified(&app, &own).await["aud"], json!(["warden"]));
    for bad in [json!(""), json!("a\u{1}b"), json!("x".repeat(257))] {
        let detail = app
            .passport(&access, json!({"audience": bad}))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert!(detail.contains("`audience`"), "{detail}");
    }
}

#[tokio::test]
async fn a_passport_cannot_mint_passports_but_can_act_in_an_exchange() {
    let app = TestApp::start().await;
    app.agent("minting_bot", &["m:read"]).await;
    let (access, _) = app.login("minting_bot").await;
    let passport = app.passport_token(&access, json!({})).await;
    let detail = app.passport(&passport, json!({})).await.problem(StatusCode::FORBIDDEN);
    assert!(detail.contains("cannot mint"), "{detail}");
    let narrowed = exchange(&app, &passport, json!({"subject_token": passport, "scopes": []})).await;
    narrowed.ok(StatusCode::OK);
    // What an exchange yields is a passport too, and cannot mint either.
    app.passport(&narrowed.str("passport"), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn token_exchange_narrows_records_the_actor_and_never_widens_or_extends() {
    let app = TestApp::start().await;
    let subject_id = app.agent("subject_bot", &["a:read", "a:write", "b:read"]).await;
    let actor_id = app.agent("actor_bot", &[]).await;
    let third_id = app.agent("third_bot", &[]).await;
    let (subject_access, _) = app.login("subject_bot").await;
    let (actor_access, _) = app.login("actor_bot").await;
    let (third_access, _) = app.login("third_bot").await;
    let subject = app.passport_token(&subject_access, json!({})).await;
    let subject_claims = verified(&app, &subject).await;
    app.advance(100);

    let first = exchange(
        &app,
        &actor_access,
        json!({"subject_token": subject, "scopes": ["a:read"], "ttl": "1h"}),
    )
    .await;
    first.ok(StatusCode::OK);
    let delegated = first.str("passport");
    let claims = verified(&app, &delegated).await;
    assert_eq!(claims["sub"], subject_id.as_str());
    assert_eq!(claims["typ"], "passport");
    assert_eq!(claims["scopes"], json!(["a:read"]));
    assert_eq!(claims["act"], json!({"sub": actor_id}));
    assert_ne!(claims["jti"], subject_claims["jti"]);
    // Asked for an hour, it still ends when the subject passport ends.
    assert_eq!(claims["exp"], subject_claims["exp"]);
    assert!(
        first.body["expires_in"].as_u64().is_some_and(|s| s <= 200),
        "{:?}",
        first.body
    );

    // Never wider than the agent, nor than the subject passport even where the agent holds more.
    let detail = exchange(
        &app,
        &actor_access,
        json!({"subject_token": subject, "scopes": ["c:admin"]}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    assert!(detail.contains("`c:admin`"), "{detail}");
    let detail = exchange(
        &app,
        &actor_access,
        json!({"subject_token": delegated, "scopes": ["a:write"]}),
    )
    .await
    .problem(StatusCode::FORBIDDEN);
    assert!(detail.contains("`a:write`"), "{detail}");
    let kept = exchange(&app, &actor_access, json!({"subject_token": delegated})).await;
    assert_eq!(verified(&app, &kept.str("passport")).await["scopes"], json!(["a:read"]));

    // A passport can be the actor's credential; the chain records every hop.
    let actor_passport = app.passport_token(&actor_access, json!({})).await;
    let by_passport = exchange(
        &app,
        &actor_passport,
        json!({"subject_token": subject, "scopes": ["b:read"]}),
    )
    .await;
    assert_eq!(
        verified(&app, &by_passport.str("passport")).await["act"],
        json!({"sub": actor_id})
    );
    let second = exchange(&app, &third_access, json!({"subject_token": delegated})).await;
    let chained = second.str("passport");
    assert_eq!(
        verified(&app, &chained).await["act"],
        json!({"sub": third_id, "act": {"sub": actor_id}})
    );

    // The chain is bounded (four hops by default).
    let mut hop = chained;
    for _ in 0..2 {
        hop = exchange(&app, &third_access, json!({"subject_token": hop}))
            .await
            .str("passport");
    }
    let detail = exchange(&app, &third_access, json!({"subject_token": hop}))
        .await
        .problem(StatusCode::FORBIDDEN);
    assert!(detail.contains("delegation chain"), "{detail}");

    // Garbage, or an expired subject, is refused.
    exchange(&app, &actor_access, json!({"subject_token": "not.a.token"}))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.advance(300);
    let detail = exchange(&app, &actor_access, json!({"subject_token": subject}))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    assert_eq!(detail, "the token expired");
}

#[tokio::test]
async fn rotated_keys_verify_through_the_grace_period_and_not_after() {
    let app = TestApp::start_with(|c| {
        c.passports.max_ttl = Seconds::days(3);
        c.passports.default_ttl = Seconds::minutes(5);
        c.rotation.grace = Seconds::hours(1);
    })
    .await;
    app.agent("rotating_bot", &["r:read"]).await;
    let (access, _) = app.login("rotating_bot").await;
    let old = app.passport_token(&access, json!({"ttl": "2h"})).await;
    let never_used = app.passport_token(&access, json!({"ttl": "2h"})).await;
    exchange(&app, &old, json!({"subject_token": old}))
        .await
        .ok(StatusCode::OK);
    let old_kid = unverified_header(&old)["kid"].as_str().unwrap_or_default().to_owned();

    // Only the administrator rotates.
    app.post("/v1/keys/rotate", Some(&access), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN);
    let rotated = app.post("/v1/keys/rotate", Some(ADMIN), json!({})).await;
    let new_kid = rotated.ok(StatusCode::OK)["kid"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!new_kid.is_empty() && new_kid != old_kid, "{new_kid} vs {old_kid}");

    let jwks = app.jwks().await;
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids.len(), 2, "{jwks}");
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
    assert_eq!(app.get("/readyz", None).await.body["kid"], new_kid.as_str());

    // In the grace period the old passport still verifies, by the JWKS and by Warden.
    assert!(verify_with_jwks(&old, &jwks).is_some());
    let fresh = exchange(&app, &old, json!({"subject_token": old})).await;
    let fresh = fresh.ok(StatusCode::OK)["passport"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        unverified_header(&fresh)["kid"],
        new_kid.as_str(),
        "new tokens are signed with the new key"
    );
    let new = app.passport_token(&access, json!({"ttl": "2h"})).await;
    assert_eq!(unverified_header(&new)["kid"], new_kid.as_str());

    // After it, the old key is gone from the JWKS and refused, though the passports have not expired.
    app.advance(3601);
    let jwks = app.jwks().await;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1), "{jwks}");
    assert!(verify_with_jwks(&old, &jwks).is_none());
    for token in [&old, &never_used] {
        let detail = exchange(&app, token, json!({"subject_token": token}))
            .await
            .problem(StatusCode::UNAUTHORIZED);
        assert_eq!(detail, "the token was signed by an unknown or retired key");
    }
    exchange(&app, &new, json!({"subject_token": new}))
        .await
        .ok(StatusCode::OK);
}

#[tokio::test]
async fn the_jwks_publishes_public_ed25519_keys_only() {
    let app = TestApp::start().await;
    let reply = app.get("/.well-known/jwks.json", None).await;
    reply.ok(StatusCode::OK);
    assert!(reply.header("cache-control").contains("max-age"), "{:?}", reply.headers);
    let keys = reply.body["keys"].as_array().cloned().unwrap_or_default();
    assert_eq!(keys.len(), 1, "{:?}", reply.body);
    for key in &keys {
        let Some(members) = key.as_object() else {
            unreachable!("a JWK is an object")
        };
        let mut names: Vec<&str> = members.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["alg", "crv", "kid", "kty", "use", "x"],
            "unexpected JWK members (private parts?)"
        );
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        assert_eq!(key["use"], "sig");
        let x = URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap_or_default());
        assert!(matches!(&x, Ok(bytes) if bytes.len() == 32), "{x:?}");
    }
    app.agent("jwks_bot", &[]).await;
    let (access, _) = app.login("jwks_bot").await;
    assert_eq!(unverified_header(&access)["kid"], keys[0]["kid"]);
    assert_eq!(unverified_header(&access)["alg"], "EdDSA");
}
