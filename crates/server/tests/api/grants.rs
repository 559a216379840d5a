//! Just-in-time grants over HTTP: they allow one action on one resource until they expire, deny rules
//! still win, patterns and long lives are refused, and delegation goes one hop, never wider or longer,
//! and dies with its parent.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::policy::{authorize, with_policy};
use super::support::{ADMIN, TestApp, on_each_store};

#[tokio::test]
async fn grants_allow_until_they_expire_and_deny_rules_still_win() {
    on_each_store(async |app: &TestApp| {
        let (id, access) = with_policy(app).await;
        let ask = json!({"action": "task:execute", "resource": "task:report-7"});
        assert_eq!(authorize(app, &access, ask.clone()).await["decision"], "deny");

        let reply = app
            .post(
                "/v1/grants",
                Some(ADMIN),
                json!({"agent_id": "research_1", "action": "task:execute", "resource": "task:report-7",
                       "ttl": "10m", "reason": "incident 42"}),
            )
            .await;
        let grant = reply.ok(StatusCode::CREATED).clone();
        assert_eq!(grant["agent_id"], id.as_str(), "a name is resolved to the agent's id");
        assert_eq!(grant["status"], "active");

        let allowed = authorize(app, &access, ask.clone()).await;
        assert_eq!(allowed["decision"], "allow", "{allowed}");
        assert_eq!(allowed["basis"], "grant");
        assert_eq!(allowed["grant_id"], grant["id"]);
        let other = authorize(
            app,
            &access,
            json!({"action": "task:execute", "resource": "task:report-8"}),
        )
        .await;
        assert_eq!(other["decision"], "deny", "a grant covers exactly one resource");

        // A matching deny rule beats a grant.
        let deny = app
            .post(
                "/v1/grants",
                Some(ADMIN),
                json!({"agent_id": id, "action": "doc:delete", "resource": "doc:1", "ttl": 600, "reason": "x"}),
            )
            .await;
        deny.ok(StatusCode::CREATED);
        let beaten = authorize(app, &access, json!({"action": "doc:delete", "resource": "doc:1"})).await;
        assert_eq!(beaten["decision"], "deny");
        assert_eq!(beaten["deciding_rule"], "never-delete");

        let listed = app.get(&format!("/v1/grants?agent_id={id}"), Some(ADMIN)).await;
        assert_eq!(listed.ok(StatusCode::OK)["grants"].as_array().map(Vec::len), Some(2));

        app.advance(600);
        let expired = authorize(app, &access, ask.clone()).await;
        assert_eq!(expired["decision"], "deny", "the grant ended by itself");
        let listed = app.get("/v1/grants", Some(ADMIN)).await;
        assert_eq!(listed.ok(StatusCode::OK)["grants"], json!([]));
        let all = app.get("/v1/grants?include_inactive=true", Some(ADMIN)).await;
        let all = all.ok(StatusCode::OK)["grants"].as_array().cloned().unwrap_or_default();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|g| g["status"] == "expired"));
        let kinds: Vec<_> = app
            .events()
            .await
            .into_iter()
            .filter(|e| e["kind"] == "grant.created")
            .collect();
        assert_eq!(kinds.len(), 2);
        assert_eq!(kinds[0]["details"]["reason"], "incident 42");
    })
    .await;
}

