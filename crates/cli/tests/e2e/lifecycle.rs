//! Stopping and refusing to start: SIGTERM stops `serve` cleanly, and a wrong master key stops it
//! before it changes anything.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server, plain_client, write};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_serve_cleanly() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let mut server = Server::start(&sandbox, &Options::default()).await;
    let api = Api::new(plain_client(), &server.base);
    assert_eq!(api.get("/readyz", None).await.status, 200);

    let status = server.terminate(Duration::from_secs(5)).await;
    let Some(status) = status else {
        unreachable!("serve was still running 5 s after SIGTERM")
    };
    assert!(
        status.success(),
        "serve exited with {status} after SIGTERM:\n{}",
        server.stderr_text()
    );
    let log = server.stderr_text();
    assert!(
        log.contains("shutting down"),
        "serve did not log that it was shutting down:\n{log}"
    );
    let refused = api.try_call(reqwest::Method::GET, "/healthz", None, None).await;
    assert!(refused.is_err(), "something still answers after the stop: {refused:?}");

    // It starts again on the same data directory.
    let again = Server::start(&sandbox, &Options::default()).await;
    assert_eq!(
        Api::new(plain_client(), &again.base).get("/readyz", None).await.status,
        200
    );
}

/// SHA-256 of `name` in the data directory, `None` when it does not exist.
fn file_digest(sandbox: &Sandbox, name: &str) -> Option<Vec<u8>> {
    std::fs::read(sandbox.data.join(name))
        .ok()
        .map(|bytes| digest(&SHA256, &bytes).as_ref().to_vec())
}

/// Whether the data directory holds a SQLite write-ahead log with anything in it.
fn wal_has_content(sandbox: &Sandbox) -> bool {
    std::fs::metadata(sandbox.data.join("warden.db-wal")).is_ok_and(|m| m.len() > 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_master_key_stops_serve_and_changes_nothing() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let mut server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    api.create_agent(&admin, "keyed_bot", &["context:read"], Some(PASSWORD))
        .await;
    let stopped = server.terminate(Duration::from_secs(10)).await;
    assert!(
        stopped.is_some_and(|s| s.success()),
        "serve did not stop cleanly: {stopped:?}"
    );
    drop(server);

    // A clean stop leaves everything in warden.db itself.
    let before = file_digest(&sandbox, "warden.db");
    assert!(before.is_some(), "no warden.db after the first run");
    assert!(
        !wal_has_content(&sandbox),
        "a clean stop must checkpoint the write-ahead log into warden.db"
    );
    let key_path = sandbox.data.join("master.key");
    let original_key = crate::harness::read_text(&key_path);
    let mut other = [0_u8; 32];
    assert!(aws_lc_rs::rand::fill(&mut other).is_ok());
    write(&key_path, format!("{}\n", STANDARD.encode(other)).as_bytes());
    let private = std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600));
    assert!(private.is_ok(), "chmod 600 master.key: {private:?}");

    let (status, stderr) = Server::start_failing(&sandbox, &Options::default()).await;
    assert!(!status.success(), "serve must refuse a wrong master key");
    assert!(
        stderr.contains("master key"),
        "the error must name the master key:\n{stderr}"
    );
    assert_eq!(
        file_digest(&sandbox, "warden.db"),
        before,
        "a refused start must leave warden.db as it was"
    );
    assert!(
        !wal_has_content(&sandbox),
        "a refused start must not write to the store"
    );

    // With the right key back, the data directory works as before.
    write(&key_path, original_key.as_bytes());
    let server = Server::start(&sandbox, &Options::default()).await;
    let api = Api::new(plain_client(), &server.base);
    api.password_login("keyed_bot", PASSWORD).await;
}
