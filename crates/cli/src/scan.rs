//! `warden scan [FILE|-]`: the content firewall on a file or standard input. By default the scan runs
//! here, offline, with the `firewall:` section of the configuration (`--config`, else
//! `<data dir>/warden.yaml` when it exists, else the built-in rules), so a rule change can be tried
//! before a server loads it. `--server` asks a running Warden (`POST /v1/scan`) instead, which records
//! the scan in its ledger and issues reversible tokens from its vault.
//!
//! `--lines` scans each line on its own and prints one JSON object per line, then a summary on standard
//! error: how a corpus fares, in one command.
//!
//! Exit status: 0 when every text is allowed, 3 when one was redacted and none blocked, 2 when one was
//! blocked, 1 on any error (never mistaken for a verdict).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use warden_firewall::{Direction, FirewallConfig, ScanOutcome, ScanRequest, Scanner, Verdict};

use crate::client::Client;

/// The exit status when a text was blocked.
pub const BLOCKED: u8 = 2;
/// The exit status when a text was redacted and none blocked.
pub const REDACTED: u8 = 3;

#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 when every text is allowed, 3 when one was redacted (and none \
    blocked), 2 when one was blocked, 1 on any error."
)]
pub struct ScanArgs {
    /// The file to scan; `-` or nothing for standard input.
    pub file: Option<PathBuf>,
    /// Which way the text goes: prompts and tool arguments (`input`), tool results (`output`), or an
    /// outbound request body (`egress`, with `--destination`).
    #[arg(long, value_enum, default_value = "input")]
    pub direction: DirectionArg,
    /// The URL an egress request goes to.
    #[arg(long)]
    pub destination: Option<String>,
    /// Scan each line on its own; print one JSON object per line and a summary on standard error.
    #[arg(long)]
    pub lines: bool,
    /// Print the whole outcome as JSON (findings, redacted text, the `findings.*` attributes).
    #[arg(long)]
    pub json: bool,
    /// Ask the running Warden (`WARDEN_ADDR`, token in `WARDEN_TOKEN`) instead of scanning here.
    #[arg(long)]
    pub server: bool,
    /// The configuration whose `firewall:` section to use (default: <data dir>/warden.yaml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The data directory whose warden.yaml to read when `--config` is not given.
    #[arg(long, env = "WARDEN_DATA_DIR", default_value = "warden-data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    Input,
    Output,
    Egress,
}

impl DirectionArg {
    fn direction(self) -> Direction {
        match self {
            DirectionArg::Input => Direction::Input,
            DirectionArg::Output => Direction::Output,
            DirectionArg::Egress => Direction::Egress,
        }
    }

    fn name(self) -> &'static str {
        match self {
            DirectionArg::Input => "input",
            DirectionArg::Output => "output",
            DirectionArg::Egress => "egress",
        }
    }
}

/// Where scans happen.
enum Engine {
    Local(Box<Scanner>),
    Server(Client),
}

/// One scan's answer, from either engine.
struct Scanned {
    verdict: Verdict,
    /// The outcome as JSON: `verdict`, `findings`, `redacted`?, `attributes`.
    view: Value,
}

pub async fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.direction != DirectionArg::Egress || args.destination.is_some(),
        "--destination is required with --direction egress"
    );
    let text = read_input(args.file.as_deref())?;
    let engine = if args.server {
        Engine::Server(Client::from_env()?)
    } else {
        Engine::Local(Box::new(local_scanner(args.config.as_deref(), &args.data_dir)?))
    };
    if !args.lines {
        let scanned = scan(&engine, &args, &text).await?;
        print_one(&scanned, args.json)?;
        return Ok(exit_for(scanned.verdict));
    }
    let mut strongest = Verdict::Allow;
    let (mut counts, mut total) = ([0usize; 3], 0usize);
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let scanned = scan(&engine, &args, line)
            .await
            .with_context(|| format!("line {}", number + 1))?;
        total += 1;
        counts[verdict_rank(scanned.verdict)] += 1;
        strongest = strongest.max(scanned.verdict);
        let rules: Vec<&Value> = scanned.view["findings"]
            .as_array()
            .map(|findings| findings.iter().map(|f| &f["rule"]).collect())
            .unwrap_or_default();
        println!(
            "{}",
            json!({"line": number + 1, "verdict": scanned.view["verdict"], "rules": rules})
        );
    }
    eprintln!(
        "scanned {total} lines ({}): {} blocked ({:.1}%), {} redacted, {} allowed",
        args.direction.name(),
        counts[2],
        percent(counts[2], total),
        counts[1],
        counts[0]
    );
    Ok(exit_for(strongest))
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn verdict_rank(verdict: Verdict) -> usize {
    match verdict {
        Verdict::Allow => 0,
        Verdict::Redact => 1,
        Verdict::Block => 2,
    }
}

