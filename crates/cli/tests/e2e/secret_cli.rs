//! `warden secret` against a real `warden serve`: the README's vault step (the admin stores a key from
//! standard input and shares it with one agent for an hour; that agent reads it, another is refused,
//! both reads are audited), what `list` and `expiring` show (metadata, never a value), and a whole
//! lifecycle under debug logging after which no plaintext is in the server's output or in any file of
//! its data directory.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{
    Api, CHEAP_ARGON2, LOG_FILTER, Options, PASSWORD, Sandbox, Secrets, Server, field, plain_client, read_text,
};

const OPENAI_KEY: &str = "sk-proj-e2e-ThisIsTheOpenAiKey-5f4e3d2c1b";

/// The README's vault step, word for word after `cargo run -q --bin warden --`.
const README_PUT: [&str; 8] = [
    "secret",
    "put",
    "openai",
    "--type",
    "api_key",
    "--tag",
    "llm",
    "--from-stdin",
];
const README_SHARE: [&str; 6] = ["secret", "share", "openai", "research_bot", "--ttl", "1h"];
const README_GET: [&str; 5] = ["secret", "get", "openai", "--field", "api_key"];

/// A client run: the server, and the token in `WARDEN_TOKEN` (none: the data directory's admin.token).
struct Cli<'a> {
    sandbox: &'a Sandbox,
    server: &'a Server,
}

impl Cli<'_> {
    fn run(&self, token: Option<&str>, args: &[&str], input: Option<&str>) -> (ExitStatus, String, String) {
        let command = self.sandbox.client_command(self.server, token, args);
        self.sandbox
            .run_with_input(command, input.map(str::as_bytes), Duration::from_secs(30))
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, token: Option<&str>, args: &[&str], input: Option<&str>) -> String {
        let (status, stdout, stderr) = self.run(token, args, input);
        assert!(
            status.success(),
            "warden {args:?} exited with {status}\n{stdout}\n{stderr}"
        );
        stdout
    }

    /// Runs and expects exit status 1; returns stderr.
    fn fails(&self, token: Option<&str>, args: &[&str], input: Option<&str>) -> String {
        let (status, stdout, stderr) = self.run(token, args, input);
        assert_eq!(status.code(), Some(1), "warden {args:?}\n{stdout}\n{stderr}");
        assert!(stdout.is_empty(), "a failure prints nothing on stdout: {stdout}");
        stderr
    }
}

fn json_of(stdout: &str) -> Value {
    let parsed = serde_json::from_str::<Value>(stdout);
    let Ok(value) = parsed else {
        unreachable!("not JSON: {stdout:?}")
    };
    value
}

