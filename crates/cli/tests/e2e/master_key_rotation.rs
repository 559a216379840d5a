//! kill -9 during a master-key rotation of a few thousand secrets: the restart finishes (or never
//! began) the rotation, every secret opens to its value, and the key file holds the key in use.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server, plain_client, read_text, write};

const SECRETS: usize = 2_000;
const WRITERS: usize = 8;

async fn read_all(api: &Api, token: &str) -> Vec<String> {
    let mut wrong = Vec::new();
    for i in 0..SECRETS {
        let reply = api.get(&format!("/v1/secrets/mk-{i}"), Some(token)).await;
        if reply.status != 200 || reply.body["data"]["v"] != json!(i) {
            wrong.push(format!("mk-{i}: {}", reply.status));
        }
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rotation_killed_half_way_is_finished_by_the_next_start() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let policy = "rules:\n  - name: reader-reads\n    effect: allow\n    actions: [\"secret:read\"]\n    \
                  resources: [\"secret:mk-*\"]\n    conditions: {path: principal.name, op: eq, value: reader}\n";
    assert!(std::fs::create_dir_all(sandbox.data.join("policies")).is_ok());
    write(&sandbox.data.join("policies").join("reader.yaml"), policy.as_bytes());
    let mut server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    api.create_agent(&admin, "reader", &[], Some(PASSWORD)).await;

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (api, admin) = (api.clone(), admin.clone());
            tokio::spawn(async move {
                for i in (w..SECRETS).step_by(WRITERS) {
                    let body = json!({"type": "generic", "data": {"v": i}});
                    let reply = api
                        .call(Method::PUT, &format!("/v1/secrets/mk-{i}"), Some(&admin), Some(&body))
                        .await;
                    assert_eq!(reply.status, 201, "storing mk-{i}: {:?}", reply.body);
                }
            })
        })
        .collect();
    for writer in writers {
        assert!(writer.await.is_ok());
    }
    let original_key = read_text(&sandbox.data.join("master.key"));

    // Ask for a rotation and kill the server while it works.
    let rotating = {
        let (api, admin) = (api.clone(), admin.clone());
        tokio::spawn(async move {
            api.try_call(Method::POST, "/v1/vault/rotate-master-key", Some(&admin), None)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(40)).await;
    server.kill();
    let answered = rotating.await.ok().and_then(Result::ok).map(|r| r.status);
    let next_path = sandbox.data.join("master.key.next");
    let interrupted = next_path.exists();
    let next_key = interrupted.then(|| read_text(&next_path));
    eprintln!("rotation answered: {answered:?}; master.key.next left behind: {interrupted}");

    let restarted = Server::start(&sandbox, &Options::default()).await;
    let api = Api::new(plain_client(), &restarted.base);
    assert!(!next_path.exists(), "the start finished the rotation");
    let key_now = read_text(&sandbox.data.join("master.key"));
    match (&next_key, answered) {
        (Some(next), _) => assert_eq!(&key_now, next, "the interrupted rotation's key is the key now"),
        (None, Some(200)) => assert_ne!(key_now, original_key, "a finished rotation replaced the key"),
        (None, _) => {}
    }
    let token = api.password_login("reader", PASSWORD).await["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let wrong = read_all(&api, &token).await;
    assert!(
        wrong.is_empty(),
        "secrets lost or wrong after the crash: {:?}",
        &wrong[..wrong.len().min(10)]
    );

    // And a full rotation from there, through the CLI, moves every record.
    let (status, stdout, stderr) = sandbox.run_client(&restarted, &admin, &["vault", "rotate-master-key"]);
    assert!(status.success(), "warden vault rotate-master-key: {stderr}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_default();
    assert_eq!(answer["records_rewrapped"], json!(SECRETS), "{stdout}");
    assert_ne!(read_text(&sandbox.data.join("master.key")), key_now);
    assert!(read_all(&api, &token).await.is_empty());
}
