//! The ledger end to end: kill -9 during a burst of decisions loses no acknowledged decision, the
//! restarted ledger verifies (from the server and offline from the data directory) and extends the
//! checkpoint published before the kill; and `warden ledger verify` catches an edited, deleted,
//! rewritten or rolled-back ledger, naming where.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::{Connection, SqliteConnection};
use warden_ledger::{Hash, leaf_bytes, leaf_hash, parse_leaf, verify_inclusion};

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server, field, plain_client, write};

const POLICY: &str =
    "rules:\n  - name: readers\n    effect: allow\n    actions: [\"doc:read\"]\n    resources: [\"doc:**\"]\n";
const BURST: Duration = Duration::from_millis(1500);
const KILL_AFTER: Duration = Duration::from_millis(800);

fn ledger(sandbox: &Sandbox, server: &Server, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["ledger"];
    all.extend_from_slice(args);
    let (status, out, err) = sandbox.run_bounded(sandbox.client_command(server, None, &all), Duration::from_secs(60));
    (status.code().unwrap_or(-1), out, err)
}

fn offline_verify(sandbox: &Sandbox) -> (i32, String, String) {
    let data = sandbox.data.to_string_lossy().into_owned();
    let (status, out, err) = sandbox.run(&["ledger", "verify", "--data-dir", &data]);
    (status.code().unwrap_or(-1), out, err)
}

async fn setup(sandbox: &Sandbox, server: &Server) -> (Api, String) {
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    let body = json!({ "files": [{ "name": "rules.yaml", "text": POLICY }] });
    let put = api.call(Method::PUT, "/v1/policies", Some(&admin), Some(&body)).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    api.create_agent(&admin, "reader", &[], Some(PASSWORD)).await;
    let token = field(&api.password_login("reader", PASSWORD).await, "access_token");
    (api, token)
}

