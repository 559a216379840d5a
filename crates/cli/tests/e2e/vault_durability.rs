//! kill -9 in the middle of a burst of secret writes: every version the server acknowledged (201 or
//! 200 with its number) must be there after a restart on the same data directory, and must open to
//! exactly the value that was written.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server, plain_client, write};

const TASKS: usize = 8;
const BURST: Duration = Duration::from_millis(1500);
const KILL_AFTER: Duration = Duration::from_millis(800);

/// What one task of the burst saw: acknowledged (name, version, value), other answers, no answers.
#[derive(Debug, Default)]
struct Seen {
    acknowledged: Vec<(String, u64, String)>,
    other: Vec<(u16, Value)>,
    unanswered: usize,
}

/// Each task writes new versions of its own secret and, every third write, a new secret.
async fn hammer(api: Api, admin: String, task: usize, until: Instant) -> Seen {
    let mut seen = Seen::default();
    let mut n = 0;
    while Instant::now() < until {
        n += 1;
        let name = if n % 3 == 0 {
            format!("burst-{task}-new-{n}")
        } else {
            format!("burst-{task}")
        };
        let value = format!("value-{task}-{n}-{}", "x".repeat(200));
        let body = json!({"type": "generic", "data": {"v": value}});
        match api
            .try_call(Method::PUT, &format!("/v1/secrets/{name}"), Some(&admin), Some(&body))
            .await
        {
            Ok(reply) if reply.status == 200 || reply.status == 201 => {
                let version = reply.body["version"].as_u64().unwrap_or(0);
                seen.acknowledged.push((name, version, value));
            }
            Ok(reply) => seen.other.push((reply.status, reply.body)),
            Err(_) => {
                seen.unanswered += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_secret_version_opens_after_kill_9() {
    let sandbox = Sandbox::new();
    sandbox.write_config(&format!("{CHEAP_ARGON2}vault:\n  keep_versions: 1000\n"));
    let mut server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);

    let started = Instant::now();
    let until = started + BURST;
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(hammer(api.clone(), admin.clone(), t, until)))
        .collect();
    tokio::time::sleep(KILL_AFTER).await;
    server.kill();

    let mut acknowledged = Vec::new();
    let mut unanswered = 0;
    for task in tasks {
        let joined = tokio::time::timeout(BURST + Duration::from_secs(15), task).await;
        let Ok(Ok(seen)) = joined else {
            unreachable!("a burst task did not finish: {joined:?}")
        };
        assert!(
            seen.other.is_empty(),
            "writes answered with something else: {:?}",
            seen.other
        );
        acknowledged.extend(seen.acknowledged);
        unanswered += seen.unanswered;
    }
    eprintln!(
        "burst: {} versions acknowledged, {unanswered} unanswered",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > 20,
        "only {} writes acknowledged before the kill",
        acknowledged.len()
    );
    assert!(unanswered > 0, "the kill did not land mid-burst");

    // Let one agent read everything under `burst-` by policy, then restart on the same directory.
    let policy = "rules:\n  - name: reader-reads-the-burst\n    effect: allow\n    actions: [\"secret:read\"]\n    \
                  resources: [\"secret:burst-*\"]\n    conditions: {path: principal.name, op: eq, value: reader}\n";
    write(&sandbox.data.join("policies").join("burst.yaml"), policy.as_bytes());
    let restarted = Server::start(&sandbox, &Options::default()).await;
    let api = Api::new(plain_client(), &restarted.base);
    api.create_agent(&admin, "reader", &[], Some(PASSWORD)).await;
    let token = api.password_login("reader", PASSWORD).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut lost = Vec::new();
    for (name, version, value) in &acknowledged {
        let reply = api
            .get(&format!("/v1/secrets/{name}?version={version}"), Some(&token))
            .await;
        if reply.status != 200 || reply.body["data"]["v"] != json!(value) {
            lost.push((name.clone(), *version, reply.status));
        }
    }
    assert!(
        lost.is_empty(),
        "acknowledged versions lost or wrong after kill -9: {lost:?}"
    );
}