#[tokio::test]
async fn grants_refuse_patterns_long_lives_and_strangers() {
    let app = TestApp::start().await;
    let (_, access) = with_policy(&app).await;
    let base = json!({"agent_id": "research_1", "action": "a", "resource": "r", "ttl": 60, "reason": "why"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    for (body, needle) in [
        (with("resource", json!("secret:prod/*")), "pattern"),
        (with("action", json!("*")), "pattern"),
        (with("ttl", json!("31d")), "at most"),
        (with("ttl", json!(0)), "at least"),
        (with("reason", json!(" ")), "reason"),
        (with("ttl", json!("soon")), "ttl"),
    ] {
        let reply = app.post("/v1/grants", Some(ADMIN), body.clone()).await;
        let detail = reply.problem(StatusCode::BAD_REQUEST);
        assert!(detail.contains(needle), "{body}: {detail}");
    }
    app.post("/v1/grants", Some(ADMIN), with("agent_id", json!("ghost")))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.post("/v1/grants", Some(&access), base.clone())
        .await
        .problem(StatusCode::FORBIDDEN);
    app.get("/v1/grants", Some(&access))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.delete("/v1/grants/grt_nope", Some(ADMIN))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.finish().await;
}

#[tokio::test]
async fn delegation_goes_one_hop_never_longer_and_dies_with_its_parent() {
    let app = TestApp::start().await;
    let (_, alice) = with_policy(&app).await;
    let bob_id = app.agent("research_2", &[]).await;
    let (bob, _) = app.login("research_2").await;
    app.agent("research_3", &[]).await;
    let ask = json!({"action": "task:execute", "resource": "task:7"});

    let create = |delegable: bool| {
        json!({"agent_id": "research_1", "action": "task:execute", "resource": "task:7", "ttl": "1h",
               "reason": "on call", "delegable": delegable})
    };
    let fixed = app.post("/v1/grants", Some(ADMIN), create(false)).await;
    let fixed = fixed.ok(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refused = app
        .post(
            &format!("/v1/grants/{fixed}/delegate"),
            Some(&alice),
            json!({"agent_id": "research_2"}),
        )
        .await;
    assert!(refused.problem(StatusCode::FORBIDDEN).contains("not delegable"));

    let parent = app.post("/v1/grants", Some(ADMIN), create(true)).await;
    let parent = parent.ok(StatusCode::CREATED).clone();
    let parent_id = parent["id"].as_str().unwrap_or_default().to_owned();
    // Only the holder may delegate; to anyone else the grant does not exist.
    let stolen = app
        .post(
            &format!("/v1/grants/{parent_id}/delegate"),
            Some(&bob),
            json!({"agent_id": "research_2"}),
        )
        .await;
    stolen.problem(StatusCode::NOT_FOUND);
    let longer = app
        .post(
            &format!("/v1/grants/{parent_id}/delegate"),
            Some(&alice),
            json!({"agent_id": "research_2", "ttl": "2h"}),
        )
        .await;
    assert!(longer.problem(StatusCode::BAD_REQUEST).contains("at most"));

    app.advance(600);
    let child = app
        .post(
            &format!("/v1/grants/{parent_id}/delegate"),
            Some(&alice),
            json!({"agent_id": "research_2"}),
        )
        .await;
    let child = child.ok(StatusCode::CREATED).clone();
    assert_eq!(child["agent_id"], bob_id.as_str());
    assert_eq!(
        child["expires_at"], parent["expires_at"],
        "never longer than the parent"
    );
    assert_eq!(child["delegable"], false);
    assert_eq!(child["parent_id"], parent_id.as_str());
    assert_eq!(authorize(&app, &bob, ask.clone()).await["decision"], "allow");
    let other = authorize(&app, &bob, json!({"action": "task:execute", "resource": "task:8"})).await;
    assert_eq!(other["decision"], "deny", "never wider");

    // One hop: the delegated grant cannot be delegated again.
    let child_id = child["id"].as_str().unwrap_or_default();
    let second = app
        .post(
            &format!("/v1/grants/{child_id}/delegate"),
            Some(&bob),
            json!({"agent_id": "research_3"}),
        )
        .await;
    assert!(second.problem(StatusCode::FORBIDDEN).contains("not delegable"));

    // Revoking the parent ends the child too.
    app.delete(&format!("/v1/grants/{parent_id}"), Some(ADMIN))
        .await
        .ok(StatusCode::NO_CONTENT);
    assert_eq!(authorize(&app, &bob, ask.clone()).await["decision"], "deny");
    let still = authorize(&app, &alice, ask).await;
    assert_eq!(
        still["grant_id"],
        fixed.as_str(),
        "alice keeps only her other, undelegable grant: {still}"
    );
    let revoked = app.get("/v1/grants?include_inactive=true", Some(ADMIN)).await;
    let revoked = revoked.ok(StatusCode::OK)["grants"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(revoked.iter().filter(|g| g["status"] == "revoked").count(), 2);
    app.finish().await;
}
