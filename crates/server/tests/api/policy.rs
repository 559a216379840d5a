//! The decision door and the policy administration routes: `/v1/authorize` (+ batch, explain),
//! `/v1/policies` (read, atomic replace with located errors, validate, simulate), just-in-time grants
//! with delegation, policy-file hot reload, and the audit record of every decision.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use warden_core::MasterKey;
use warden_server::policy::sync;

use super::support::{ADMIN, TestApp, on_each_store};

pub(super) const POLICY: &str = r#"
roles:
  - name: researcher
    permissions: ["paper:read"]
rules:
  - name: read-docs
    effect: allow
    priority: 10
    actions: ["doc:read"]
    resources: ["doc:public/**"]
    obligations: {audit_logging: true}
  - name: secrets-need-mfa
    effect: deny
    priority: 100
    actions: ["secret:read"]
    resources: ["secret:**"]
    conditions:
      not: {path: context.mfa, op: eq, value: true}
  - name: read-secrets
    effect: allow
    priority: 10
    actions: ["secret:read"]
    resources: ["secret:lab/**"]
  - name: never-delete
    effect: deny
    priority: 10
    actions: ["doc:delete"]
"#;

pub(super) async fn put_policy(app: &TestApp, yaml: &str) -> super::support::Reply {
    app.raw(
        Method::PUT,
        "/v1/policies",
        &[
            ("authorization", format!("Bearer {ADMIN}").as_bytes()),
            ("content-type", b"application/yaml"),
        ],
        yaml.to_owned(),
    )
    .await
}

/// An app with [`POLICY`] active and one logged-in agent `research_1`; returns (app, agent id, access).
pub(super) async fn with_policy(app: &TestApp) -> (String, String) {
    put_policy(app, POLICY).await.ok(StatusCode::OK);
    let id = app.agent("research_1", &["doc:read", "secret:read"]).await;
    let (access, _) = app.login("research_1").await;
    (id, access)
}

pub(super) async fn authorize(app: &TestApp, token: &str, body: Value) -> Value {
    app.post("/v1/authorize", Some(token), body)
        .await
        .ok(StatusCode::OK)
        .clone()
}