/// Every `warden -- secret …` command in the README, as argument lists.
fn readme_secret_commands() -> Vec<Vec<String>> {
    let readme = read_text(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"));
    readme
        .lines()
        .filter_map(|line| line.split_once("--bin warden -- secret "))
        .map(|(_, rest)| {
            let end = rest.find([';', ')']).unwrap_or(rest.len());
            std::iter::once("secret")
                .chain(rest[..end].split_whitespace())
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

async fn login(api: &Api, name: &str) -> String {
    field(&api.password_login(name, PASSWORD).await, "access_token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_vault_step_shares_a_key_for_an_hour_and_refuses_another_agent() {
    // The README runs exactly these commands, and nothing else under `warden secret`.
    let ours: Vec<Vec<String>> = [&README_PUT[..], &README_SHARE, &README_GET]
        .iter()
        .map(|args| args.iter().map(|a| (*a).to_owned()).collect())
        .collect();
    let theirs = readme_secret_commands();
    assert!(!theirs.is_empty(), "the README shows no `warden secret` command");
    for command in &theirs {
        assert!(
            ours.contains(command),
            "the README runs {command:?}, which this test does not"
        );
    }
    for command in &ours {
        assert!(
            theirs.contains(command),
            "this test runs {command:?}, which the README does not show"
        );
    }

    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    let research = api.create_agent(&admin, "research_bot", &[], Some(PASSWORD)).await;
    let writer = api.create_agent(&admin, "writer_bot", &[], Some(PASSWORD)).await;
    let research_token = login(&api, "research_bot").await;
    let writer_token = login(&api, "writer_bot").await;
    let cli = Cli {
        sandbox: &sandbox,
        server: &server,
    };

    // The admin (its token from the data directory) stores the key from standard input.
    let value = format!("{{\"api_key\": \"{OPENAI_KEY}\"}}\n");
    let (status, stdout, stderr) = cli.run(None, &README_PUT, Some(&value));
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.is_empty(),
        "no warning when the value comes from stdin: {stderr}"
    );
    let stored = json_of(&stdout);
    assert_eq!(
        (&stored["name"], &stored["version"], &stored["type"]),
        (&json!("openai"), &json!(1), &json!("api_key")),
        "{stored}"
    );
    assert!(!stdout.contains(OPENAI_KEY), "{stdout}");

    // Not shared yet: default deny.
    let early = cli.fails(Some(&research_token), &README_GET, None);
    assert!(early.contains("denied"), "{early}");

    let shared = json_of(&cli.ok(None, &README_SHARE, None));
    assert_eq!(shared["agent_id"], json!(research), "{shared}");
    assert!(shared["expires_at"].is_string(), "a share for an hour ends: {shared}");

    // research_bot reads it: the raw value for `$(…)`, or the whole data as JSON.
    let (status, stdout, stderr) = cli.run(Some(&research_token), &README_GET, None);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, format!("{OPENAI_KEY}\n"));
    assert!(stderr.is_empty(), "{stderr}");
    let data = json_of(&cli.ok(Some(&research_token), &["secret", "get", "openai"], None));
    assert_eq!(data, json!({ "api_key": OPENAI_KEY }));

    // writer_bot, not shared with, is refused; so is the admin token, which reads no values.
    let refused = cli.fails(Some(&writer_token), &README_GET, None);
    assert!(
        refused.contains("denied") && refused.contains("secret:openai"),
        "{refused}"
    );
    assert!(!refused.contains(OPENAI_KEY), "{refused}");
    let admin_read = cli.fails(Some(&admin), &README_GET, None);
    assert!(
        admin_read.contains("denied") && admin_read.contains("admin"),
        "{admin_read}"
    );

    // Both attempts are audit events naming the secret and the agent, never the value.
    let events = api.all_events(&admin).await;
    let reads: Vec<&Value> = events
        .iter()
        .map(|e| &e["event"])
        .filter(|e| e["kind"] == "secret.read")
        .collect();
    let outcomes: Vec<(String, String)> = reads.iter().map(|e| (field(e, "actor"), field(e, "outcome"))).collect();
    assert!(
        outcomes.contains(&(research.clone(), "success".to_owned())),
        "{outcomes:?}"
    );
    assert!(outcomes.contains(&(writer, "denied".to_owned())), "{outcomes:?}");
    assert!(reads.iter().all(|e| e["resource"] == "secret:openai"), "{reads:?}");
    let all = serde_json::to_string(&events).unwrap_or_default();
    assert!(
        !all.is_empty() && !all.contains(OPENAI_KEY),
        "a value in the audit trail"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_expiring_show_metadata_never_a_value() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    api.create_agent(&admin, "research_bot", &[], Some(PASSWORD)).await;
    let research_token = login(&api, "research_bot").await;
    let cli = Cli {
        sandbox: &sandbox,
        server: &server,
    };
    let db_password = "db-password-List-Never-Shows-77";
    let note = "a-note-that-list-never-shows-31";

    let file = sandbox.root().join("openai.json");
    crate::harness::write(&file, format!("{{\"api_key\": \"{OPENAI_KEY}\"}}").as_bytes());
    let file_arg = file.display().to_string();
    let args = ["secret", "put", "openai", "--type", "api_key", "--data-file", &file_arg];
    cli.ok(
        Some(&admin),
        &[&args[..], &["--tag", "llm", "--tag", "prod"]].concat(),
        None,
    );
    let db = format!("{{\"username\": \"app\", \"password\": \"{db_password}\"}}");
    let args = [
        "secret",
        "put",
        "db/main",
        "--type",
        "database",
        "--from-stdin",
        "--rotation-days",
        "5",
    ];
    cli.ok(None, &args, Some(&db));
    // `--data` works, and says where the value went.
    let note_json = format!("{{\"text\": \"{note}\"}}");
    let args = ["secret", "put", "notes", "--type", "generic", "--data", &note_json];
    let (status, _, stderr) = cli.run(
        None,
        &[&args[..], &["--expires-at", "2099-01-01T00:00:00Z"]].concat(),
        None,
    );
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("shell history"), "--data warns: {stderr}");
    assert!(!stderr.contains(note), "{stderr}");

    let listed = cli.ok(None, &["secret", "list"], None);
    for value in [OPENAI_KEY, db_password, note] {
        assert!(!listed.contains(value), "list printed a value: {listed}");
    }
    let listed = json_of(&listed);
    let secrets = listed["secrets"].as_array().cloned().unwrap_or_default();
    let names: Vec<String> = secrets.iter().map(|s| field(s, "name")).collect();
    assert_eq!(names.len(), 3, "{listed}");
    for name in ["openai", "db/main", "notes"] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
    assert!(secrets.iter().all(|s| s.get("data").is_none()), "{listed}");
    let Some(db_view) = secrets.iter().find(|s| s["name"] == "db/main") else {
        unreachable!("db/main not listed")
    };
    assert_eq!(db_view["type"], "database");
    assert_eq!(db_view["rotation_days"], 5);
    assert_eq!(db_view["owner"], "admin");
    let tagged = json_of(&cli.ok(None, &["secret", "list", "--tag", "llm"], None));
    assert_eq!(tagged["secrets"].as_array().map(Vec::len), Some(1), "{tagged}");
    assert_eq!(tagged["secrets"][0]["tags"], json!(["llm", "prod"]));
    // An agent lists only what it owns or may read: nothing yet.
    let theirs = json_of(&cli.ok(Some(&research_token), &["secret", "list"], None));
    assert_eq!(theirs["secrets"], json!([]), "{theirs}");

    // db/main rotates every 5 days; the others on the configured 90 (api_key, generic).
    let week = json_of(&cli.ok(None, &["secret", "expiring"], None));
    assert_eq!(week["days"], 7);
    let due: Vec<String> = week["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| field(s, "name"))
        .collect();
    assert_eq!(due, ["db/main"], "{week}");
    let year = cli.ok(None, &["secret", "expiring", "--days", "365"], None);
    assert!(!year.contains(OPENAI_KEY), "{year}");
    let year = json_of(&year);
    let Some(openai) = year["secrets"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "openai"))
    else {
        unreachable!("openai not expiring within 365 days: {year}")
    };
    assert_eq!(
        (&openai["reason"], &openai["overdue"], &openai["type"]),
        (&json!("rotation"), &json!(false), &json!("api_key"))
    );
    assert_eq!(year["secrets"].as_array().map(Vec::len), Some(3), "{year}");

    // Refusals say why, without repeating what was typed.
    let stderr = cli.fails(
        None,
        &["secret", "put", "x", "--type", "generic", "--from-stdin"],
        Some(note),
    );
    assert!(stderr.contains("not JSON") && !stderr.contains(note), "{stderr}");
    let stderr = cli.fails(
        None,
        &["secret", "put", "openai", "--type", "password", "--from-stdin"],
        Some("{\"p\": \"x\"}"),
    );
    assert!(stderr.contains("409") && stderr.contains("type"), "{stderr}");
    let stderr = cli.fails(Some(&research_token), &["secret", "expiring"], None);
    assert!(stderr.contains("403"), "{stderr}");
}

/// Every file under `dir`, recursively, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            unreachable!("read {}", next.display())
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.push((path, bytes));
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_in_debug_logs_or_the_data_directory_after_a_whole_lifecycle() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let options = Options {
        env: vec![("WARDEN_LOG".into(), LOG_FILTER.into())],
        https: None,
    };
    let mut server = Server::start(&sandbox, &options).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    let agent = api.create_agent(&admin, "research_bot", &[], Some(PASSWORD)).await;
    let token = login(&api, "research_bot").await;
    let cli = Cli {
        sandbox: &sandbox,
        server: &server,
    };
    let (first, second, third) = (
        "first-Plaintext-Qx27Lm9Rt4Wz",
        "second-Plaintext-Hn38Vb5Kc1Jp",
        "third-Plaintext-Zr64Ty0Ug8Ds",
    );
    let other = "other-Plaintext-Ab12Cd34Ef56";
    let mut plaintexts = Secrets::default();
    for (label, value) in [
        ("version 1", first),
        ("version 2", second),
        ("version 3", third),
        ("other secret", other),
    ] {
        plaintexts.add(label, value);
    }
    let data = |password: &str| format!("{{\"username\": \"app\", \"password\": \"{password}\"}}");

    // Version 1 from stdin, version 2 from a file (outside the data directory), version 3 by rotation.
    let put = [
        "secret",
        "put",
        "db/main",
        "--type",
        "database",
        "--from-stdin",
        "--tag",
        "prod",
    ];
    cli.ok(None, &put, Some(&data(first)));
    let file = sandbox.root().join("v2.json");
    crate::harness::write(&file, data(second).as_bytes());
    let file_arg = file.display().to_string();
    let written = json_of(&cli.ok(
        None,
        &[
            "secret",
            "put",
            "db/main",
            "--type",
            "database",
            "--data-file",
            &file_arg,
        ],
        None,
    ));
    assert_eq!(written["version"], 2, "{written}");
    let rotated = json_of(&cli.ok(
        None,
        &["secret", "rotate", "db/main", "--from-stdin"],
        Some(&data(third)),
    ));
    assert_eq!(rotated["version"], 3, "{rotated}");
    let other_json = format!("{{\"api_key\": \"{other}\"}}");
    cli.ok(
        None,
        &["secret", "put", "openai", "--type", "api_key", "--data", &other_json],
        None,
    );

    // Shared, read at every version, listed, then unshared and deleted.
    cli.ok(None, &["secret", "share", "db/main", &agent], None);
    let current = json_of(&cli.ok(Some(&token), &["secret", "get", "db/main"], None));
    assert_eq!(current["password"], third);
    let older = cli.ok(
        Some(&token),
        &["secret", "get", "db/main", "--version", "2", "--field", "password"],
        None,
    );
    assert_eq!(older, format!("{second}\n"));
    let oldest = cli.ok(
        Some(&token),
        &["secret", "get", "db/main", "--version", "1", "--field", "password"],
        None,
    );
    assert_eq!(oldest, format!("{first}\n"));
    let listed = cli.ok(Some(&token), &["secret", "list"], None);
    assert!(
        listed.contains("db/main") && plaintexts.found_in(listed.as_bytes()).is_empty(),
        "{listed}"
    );
    let unshared = cli.ok(None, &["secret", "unshare", "db/main", "research_bot"], None);
    assert!(unshared.contains("no longer shared"), "{unshared}");
    let refused = cli.fails(Some(&token), &["secret", "get", "db/main"], None);
    assert!(refused.contains("denied"), "{refused}");
    let deleted = cli.ok(None, &["secret", "delete", "db/main"], None);
    assert!(deleted.contains("deleted"), "{deleted}");
    let gone = cli.fails(None, &["secret", "delete", "db/main"], None);
    assert!(gone.contains("404"), "{gone}");

    // Stop, so that everything the server would write is written.
    let stopped = server.terminate(Duration::from_secs(10)).await;
    assert!(
        stopped.is_some_and(|s| s.success()),
        "serve did not stop cleanly: {stopped:?}"
    );

    let stderr = server.stderr_text();
    assert!(stderr.contains("DEBUG"), "the log level did not take effect:\n{stderr}");
    let mut logs = server.stdout_text().into_bytes();
    logs.extend_from_slice(stderr.as_bytes());
    let control = Secrets(vec![("control".into(), "/v1/secrets/db%2Fmain/rotate".into())]);
    assert!(
        !control.found_in(&logs).is_empty(),
        "the search finds nothing, not even a logged path"
    );
    let leaked = plaintexts.found_in(&logs);
    assert!(leaked.is_empty(), "plaintext in the server's output: {leaked:?}");

    let files = files_under(&sandbox.data);
    let names: Vec<String> = files
        .iter()
        .filter_map(|(path, _)| path.file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().any(|n| n == "warden.db"), "no database in {names:?}");
    let mut everything = Vec::new();
    for (path, bytes) in &files {
        let found = plaintexts.found_in(bytes);
        assert!(found.is_empty(), "{} holds plaintext: {found:?}", path.display());
        everything.extend_from_slice(bytes);
    }
    let control = Secrets(vec![("control".into(), "secret:db/main".into())]);
    assert!(
        !control.found_in(&everything).is_empty(),
        "the search finds nothing, not even an audit resource"
    );
}
