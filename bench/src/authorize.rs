//! `POST /v1/authorize` over HTTP against the real `warden` binary: 32 concurrent agents asking
//! decisions under a 1,000-rule policy for a fixed time; decisions per second and p50/p99 latency.
//!
//! Every decision is a full request: token verification, the agent's registry record and live grants
//! read from the store, the engine, and the audit event written durably before the answer.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::{Value, json};

use crate::quantile;
use crate::server::{create_and_log_in, run_clients, start};

const CLIENTS: usize = 32;
const POLICY_AGENTS: usize = 100;
const RULES_PER_AGENT: usize = 10;
const GLOBAL_DENIES: usize = 5;

/// 1,000 per-agent allow rules (each pinned to one agent by name) and a few global denies.
fn policy() -> String {
    let mut yaml = String::from("rules:\n");
    for agent in 0..POLICY_AGENTS {
        for rule in 0..RULES_PER_AGENT {
            yaml.push_str(&format!(
                "  - name: agent-{agent:03}-rule-{rule}\n    effect: allow\n    priority: 10\n    \
                 actions: [\"task:execute\", \"task:read\"]\n    resources: [\"task:agent-{agent:03}/r{rule}/**\"]\n    \
                 conditions: {{path: principal.name, op: eq, value: bench_{agent:03}}}\n"
            ));
        }
    }
    for deny in 0..GLOBAL_DENIES {
        yaml.push_str(&format!(
            "  - name: global-deny-{deny}\n    effect: deny\n    priority: 100\n    actions: [\"*\"]\n    \
             resources: [\"task:agent-*/r{deny}/blocked/**\"]\n"
        ));
    }
    yaml
}

/// The i-th request of agent `agent` and the decision it must get: its own resource (allow), another
/// agent's (deny: no rule), or a globally blocked one (deny: a deny rule wins).
fn request(agent: usize, i: usize) -> (Value, &'static str) {
    let rule = i % RULES_PER_AGENT;
    match i % 3 {
        0 => (
            json!({"action": "task:execute", "resource": format!("task:agent-{agent:03}/r{rule}/job-{i}")}),
            "allow",
        ),
        1 => (
            json!({"action": "task:execute", "resource": format!("task:agent-{:03}/r{rule}/job-{i}", (agent + 1) % POLICY_AGENTS)}),
            "deny",
        ),
        _ => (
            json!({"action": "task:read", "resource": format!("task:agent-{agent:03}/r{}/blocked/x", i % GLOBAL_DENIES)}),
            "deny",
        ),
    }
}

pub fn run(binary: &str, seconds: u64) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let (_server, base, admin) = start(binary, dir.path(), &runtime)?;
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let text = policy();
        let started = Instant::now();
        let reply = client
            .put(format!("{base}/v1/policies"))
            .bearer_auth(&admin)
            .header("content-type", "application/yaml")
            .body(text)
            .send()
            .await?;
        if !reply.status().is_success() {
            bail!("PUT /v1/policies: {} {}", reply.status(), reply.text().await?);
        }
        let rules = reply.json::<Value>().await?["rules"].as_array().map_or(0, Vec::len);
        println!(
            "policy: {rules} rules activated over HTTP in {:.1} ms",
            started.elapsed().as_secs_f64() * 1e3
        );

        let mut tokens = Vec::with_capacity(CLIENTS);
        for agent in 0..CLIENTS {
            tokens.push(create_and_log_in(&client, &base, &admin, &format!("bench_{agent:03}")).await?);
        }
        let ask = move |client: reqwest::Client, token: String, agent: usize, i: usize| {
            let base = base.clone();
            async move {
                let (body, expected) = request(agent, i);
                let reply = client
                    .post(format!("{base}/v1/authorize"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                let status = reply.status();
                let answer = reply.json::<Value>().await?;
                if !status.is_success() || answer["decision"] != expected {
                    bail!("request {body} got {status} {answer}, expected {expected}");
                }
                anyhow::Ok(())
            }
        };
        let (samples, elapsed) = run_clients(tokens, Duration::from_secs(seconds), ask).await?;
        println!(
            "POST /v1/authorize, {CLIENTS} concurrent clients, {seconds} s: {} decisions = {:.0} decisions/s; \
             p50 {:.2} ms, p99 {:.2} ms (every answer checked)",
            samples.len(),
            samples.len() as f64 / elapsed.as_secs_f64(),
            quantile(&samples, 0.50) as f64 / 1e6,
            quantile(&samples, 0.99) as f64 / 1e6,
        );
        anyhow::Ok(())
    })
}