#[tokio::test]
async fn decisions_follow_the_active_policy_and_are_recorded() {
    on_each_store(async |app: &TestApp| {
        let (id, access) = with_policy(app).await;
        let policy_hash = app.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK)["hash"].clone();

        let allowed = authorize(
            app,
            &access,
            json!({"action": "doc:read", "resource": "doc:public/a/b"}),
        )
        .await;
        assert_eq!(allowed["decision"], "allow", "{allowed}");
        assert_eq!(allowed["deciding_rule"], "read-docs");
        assert_eq!(allowed["basis"], "rule");
        assert_eq!(
            allowed["policy"], policy_hash,
            "the decision names the set that made it"
        );
        assert_eq!(allowed["obligations"]["audit_logging"], true);
        assert_eq!(allowed["findings"], json!([]));
        assert!(allowed.get("trace").is_none(), "no trace unless asked");

        // The role table's permission applies through the agent's registered role.
        let by_role = authorize(app, &access, json!({"action": "paper:read", "resource": "paper:42"})).await;
        assert_eq!(by_role["decision"], "allow", "{by_role}");

        let unmatched = authorize(app, &access, json!({"action": "doc:write", "resource": "doc:public/a"})).await;
        assert_eq!(unmatched["decision"], "deny");
        assert_eq!(unmatched["basis"], "no_match");
        assert_eq!(unmatched["deciding_rule"], Value::Null);

        // A deny rule that reads a missing attribute denies and names it; with the attribute, allow.
        let no_mfa = authorize(
            app,
            &access,
            json!({"action": "secret:read", "resource": "secret:lab/key"}),
        )
        .await;
        assert_eq!(no_mfa["decision"], "deny");
        assert_eq!(no_mfa["deciding_rule"], "secrets-need-mfa");
        assert_eq!(no_mfa["missing_attributes"], json!(["context.mfa"]));
        let mfa = authorize(
            app,
            &access,
            json!({"action": "secret:read", "resource": "secret:lab/key", "context": {"mfa": true}}),
        )
        .await;
        assert_eq!(mfa["decision"], "allow", "{mfa}");
        assert_eq!(mfa["matching_rules"], json!(["read-secrets"]));

        // Every decision is an audit event carrying its id, principal, action, rule and policy hash.
        let events = app.events().await;
        let recorded: Vec<&Value> = events.iter().filter(|e| e["kind"] == "authz.decision").collect();
        assert_eq!(recorded.len(), 5, "one event per decision");
        let last = recorded[4];
        assert_eq!(last["actor"], id.as_str());
        assert_eq!(last["resource"], "secret:lab/key");
        assert_eq!(last["outcome"], "success");
        assert_eq!(last["details"]["decision_id"], mfa["decision_id"]);
        assert_eq!(last["details"]["action"], "secret:read");
        assert_eq!(last["details"]["deciding_rule"], "read-secrets");
        assert_eq!(last["details"]["policy"], policy_hash);
        assert_eq!(recorded[3]["outcome"], "denied");
        let ids: std::collections::BTreeSet<_> = recorded
            .iter()
            .map(|e| e["details"]["decision_id"].to_string())
            .collect();
        assert_eq!(ids.len(), 5, "decision ids are unique");
        let indexes: Vec<u64> = [&allowed, &mfa]
            .iter()
            .map(|d| d["ledger_index"].as_u64().unwrap_or(0))
            .collect();
        assert!(
            indexes[0] > 0 && indexes[1] > indexes[0],
            "ledger indexes grow: {indexes:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn explain_returns_the_trace() {
    let app = TestApp::start().await;
    let (_, access) = with_policy(&app).await;
    let reply = app
        .post(
            "/v1/authorize?explain=true",
            Some(&access),
            json!({"action": "secret:read", "resource": "secret:prod/x", "context": {"mfa": true}}),
        )
        .await;
    let body = reply.ok(StatusCode::OK);
    assert_eq!(body["decision"], "deny");
    assert_eq!(body["basis"], "no_match");
    let trace = body["trace"].as_array().cloned().unwrap_or_default();
    let step = |name: &str| trace.iter().find(|s| s["rule"] == name).cloned().unwrap_or(Value::Null);
    assert_eq!(
        step("secrets-need-mfa")["outcome"]["kind"],
        "condition_false",
        "{trace:?}"
    );
    assert_eq!(step("read-secrets")["outcome"]["kind"], "resource_differs", "{trace:?}");
    assert_eq!(step("read-secrets")["effect"], "allow");
    let metrics = app.get("/metrics", None).await;
    let text = metrics.body.as_str().unwrap_or_default();
    assert!(
        text.contains("warden_authz_decisions_total{decision=\"deny\",basis=\"no_match\"}"),
        "decisions are counted: {text}"
    );
    let bad = app
        .post(
            "/v1/authorize?explain=maybe",
            Some(&access),
            json!({"action": "a", "resource": "b"}),
        )
        .await;
    assert!(bad.problem(StatusCode::BAD_REQUEST).contains("explain"));
    app.finish().await;
}

#[tokio::test]
async fn the_caller_cannot_speak_for_warden_or_for_another_agent() {
    let app = TestApp::start().await;
    let rules = r#"
rules:
  - name: passports-only
    effect: allow
    actions: ["doc:read"]
    conditions: {path: context.auth_method, op: eq, value: passport}
"#;
    put_policy(&app, rules).await.ok(StatusCode::OK);
    app.agent("research_1", &["doc:read"]).await;
    let (access, _) = app.login("research_1").await;
    // A caller's claim to have used a passport is replaced by the truth.
    let forged = authorize(
        &app,
        &access,
        json!({"action": "doc:read", "resource": "doc:1", "context": {"auth_method": "passport"}}),
    )
    .await;
    assert_eq!(forged["decision"], "deny", "{forged}");
    let passport = app.passport_token(&access, json!({"scopes": ["doc:read"]})).await;
    let real = authorize(&app, &passport, json!({"action": "doc:read", "resource": "doc:1"})).await;
    assert_eq!(real["decision"], "allow", "{real}");

    // Principal facts are not fields of the request body.
    let smuggled = app
        .post(
            "/v1/authorize",
            Some(&access),
            json!({"action": "doc:read", "resource": "doc:1", "principal": {"roles": ["admin"]}}),
        )
        .await;
    assert!(smuggled.problem(StatusCode::BAD_REQUEST).contains("principal"));
    // Nobody anonymous, and not the admin token: decisions are asked by agents.
    app.post("/v1/authorize", None, json!({"action": "a", "resource": "b"}))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    app.post("/v1/authorize", Some(ADMIN), json!({"action": "a", "resource": "b"}))
        .await
        .problem(StatusCode::FORBIDDEN);
    let empty = app
        .post("/v1/authorize", Some(&access), json!({"action": " ", "resource": "b"}))
        .await;
    assert!(empty.problem(StatusCode::BAD_REQUEST).contains("action"));
    app.finish().await;
}

#[tokio::test]
async fn passport_scopes_bound_every_allow() {
    let app = TestApp::start().await;
    let (_, access) = with_policy(&app).await;
    let narrow = app.passport_token(&access, json!({"scopes": ["secret:read"]})).await;
    let outside = authorize(&app, &narrow, json!({"action": "doc:read", "resource": "doc:public/a"})).await;
    assert_eq!(outside["decision"], "deny", "{outside}");
    assert_eq!(outside["basis"], "outside_scopes");
    app.finish().await;
}

#[tokio::test]
async fn an_inactive_agent_is_denied_before_any_rule() {
    let app = TestApp::start().await;
    let (id, access) = with_policy(&app).await;
    app.set_status(&id, "suspend").await.ok(StatusCode::OK);
    // A suspended agent cannot even ask…
    let reply = app
        .post(
            "/v1/authorize",
            Some(&access),
            json!({"action": "doc:read", "resource": "doc:public/a"}),
        )
        .await;
    assert!(reply.problem(StatusCode::FORBIDDEN).contains("suspended"));
    // …and a dry run on its behalf shows policy would deny it before reading a rule.
    let reply = app
        .post(
            "/v1/policies/simulate",
            Some(ADMIN),
            json!({"policy": POLICY, "requests": [{"agent": id, "action": "doc:read", "resource": "doc:public/a"}]}),
        )
        .await;
    let result = reply.ok(StatusCode::OK)["results"][0].clone();
    assert_eq!(result["active"]["decision"], "deny", "{result}");
    assert_eq!(result["active"]["basis"], "inactive");
    assert_eq!(result["active"]["deciding_rule"], Value::Null);
    app.finish().await;
}

#[tokio::test]
async fn batch_decides_each_request_and_refuses_bad_batches_whole() {
    let app = TestApp::start().await;
    let (_, access) = with_policy(&app).await;
    let reply = app
        .post(
            "/v1/authorize/batch",
            Some(&access),
            json!({"requests": [
                {"action": "doc:read", "resource": "doc:public/a"},
                {"action": "doc:delete", "resource": "doc:public/a"},
            ]}),
        )
        .await;
    let results = reply.ok(StatusCode::OK)["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let decisions: Vec<_> = results.iter().map(|r| r["decision"].clone()).collect();
    assert_eq!(decisions, [json!("allow"), json!("deny")]);
    assert_ne!(results[0]["decision_id"], results[1]["decision_id"]);

    let before = app.events().await.len();
    let bad = app
        .post(
            "/v1/authorize/batch",
            Some(&access),
            json!({"requests": [{"action": "doc:read", "resource": "doc:x"}, {"action": "", "resource": "doc:x"}]}),
        )
        .await;
    assert!(bad.problem(StatusCode::BAD_REQUEST).contains("requests[1].action"));
    assert_eq!(
        app.events().await.len(),
        before,
        "nothing of a refused batch is decided"
    );
    let too_many: Vec<Value> = (0..101).map(|_| json!({"action": "a", "resource": "b"})).collect();
    let big = app
        .post("/v1/authorize/batch", Some(&access), json!({"requests": too_many}))
        .await;
    assert!(big.problem(StatusCode::BAD_REQUEST).contains("at most 100"));
    app.post("/v1/authorize/batch", Some(&access), json!({"requests": []}))
        .await
        .problem(StatusCode::BAD_REQUEST);
    app.finish().await;
}

#[tokio::test]
async fn a_bad_policy_is_refused_whole_with_located_errors_and_the_old_set_stays() {
    on_each_store(async |app: &TestApp| {
        let (_, access) = with_policy(app).await;
        let before = app.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK).clone();
        let a = "rules:\n  - name: fine\n    effect: allow\n    actions: [\"doc:delete\"]\n  - name: bad-regex\n    \
                 effect: deny\n    actions: [\"act:y\"]\n    conditions: {path: context.q, op: regex, value: \"(\"}\n";
        let b = "rules:\n  - name: bad-cidr\n    effect: deny\n    actions: [\"act:z\"]\n    \
                 conditions: {path: context.ip, op: cidr, value: \"not-a-network\"}\n";
        let c = "rules:\n  - name: typo\n    effect: alow\n    actions: [\"act:x\"]\n";
        let files = json!({"files": [{"name": "a.yaml", "text": a}, {"name": "b.yaml", "text": b},
                                     {"name": "c.yaml", "text": c}]});
        let reply = app.call(Method::PUT, "/v1/policies", Some(ADMIN), Some(files)).await;
        let detail = reply.problem(StatusCode::BAD_REQUEST);
        assert!(detail.contains("3 error"), "{detail}");
        let errors = reply.body["errors"].as_array().cloned().unwrap_or_default();
        let located: Vec<(String, u64)> = errors
            .iter()
            .map(|e| {
                (
                    e["file"].as_str().unwrap_or("?").to_owned(),
                    e["line"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            located,
            [
                ("a.yaml".to_owned(), 5),
                ("b.yaml".to_owned(), 2),
                ("c.yaml".to_owned(), 3)
            ],
            "every error of every file, each located: {errors:?}"
        );
        assert_eq!(errors[0]["rule"], "bad-regex");
        assert_eq!(errors[1]["rule"], "bad-cidr");
        assert!(errors[2]["message"].as_str().is_some_and(|m| m.contains("alow")));

        let after = app.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK).clone();
        assert_eq!(after["hash"], before["hash"], "the old set stays active");
        assert_eq!(after["version"], before["version"]);
        let still = authorize(
            app,
            &access,
            json!({"action": "doc:delete", "resource": "doc:public/a"}),
        )
        .await;
        assert_eq!(still["decision"], "deny", "the refused set's allow never applied");
        let rejected = app
            .events()
            .await
            .into_iter()
            .filter(|e| e["kind"] == "policy.rejected")
            .count();
        assert_eq!(rejected, 1, "the refusal is audited");
    })
    .await;
}

#[tokio::test]
async fn replacing_the_policy_is_atomic_versioned_and_readable() {
    let app = TestApp::start().await;
    let empty = app.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK).clone();
    assert_eq!(empty["version"], Value::Null, "no policy yet: {empty}");
    assert_eq!(empty["rules"], json!([]));

    let (_, access) = with_policy(&app).await;
    let first = app.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK).clone();
    assert_eq!(first["source"], "api");
    assert_eq!(first["files"][0]["text"], POLICY, "the text is kept exactly");
    assert_eq!(
        first["rules"].as_array().map(Vec::len),
        Some(5),
        "four rules and the role's permission"
    );
    assert_eq!(first["roles"], json!(["researcher"]));

    // JSON with several files is the same as YAML.
    let files = json!({"files": [
        {"name": "b.yaml", "text": "rules:\n  - name: b\n    effect: allow\n    actions: [\"doc:delete\"]\n"},
        {"name": "a.yaml", "text": "rules:\n  - name: a\n    effect: allow\n    actions: [\"doc:read\"]\n"},
    ]});
    let reply = app.call(Method::PUT, "/v1/policies", Some(ADMIN), Some(files)).await;
    let second = reply.ok(StatusCode::OK).clone();
    assert!(second["version"].as_i64() > first["version"].as_i64());
    assert_ne!(second["hash"], first["hash"]);
    let names: Vec<_> = second["files"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| f["name"].clone())
        .collect();
    assert_eq!(names, [json!("a.yaml"), json!("b.yaml")]);
    let now = authorize(&app, &access, json!({"action": "doc:delete", "resource": "doc:1"})).await;
    assert_eq!(now["decision"], "allow");
    assert_eq!(now["policy"], second["hash"]);
    let activated = app
        .events()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "policy.activated")
        .count();
    assert_eq!(activated, 2);

    // Malformed requests are 4xx naming the problem, and only the admin may change policy.
    let dup = json!({"files": [{"name": "a.yaml", "text": "rules: []"}, {"name": "a.yaml", "text": "rules: []"}]});
    let reply = app.call(Method::PUT, "/v1/policies", Some(ADMIN), Some(dup)).await;
    assert!(reply.problem(StatusCode::BAD_REQUEST).contains("twice"));
    let slash = json!({"files": [{"name": "../evil.yaml", "text": "rules: []"}]});
    let reply = app.call(Method::PUT, "/v1/policies", Some(ADMIN), Some(slash)).await;
    assert!(reply.problem(StatusCode::BAD_REQUEST).contains("file name"));
    let reply = app
        .raw(
            Method::PUT,
            "/v1/policies",
            &[("authorization", format!("Bearer {ADMIN}").as_bytes())],
            vec![0xff, 0xfe],
        )
        .await;
    assert!(reply.problem(StatusCode::BAD_REQUEST).contains("UTF-8"));
    let reply = app
        .raw(
            Method::PUT,
            "/v1/policies",
            &[("authorization", format!("Bearer {access}").as_bytes())],
            POLICY.to_owned(),
        )
        .await;
    reply.problem(StatusCode::FORBIDDEN);
    app.get("/v1/policies", Some(&access))
        .await
        .problem(StatusCode::FORBIDDEN);
    app.finish().await;
}

#[tokio::test]
async fn validate_checks_a_candidate_without_activating_it() {
    let app = TestApp::start().await;
    let reply = app
        .post("/v1/policies/validate", Some(ADMIN), json!({"policy": POLICY}))
        .await;
    let body = reply.ok(StatusCode::OK);
    assert_eq!(body["valid"], true);
    assert_eq!(body["rules"], 5);
    assert_eq!(body["roles"], 1);
    let reply = app
        .post(
            "/v1/policies/validate",
            Some(ADMIN),
            json!({"policy": "rules:\n  - name: x\n    effect: allow\n    actions: [a]\n    priorty: 3\n"}),
        )
        .await;
    let body = reply.ok(StatusCode::OK);
    assert_eq!(body["valid"], false);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("priorty")),
        "{body}"
    );
    assert_eq!(body["errors"][0]["line"], 5);
    let active = app.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK).clone();
    assert_eq!(active["version"], Value::Null, "validate activates nothing");
    app.finish().await;
}

