//! Hostile input: malformed bodies, odd headers, bad queries and paths, privilege climbing. Nothing
//! here may answer 500, and every refusal is problem+json with the status API.md gives it.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::support::{ADMIN, TestApp};

const JSON: (&str, &[u8]) = ("content-type", b"application/json");
const ADMIN_HEADER: &[u8] = b"Bearer wdn_admin_test-token-for-the-suite";

#[tokio::test]
async fn bad_json_bodies_are_400_415_or_413_never_500() {
    let app = TestApp::start_with(|c| c.max_body_bytes = 2048).await;
    let post = |body: &'static [u8]| {
        app.raw(
            Method::POST,
            "/v1/agents",
            &[("authorization", ADMIN_HEADER), JSON],
            body,
        )
    };

    post(b"{").await.problem(StatusCode::BAD_REQUEST);
    post(b"").await.problem(StatusCode::BAD_REQUEST);
    post(b"null").await.problem(StatusCode::BAD_REQUEST);
    post(b"[]").await.problem(StatusCode::BAD_REQUEST);
    post(b"{\"name\": \"\xff\xfe\"}").await.problem(StatusCode::BAD_REQUEST);
    let detail = post(br#"{"name": 5}"#).await.problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("name"), "{detail}");
    let detail = post(br#"{"name": "typed", "roles": "admin"}"#)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("roles"), "{detail}");
    let detail = post(br#"{"name": "extra", "is_admin": true}"#)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("is_admin"), "{detail}");
    let detail = post(br#"{"name": "twice", "name": "again"}"#)
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("name"), "{detail}");
    let deep = format!(
        "{{\"name\": \"deep\", \"attributes\": {{\"a\": {}{}}}}}",
        "[".repeat(900),
        "]".repeat(900)
    );
    let reply = app
        .raw(
            Method::POST,
            "/v1/agents",
            &[("authorization", ADMIN_HEADER), JSON],
            deep,
        )
        .await;
    reply.problem(StatusCode::BAD_REQUEST);

    // Without a JSON content type.
    let body = br#"{"name": "untyped"}"#.as_slice();
    app.raw(Method::POST, "/v1/agents", &[("authorization", ADMIN_HEADER)], body)
        .await
        .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let text = ("content-type", b"text/plain".as_slice());
    app.raw(
        Method::POST,
        "/v1/agents",
        &[("authorization", ADMIN_HEADER), text],
        body,
    )
    .await
    .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let charset = ("content-type", b"application/json; charset=utf-8".as_slice());
    app.raw(
        Method::POST,
        "/v1/agents",
        &[("authorization", ADMIN_HEADER), charset],
        body,
    )
    .await
    .ok(StatusCode::CREATED);

    // Over the configured limit, with and without a Content-Length.
    let big = format!(
        "{{\"name\": \"big\", \"attributes\": {{\"pad\": \"{}\"}}}}",
        "x".repeat(4096)
    );
    let detail = app
        .raw(
            Method::POST,
            "/v1/agents",
            &[("authorization", ADMIN_HEADER), JSON],
            big.clone(),
        )
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(detail.contains("2048"), "the detail should name the limit: {detail}");
    let length = big.len().to_string();
    let headers = [
        ("authorization", ADMIN_HEADER),
        JSON,
        ("content-length", length.as_bytes()),
    ];
    app.raw(Method::POST, "/v1/agents", &headers, big)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
    // Login is as protected as the admin routes.
    let big_login = format!("{{\"identity\": \"x\", \"secret\": \"{}\"}}", "y".repeat(4096));
    app.raw(Method::POST, "/v1/auth/login", &[JSON], big_login)
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn malformed_authorization_headers_are_401() {
    let app = TestApp::start().await;
    app.agent("header_bot", &[]).await;
    let (access, _) = app.login("header_bot").await;
    let huge = format!("Bearer {}", "a".repeat(100 * 1024));
    let cases: Vec<Vec<u8>> = vec![
        b"Bearer garbage".to_vec(),
        b"Bearer ".to_vec(),
        b"Bearer".to_vec(),
        b"".to_vec(),
        b"Basic dXNlcjpwYXNzd29yZA==".to_vec(),
        format!("Basic {access}").into_bytes(),
        format!("Token {access}").into_bytes(),
        format!("Bearer {access} {access}").into_bytes(),
        format!("Bearer {access}x").into_bytes(),
        b"Bearer \xff\xfe".to_vec(),
        b"Bearer a.b.c".to_vec(),
        b"Bearer ....".to_vec(),
        huge.into_bytes(),
    ];
    for value in &cases {
        let reply = app
            .raw(
                Method::POST,
                "/v1/auth/passport",
                &[("authorization", value), JSON],
                "{}",
            )
            .await;
        let shown = String::from_utf8_lossy(&value[..value.len().min(40)]).into_owned();
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{shown}: {:?}", reply.body);
        reply.problem(StatusCode::UNAUTHORIZED);
        assert!(!reply.header("www-authenticate").is_empty(), "{shown}");
    }
    // The scheme is case-insensitive: the control case works.
    let lower = format!("bearer {access}");
    app.raw(
        Method::POST,
        "/v1/auth/passport",
        &[("authorization", lower.as_bytes()), JSON],
        "{}",
    )
    .await
    .ok(StatusCode::OK);
}

#[tokio::test]
async fn admin_routes_refuse_agents_and_anonymous_callers() {
    let app = TestApp::start().await;
    let id = app.agent("climber_bot", &["x:y"]).await;
    let (access, _) = app.login("climber_bot").await;
    let passport = app.passport_token(&access, json!({})).await;
    let routes = [
        (Method::GET, "/v1/agents".to_owned()),
        (Method::POST, "/v1/agents".to_owned()),
        (Method::GET, format!("/v1/agents/{id}")),
        (Method::PATCH, format!("/v1/agents/{id}")),
        (Method::POST, format!("/v1/agents/{id}/suspend")),
        (Method::POST, format!("/v1/agents/{id}/quarantine")),
        (Method::POST, format!("/v1/agents/{id}/release")),
        (Method::POST, format!("/v1/agents/{id}/revoke")),
        (Method::POST, format!("/v1/agents/{id}/tokens/revoke")),
        (Method::POST, format!("/v1/agents/{id}/password")),
        (Method::POST, format!("/v1/agents/{id}/api-keys")),
        (Method::POST, format!("/v1/agents/{id}/public-keys")),
        (Method::POST, format!("/v1/agents/{id}/certificate")),
        (Method::DELETE, "/v1/api-keys/0123456789ab".to_owned()),
        (Method::POST, "/v1/keys/rotate".to_owned()),
        (Method::GET, "/v1/events".to_owned()),
    ];
    let body = json!({"name": "sneaky", "roles": ["admin"], "password": "Sneaky-Pass-123!"});
    for (method, path) in &routes {
        for token in [&access, &passport] {
            let reply = app.call(method.clone(), path, Some(token), Some(body.clone())).await;
            let detail = reply.problem(StatusCode::FORBIDDEN);
            assert!(detail.contains("admin"), "{method} {path}: {detail}");
        }
        app.call(method.clone(), path, None, Some(body.clone()))
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    // Nothing happened: the agent is still active and alone.
    let agents = app.get("/v1/agents", Some(ADMIN)).await;
    assert_eq!(agents.ok(StatusCode::OK)["agents"].as_array().map(Vec::len), Some(1));
    assert_eq!(agents.body["agents"][0]["status"], "active");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = TestApp::start().await;
    for path in [
        "/nope",
        "/v1",
        "/v1/agents/a/b/c",
        "/.well-known/openid-configuration",
        "/v1/auth/login/extra",
    ] {
        app.get(path, Some(ADMIN)).await.problem(StatusCode::NOT_FOUND);
    }
    let wrong_method = app.call(Method::DELETE, "/v1/agents", Some(ADMIN), None).await;
    wrong_method.problem(StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        wrong_method.header("allow").contains("POST"),
        "a 405 names the allowed methods: {:?}",
        wrong_method.headers
    );
    app.get("/v1/auth/login", None)
        .await
        .problem(StatusCode::METHOD_NOT_ALLOWED);
    app.get("/v1/agents/no-such-agent", Some(ADMIN))
        .await
        .problem(StatusCode::NOT_FOUND);
    let detail = app
        .get("/v1/agents/%FF%FE", Some(ADMIN))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("id"), "{detail}");
}

#[tokio::test]
async fn agent_names_are_validated_and_unique() {
    let app = TestApp::start().await;
    app.agent("unique_bot", &[]).await;
    let detail = app
        .post("/v1/agents", Some(ADMIN), json!({"name": "unique_bot"}))
        .await
        .problem(StatusCode::CONFLICT);
    assert!(detail.contains("unique_bot"), "{detail}");
    let long = "n".repeat(129);
    for name in [
        "",
        "has space",
        "a/b",
        "semi;colon",
        "ünïcode",
        "tab\tbed",
        "new\nline",
        long.as_str(),
    ] {
        let detail = app
            .post("/v1/agents", Some(ADMIN), json!({"name": name}))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert!(detail.contains("`name`"), "{name:?}: {detail}");
    }
    let detail = app
        .post("/v1/agents", Some(ADMIN), json!({"name": "ok_name", "roles": [""]}))
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("`roles`"), "{detail}");
    let detail = app
        .post(
            "/v1/agents",
            Some(ADMIN),
            json!({"name": "weak_pw", "password": "weak"}),
        )
        .await
        .problem(StatusCode::BAD_REQUEST);
    assert!(detail.contains("password"), "{detail}");
    // A refused registration left nothing behind.
    app.post("/v1/agents", Some(ADMIN), json!({"name": "weak_pw"}))
        .await
        .ok(StatusCode::CREATED);
}

#[tokio::test]
async fn agent_listing_validates_its_query_and_pages_completely() {
    let app = TestApp::start().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.agent(&format!("paged_{i}"), &[]).await);
    }
    for query in ["limit=0", "limit=501", "limit=-1", "limit=abc", "limit=3&bogus=1"] {
        let detail = app
            .get(&format!("/v1/agents?{query}"), Some(ADMIN))
            .await
            .problem(StatusCode::BAD_REQUEST);
        assert!(
            detail.contains("limit") || detail.contains("bogus"),
            "{query}: {detail}"
        );
    }
    app.get("/v1/events?limit=0", Some(ADMIN))
        .await
        .problem(StatusCode::BAD_REQUEST);
    app.get("/v1/events?limit=many", Some(ADMIN))
        .await
        .problem(StatusCode::BAD_REQUEST);

    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let path = match &after {
            Some(after) => format!("/v1/agents?limit=3&after={after}"),
            None => "/v1/agents?limit=3".to_owned(),
        };
        let page = app.get(&path, Some(ADMIN)).await;
        let agents = page.ok(StatusCode::OK)["agents"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        sizes.push(agents.len());
        seen.extend(agents.iter().filter_map(|a| a["id"].as_str().map(str::to_owned)));
        after = page.body["next"].as_str().map(str::to_owned);
        if after.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [3, 3, 1]);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "an agent appeared twice: {seen:?}");
    created.sort();
    assert_eq!(unique, created);
}