fn exit_for(verdict: Verdict) -> ExitCode {
    match verdict {
        Verdict::Allow => ExitCode::SUCCESS,
        Verdict::Redact => ExitCode::from(REDACTED),
        Verdict::Block => ExitCode::from(BLOCKED),
    }
}

fn read_input(file: Option<&Path>) -> anyhow::Result<String> {
    match file {
        None => read_stdin(),
        Some(path) if path == Path::new("-") => read_stdin(),
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display())),
    }
}

fn read_stdin() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading standard input (as UTF-8 text)")?;
    Ok(text)
}

/// The scanner of the configuration's `firewall:` section, or the built-in one when there is no file.
fn local_scanner(config: Option<&Path>, data_dir: &Path) -> anyhow::Result<Scanner> {
    let default_path = data_dir.join("warden.yaml");
    let path = match config {
        Some(path) => Some(path.to_path_buf()),
        None => default_path.exists().then_some(default_path),
    };
    let firewall = match path {
        Some(path) => warden_server::config::load(&path)?.firewall,
        None => FirewallConfig::default(),
    };
    Scanner::new(&firewall).map_err(|e| anyhow::Error::new(e).context("the firewall configuration"))
}

async fn scan(engine: &Engine, args: &ScanArgs, text: &str) -> anyhow::Result<Scanned> {
    match engine {
        Engine::Local(scanner) => {
            let request = ScanRequest {
                text,
                direction: args.direction.direction(),
                destination: args.destination.as_deref(),
            };
            let outcome = scanner.scan(&request)?;
            Ok(Scanned {
                verdict: outcome.verdict,
                view: view_of(&outcome)?,
            })
        }
        Engine::Server(client) => {
            let mut body = json!({"text": text, "direction": args.direction.name()});
            if let Some(destination) = &args.destination {
                body["destination"] = json!(destination);
            }
            let view = client.post("/v1/scan", &body).await?;
            let verdict = match view["verdict"].as_str() {
                Some("allow") => Verdict::Allow,
                Some("redact") => Verdict::Redact,
                Some("block") => Verdict::Block,
                other => anyhow::bail!("Warden answered an unknown verdict {other:?}"),
            };
            Ok(Scanned { verdict, view })
        }
    }
}

fn view_of(outcome: &ScanOutcome) -> anyhow::Result<Value> {
    let mut view = serde_json::to_value(outcome)?;
    view["attributes"] = outcome.attributes();
    Ok(view)
}

fn print_one(scanned: &Scanned, as_json: bool) -> anyhow::Result<()> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(&scanned.view)?);
        return Ok(());
    }
    println!("verdict: {}", scanned.view["verdict"].as_str().unwrap_or("?"));
    for finding in scanned.view["findings"].as_array().into_iter().flatten() {
        println!(
            "  {} {} severity={} score={} bytes {}..{}",
            finding["kind"].as_str().unwrap_or("?"),
            finding["rule"].as_str().unwrap_or("?"),
            finding["severity"].as_str().unwrap_or("?"),
            finding["score"],
            finding["start"],
            finding["end"]
        );
    }
    if let Some(redacted) = scanned.view["redacted"].as_str() {
        println!("redacted:\n{redacted}");
    }
    Ok(())
}
