//! `warden authorize` against a real `warden serve`: a policy activated with `PUT /v1/policies`, an
//! agent that logged in with its password, and the CLI asking as that agent. The exit status says the
//! decision (0 allow, 2 deny) and never confuses an error with one.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server, field, plain_client};

const POLICY: &str = r#"rules:
  - name: allow-readers
    effect: allow
    priority: 10
    actions: ["doc:read"]
    resources: ["doc:public/**"]
  - name: deny-drafts
    effect: deny
    priority: 100
    actions: ["doc:read"]
    resources: ["doc:public/drafts/**"]
  - name: secrets-need-mfa
    effect: allow
    priority: 20
    actions: ["secret:read"]
    resources: ["secret:**"]
    conditions: {path: context.mfa, op: eq, value: true}
  - name: reports-after-a-password-login
    effect: allow
    actions: ["report:read"]
    conditions: {path: context.auth_method, op: eq, value: password}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_says_the_decision_in_its_output_and_exit_status() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);

    let body = json!({ "files": [{ "name": "rules.yaml", "text": POLICY }] });
    let put = api.call(Method::PUT, "/v1/policies", Some(&admin), Some(&body)).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    assert_eq!(put.str("source"), "api");
    api.create_agent(&admin, "reader", &[], Some(PASSWORD)).await;
    let token = field(&api.password_login("reader", PASSWORD).await, "access_token");
    let authorize = |args: &[&str]| {
        let mut all = vec!["authorize"];
        all.extend_from_slice(args);
        sandbox.run_client(&server, &token, &all)
    };

    let (status, stdout, stderr) = authorize(&["doc:read", "doc:public/readme"]);
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().next(), Some("allow"), "{stdout}");
    assert!(stdout.contains("  rule         allow-readers\n"), "{stdout}");
    assert!(stdout.contains("  basis        rule\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("  policy       {}", put.str("hash"))),
        "{stdout}"
    );
    assert!(!stdout.contains("trace"), "no trace unless asked: {stdout}");

    let (status, stdout, stderr) = authorize(&["doc:read", "doc:public/drafts/plan"]);
    assert_eq!(status.code(), Some(2), "a deny exits 2\n{stdout}\n{stderr}");
    assert_eq!(stdout.lines().next(), Some("deny"), "{stdout}");
    assert!(stdout.contains("  rule         deny-drafts\n"), "{stdout}");
    assert!(
        stdout.contains("  matching     deny-drafts, allow-readers\n"),
        "{stdout}"
    );
    assert!(stderr.is_empty(), "a deny is an answer, not an error: {stderr}");

    let (status, stdout, _) = authorize(&["doc:read", "doc:public/drafts/plan", "--explain"]);
    assert_eq!(status.code(), Some(2), "{stdout}");
    for line in [
        "trace (each rule Warden considered, in order):",
        "  matched   deny-drafts (deny, priority 100)",
        "  matched   allow-readers (allow, priority 10)",
    ] {
        assert!(stdout.lines().any(|l| l == line), "`{line}` not in\n{stdout}");
    }

    // A condition on the context: no `mfa`, a text `yes`, then the JSON `true`.
    let (status, stdout, _) = authorize(&["secret:read", "secret:db/password", "--explain"]);
    assert_eq!(status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("  basis        no_match\n"), "{stdout}");
    assert!(
        stdout.contains("  skipped   secrets-need-mfa: condition needs `context.mfa`, which is missing\n"),
        "{stdout}"
    );
    let (status, stdout, _) = authorize(&["secret:read", "secret:db/password", "--context", "mfa=yes", "--explain"]);
    assert_eq!(status.code(), Some(2), "`yes` is text, not true: {stdout}");
    assert!(
        stdout.contains("  skipped   secrets-need-mfa: condition false\n"),
        "{stdout}"
    );
    let (status, stdout, stderr) = authorize(&["secret:read", "secret:db/password", "--context", "mfa=true"]);
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("  rule         secrets-need-mfa\n"), "{stdout}");

    // Warden states how the caller logged in; the caller's own claim is replaced.
    let (status, stdout, _) = authorize(&["report:read", "report:q3", "--context", "auth_method=api_key"]);
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("reports-after-a-password-login"), "{stdout}");

    // `--json` prints the server's answer; the decision is the audit event `ledger_index`.
    let (status, stdout, _) = authorize(&["doc:read", "doc:public/drafts/plan", "--json", "--resource-attr", "n=1"]);
    assert_eq!(status.code(), Some(2), "--json keeps the exit status: {stdout}");
    let parsed = serde_json::from_str::<Value>(&stdout);
    let Ok(answer) = parsed else {
        unreachable!("--json printed no JSON: {stdout}")
    };
    assert_eq!(answer["decision"], "deny");
    assert_eq!(answer["deciding_rule"], "deny-drafts");
    let Some(index) = answer["ledger_index"].as_i64() else {
        unreachable!("no ledger_index in {answer}")
    };
    let events = api.all_events(&admin).await;
    let Some(event) = events.iter().find(|e| e["index"].as_i64() == Some(index)) else {
        unreachable!("no audit event {index}")
    };
    assert_eq!(event["event"]["kind"], "authz.decision", "{event}");
    assert_eq!(
        event["event"]["details"]["decision_id"], answer["decision_id"],
        "{event}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_errors_exit_1_and_are_never_a_decision() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    let id = api.create_agent(&admin, "research_bot", &[], Some(PASSWORD)).await;
    let token = field(&api.password_login("research_bot", PASSWORD).await, "access_token");

    let (status, stdout, stderr) =
        sandbox.run_client(&server, &token, &["authorize", "research", "r", "--context", "foo"]);
    assert_eq!(
        status.code(),
        Some(1),
        "a usage error is not a deny\n{stdout}\n{stderr}"
    );
    assert!(stderr.contains("`foo`") && stderr.contains("KEY=VALUE"), "{stderr}");
    let (status, _, stderr) = sandbox.run_client(
        &server,
        &token,
        &["authorize", "research", "r", "--context", "a=1", "--context", "a=2"],
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`a` is given twice"), "{stderr}");
    let (status, _, stderr) = sandbox.run_client(&server, &token, &["authorize", "research"]);
    assert_eq!(status.code(), Some(1), "{stderr}");

    // The admin token is not an agent: decisions are asked by agents.
    let (status, _, stderr) = sandbox.run_client(&server, &admin, &["authorize", "research", "r"]);
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("403"), "{stderr}");

    // The default policy allows `research` to `research_*` agents.
    let (status, stdout, _) = sandbox.run_client(&server, &token, &["authorize", "research", "r"]);
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("allow_research_agents"), "{stdout}");

    // A suspended agent cannot even ask: the refusal is an error (exit 1), not a decision.
    let suspended = api
        .post(&format!("/v1/agents/{id}/suspend"), Some(&admin), &json!({}))
        .await;
    assert_eq!(suspended.status, 200, "{:?}", suspended.body);
    let (status, stdout, stderr) = sandbox.run_client(&server, &token, &["authorize", "research", "r"]);
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("403") && stderr.contains("suspended"), "{stderr}");
}
