//! Runs the real `warden` binary in a temporary directory and talks to it over HTTP(S).
//!
//! Every wait has a deadline, every loop a bound; the server listens on 127.0.0.1 only, and a
//! [`Server`] kills its process when dropped, so a failing test never leaves one behind.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

/// The built binary under test.
pub const WARDEN: &str = env!("CARGO_BIN_EXE_warden");

/// A password the default policy accepts.
pub const PASSWORD: &str = "Correct-Horse-42!";

/// argon2 at a cost that keeps the suite fast; only for tests that are not about argon2.
pub const CHEAP_ARGON2: &str = "auth:\n  argon2: {memory_kib: 256, iterations: 1, parallelism: 1}\n";

/// How long a server may take to answer `/healthz` after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Attempts at finding a free port before giving up.
const PORT_ATTEMPTS: usize = 5;

/// Environment variables that would change what the server does; removed from every child.
const WARDEN_ENV: [&str; 8] = [
    "WARDEN_LISTEN",
    "WARDEN_STORE_URL",
    "WARDEN_LOG",
    "WARDEN_LOG_FORMAT",
    "WARDEN_MASTER_KEY",
    "WARDEN_DATA_DIR",
    "WARDEN_ADDR",
    "WARDEN_TOKEN",
];

static LAUNCHES: AtomicUsize = AtomicUsize::new(0);

/// A temporary directory: the data directory is `<root>/data`, logs go to `<root>`.
#[derive(Debug)]
pub struct Sandbox {
    root: tempfile::TempDir,
    pub data: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let Ok(root) = tempfile::tempdir() else {
            unreachable!("cannot create a temporary directory")
        };
        let data = root.path().join("data");
        Sandbox { root, data }
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Writes `warden.yaml` into the data directory (creating the directory), replacing any.
    pub fn write_config(&self, yaml: &str) {
        let created = std::fs::create_dir_all(&self.data);
        assert!(created.is_ok(), "create {}: {created:?}", self.data.display());
        write(&self.data.join("warden.yaml"), yaml.as_bytes());
    }

    /// The admin token from the data directory.
    pub fn admin_token(&self) -> String {
        read_text(&self.data.join("admin.token")).trim().to_owned()
    }

    /// Runs `warden ARGS…` to completion (bounded) and returns its status, stdout and stderr.
    pub fn run(&self, args: &[&str]) -> (ExitStatus, String, String) {
        let mut command = Command::new(WARDEN);
        command.args(args);
        for name in WARDEN_ENV {
            command.env_remove(name);
        }
        self.run_bounded(command, Duration::from_secs(30))
    }

    /// Runs `warden ARGS…` as a client of `server` (`WARDEN_ADDR`) with `token` in `WARDEN_TOKEN`.
    pub fn run_client(&self, server: &Server, token: &str, args: &[&str]) -> (ExitStatus, String, String) {
        self.run_bounded(self.client_command(server, Some(token), args), Duration::from_secs(30))
    }

    /// `warden ARGS…` as a client of `server`: with `token` in `WARDEN_TOKEN`, or without one (so admin
    /// commands read the admin token from `WARDEN_DATA_DIR`, the sandbox's data directory).
    pub fn client_command(&self, server: &Server, token: Option<&str>, args: &[&str]) -> Command {
        let mut command = Command::new(WARDEN);
        command.args(args);
        for name in WARDEN_ENV {
            command.env_remove(name);
        }
        command
            .env("WARDEN_ADDR", &server.base)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        match token {
            Some(token) => command.env("WARDEN_TOKEN", token),
            None => command.env("WARDEN_DATA_DIR", &self.data),
        };
        command
    }

    /// Runs `command` in the sandbox with its output in files, waiting at most `limit`.
    pub fn run_bounded(&self, command: Command, limit: Duration) -> (ExitStatus, String, String) {
        self.run_with_input(command, None, limit)
    }

    /// Runs `command` in the sandbox with `input` piped to its standard input (so the input is never in
    /// a file; none: /dev/null) and its output in files, waiting at most `limit`.
    pub fn run_with_input(
        &self,
        mut command: Command,
        input: Option<&[u8]>,
        limit: Duration,
    ) -> (ExitStatus, String, String) {
        let out = self
            .root()
            .join(format!("run-{}.stdout", LAUNCHES.fetch_add(1, Ordering::Relaxed)));
        let err = out.with_extension("stderr");
        let (Ok(stdout), Ok(stderr)) = (std::fs::File::create(&out), std::fs::File::create(&err)) else {
            unreachable!("cannot create log files in {}", self.root().display())
        };
        let stdin = if input.is_some() { Stdio::piped() } else { Stdio::null() };
        let spawned = command
            .current_dir(self.root())
            .stdin(stdin)
            .stdout(stdout)
            .stderr(stderr)
            .spawn();
        let Ok(mut child) = spawned else {
            unreachable!("cannot run {command:?}: {spawned:?}")
        };
        if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
            // The inputs are small (well under a pipe's buffer), so this cannot block on a child that
            // does not read; the pipe is closed when `pipe` drops, which ends the child's input.
            let written = std::io::Write::write_all(&mut pipe, input);
            assert!(written.is_ok(), "write to {command:?}: {written:?}");
        }
        let Some(status) = wait_exit(&mut child, limit) else {
            let _ = child.kill();
            let _ = child.wait();
            unreachable!("{command:?} did not finish within {limit:?}")
        };
        (status, read_text(&out), read_text(&err))
    }
}

