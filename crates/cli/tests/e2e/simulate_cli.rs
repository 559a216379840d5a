//! `warden policy simulate` against a real `warden serve` whose active policy is a file in the data
//! directory's `policies/`: a candidate that adds one deny changes one decision, and nothing is
//! activated by asking.

use serde_json::Value;

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server, plain_client, write};

const ACTIVE: &str = r#"rules:
  - name: allow-readers
    effect: allow
    priority: 10
    actions: ["doc:read"]
    resources: ["doc:public/**"]
"#;

const DENY_DRAFTS: &str = r#"
  - name: deny-drafts
    effect: deny
    priority: 100
    actions: ["doc:read"]
    resources: ["doc:public/drafts/**"]
"#;

const REQUESTS: &str = r#"requests:
  - {agent: reader, action: "doc:read", resource: "doc:public/readme"}
  - agent: reader
    action: "doc:read"
    resource: "doc:public/drafts/plan"
    context: {mfa: true}
    now: "2026-11-16T10:00:00Z"
"#;

const CHANGED_ROW: &str =
    "reader doc:read doc:public/drafts/plan: allow -> deny (rule allow-readers -> rule deny-drafts)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_names_the_decisions_a_candidate_would_change() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let policies = sandbox.data.join("policies");
    assert!(std::fs::create_dir_all(&policies).is_ok());
    // Written before the first start, so `init` keeps it instead of its example.
    write(&policies.join("default.yaml"), ACTIVE.as_bytes());
    let server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    api.create_agent(&admin, "reader", &[], Some(PASSWORD)).await;
    let active = api.get("/v1/policies", Some(&admin)).await;
    assert_eq!(active.status, 200, "{:?}", active.body);
    let active_hash = active.str("hash");

    let root = sandbox.root();
    assert!(std::fs::create_dir_all(root.join("candidate")).is_ok());
    write(
        &root.join("candidate/rules.yaml"),
        format!("{ACTIVE}{DENY_DRAFTS}").as_bytes(),
    );
    write(&root.join("requests.yaml"), REQUESTS.as_bytes());
    let simulate = |extra: &[&str]| {
        let mut args = vec![
            "policy",
            "simulate",
            "candidate/rules.yaml",
            "--requests",
            "requests.yaml",
        ];
        args.extend_from_slice(extra);
        sandbox.run_client(&server, &admin, &args)
    };

    let (status, stdout, stderr) = simulate(&[]);
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.lines().any(|l| l == CHANGED_ROW), "{stdout}");
    assert!(stdout.contains("1 of 2 decisions would change"), "{stdout}");
    assert!(stdout.contains(&format!("active policy     {active_hash}")), "{stdout}");
    assert!(
        !stdout.contains("doc:public/readme"),
        "unchanged rows only with --all: {stdout}"
    );

    let (status, stdout, _) = simulate(&["--all"]);
    assert_eq!(status.code(), Some(0), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l == "reader doc:read doc:public/readme: allow (rule allow-readers)"),
        "{stdout}"
    );

    let (status, stdout, stderr) = simulate(&["--fail-on-change"]);
    assert_eq!(status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.lines().any(|l| l == CHANGED_ROW), "{stdout}");

    // The active set itself as the candidate changes nothing, so --fail-on-change passes.
    write(&root.join("same.yaml"), ACTIVE.as_bytes());
    let (status, stdout, stderr) = sandbox.run_client(
        &server,
        &admin,
        &[
            "policy",
            "simulate",
            "same.yaml",
            "--requests",
            "requests.yaml",
            "--fail-on-change",
        ],
    );
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("0 of 2 decisions would change"), "{stdout}");

    // Requests as JSON, answer as JSON.
    write(
        &root.join("requests.json"),
        br#"{"requests": [{"agent": "reader", "action": "doc:read", "resource": "doc:public/drafts/a"}]}"#,
    );
    let (status, stdout, stderr) = sandbox.run_client(
        &server,
        &admin,
        &[
            "policy",
            "simulate",
            "candidate/rules.yaml",
            "--requests",
            "requests.json",
            "--json",
        ],
    );
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");
    let parsed = serde_json::from_str::<Value>(&stdout);
    let Ok(answer) = parsed else {
        unreachable!("--json printed no JSON: {stdout}")
    };
    assert_eq!(answer["changed"], 1, "{answer}");
    assert_eq!(
        answer["results"][0]["candidate"]["deciding_rule"], "deny-drafts",
        "{answer}"
    );

    // Asking activated nothing.
    let after = api.get("/v1/policies", Some(&admin)).await;
    assert_eq!(after.str("hash"), active_hash);
    assert_eq!(after.body["version"], active.body["version"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulate_refuses_a_bad_candidate_and_a_bad_requests_file() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let root = sandbox.root();
    write(&root.join("requests.yaml"), REQUESTS.as_bytes());
    write(
        &root.join("bad.yaml"),
        b"rules:\n  - name: empty-actions\n    effect: allow\n    actions: []\n",
    );
    let (status, stdout, stderr) = sandbox.run_client(
        &server,
        &admin,
        &[
            "policy",
            "simulate",
            "bad.yaml",
            "--requests",
            "requests.yaml",
            "--fail-on-change",
        ],
    );
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("400"), "{stderr}");
    assert!(
        stderr.contains("bad.yaml:2: rule `empty-actions`: `actions` cannot be empty"),
        "{stderr}"
    );

    write(&root.join("good.yaml"), ACTIVE.as_bytes());
    write(
        &root.join("typo.yaml"),
        b"requests:\n  - {agent: reader, action: x, resource: y, contxt: {mfa: true}}\n",
    );
    let (status, _, stderr) = sandbox.run_client(
        &server,
        &admin,
        &["policy", "simulate", "good.yaml", "--requests", "typo.yaml"],
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("typo.yaml") && stderr.contains("contxt"), "{stderr}");

    // An agent Warden does not know is the server's to refuse, by name.
    let (status, _, stderr) = sandbox.run_client(
        &server,
        &admin,
        &["policy", "simulate", "good.yaml", "--requests", "requests.yaml"],
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("`reader`"), "{stderr}");

    // Two candidate files that would carry the same name on the server.
    assert!(std::fs::create_dir_all(root.join("other")).is_ok());
    write(&root.join("other/good.yaml"), b"rules: []\n");
    let (status, _, stderr) = sandbox.run_client(
        &server,
        &admin,
        &[
            "policy",
            "simulate",
            "good.yaml",
            "other/good.yaml",
            "--requests",
            "requests.yaml",
        ],
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("also named `good.yaml`"), "{stderr}");
}
