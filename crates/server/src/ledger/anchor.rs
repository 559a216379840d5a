//! Anchoring a checkpoint on an Ethereum-compatible chain over JSON-RPC: one transaction per anchored
//! checkpoint (never per event) whose input data is
//!
//! ```text
//! "WLDG" (4 bytes) || tree size (8 bytes, big-endian) || root hash (32 bytes)
//! ```
//!
//! sent with `eth_sendTransaction` from an account the node holds the key of (a local node, a signer
//! such as Clef, or a test chain's unlocked account). Warden holds no chain key itself. Once the receipt
//! says the transaction succeeded, its hash and block number are stored with the checkpoint, so anyone
//! can look the transaction up and compare its input with the checkpoint.

use std::time::Duration;

use serde_json::{Value, json};
use warden_store::CheckpointRecord;

use crate::config::ledger::AnchorConfig;

const RECEIPT_WAIT: Duration = Duration::from_secs(60);
const RECEIPT_POLL: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("the chain node could not be reached: {0}")]
    Transport(String),
    #[error("the chain node refused `{method}`: {message}")]
    Rpc { method: &'static str, message: String },
    #[error("the chain node's answer to `{0}` is malformed")]
    Malformed(&'static str),
    #[error("the anchor transaction was not mined within {0} seconds")]
    NotMined(u64),
    #[error("the anchor transaction failed on chain")]
    Reverted,
}

/// The input data of the transaction that anchors `size` and `root`, as 0x-hex.
pub fn anchor_data(size: u64, root: &[u8; 32]) -> String {
    format!("0x{}", hex(&warden_ledger::anchor_payload(size, root)))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends the anchor transaction for `checkpoint` and waits for its receipt; what to store with it.
pub async fn anchor_checkpoint(
    client: &reqwest::Client,
    config: &AnchorConfig,
    checkpoint: &CheckpointRecord,
) -> Result<Value, AnchorError> {
    let chain_id = rpc(client, &config.rpc_url, "eth_chainId", json!([])).await?;
    let chain_id = quantity(&chain_id).ok_or(AnchorError::Malformed("eth_chainId"))?;
    let data = anchor_data(checkpoint.size, &checkpoint.root_hash);
    let transaction = json!({"from": config.from, "to": config.to, "value": "0x0", "data": data});
    let sent = rpc(client, &config.rpc_url, "eth_sendTransaction", json!([transaction])).await?;
    let tx_hash = sent
        .as_str()
        .filter(|h| h.len() == 66 && h.starts_with("0x"))
        .ok_or(AnchorError::Malformed("eth_sendTransaction"))?
        .to_owned();
    let deadline = tokio::time::Instant::now() + RECEIPT_WAIT;
    let receipt = loop {
        let receipt = rpc(client, &config.rpc_url, "eth_getTransactionReceipt", json!([tx_hash])).await?;
        if !receipt.is_null() {
            break receipt;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(AnchorError::NotMined(RECEIPT_WAIT.as_secs()));
        }
        tokio::time::sleep(RECEIPT_POLL).await;
    };
    if receipt.get("status").and_then(quantity) != Some(1) {
        return Err(AnchorError::Reverted);
    }
    let block_number = receipt
        .get("blockNumber")
        .and_then(quantity)
        .ok_or(AnchorError::Malformed("eth_getTransactionReceipt"))?;
    Ok(json!({
        "chain_id": chain_id,
        "tx_hash": tx_hash,
        "block_number": block_number,
        "from": config.from,
        "data": data,
    }))
}

/// One JSON-RPC 2.0 call; its `result`.
pub async fn rpc(
    client: &reqwest::Client,
    url: &str,
    method: &'static str,
    params: Value,
) -> Result<Value, AnchorError> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let response = client
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| AnchorError::Transport(e.without_url().to_string()))?;
    let answer: Value = response
        .json()
        .await
        .map_err(|e| AnchorError::Transport(e.without_url().to_string()))?;
    if let Some(error) = answer.get("error") {
        let message = error.get("message").and_then(Value::as_str).unwrap_or("no message");
        return Err(AnchorError::Rpc {
            method,
            message: message.chars().take(200).collect(),
        });
    }
    answer.get("result").cloned().ok_or(AnchorError::Malformed(method))
}

/// A JSON-RPC quantity (`"0x1a"`).
pub fn quantity(value: &Value) -> Option<u64> {
    u64::from_str_radix(value.as_str()?.strip_prefix("0x")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::anchor_data;

    #[test]
    fn anchor_data_is_magic_then_size_then_root() {
        let data = anchor_data(0x0102, &[0xab; 32]);
        assert_eq!(&data[..10], "0x574c4447");
        assert_eq!(&data[10..26], "0000000000000102");
        assert_eq!(&data[26..], "ab".repeat(32));
    }
}
