//! `GET /v1/secrets/{name}` over HTTP against the real `warden` binary: 32 agents, each holding a grant
//! on its own 1 KiB secret (and none on the others), read concurrently for a fixed time; reads per
//! second and p50/p99. Every answer is checked: the right plaintext, or a refusal where one is due.
//!
//! Each read is the whole door: token verification, the agent's record and grants, the policy decision
//! with the secret's grant, the store read, envelope open, and the `secret.read` audit event committed
//! before the answer.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};

use crate::quantile;
use crate::server::{create_and_log_in, run_clients, start};

const CLIENTS: usize = 32;

fn value(agent: usize) -> String {
    // 1 KiB of data per secret.
    format!("{agent:04}-{}", "k".repeat(1019))
}

pub fn run(binary: &str, seconds: u64) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let (_server, base, admin) = start(binary, dir.path(), &runtime)?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut tokens = Vec::with_capacity(CLIENTS);
        for agent in 0..CLIENTS {
            let name = format!("reader_{agent:03}");
            tokens.push(create_and_log_in(&client, &base, &admin, &name).await?);
            let secret = json!({"type": "api_key", "data": {"key": value(agent)}});
            let stored = client
                .put(format!("{base}/v1/secrets/bench%2F{agent:03}"))
                .bearer_auth(&admin)
                .json(&secret)
                .send()
                .await?;
            if !stored.status().is_success() {
                bail!("storing secret {agent}: {}", stored.status());
            }
            let shared = client
                .post(format!("{base}/v1/secrets/bench%2F{agent:03}/grants"))
                .bearer_auth(&admin)
                .json(&json!({"agent_id": name}))
                .send()
                .await?;
            if !shared.status().is_success() {
                bail!("sharing secret {agent}: {}", shared.status());
            }
        }
        let ask = move |client: reqwest::Client, token: String, agent: usize, i: usize| {
            let base = base.clone();
            async move {
                // Nine reads of its own secret, then one of a neighbour's, which must be refused.
                let target = if i % 10 == 9 { (agent + 1) % CLIENTS } else { agent };
                let reply = client
                    .get(format!("{base}/v1/secrets/bench%2F{target:03}"))
                    .bearer_auth(&token)
                    .send()
                    .await?;
                let status = reply.status();
                let answer = reply.json::<Value>().await?;
                let right = if target == agent {
                    status.is_success() && answer["data"]["key"] == value(agent)
                } else {
                    status == reqwest::StatusCode::FORBIDDEN
                };
                if !right {
                    bail!("agent {agent} reading secret {target} got {status}");
                }
                anyhow::Ok(())
            }
        };
        let (samples, elapsed) = run_clients(tokens, Duration::from_secs(seconds), ask).await?;
        println!(
            "GET /v1/secrets/{{name}}, {CLIENTS} concurrent clients, {seconds} s: {} reads = {:.0} reads/s; \
             p50 {:.2} ms, p99 {:.2} ms (one in ten refused; every answer checked)",
            samples.len(),
            samples.len() as f64 / elapsed.as_secs_f64(),
            quantile(&samples, 0.50) as f64 / 1e6,
            quantile(&samples, 0.99) as f64 / 1e6,
        );
        anyhow::Ok(())
    })
}

/// `POST /v1/vault/rotate-master-key` over `count` stored secrets: the whole rotation as the admin
/// sees it (re-sealing keys, re-wrapping every record in batches, the key file replaced).
pub fn run_rotation(binary: &str, count: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let (_server, base, admin) = start(binary, dir.path(), &runtime)?;
    runtime.block_on(async {
        let writers: Vec<_> = (0..16)
            .map(|w| {
                let (base, admin) = (base.clone(), admin.clone());
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    for i in (w..count).step_by(16) {
                        let body = json!({"type": "api_key", "data": {"key": value(i)}});
                        let reply = client
                            .put(format!("{base}/v1/secrets/rot-{i}"))
                            .bearer_auth(&admin)
                            .json(&body)
                            .send()
                            .await?;
                        if !reply.status().is_success() {
                            bail!("storing rot-{i}: {}", reply.status());
                        }
                    }
                    anyhow::Ok(())
                })
            })
            .collect();
        for writer in writers {
            writer.await??;
        }
        let client = reqwest::Client::new();
        for round in 1..=3 {
            let started = Instant::now();
            let reply = client
                .post(format!("{base}/v1/vault/rotate-master-key"))
                .bearer_auth(&admin)
                .send()
                .await?;
            let elapsed = started.elapsed();
            let status = reply.status();
            let body = reply.json::<Value>().await?;
            if !status.is_success() || body["records_rewrapped"] != json!(count) {
                bail!("rotation {round}: {status} {body}");
            }
            println!(
                "master-key rotation {round} of {count} secrets (1 KiB each): {:.0} ms over HTTP ({} records re-wrapped, {} keys re-sealed)",
                elapsed.as_secs_f64() * 1e3,
                body["records_rewrapped"],
                body["keys_resealed"]
            );
        }
        anyhow::Ok(())
    })
}