/// How to start `warden serve`.
#[derive(Debug, Default)]
pub struct Options {
    /// Extra environment for the server process.
    pub env: Vec<(String, String)>,
    /// Serve over TLS: the client used to probe `/healthz` (it must trust the server certificate).
    pub https: Option<reqwest::Client>,
}

/// A running `warden serve`; killed (SIGKILL) when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub base: String,
    pub port: u16,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits up to `limit` for `child` to exit.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) | Err(_) => return None,
        }
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0");
    let Ok(port) = listener.and_then(|l| l.local_addr()).map(|a| a.port()) else {
        unreachable!("cannot bind 127.0.0.1:0")
    };
    port
}

/// What became of an attempt to start.
enum Launch {
    Ready(Server),
    /// The process exited; its status and stderr.
    Exited(ExitStatus, String),
}

impl Server {
    /// Starts `warden serve --data-dir <sandbox>/data --listen 127.0.0.1:PORT` and waits for
    /// `/healthz`. Retries on another port when the chosen one was taken meanwhile.
    pub async fn start(sandbox: &Sandbox, options: &Options) -> Server {
        for _ in 0..PORT_ATTEMPTS {
            match Self::launch(sandbox, options).await {
                Launch::Ready(server) => return server,
                Launch::Exited(_, stderr) if stderr.contains("cannot listen") => continue,
                Launch::Exited(status, stderr) => unreachable!("warden serve exited with {status}:\n{stderr}"),
            }
        }
        unreachable!("no free port after {PORT_ATTEMPTS} attempts")
    }

    /// Starts `warden serve` expecting it to fail; returns its exit status and stderr.
    pub async fn start_failing(sandbox: &Sandbox, options: &Options) -> (ExitStatus, String) {
        match Self::launch(sandbox, options).await {
            Launch::Exited(status, stderr) => (status, stderr),
            Launch::Ready(server) => unreachable!(
                "warden serve started although it should not have (stderr: {})",
                server.stderr_text()
            ),
        }
    }