#[tokio::test]
async fn simulate_lists_the_decisions_a_candidate_would_change() {
    let app = TestApp::start().await;
    with_policy(&app).await;
    let candidate = POLICY.replace("actions: [\"doc:delete\"]", "actions: [\"doc:delete\", \"doc:read\"]");
    let requests = json!([
        {"agent": "research_1", "action": "doc:read", "resource": "doc:public/a"},
        {"agent": "research_1", "action": "paper:read", "resource": "paper:1"},
        {"agent": "research_1", "action": "secret:read", "resource": "secret:lab/k", "context": {"mfa": true}},
        {"agent": "research_1", "action": "secret:read", "resource": "secret:lab/k", "context": {"mfa": true},
         "scopes": ["doc:read"]},
    ]);
    let reply = app
        .post(
            "/v1/policies/simulate",
            Some(ADMIN),
            json!({"policy": candidate, "requests": requests}),
        )
        .await;
    let body = reply.ok(StatusCode::OK).clone();
    assert_eq!(body["changed"], 1, "{body}");
    let results = body["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results[0]["changed"], true);
    assert_eq!(results[0]["active"]["decision"], "allow");
    assert_eq!(results[0]["active"]["deciding_rule"], "read-docs");
    assert_eq!(results[0]["candidate"]["decision"], "deny");
    assert_eq!(results[0]["candidate"]["deciding_rule"], "never-delete");
    assert_eq!(results[1]["changed"], false);
    assert_eq!(results[2]["candidate"]["decision"], "allow");
    assert_eq!(
        results[3]["candidate"]["basis"], "outside_scopes",
        "simulated passports are bounded too"
    );
    assert_ne!(body["active_policy"], body["candidate_policy"]);
    // Nothing was activated and nothing decided for real.
    let events = app.events().await;
    assert!(events.iter().all(|e| e["kind"] != "authz.decision"));

    let unknown = app
        .post(
            "/v1/policies/simulate",
            Some(ADMIN),
            json!({"policy": POLICY, "requests": [{"agent": "nobody", "action": "a", "resource": "b"}]}),
        )
        .await;
    assert!(unknown.problem(StatusCode::BAD_REQUEST).contains("requests[0].agent"));
    let invalid = app
        .post(
            "/v1/policies/simulate",
            Some(ADMIN),
            json!({"policy": "rules: 7", "requests": [{"agent": "research_1", "action": "a", "resource": "b"}]}),
        )
        .await;
    invalid.problem(StatusCode::BAD_REQUEST);
    assert!(invalid.body["errors"].as_array().is_some_and(|e| !e.is_empty()));
    app.finish().await;
}

#[tokio::test]
async fn edited_policy_files_are_hot_reloaded_and_a_bad_edit_keeps_the_old_set() {
    let app = TestApp::start().await;
    let dir = app.state.config.data_dir.join("policies");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| unreachable!("{e}"));
    app.agent("research_1", &[]).await;
    let (access, _) = app.login("research_1").await;
    let ask = json!({"action": "doc:read", "resource": "doc:1"});
    assert_eq!(authorize(&app, &access, ask.clone()).await["decision"], "deny");

    let write = |text: &str| std::fs::write(dir.join("main.yaml"), text).unwrap_or_else(|e| unreachable!("{e}"));
    write("rules:\n  - name: from-file\n    effect: allow\n    actions: [\"doc:read\"]\n");
    sync(&app.state).await;
    let allowed = authorize(&app, &access, ask.clone()).await;
    assert_eq!(allowed["decision"], "allow", "{allowed}");
    assert_eq!(allowed["deciding_rule"], "from-file");
    let active = app.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK).clone();
    assert_eq!(active["source"], "files");

    write("rules:\n  - name: from-file\n    effect: allow\n    actions: [\"doc:read\"\n");
    sync(&app.state).await;
    sync(&app.state).await;
    assert_eq!(
        authorize(&app, &access, ask.clone()).await["decision"],
        "allow",
        "the old set stays"
    );
    let rejected = app
        .events()
        .await
        .into_iter()
        .filter(|e| e["kind"] == "policy.rejected")
        .count();
    assert_eq!(rejected, 1, "a bad edit is audited once, not on every poll");

    // The latest change wins: an API replacement, then a later file edit.
    put_policy(&app, "rules: []\n").await.ok(StatusCode::OK);
    assert_eq!(authorize(&app, &access, ask.clone()).await["decision"], "deny");
    sync(&app.state).await;
    assert_eq!(
        authorize(&app, &access, ask.clone()).await["decision"],
        "deny",
        "unchanged files do not undo a PUT"
    );
    write("rules:\n  - name: edited-again\n    effect: allow\n    actions: [\"doc:read\"]\n");
    sync(&app.state).await;
    assert_eq!(authorize(&app, &access, ask).await["deciding_rule"], "edited-again");
    app.finish().await;
}

