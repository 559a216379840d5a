//! First start: `serve` and `init` on an empty directory create the data directory, print the admin
//! token exactly once, and later starts reuse everything.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::harness::{Api, Options, Sandbox, Server, plain_client};

const CREATED: [&str; 4] = ["warden.yaml", "policies/default.yaml", "master.key", "admin.token"];

fn mode(path: &Path) -> u32 {
    let metadata = std::fs::metadata(path);
    let Ok(metadata) = metadata else {
        unreachable!("stat {}: {metadata:?}", path.display())
    };
    metadata.permissions().mode() & 0o777
}

/// The files `init` creates, by name, with their bytes.
fn snapshot(data: &Path) -> BTreeMap<&'static str, Vec<u8>> {
    CREATED
        .iter()
        .map(|name| {
            let read = std::fs::read(data.join(name));
            let Ok(bytes) = read else {
                unreachable!("read {name}: {read:?}")
            };
            (*name, bytes)
        })
        .collect()
}

fn assert_created(data: &Path) {
    for name in CREATED {
        assert!(
            data.join(name).is_file(),
            "{name} was not created in {}",
            data.display()
        );
    }
    assert_eq!(mode(&data.join("master.key")), 0o600, "master.key must be private");
    assert_eq!(mode(&data.join("admin.token")), 0o600, "admin.token must be private");
    assert_eq!(mode(data) & 0o077, 0, "the data directory must not be open to others");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_creates_the_data_directory_and_prints_the_admin_token_once() {
    let sandbox = Sandbox::new();
    assert!(!sandbox.data.exists());
    let mut server = Server::start(&sandbox, &Options::default()).await;
    assert_created(&sandbox.data);
    let token = sandbox.admin_token();
    assert!(
        token.starts_with("wdn_admin_") && token.len() > 40,
        "admin token looks wrong: {token:?}"
    );
    let stdout = server.stdout_text();
    assert_eq!(
        stdout.matches(token.as_str()).count(),
        1,
        "the admin token must be printed exactly once:\n{stdout}"
    );
    assert!(
        !server.stderr_text().contains(token.as_str()),
        "the admin token must not reach the log"
    );

    // The token works, and what is created now must survive the restart.
    let api = Api::new(plain_client(), &server.base);
    let id = api
        .create_agent(&token, "first_start_bot", &["context:read"], None)
        .await;
    let before = snapshot(&sandbox.data);
    let stopped = server.terminate(Duration::from_secs(10)).await;
    assert!(
        stopped.is_some_and(|s| s.success()),
        "serve did not stop cleanly: {stopped:?}"
    );

    let second = Server::start(&sandbox, &Options::default()).await;
    let stdout = second.stdout_text();
    assert!(
        !stdout.contains(token.as_str()),
        "a second start must not print the admin token:\n{stdout}"
    );
    assert!(
        !stdout.contains("admin token"),
        "a second start must not announce an admin token:\n{stdout}"
    );
    assert_eq!(
        snapshot(&sandbox.data),
        before,
        "a second start must reuse the files as they are"
    );
    let api = Api::new(plain_client(), &second.base);
    let reply = api.get(&format!("/v1/agents/{id}"), Some(&token)).await;
    assert_eq!(reply.status, 200, "the agent from the first run: {:?}", reply.body);
    assert_eq!(reply.str("name"), "first_start_bot");
}

#[test]
fn init_alone_creates_the_data_directory_without_serving() {
    let sandbox = Sandbox::new();
    let data = sandbox.data.display().to_string();
    let (status, stdout, stderr) = sandbox.run(&["init", "--data-dir", &data]);
    assert!(status.success(), "warden init failed: {status}\n{stderr}");
    assert_created(&sandbox.data);
    assert!(!sandbox.data.join("warden.db").exists(), "init must not open the store");
    let token = sandbox.admin_token();
    assert_eq!(
        stdout.matches(token.as_str()).count(),
        1,
        "init prints the admin token once:\n{stdout}"
    );
    let before = snapshot(&sandbox.data);

    let (status, stdout, stderr) = sandbox.run(&["init", "--data-dir", &data]);
    assert!(status.success(), "a second warden init failed: {status}\n{stderr}");
    assert!(
        !stdout.contains(token.as_str()),
        "a second init must not print the admin token:\n{stdout}"
    );
    assert_eq!(snapshot(&sandbox.data), before, "a second init must change nothing");
}
