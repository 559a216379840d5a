//! Operations: health and readiness, metrics, the OpenAPI document, request ids that tie responses
//! to audit events, and failing closed when the store is down.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, PASSWORD, TestApp};

#[tokio::test]
async fn health_and_readiness_answer_without_credentials() {
    let app = TestApp::start().await;
    let health = app.get("/healthz", None).await;
    assert_eq!(health.ok(StatusCode::OK)["status"], "ok");

    let ready = app.get("/readyz", None).await;
    let body = ready.ok(StatusCode::OK);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"], "sqlite");
    let jwks = app.jwks().await;
    assert_eq!(
        body["kid"], jwks["keys"][0]["kid"],
        "readiness names the current signing key"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_not_by_raw_path() {
    let app = TestApp::start().await;
    app.get("/healthz", None).await.ok(StatusCode::OK);
    app.get("/v1/agents/some-agent-id-1234", Some(ADMIN))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.get("/no/such/route/zq81", None)
        .await
        .problem(StatusCode::NOT_FOUND);

    let reply = app.get("/metrics", None).await;
    reply.ok(StatusCode::OK);
    assert!(
        reply.header("content-type").starts_with("text/plain"),
        "{:?}",
        reply.headers
    );
    let text = reply.body.as_str().unwrap_or_default().to_owned();
    assert!(text.contains("warden_http_requests_total"), "{text}");
    assert!(text.contains("warden_http_request_duration_seconds"), "{text}");
    assert!(text.contains("route=\"/healthz\""), "{text}");
    assert!(text.contains("route=\"/v1/agents/{id}\""), "{text}");
    // Ids and unknown paths must not become label values (unbounded series, and leaked ids).
    assert!(!text.contains("some-agent-id-1234"), "a path parameter became a label");
    assert!(!text.contains("zq81"), "an unmatched path became a label");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = TestApp::start().await;
    let reply = app.get("/openapi.json", None).await;
    let doc = reply.ok(StatusCode::OK);
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{:?}",
        doc["openapi"]
    );
    let routes: &[(&str, &[&str])] = &[
        ("/healthz", &["get"]),
        ("/readyz", &["get"]),
        ("/metrics", &["get"]),
        ("/.well-known/jwks.json", &["get"]),
        ("/v1/agents", &["get", "post"]),
        ("/v1/agents/{id}", &["get", "patch"]),
        ("/v1/agents/{id}/suspend", &["post"]),
        ("/v1/agents/{id}/quarantine", &["post"]),
        ("/v1/agents/{id}/release", &["post"]),
        ("/v1/agents/{id}/revoke", &["post"]),
        ("/v1/agents/{id}/tokens/revoke", &["post"]),
        ("/v1/agents/{id}/password", &["post"]),
        ("/v1/agents/{id}/api-keys", &["post"]),
        ("/v1/api-keys/{id}", &["delete"]),
        ("/v1/agents/{id}/public-keys", &["post"]),
        ("/v1/agents/{id}/certificate", &["post"]),
        ("/v1/auth/login", &["post"]),
        ("/v1/auth/challenge", &["post"]),
        ("/v1/auth/key-login", &["post"]),
        ("/v1/auth/refresh", &["post"]),
        ("/v1/auth/revoke", &["post"]),
        ("/v1/auth/password", &["post"]),
        ("/v1/auth/passport", &["post"]),
        ("/v1/auth/token-exchange", &["post"]),
        ("/v1/keys/rotate", &["post"]),
        ("/v1/events", &["get"]),
    ];
    for (path, methods) in routes {
        for method in *methods {
            assert!(
                doc["paths"][path][method].is_object(),
                "the OpenAPI document lacks {method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn every_response_has_a_request_id_and_its_audit_events_carry_it() {
    let app = TestApp::start().await;
    let replies = [
        app.get("/healthz", None).await,
        app.get("/nowhere", None).await,
        app.post("/v1/auth/passport", None, json!({})).await,
        app.raw(Method::POST, "/v1/agents", &[("authorization", b"Bearer x")], "{")
            .await,
        app.post(
            "/v1/agents",
            Some(ADMIN),
            json!({"name": "traced_bot", "password": PASSWORD}),
        )
        .await,
    ];
    let ids: Vec<String> = replies.iter().map(|r| r.header("x-request-id")).collect();
    for (reply, id) in replies.iter().zip(&ids) {
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "status {}: request id {id:?}",
            reply.status
        );
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "request ids repeat: {ids:?}");

    let created_id = &ids[4];
    let failed = app.login_as("traced_bot", "Wrong-Horse-00!").await;
    let failed_id = failed.header("x-request-id");
    let login = app.login_as("traced_bot", PASSWORD).await;
    let login_id = login.header("x-request-id");
    // A client cannot choose the id that ends up in the audit trail.
    let chosen = app
        .raw(Method::GET, "/healthz", &[("x-request-id", b"attacker-chosen")], "")
        .await;
    assert_ne!(chosen.header("x-request-id"), "attacker-chosen");

    let events = app.events().await;
    let kinds_for = |rid: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["request_id"] == rid)
            .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(kinds_for(created_id), ["agent.created"]);
    assert_eq!(kinds_for(&failed_id), ["auth.login"]);
    let failure = events.iter().find(|e| e["request_id"] == failed_id.as_str());
    assert!(failure.is_some_and(|e| e["outcome"] != "success"), "{failure:?}");
    assert_eq!(kinds_for(&login_id), ["auth.login", "token.issued"]);
    assert!(kinds_for("attacker-chosen").is_empty());
}

#[tokio::test]
async fn with_the_store_down_nothing_is_granted() {
    let app = TestApp::start().await;
    let id = app.agent("stranded_bot", &["s:read"]).await;
    let (access, refresh) = app.login("stranded_bot").await;
    let passport = app.passport_token(&access, json!({})).await;
    let key = app
        .post(&format!("/v1/agents/{id}/api-keys"), Some(ADMIN), json!({}))
        .await
        .str("key");

    app.state.store.close().await;

    let attempts = [
        app.login_as("stranded_bot", PASSWORD).await,
        app.post("/v1/auth/login", None, json!({"api_key": key})).await,
        app.post("/v1/auth/refresh", None, json!({"refresh_token": refresh}))
            .await,
        app.passport(&access, json!({})).await,
        app.post(
            "/v1/auth/token-exchange",
            Some(&passport),
            json!({"subject_token": passport}),
        )
        .await,
        app.post("/v1/auth/challenge", None, json!({"agent_id": id})).await,
        app.post(
            "/v1/auth/key-login",
            None,
            json!({"agent_id": id, "nonce": "n", "signature": "s"}),
        )
        .await,
        app.post("/v1/auth/revoke", None, json!({"token": access})).await,
        app.get("/v1/agents", Some(ADMIN)).await,
        app.post("/v1/agents", Some(ADMIN), json!({"name": "late_bot"})).await,
        app.post(&format!("/v1/agents/{id}/quarantine"), Some(ADMIN), json!({}))
            .await,
        app.post("/v1/keys/rotate", Some(ADMIN), json!({})).await,
        app.get("/readyz", None).await,
    ];
    for reply in &attempts {
        let detail = reply.problem(StatusCode::SERVICE_UNAVAILABLE);
        assert!(detail.contains("nothing was granted"), "{detail}");
        assert!(
            !detail.contains("sqlite") && !detail.contains("warden.db"),
            "internals leaked: {detail}"
        );
    }
    // Liveness is not readiness: the process itself is fine.
    app.get("/healthz", None).await.ok(StatusCode::OK);
}