#[tokio::test]
async fn no_route_answers_500_to_junk() {
    let app = TestApp::start().await;
    let id = app.agent("junk_bot", &["j:read"]).await;
    let (access, _) = app.login("junk_bot").await;
    let routes = [
        "/v1/agents".to_owned(),
        format!("/v1/agents/{id}/password"),
        format!("/v1/agents/{id}/public-keys"),
        format!("/v1/agents/{id}/certificate"),
        "/v1/auth/login".to_owned(),
        "/v1/auth/challenge".to_owned(),
        "/v1/auth/key-login".to_owned(),
        "/v1/auth/refresh".to_owned(),
        "/v1/auth/revoke".to_owned(),
        "/v1/auth/password".to_owned(),
        "/v1/auth/passport".to_owned(),
        "/v1/auth/token-exchange".to_owned(),
    ];
    let long = "z".repeat(50_000);
    let bodies = [
        json!({}),
        json!(null),
        json!([1, 2]),
        json!({"name": long, "identity": long, "secret": long, "api_key": long, "agent_id": long, "nonce": long,
               "signature": long, "refresh_token": long, "token": long, "subject_token": long, "csr": long,
               "public_key": long, "algorithm": "ed25519", "password": long}),
        json!({"api_key": "wdn_zzzzzzzzzzzz_zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"}),
        json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"}),
        json!({"algorithm": "p256", "public_key": "BAAA"}),
        json!({"agent_id": id, "nonce": "", "signature": ""}),
        json!({"old_password": "", "new_password": ""}),
        json!({"subject_token": access, "scopes": ["j:read", null]}),
        json!({"scopes": [1, 2], "ttl": {"a": 1}, "audience": []}),
    ];
    for path in &routes {
        for body in &bodies {
            for token in [Some(ADMIN), Some(access.as_str()), None] {
                let reply = app.post(path, token, body.clone()).await;
                assert!(
                    reply.status.as_u16() < 500,
                    "POST {path} {body:.60} → {}: {:?}",
                    reply.status,
                    reply.body
                );
                if !reply.status.is_success() {
                    reply.problem(reply.status);
                }
            }
        }
    }
}
