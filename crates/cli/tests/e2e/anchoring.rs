//! Anchoring on a real local chain: `ganache` (npm, installed by scripts/test.sh and named by
//! `WARDEN_TEST_GANACHE`) runs on loopback; Warden anchors its checkpoints there with
//! `eth_sendTransaction`; the test reads the transaction back from the chain itself and finds the
//! checkpoint's size and root in it, and `warden ledger verify --chain-rpc` agrees. A chain that is down
//! raises `ledger.anchor_failed` alerts while decisions keep being recorded.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::harness::{Api, CHEAP_ARGON2, Options, Sandbox, Server, plain_client};

/// Ganache's first account with `--wallet.deterministic`.
const ACCOUNT: &str = "0x90f8bf6a479f320ead074411a4b0e7944ea8c9c1";

struct Chain {
    child: Child,
    url: String,
}

impl Drop for Chain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let Ok(port) = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
    else {
        unreachable!("bind loopback")
    };
    port
}

async fn rpc(url: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply = plain_client().post(url).json(&body).send().await;
    let Ok(reply) = reply else {
        return Value::Null;
    };
    reply
        .json::<Value>()
        .await
        .map(|v| v["result"].clone())
        .unwrap_or(Value::Null)
}

async fn start_chain() -> Option<Chain> {
    let Ok(ganache) = std::env::var("WARDEN_TEST_GANACHE") else {
        eprintln!(
            "SKIPPED: ledger anchoring on a local chain (WARDEN_TEST_GANACHE is unset; scripts/test.sh installs ganache)"
        );
        return None;
    };
    let port = free_port();
    let child = Command::new(ganache)
        .args(["--server.host", "127.0.0.1", "--server.port", &port.to_string()])
        .args(["--wallet.deterministic", "--logging.quiet", "--chain.chainId", "1337"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| unreachable!("WARDEN_TEST_GANACHE is set but ganache does not start: {e}"));
    let chain = Chain {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while rpc(&chain.url, "eth_chainId", json!([])).await.is_null() {
        assert!(Instant::now() < deadline, "ganache did not answer within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Some(chain)
}

fn config(rpc_url: &str) -> String {
    format!(
        "{CHEAP_ARGON2}ledger:\n  checkpoint_interval: 1\n  anchor:\n    rpc_url: \"{rpc_url}\"\n    from: \"{ACCOUNT}\"\n    interval: 1\n"
    )
}

/// Waits for a checkpoint with an anchor; the checkpoint.
async fn anchored_checkpoint(api: &Api) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = api.get("/v1/ledger/checkpoints?limit=1000", None).await;
        let anchored = reply
            .body
            .as_array()
            .into_iter()
            .flatten()
            .rev()
            .find(|c| !c["anchor"].is_null())
            .cloned();
        if let Some(checkpoint) = anchored {
            return checkpoint;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint was anchored within 60 s: {:?}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_anchored_on_a_real_local_chain() {
    let Some(chain) = start_chain().await else {
        return;
    };
    let sandbox = Sandbox::new();
    sandbox.write_config(&config(&chain.url));
    let server = Server::start(&sandbox, &Options::default()).await;
    let api = Api::new(plain_client(), &server.base);
    let admin = sandbox.admin_token();
    api.create_agent(&admin, "anchored", &[], None).await;

    let checkpoint = anchored_checkpoint(&api).await;
    let anchor = &checkpoint["anchor"];
    let tx_hash = anchor["tx_hash"].as_str().unwrap_or_default();
    // Read the transaction from the chain, not from Warden.
    let transaction = rpc(&chain.url, "eth_getTransactionByHash", json!([tx_hash])).await;
    assert!(!transaction.is_null(), "transaction {tx_hash} is not on the chain");
    let size = checkpoint["size"].as_u64().unwrap_or_default();
    let root = STANDARD
        .decode(checkpoint["root_hash"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let mut expected = b"WLDG".to_vec();
    expected.extend_from_slice(&size.to_be_bytes());
    expected.extend_from_slice(&root);
    let expected = format!("0x{}", expected.iter().map(|b| format!("{b:02x}")).collect::<String>());
    assert_eq!(
        transaction["input"].as_str().map(str::to_ascii_lowercase),
        Some(expected),
        "{transaction}"
    );
    let block = u64::from_str_radix(
        transaction["blockNumber"]
            .as_str()
            .unwrap_or("0x0")
            .trim_start_matches("0x"),
        16,
    );
    assert_eq!(
        block.ok(),
        anchor["block_number"].as_u64(),
        "the stored block is the transaction's"
    );
    let receipt = rpc(&chain.url, "eth_getTransactionReceipt", json!([tx_hash])).await;
    assert_eq!(receipt["status"], "0x1");

    // The auditor's command checks every anchor against the chain.
    let (status, out, err) = sandbox.run_bounded(
        sandbox.client_command(&server, None, &["ledger", "verify", "--chain-rpc", &chain.url]),
        Duration::from_secs(60),
    );
    assert_eq!(status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("anchors found on the chain"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_that_is_down_raises_alerts_and_never_blocks_appends() {
    let sandbox = Sandbox::new();
    // Nothing listens on this port.
    sandbox.write_config(&config(&format!("http://127.0.0.1:{}", free_port())));
    let server = Server::start(&sandbox, &Options::default()).await;
    let api = Api::new(plain_client(), &server.base);
    let admin = sandbox.admin_token();
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in 0.. {
        // Appends go on: every registration is answered and recorded.
        api.create_agent(&admin, &format!("agent_{n}"), &[], None).await;
        let events = api.all_events(&admin).await;
        let failed = events.iter().any(|e| e["event"]["kind"] == "ledger.anchor_failed");
        if failed {
            let checkpoints = api.get("/v1/ledger/checkpoints", None).await;
            assert!(
                checkpoints
                    .body
                    .as_array()
                    .is_some_and(|c| c.iter().all(|c| c["anchor"].is_null()))
            );
            return;
        }
        assert!(Instant::now() < deadline, "no ledger.anchor_failed alert within 30 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