async fn hammer(api: Api, token: String, until: Instant) -> Vec<(u64, String)> {
    let mut acknowledged = Vec::new();
    let body = json!({"action": "doc:read", "resource": "doc:a"});
    while Instant::now() < until {
        match api
            .try_call(Method::POST, "/v1/authorize", Some(&token), Some(&body))
            .await
        {
            Ok(reply) if reply.status == 200 => {
                let index = reply.body["ledger_index"]
                    .as_u64()
                    .unwrap_or_else(|| unreachable!("{:?}", reply.body));
                acknowledged.push((index, reply.str("decision_id")));
            }
            // Eight tasks on an idle machine can pass the built-in 1000 requests/second per client IP:
            // a refused request was never acknowledged, so it only waits and tries again.
            Ok(reply) if reply.status == 429 => tokio::time::sleep(Duration::from_millis(50)).await,
            Ok(reply) => unreachable!("a decision answered {}: {:?}", reply.status, reply.body),
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_decisions_survive_kill_9_and_the_ledger_still_verifies() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let mut server = Server::start(&sandbox, &Options::default()).await;
    let (api, token) = setup(&sandbox, &server).await;

    // A checkpoint published before the burst, saved as an auditor would save it.
    let (code, before, err) = ledger(&sandbox, &server, &["checkpoint", "--sign"]);
    assert_eq!(code, 0, "{err}");
    let saved = sandbox.root().join("before.txt");
    write(&saved, before.as_bytes());

    let until = Instant::now() + BURST;
    let tasks: Vec<_> = (0..8)
        .map(|_| tokio::spawn(hammer(api.clone(), token.clone(), until)))
        .collect();
    tokio::time::sleep(KILL_AFTER).await;
    server.kill();
    let mut acknowledged = Vec::new();
    for task in tasks {
        let Ok(Ok(seen)) = tokio::time::timeout(BURST + Duration::from_secs(15), task).await else {
            unreachable!("a burst task did not finish")
        };
        acknowledged.extend(seen);
    }
    assert!(
        acknowledged.len() > 20,
        "only {} decisions before the kill",
        acknowledged.len()
    );

    let server = Server::start(&sandbox, &Options::default()).await;
    let api = Api::new(plain_client(), &server.base);
    let admin = sandbox.admin_token();
    for (index, decision_id) in &acknowledged {
        let entry = api.get(&format!("/v1/ledger/entries/{index}"), Some(&admin)).await;
        assert_eq!(
            entry.status, 200,
            "acknowledged decision {index} is gone after kill -9: {:?}",
            entry.body
        );
        assert_eq!(
            entry.body["event"]["details"]["decision_id"],
            json!(decision_id),
            "entry {index}"
        );
    }

    // The whole ledger verifies from the server, from public routes only, and offline.
    let (code, out, err) = ledger(&sandbox, &server, &["verify"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("ledger verified"), "{out}");
    let (code, out, err) = ledger(&sandbox, &server, &["verify", "--public"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = offline_verify(&sandbox);
    assert_eq!(code, 0, "{out}\n{err}");

    // A new checkpoint extends the one published before the kill.
    let (code, _, err) = ledger(&sandbox, &server, &["checkpoint", "--sign"]);
    assert_eq!(code, 0, "{err}");
    let saved = saved.to_string_lossy().into_owned();
    let (code, out, err) = ledger(&sandbox, &server, &["proof", "--since", &saved]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("extends"), "{out}");
    let index = acknowledged[acknowledged.len() / 2].0.to_string();
    let (code, out, err) = ledger(&sandbox, &server, &["proof", "--index", &index]);
    assert_eq!(code, 0, "{out}\n{err}");

    // The export's proofs verify against its checkpoint with the pure verifier.
    let export = sandbox.root().join("export.jsonl");
    let (code, _, err) = ledger(&sandbox, &server, &["export", "-o", &export.to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&export).unwrap_or_default();
    let lines: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(lines.len() > acknowledged.len());
    for line in lines.iter().step_by(37) {
        let decode = |v: &Value| -> Hash {
            let bytes = STANDARD.decode(v.as_str().unwrap_or_default()).unwrap_or_default();
            <Hash>::try_from(bytes.as_slice()).unwrap_or_else(|_| unreachable!("hash"))
        };
        let path: Vec<Hash> = line["proof"]["path"]
            .as_array()
            .into_iter()
            .flatten()
            .map(decode)
            .collect();
        let size = line["proof"]["size"].as_u64().unwrap_or_default();
        let index = line["index"].as_u64().unwrap_or_default();
        let verified = verify_inclusion(
            &decode(&line["leaf_hash"]),
            index,
            size,
            &path,
            &decode(&line["proof"]["root"]),
        );
        assert!(verified.is_ok(), "export line {index}: {verified:?}");
    }
}

/// One stored row, to put back after a tampering case.
struct Row {
    idx: i64,
    leaf: Vec<u8>,
    hash: Vec<u8>,
}

async fn rows(db: &Path) -> Vec<Row> {
    let mut conn = open(db).await;
    let rows: Vec<(i64, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT idx, leaf, leaf_hash FROM ledger_entries ORDER BY idx")
            .fetch_all(&mut conn)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
    rows.into_iter()
        .map(|(idx, leaf, hash)| Row { idx, leaf, hash })
        .collect()
}

async fn open(db: &Path) -> SqliteConnection {
    let url = format!("sqlite://{}", db.display());
    SqliteConnection::connect(&url)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"))
}

async fn execute(db: &Path, sql: &'static str, idx: i64, leaf: &[u8], hash: &[u8]) {
    let mut conn = open(db).await;
    sqlx::query(sql)
        .bind(idx)
        .bind(leaf)
        .bind(hash)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| unreachable!("{e}"));
}

async fn restore(db: &Path, all: &[Row]) {
    for row in all {
        execute(
            db,
            "INSERT INTO ledger_entries (idx, timestamp, leaf, leaf_hash) VALUES ($1, 0, $2, $3) \
             ON CONFLICT (idx) DO UPDATE SET leaf = excluded.leaf, leaf_hash = excluded.leaf_hash",
            row.idx,
            &row.leaf,
            &row.hash,
        )
        .await;
    }
}

fn assert_caught(sandbox: &Sandbox, what: &str, expected: &str) {
    let (code, out, err) = offline_verify(sandbox);
    assert_eq!(code, 1, "{what} was not caught:\n{out}\n{err}");
    assert!(err.contains(expected), "{what}: expected `{expected}` in:\n{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledger_verify_catches_edits_deletions_rewrites_and_rollbacks() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let mut server = Server::start(&sandbox, &Options::default()).await;
    let (api, token) = setup(&sandbox, &server).await;
    for _ in 0..10 {
        let reply = api
            .post(
                "/v1/authorize",
                Some(&token),
                &json!({"action": "doc:read", "resource": "doc:a"}),
            )
            .await;
        assert_eq!(reply.status, 200);
    }
    let (code, _, err) = ledger(&sandbox, &server, &["checkpoint", "--sign"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        server.terminate(Duration::from_secs(20)).await.is_some(),
        "warden did not stop"
    );
    let (code, out, err) = offline_verify(&sandbox);
    assert_eq!(code, 0, "the untouched ledger verifies:\n{out}\n{err}");

    let db = sandbox.data.join("warden.db");
    let original = rows(&db).await;
    assert!(original.len() > 12);

    // One flipped byte in one stored event.
    let mut edited = original[3].leaf.clone();
    edited[20] ^= 0x01;
    execute(
        &db,
        "UPDATE ledger_entries SET leaf = $2 WHERE idx = $1 AND $3 = $3",
        3,
        &edited,
        &[],
    )
    .await;
    assert_caught(&sandbox, "an edited event", "entry 3 does not match its leaf hash");
    restore(&db, &original).await;

    // A deleted event.
    execute(
        &db,
        "DELETE FROM ledger_entries WHERE idx = $1 AND $2 = $2 AND $3 = $3",
        5,
        &[],
        &[],
    )
    .await;
    assert_caught(&sandbox, "a deleted event", "entry 5 is missing");
    restore(&db, &original).await;

    // An event rewritten together with its leaf hash: only the signed checkpoint can tell.
    let Ok((index, mut event)) = parse_leaf(&original[7].leaf) else {
        unreachable!("a stored leaf parses")
    };
    event.outcome = warden_core::AuditOutcome::Denied;
    let forged = leaf_bytes(index, &event);
    execute(
        &db,
        "UPDATE ledger_entries SET leaf = $2, leaf_hash = $3 WHERE idx = $1",
        7,
        &forged,
        &leaf_hash(&forged),
    )
    .await;
    assert_caught(&sandbox, "a rewritten event", "were rewritten");
    restore(&db, &original).await;

    // The log rolled back below a published checkpoint.
    let last = original.len() as i64;
    for idx in (last - 3)..last {
        execute(
            &db,
            "DELETE FROM ledger_entries WHERE idx = $1 AND $2 = $2 AND $3 = $3",
            idx,
            &[],
            &[],
        )
        .await;
    }
    assert_caught(&sandbox, "a rolled-back log", "rolled back");
    restore(&db, &original).await;

    let (code, out, err) = offline_verify(&sandbox);
    assert_eq!(code, 0, "restored, it verifies again:\n{out}\n{err}");
}