#[tokio::test]
async fn a_replica_picks_up_another_replicas_policy_change() {
    let Some(first) = TestApp::start_postgres_with(|_| {}).await else {
        super::support::skipped("the whole test");
        return;
    };
    // A second application on the same schema: another replica.
    let url = first.state.config.store_url.clone();
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let config = super::support::test_config(dir.path(), Some(url));
    let master = MasterKey::from_bytes(first.state.master().expose_bytes()).unwrap_or_else(|e| unreachable!("{e}"));
    let second = TestApp::from_config(config, dir, master).await;

    put_policy(&first, POLICY).await.ok(StatusCode::OK);
    let hash = first.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK)["hash"].clone();
    sync(&second.state).await;
    let seen = second.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK).clone();
    assert_eq!(seen["hash"], hash, "the replica now decides with the new set");
    second.state.store.close().await;
    first.finish().await;
}

#[tokio::test]
async fn policy_files_at_start_are_activated_and_audited_and_a_bad_file_refuses_the_start() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(policies.join("main.yaml"), POLICY).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(policies.join("notes.txt"), "not a policy").unwrap_or_else(|e| unreachable!("{e}"));
    let config = super::support::test_config(dir.path(), None);
    let app = TestApp::from_config(config, dir, MasterKey::generate(&warden_core::SystemEntropy)).await;
    let active = app.get("/v1/policies", Some(ADMIN)).await.ok(StatusCode::OK).clone();
    assert_eq!(active["source"], "files");
    assert_eq!(
        active["files"].as_array().map(Vec::len),
        Some(1),
        "only *.yaml and *.yml files: {active}"
    );
    let events = app.events().await;
    let activated: Vec<_> = events.iter().filter(|e| e["kind"] == "policy.activated").collect();
    assert_eq!(activated.len(), 1);
    assert_eq!(activated[0]["actor"], "startup");
    assert_eq!(activated[0]["details"]["hash"], active["hash"]);

    let bad = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let policies = bad.path().join("policies");
    std::fs::create_dir_all(&policies).unwrap_or_else(|e| unreachable!("{e}"));
    std::fs::write(policies.join("broken.yml"), "rules:\n  - name: x\n    effect: maybe\n")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let config = super::support::test_config(bad.path(), None);
    let clock = std::sync::Arc::new(warden_core::ManualClock::at(warden_core::Timestamp::from_unix(
        super::support::START,
    )));
    let refused = warden_server::serve::build_state_with(
        config,
        clock,
        std::sync::Arc::new(warden_core::SystemEntropy),
        MasterKey::generate(&warden_core::SystemEntropy),
        ADMIN,
    )
    .await;
    match refused {
        Ok(_) => unreachable!("an invalid policy file must refuse the start"),
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains("broken.yml:3"),
                "the refusal locates the error: {message}"
            );
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn odd_requests_to_the_policy_routes_are_refused_precisely() {
    let app = TestApp::start().await;
    with_policy(&app).await;
    let empty = app
        .call(Method::PUT, "/v1/policies", Some(ADMIN), Some(json!({"files": []})))
        .await;
    assert!(empty.problem(StatusCode::BAD_REQUEST).contains("at least one file"));
    let both = app
        .post(
            "/v1/policies/validate",
            Some(ADMIN),
            json!({"policy": "rules: []", "files": [{"name": "a.yaml", "text": "rules: []"}]}),
        )
        .await;
    assert!(both.problem(StatusCode::BAD_REQUEST).contains("not both"));

    // Simulated requests may say how the agent authenticated; the admin token is not a way.
    let rules = "rules:\n  - name: certs-only\n    effect: allow\n    actions: [\"doc:read\"]\n    \
                 conditions: {path: context.auth_method, op: eq, value: certificate}\n";
    let ask = |method: &str| {
        json!({"policy": rules, "requests": [
            {"agent": "research_1", "action": "doc:read", "resource": "doc:1", "auth_method": method}]})
    };
    let reply = app.post("/v1/policies/simulate", Some(ADMIN), ask("certificate")).await;
    assert_eq!(reply.ok(StatusCode::OK)["results"][0]["candidate"]["decision"], "allow");
    let reply = app.post("/v1/policies/simulate", Some(ADMIN), ask("admin_token")).await;
    assert!(reply.problem(StatusCode::BAD_REQUEST).contains("auth_method"));

    // An expired grant cannot be handed on.
    let grant = app
        .post(
            "/v1/grants",
            Some(ADMIN),
            json!({"agent_id": "research_1", "action": "a:b", "resource": "r:1", "ttl": 60, "reason": "x",
                   "delegable": true}),
        )
        .await;
    let id = grant.ok(StatusCode::CREATED)["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.agent("research_2", &[]).await;
    app.advance(61);
    let (fresh, _) = app.login("research_1").await;
    let late = app
        .post(
            &format!("/v1/grants/{id}/delegate"),
            Some(&fresh),
            json!({"agent_id": "research_2", "ttl": 30}),
        )
        .await;
    assert!(late.problem(StatusCode::FORBIDDEN).contains("expired"));
    app.finish().await;
}
