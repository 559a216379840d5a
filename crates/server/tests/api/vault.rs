//! The vault over HTTP: the README story (store a key, share it with one agent for an hour, another is
//! refused, both attempts audited), versions, policy and grants, ownership, refusals of bad input, a
//! tampered or swapped record, the expiring list and the rotation-due event under a manual clock.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use warden_server::routes::secrets::note_due_rotations;

use super::support::{ADMIN, TestApp, on_each_store};

const OPENAI_KEY: &str = "sk-proj-ThisIsTheSecretValue-9f8e7d6c";

async fn put_secret(app: &TestApp, token: &str, name: &str, body: Value) -> super::support::Reply {
    app.call(Method::PUT, &format!("/v1/secrets/{name}"), Some(token), Some(body))
        .await
}

fn openai(key: &str) -> Value {
    json!({"type": "api_key", "data": {"api_key": key, "org": "acme"}, "tags": ["llm", "prod"]})
}

async fn set_policy(app: &TestApp, yaml: &str) {
    let reply = app
        .call(Method::PUT, "/v1/policies", Some(ADMIN), Some(json!({"policy": yaml})))
        .await;
    reply.ok(StatusCode::OK);
}

#[tokio::test]
async fn share_a_key_for_an_hour_and_another_agent_is_refused() {
    on_each_store(async |app: &TestApp| {
        let writer = put_secret(app, ADMIN, "openai", openai(OPENAI_KEY)).await;
        let written = writer.ok(StatusCode::CREATED).clone();
        assert_eq!(
            (written["name"].clone(), written["version"].clone()),
            (json!("openai"), json!(1))
        );

        let alice_id = app.agent("alice", &[]).await;
        app.agent("mallory", &[]).await;
        let (alice, _) = app.login("alice").await;
        let (mallory, _) = app.login("mallory").await;

        // Nobody reads before it is shared: default deny.
        let early = app.get("/v1/secrets/openai", Some(&alice)).await;
        assert!(early.problem(StatusCode::FORBIDDEN).contains("secret:openai"));

        let share = app
            .post(
                "/v1/secrets/openai/grants",
                Some(ADMIN),
                json!({"agent_id": "alice", "ttl": "1h"}),
            )
            .await;
        assert_eq!(share.ok(StatusCode::CREATED)["agent_id"], alice_id.as_str());

        let read = app.get("/v1/secrets/openai", Some(&alice)).await;
        let body = read.ok(StatusCode::OK);
        assert_eq!(body["data"]["api_key"], OPENAI_KEY);
        assert_eq!(body["type"], "api_key");
        assert_eq!(body["version"], 1);

        let refused = app.get("/v1/secrets/openai", Some(&mallory)).await;
        let detail = refused.problem(StatusCode::FORBIDDEN);
        assert!(!detail.contains(OPENAI_KEY));
        assert!(!refused.body.to_string().contains(OPENAI_KEY));

        // Both attempts are in the audit trail, naming the secret and the agent, never the value.
        let events = app.events().await;
        let reads: Vec<&Value> = events.iter().filter(|e| e["kind"] == "secret.read").collect();
        let outcomes: Vec<_> = reads
            .iter()
            .map(|e| (e["actor"].clone(), e["outcome"].clone()))
            .collect();
        assert!(outcomes.contains(&(json!(alice_id), json!("success"))), "{outcomes:?}");
        assert!(outcomes.iter().any(|(_, o)| o == "denied"));
        assert!(reads.iter().all(|e| e["resource"] == "secret:openai"));
        assert!(
            !serde_json::to_string(&events).unwrap_or_default().contains(OPENAI_KEY),
            "the value never reaches the audit trail"
        );
        assert!(events.iter().any(|e| e["kind"] == "secret.shared"));

        // After the hour the share has ended by itself.
        app.advance(3600);
        let (alice, _) = app.login("alice").await;
        app.get("/v1/secrets/openai", Some(&alice))
            .await
            .problem(StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn the_value_is_sealed_at_rest() {
    let app = TestApp::start().await;
    put_secret(&app, ADMIN, "openai", openai(OPENAI_KEY))
        .await
        .ok(StatusCode::CREATED);
    app.state.store.close().await;
    let dir = app.state.config.data_dir.clone();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("warden.db") {
            let bytes = std::fs::read(entry.path()).unwrap_or_default();
            let found = bytes.windows(OPENAI_KEY.len()).any(|w| w == OPENAI_KEY.as_bytes());
            assert!(!found, "{name} holds the plaintext");
            checked += 1;
        }
    }
    assert!(checked >= 1, "the database file was checked");
}

#[tokio::test]
async fn versions_are_kept_pruned_and_of_one_type() {
    let app = TestApp::start_with(|config| config.vault.keep_versions = 2).await;
    app.agent("alice", &[]).await;
    let (alice, _) = app.login("alice").await;
    put_secret(
        &app,
        ADMIN,
        "db%2Fmain",
        json!({"type": "database", "data": {"password": "one"}}),
    )
    .await
    .ok(StatusCode::CREATED);
    let second = put_secret(
        &app,
        ADMIN,
        "db%2Fmain",
        json!({"type": "database", "data": {"password": "two"}}),
    )
    .await;
    assert_eq!(second.ok(StatusCode::OK)["version"], 2);
    let third = app
        .post(
            "/v1/secrets/db%2Fmain/rotate",
            Some(ADMIN),
            json!({"data": {"password": "three"}}),
        )
        .await;
    assert_eq!(third.ok(StatusCode::OK)["version"], 3);
    app.post(
        "/v1/secrets/db%2Fmain/grants",
        Some(ADMIN),
        json!({"agent_id": "alice"}),
    )
    .await
    .ok(StatusCode::CREATED);

    let current = app.get("/v1/secrets/db%2Fmain", Some(&alice)).await;
    assert_eq!(current.ok(StatusCode::OK)["data"]["password"], "three");
    let older = app.get("/v1/secrets/db%2Fmain?version=2", Some(&alice)).await;
    assert_eq!(older.ok(StatusCode::OK)["data"]["password"], "two");
    let pruned = app.get("/v1/secrets/db%2Fmain?version=1", Some(&alice)).await;
    assert!(pruned.problem(StatusCode::NOT_FOUND).contains("version 1"));

    let retyped = put_secret(&app, ADMIN, "db%2Fmain", json!({"type": "generic", "data": {"x": 1}})).await;
    assert!(retyped.problem(StatusCode::CONFLICT).contains("type"));
    app.finish().await;
}

#[tokio::test]
async fn bad_secrets_are_refused_precisely() {
    let app = TestApp::start().await;
    for (name, body, needle) in [
        ("x", json!({"type": "ssh_key", "data": {}}), "api_key"),
        ("x", json!({"type": "generic", "data": "text"}), "JSON object"),
        ("x", json!({"type": "generic", "data": {}, "colour": 1}), "colour"),
        (
            "a%2F..%2Fb",
            json!({"type": "generic", "data": {}}),
            "not a valid secret name",
        ),
        (
            "a%2F%2Fb",
            json!({"type": "generic", "data": {}}),
            "not a valid secret name",
        ),
        (
            "x",
            json!({"type": "generic", "data": {}, "rotation_days": 0}),
            "rotation_days",
        ),
        (
            "x",
            json!({"type": "generic", "data": {}, "expires_at": "tomorrow"}),
            "RFC 3339",
        ),
    ] {
        let reply = put_secret(&app, ADMIN, name, body.clone()).await;
        let detail = reply.problem(StatusCode::BAD_REQUEST);
        assert!(detail.contains(needle), "{name} {body}: {detail}");
    }
    let big = "x".repeat(70 * 1024);
    let reply = put_secret(&app, ADMIN, "big", json!({"type": "generic", "data": {"blob": big}})).await;
    assert!(reply.problem(StatusCode::BAD_REQUEST).contains("limit"));
    app.get("/v1/secrets/missing", Some(ADMIN))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.delete("/v1/secrets/missing", Some(ADMIN))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.call(
        Method::PUT,
        "/v1/secrets/x",
        None,
        Some(json!({"type": "generic", "data": {}})),
    )
    .await
    .problem(StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn policy_rules_and_ownership_decide_who_may_do_what() {
    let app = TestApp::start().await;
    set_policy(
        &app,
        r#"
roles:
  - name: researcher
    permissions: ["secret:write"]
rules:
  - name: team-reads-team-secrets
    effect: allow
    actions: ["secret:read"]
    resources: ["secret:team/**"]
    conditions: {path: principal.roles, op: contains, value: researcher}
  - name: no-payment-secrets-for-agents
    effect: deny
    priority: 100
    actions: ["secret:read"]
    conditions: {path: resource.type, op: eq, value: payment}
"#,
    )
    .await;
    let alice_id = app.agent("alice", &[]).await;
    app.agent("bob", &[]).await;
    let (alice, _) = app.login("alice").await;
    let (bob, _) = app.login("bob").await;

    // An agent allowed `secret:write` stores a secret and owns it.
    let stored = put_secret(
        &app,
        &alice,
        "team%2Fnotes",
        json!({"type": "generic", "data": {"n": 1}}),
    )
    .await;
    stored.ok(StatusCode::CREATED);
    let listed = app.get("/v1/secrets", Some(ADMIN)).await;
    assert_eq!(listed.ok(StatusCode::OK)["secrets"][0]["owner"], alice_id.as_str());
    // The role's rule lets bob read it; he cannot manage it.
    let read = app.get("/v1/secrets/team%2Fnotes", Some(&bob)).await;
    assert_eq!(read.ok(StatusCode::OK)["data"]["n"], 1);
    app.post("/v1/secrets/team%2Fnotes/rotate", Some(&bob), json!({"data": {"n": 2}}))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.delete("/v1/secrets/team%2Fnotes", Some(&bob))
        .await
        .problem(StatusCode::FORBIDDEN);
    // The owner rotates, shares and deletes.
    let rotated = app
        .post(
            "/v1/secrets/team%2Fnotes/rotate",
            Some(&alice),
            json!({"data": {"n": 2}}),
        )
        .await;
    assert_eq!(rotated.ok(StatusCode::OK)["version"], 2);

    // A deny rule beats even a grant.
    put_secret(
        &app,
        ADMIN,
        "card",
        json!({"type": "payment", "data": {"pan": "4111111111111111"}}),
    )
    .await
    .ok(StatusCode::CREATED);
    app.post("/v1/secrets/card/grants", Some(ADMIN), json!({"agent_id": "bob"}))
        .await
        .ok(StatusCode::CREATED);
    let denied = app.get("/v1/secrets/card", Some(&bob)).await;
    assert!(
        denied
            .problem(StatusCode::FORBIDDEN)
            .contains("no-payment-secrets-for-agents")
    );

    // Agents list what they may see, never values; the admin lists all and reads none.
    let bobs = app.get("/v1/secrets", Some(&bob)).await;
    let names: Vec<_> = bobs.ok(StatusCode::OK)["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [json!("team/notes")]);
    assert!(!bobs.body.to_string().contains("data"));
    let admin_read = app.get("/v1/secrets/card", Some(ADMIN)).await;
    assert!(admin_read.problem(StatusCode::FORBIDDEN).contains("admin"));
    let tagged = app.get("/v1/secrets?tag=nothing", Some(ADMIN)).await;
    assert_eq!(tagged.ok(StatusCode::OK)["secrets"], json!([]));

    app.delete("/v1/secrets/team%2Fnotes/grants/bob", Some(&alice))
        .await
        .problem(StatusCode::NOT_FOUND);
    app.delete("/v1/secrets/team%2Fnotes", Some(&alice))
        .await
        .ok(StatusCode::NO_CONTENT);
    // Gone, it has no `resource.type`: the deny rule reading it fails closed, so bob learns nothing.
    let gone = app.get("/v1/secrets/team%2Fnotes", Some(&bob)).await;
    assert!(gone.problem(StatusCode::FORBIDDEN).contains("resource.type"));

    // Without `secret:write`, an agent stores nothing.
    set_policy(&app, "rules: []\n").await;
    put_secret(&app, &alice, "mine", json!({"type": "generic", "data": {}}))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.finish().await;
}

#[tokio::test]
async fn a_tampered_or_swapped_record_returns_nothing_and_raises_an_alert() {
    let app = TestApp::start().await;
    app.agent("alice", &[]).await;
    let (alice, _) = app.login("alice").await;
    for name in ["a", "b"] {
        put_secret(&app, ADMIN, name, json!({"type": "generic", "data": {"v": name}}))
            .await
            .ok(StatusCode::CREATED);
        app.post(
            &format!("/v1/secrets/{name}/grants"),
            Some(ADMIN),
            json!({"agent_id": "alice"}),
        )
        .await
        .ok(StatusCode::CREATED);
    }
    let store = &app.state.store;
    let original = store.secret_version("a", 1).await.ok().flatten();
    let Some(mut tampered) = original.clone() else {
        unreachable!("version 1 exists")
    };
    let last = tampered.sealed.len() - 1;
    tampered.sealed[last] ^= 1;
    let key = tampered.master_key_id.clone();
    assert_eq!(
        store.rewrap_secret_versions(&[(tampered, key.clone())]).await.ok(),
        Some(1)
    );
    let reply = app.get("/v1/secrets/a", Some(&alice)).await;
    let detail = reply.problem(StatusCode::INTERNAL_SERVER_ERROR);
    assert!(detail.contains("cannot be opened"), "{detail}");
    assert!(reply.body.get("data").is_none());

    // b's record moved under a's name: bound to another name, it does not open.
    let Some(mut moved) = store.secret_version("b", 1).await.ok().flatten() else {
        unreachable!()
    };
    moved.name = "a".into();
    assert_eq!(store.rewrap_secret_versions(&[(moved, key)]).await.ok(), Some(1));
    app.get("/v1/secrets/a", Some(&alice))
        .await
        .problem(StatusCode::INTERNAL_SERVER_ERROR);
    let b = app.get("/v1/secrets/b", Some(&alice)).await;
    assert_eq!(
        b.ok(StatusCode::OK)["data"]["v"],
        "b",
        "the untouched record still opens"
    );

    let alerts: Vec<_> = app
        .events()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "secret.integrity_failure")
        .collect();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0]["details"]["severity"], "alert");
    let stats = app.get("/v1/vault/stats", Some(ADMIN)).await;
    assert_eq!(stats.ok(StatusCode::OK)["failed_decryptions"], 2);
    app.finish().await;
}

#[tokio::test]
async fn expiring_list_and_rotation_due_event_follow_the_clock() {
    let app = TestApp::start().await;
    put_secret(
        &app,
        ADMIN,
        "short",
        json!({"type": "generic", "data": {}, "rotation_days": 2}),
    )
    .await
    .ok(StatusCode::CREATED);
    let expires = warden_core::Timestamp::from_unix(super::support::START + 5 * 86_400).rfc3339();
    put_secret(
        &app,
        ADMIN,
        "leased",
        json!({"type": "generic", "data": {}, "rotation_days": 365, "expires_at": expires}),
    )
    .await
    .ok(StatusCode::CREATED);
    put_secret(&app, ADMIN, "db", json!({"type": "database", "data": {}}))
        .await
        .ok(StatusCode::CREATED);

    let names = |reply: &super::support::Reply| -> Vec<(String, String)> {
        reply.body["secrets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["name"].as_str().unwrap_or("").to_owned(),
                    s["reason"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    let soon = app.get("/v1/secrets-expiring?days=1", Some(ADMIN)).await;
    assert_eq!(names(&soon), Vec::<(String, String)>::new());
    let week = app.get("/v1/secrets-expiring?days=7", Some(ADMIN)).await;
    assert_eq!(
        names(&week),
        [
            ("short".to_owned(), "rotation".to_owned()),
            ("leased".to_owned(), "expiry".to_owned())
        ]
    );
    let month = app.get("/v1/secrets-expiring?days=30", Some(ADMIN)).await;
    assert!(
        names(&month).contains(&("db".to_owned(), "rotation".to_owned())),
        "the configured database exception"
    );

    assert_eq!(note_due_rotations(&app.state).await.ok(), Some(0));
    app.advance(2 * 86_400);
    assert_eq!(note_due_rotations(&app.state).await.ok(), Some(1));
    assert_eq!(note_due_rotations(&app.state).await.ok(), Some(0), "raised once");
    let due = app.get("/v1/vault/stats", Some(ADMIN)).await;
    let stats = due.ok(StatusCode::OK).clone();
    assert_eq!(stats["rotation_due"], 1);
    assert_eq!(stats["secrets"], 3);
    assert_eq!(stats["by_type"]["generic"]["secrets"], 2);
    let overdue = app.get("/v1/secrets-expiring?days=0", Some(ADMIN)).await;
    assert_eq!(overdue.ok(StatusCode::OK)["secrets"][0]["overdue"], true);

    app.post("/v1/secrets/short/rotate", Some(ADMIN), json!({"data": {"k": 2}}))
        .await
        .ok(StatusCode::OK);
    app.advance(2 * 86_400);
    assert_eq!(
        note_due_rotations(&app.state).await.ok(),
        Some(1),
        "the new version falls due in turn"
    );
    let events = app.events().await;
    assert_eq!(events.iter().filter(|e| e["kind"] == "secret.rotation_due").count(), 2);
    app.get("/v1/secrets-expiring?days=99999999", Some(ADMIN))
        .await
        .problem(StatusCode::BAD_REQUEST);
    app.finish().await;
}

#[tokio::test]
async fn readiness_fails_when_the_vault_canary_does_not_open() {
    use warden_identity::repo::KeyRepository;
    let app = TestApp::start().await;
    app.get("/readyz", None).await.ok(StatusCode::OK);
    let Ok(Some(canary)) = app.state.store.setting("vault.canary").await else {
        unreachable!("the canary is written at start")
    };
    // A canary whose bytes were altered (tampering, or a record from another data directory) does not open.
    let mut bytes = canary.into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap_or_default();
    assert!(app.state.store.put_setting("vault.canary", &tampered).await.is_ok());
    let reply = app.get("/readyz", None).await;
    reply.problem(StatusCode::SERVICE_UNAVAILABLE);
    app.finish().await;
}

#[tokio::test]
async fn deny_rules_bind_owners_new_secrets_are_judged_by_their_type_and_expiry_is_enforced() {
    let app = TestApp::start().await;
    set_policy(
        &app,
        r#"
rules:
  - name: agents-write-generic-secrets
    effect: allow
    actions: ["secret:write"]
    conditions: {path: resource.type, op: eq, value: generic}
  - name: nobody-deletes-prod
    effect: deny
    priority: 100
    actions: ["secret:delete"]
    conditions: {path: resource.tags, op: contains, value: prod}
"#,
    )
    .await;
    app.agent("alice", &[]).await;
    let (alice, _) = app.login("alice").await;

    // A new secret is judged as what it would be: a payment secret is not generic.
    let payment = put_secret(&app, &alice, "card", json!({"type": "payment", "data": {}})).await;
    assert!(payment.problem(StatusCode::FORBIDDEN).contains("secret:write"));
    put_secret(
        &app,
        &alice,
        "notes",
        json!({"type": "generic", "data": {}, "tags": ["prod"]}),
    )
    .await
    .ok(StatusCode::CREATED);

    // Owning a secret does not lift a deny rule, and the refusal is audited.
    let kept = app.delete("/v1/secrets/notes", Some(&alice)).await;
    assert!(kept.problem(StatusCode::FORBIDDEN).contains("nobody-deletes-prod"));
    let events = app.events().await;
    let refused: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "secret.deleted" && e["outcome"] == "denied")
        .collect();
    assert_eq!(refused.len(), 1, "{events:?}");
    assert_eq!(refused[0]["details"]["deciding_rule"], "nobody-deletes-prod");
    // The owner may still share and rotate it (ownership counts as a grant).
    let rotated = app
        .post("/v1/secrets/notes/rotate", Some(&alice), json!({"data": {"n": 2}}))
        .await;
    assert_eq!(rotated.ok(StatusCode::OK)["version"], 2);

    // An expired secret is not served, even to its owner.
    let expires = warden_core::Timestamp::from_unix(super::support::START + 60).rfc3339();
    put_secret(
        &app,
        &alice,
        "lease",
        json!({"type": "generic", "data": {"k": 1}, "expires_at": expires}),
    )
    .await
    .ok(StatusCode::CREATED);
    let fresh = app.get("/v1/secrets/lease", Some(&alice)).await;
    assert_eq!(fresh.ok(StatusCode::OK)["data"]["k"], 1);
    app.advance(60);
    let (alice, _) = app.login("alice").await;
    let stale = app.get("/v1/secrets/lease", Some(&alice)).await;
    assert!(stale.problem(StatusCode::FORBIDDEN).contains("expired"));
    app.finish().await;
}