    async fn launch(sandbox: &Sandbox, options: &Options) -> Launch {
        let port = free_port();
        let n = LAUNCHES.fetch_add(1, Ordering::Relaxed);
        let stdout = sandbox.root().join(format!("serve-{n}.stdout"));
        let stderr = sandbox.root().join(format!("serve-{n}.stderr"));
        let (Ok(out), Ok(err)) = (std::fs::File::create(&stdout), std::fs::File::create(&stderr)) else {
            unreachable!("cannot create log files in {}", sandbox.root().display())
        };
        let mut command = Command::new(WARDEN);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(&sandbox.data)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .current_dir(sandbox.root());
        for name in WARDEN_ENV {
            command.env_remove(name);
        }
        command.env("NO_COLOR", "1");
        for (name, value) in &options.env {
            command.env(name, value);
        }
        let spawned = command.stdin(Stdio::null()).stdout(out).stderr(err).spawn();
        let Ok(child) = spawned else {
            unreachable!("cannot run {WARDEN}: {spawned:?}")
        };
        let scheme = if options.https.is_some() { "https" } else { "http" };
        let mut server = Server {
            child,
            base: format!("{scheme}://127.0.0.1:{port}"),
            port,
            stdout,
            stderr,
        };
        let probe = options.https.clone().unwrap_or_else(plain_client);
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Launch::Exited(status, server.stderr_text());
            }
            let answer = probe
                .get(format!("{}/healthz", server.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            // Our own process must say it listens: a healthy answer alone could come from another
            // server that took the port between `free_port` and our bind.
            if answer.is_ok_and(|r| r.status().is_success()) && server.stderr_text().contains("Warden listening") {
                return Launch::Ready(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        unreachable!(
            "warden serve did not become healthy within {READY_TIMEOUT:?}:\n{}",
            server.stderr_text()
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, and reap the process.
    pub fn kill(&mut self) {
        let killed = self.child.kill();
        assert!(killed.is_ok(), "kill: {killed:?}");
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits up to `limit` for the exit status (`None` if it is still running).
    pub async fn terminate(&mut self, limit: Duration) -> Option<ExitStatus> {
        let sent = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        assert!(sent.as_ref().is_ok_and(|s| s.success()), "kill -TERM failed: {sent:?}");
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(20)).await,
                Ok(None) | Err(_) => return None,
            }
        }
    }

    pub fn stdout_text(&self) -> String {
        read_text(&self.stdout)
    }

    pub fn stderr_text(&self) -> String {
        read_text(&self.stderr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

pub fn read_text(path: &Path) -> String {
    let read = std::fs::read(path);
    let Ok(bytes) = read else {
        unreachable!("read {}: {read:?}", path.display())
    };
    String::from_utf8_lossy(&bytes).into_owned()
}

pub fn write(path: &Path, bytes: &[u8]) {
    let written = std::fs::write(path, bytes);
    assert!(written.is_ok(), "write {}: {written:?}", path.display());
}

/// A plain-HTTP client that never goes through a proxy.
pub fn plain_client() -> reqwest::Client {
    let built = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build();
    let Ok(client) = built else {
        unreachable!("build the HTTP client: {built:?}")
    };
    client
}

/// An answer from the server.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub request_id: Option<String>,
}

impl Reply {
    /// A string field of the body, or "" when absent.
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }
}

/// A client bound to one server.
#[derive(Debug, Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub fn new(http: reqwest::Client, base: &str) -> Api {
        Api {
            http,
            base: base.to_owned(),
        }
    }

    /// Sends a request; `Err` only when no HTTP answer came back.
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Reply {
            status,
            body,
            request_id,
        })
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Reply {
        match self.try_call(method.clone(), path, token, body).await {
            Ok(reply) => reply,
            Err(error) => unreachable!("{method} {path}: no answer: {error}"),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Registers an agent (admin) and returns its id.
    pub async fn create_agent(&self, admin: &str, name: &str, scopes: &[&str], password: Option<&str>) -> String {
        let mut body = json!({
            "name": name, "roles": ["researcher"], "capabilities": ["web_search"], "scopes": scopes, "tier": "standard",
        });
        if let Some(password) = password {
            body["password"] = json!(password);
        }
        let reply = self.post("/v1/agents", Some(admin), &body).await;
        assert_eq!(reply.status, 201, "create agent {name}: {:?}", reply.body);
        let id = reply.str("id");
        assert!(!id.is_empty(), "agent without id: {:?}", reply.body);
        id
    }

    /// Logs in with a password; asserts success and returns the answer's body.
    pub async fn password_login(&self, name: &str, password: &str) -> Value {
        let reply = self
            .post("/v1/auth/login", None, &json!({ "identity": name, "secret": password }))
            .await;
        assert_eq!(reply.status, 200, "password login as {name}: {:?}", reply.body);
        reply.body
    }

    /// Every audit event, paging through `/v1/events`.
    pub async fn all_events(&self, admin: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut after = -1_i64; // "after" is the last index seen; the log starts at 0
        for _ in 0..1000 {
            let reply = self
                .get(&format!("/v1/events?after={after}&limit=1000"), Some(admin))
                .await;
            assert_eq!(reply.status, 200, "events: {:?}", reply.body);
            let Some(page) = reply.body.as_array() else {
                unreachable!("events page is not an array: {:?}", reply.body)
            };
            let Some(last) = page.last() else { return events };
            let Some(index) = last["index"].as_i64() else {
                unreachable!("event without index: {last:?}")
            };
            assert!(index > after, "event paging went backwards: {index} after {after}");
            after = index;
            events.extend(page.iter().cloned());
        }
        unreachable!("more than 1000 pages of events")
    }
}

/// A log filter for servers whose output is searched for secrets: `debug`, and `trace` for Warden's crates.
pub const LOG_FILTER: &str =
    "debug,warden_server=trace,warden_store=trace,warden_identity=trace,warden_core=trace,warden=trace";

/// Everything a server's output or files must not contain, with a label for the failure message.
#[derive(Debug, Default)]
pub struct Secrets(pub Vec<(String, String)>);

impl Secrets {
    pub fn add(&mut self, label: &str, value: &str) {
        assert!(value.len() >= 16, "{label} is too short to search for: {value:?}");
        self.0.push((label.to_owned(), value.to_owned()));
    }

    /// A token, and separately its signature: the part that cannot be forged.
    pub fn token(&mut self, label: &str, token: &str) {
        self.add(label, token);
        let Some(signature) = token.rsplit('.').next() else {
            unreachable!("{label} is not a JWS")
        };
        self.add(&format!("{label} (signature)"), signature);
    }

    /// Both tokens of a login answer.
    pub fn pair(&mut self, label: &str, answer: &Value) {
        self.token(&format!("{label} access token"), &field(answer, "access_token"));
        self.token(&format!("{label} refresh token"), &field(answer, "refresh_token"));
    }

    /// The labels of those found in `haystack`.
    pub fn found_in(&self, haystack: &[u8]) -> Vec<String> {
        self.0
            .iter()
            .filter(|(_, value)| haystack.windows(value.len()).any(|w| w == value.as_bytes()))
            .map(|(label, _)| label.clone())
            .collect()
    }
}

/// A JSON string field, or "" when absent.
pub fn field(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}
