//! The real `warden` binary: memory while holding N agents, and login throughput at the configured
//! argon2id cost (the shipped default, m=19456 KiB t=2 p=1).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

pub const PASSWORD: &str = "Correct-Horse-42!";

pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).context("no VmRSS")?;
    Ok(line.split_whitespace().nth(1).context("VmRSS value")?.parse()?)
}

pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts `binary` on a fresh data directory and waits until it is ready: the server, its base URL
/// and the admin token.
pub fn start(
    binary: &str,
    dir: &std::path::Path,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<(Server, String, String)> {
    let port = free_port()?;
    let child = Command::new(binary)
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("WARDEN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {binary}"))?;
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let admin = runtime.block_on(wait_ready(&base, dir))?;
    Ok((server, base, admin))
}

pub fn run(binary: &str, agents: usize) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let (server, base, admin) = start(binary, dir.path(), &runtime)?;
    let pid = server.0.id();
    println!("idle server: {} KiB resident", rss_kib(pid)?);

    let client = reqwest::Client::new();
    runtime.block_on(async {
        for i in 0..agents {
            let body = json!({"name": format!("agent_{i:05}"), "roles": ["worker"], "scopes": ["task:execute"],
                "capabilities": ["search"], "password": PASSWORD});
            let reply = client
                .post(format!("{base}/v1/agents"))
                .bearer_auth(&admin)
                .json(&body)
                .send()
                .await?;
            if !reply.status().is_success() {
                bail!("creating agent {i}: {}", reply.status());
            }
        }
        anyhow::Ok(())
    })?;
    println!("holding {agents} agents: {} KiB resident", rss_kib(pid)?);

    let (count, elapsed) = runtime.block_on(login_burst(&base, agents, 8, Duration::from_secs(10)))?;
    println!(
        "password logins: {count} in {:.1} s = {:.1} logins/s (8 concurrent clients, argon2id m=19456 t=2 p=1)",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
    println!("after the login burst: {} KiB resident", rss_kib(pid)?);
    drop(server);
    Ok(())
}

pub async fn wait_ready(base: &str, dir: &std::path::Path) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(reply) = reqwest::get(format!("{base}/readyz")).await
            && reply.status().is_success()
        {
            return Ok(std::fs::read_to_string(dir.join("admin.token"))?.trim().to_owned());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("warden did not become ready")
}

async fn login_burst(base: &str, agents: usize, clients: usize, length: Duration) -> anyhow::Result<(u64, Duration)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let base = base.to_owned();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut done = 0u64;
            let mut i = c;
            while started.elapsed() < length {
                let body = json!({"identity": format!("agent_{:05}", i % agents), "secret": PASSWORD});
                let reply = client.post(format!("{base}/v1/auth/login")).json(&body).send().await?;
                if !reply.status().is_success() {
                    bail!("login failed: {}", reply.status());
                }
                done += 1;
                i += clients;
            }
            anyhow::Ok(done)
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok((total, started.elapsed()))
}

/// Creates agent `name` (as the admin) with the benchmark password and logs it in: its access token.
pub async fn create_and_log_in(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    name: &str,
) -> anyhow::Result<String> {
    let body = json!({"name": name, "roles": ["worker"], "password": PASSWORD});
    let created = client
        .post(format!("{base}/v1/agents"))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await?;
    if !created.status().is_success() {
        bail!("creating {name}: {}", created.status());
    }
    let login = client
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({"identity": name, "secret": PASSWORD}))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?;
    Ok(login["access_token"].as_str().context("access token")?.to_owned())
}

/// One client per token, each asking `ask(client, token, agent, i)` (which checks its own answer) in a
/// loop for `length`: every request's latency in nanoseconds, sorted, and the time the run took.
pub async fn run_clients<F, Fut>(tokens: Vec<String>, length: Duration, ask: F) -> anyhow::Result<(Vec<u64>, Duration)>
where
    F: Fn(reqwest::Client, String, usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (agent, token) in tokens.into_iter().enumerate() {
        let ask = ask.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut samples = Vec::new();
            let mut i = 0;
            while started.elapsed() < length {
                let sent = Instant::now();
                ask(client.clone(), token.clone(), agent, i).await?;
                samples.push(sent.elapsed().as_nanos() as u64);
                i += 1;
            }
            anyhow::Ok(samples)
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    let elapsed = started.elapsed();
    samples.sort_unstable();
    Ok((samples, elapsed))
}
