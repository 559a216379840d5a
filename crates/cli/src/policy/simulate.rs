//! `warden policy simulate FILE… --requests REQUESTS.yaml`: replays requests against a candidate set on
//! a running Warden (`POST /v1/policies/simulate`) and shows which decisions the candidate would
//! change against the active set. Nothing is activated and nothing is recorded; the registry facts and
//! live grants of each named agent are the server's.
//!
//! The candidate files are sent under their file names without their directories: the server keeps a
//! set as flat named files, as it keeps the data directory's `policies/`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{PolicyFiles, read};
use crate::client::Client;

/// The exit status of `--fail-on-change` when some decision would change.
pub const CHANGED: u8 = 3;

#[derive(Debug, Args)]
#[command(after_help = "REQUESTS.yaml (or .json) holds `requests:`, a list of \
    {agent, action, resource, context?, resource_attributes?, scopes?, now?}: `agent` is an id or \
    a name, `scopes` asks as a passport carrying them, `now` is an RFC 3339 instant.\n\n\
    Exit status: 0 when the simulation ran, 3 with --fail-on-change when any decision would change, \
    1 on any error (a candidate that does not load lists every error).")]
pub struct SimulateArgs {
    #[command(flatten)]
    pub policy: PolicyFiles,
    /// The requests to replay.
    #[arg(long, value_name = "REQUESTS.yaml")]
    pub requests: std::path::PathBuf,
    /// List every request, not only those whose decision would change.
    #[arg(long)]
    pub all: bool,
    /// Exit 3 when any decision would change (for CI).
    #[arg(long)]
    pub fail_on_change: bool,
    /// Print Warden's answer as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestsFile {
    requests: Vec<SimulatedRequest>,
}

/// One request to replay, as `/v1/policies/simulate` takes it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulatedRequest {
    agent: String,
    action: String,
    resource: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    context: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    resource_attributes: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    now: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SimulateView {
    pub active_policy: String,
    pub candidate_policy: String,
    pub results: Vec<SimulatedResult>,
}

#[derive(Debug, Deserialize)]
pub struct SimulatedResult {
    pub agent: String,
    pub action: String,
    pub resource: String,
    pub active: Verdict,
    pub candidate: Verdict,
    pub changed: bool,
}

#[derive(Debug, Deserialize)]
pub struct Verdict {
    pub decision: String,
    #[serde(default)]
    pub deciding_rule: Option<String>,
    #[serde(default)]
    pub basis: String,
}

pub async fn run(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let body = json!({
        "files": candidate_files(&args.policy)?,
        "requests": read_requests(&args.requests)?.requests,
    });
    let answer = Client::admin_from_env()?.post("/v1/policies/simulate", &body).await?;
    let view = SimulateView::deserialize(&answer).context("Warden's answer is not a simulation")?;
    if args.json {
        crate::print(answer)?;
    } else {
        crate::emit(&render(&view, args.all))?;
    }
    let changed = view.results.iter().any(|r| r.changed);
    Ok(if changed && args.fail_on_change {
        ExitCode::from(CHANGED)
    } else {
        ExitCode::SUCCESS
    })
}

/// `[{name, text}]` for every file, named without its directories; two files of the same name are
/// refused here, where the paths can still be shown.
fn candidate_files(policy: &PolicyFiles) -> anyhow::Result<Vec<Value>> {
    let mut names = BTreeSet::new();
    let mut files = Vec::with_capacity(policy.files.len());
    for path in &policy.files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .with_context(|| format!("{} is not a file", path.display()))?;
        anyhow::ensure!(
            names.insert(name.clone()),
            "{}: another candidate file is also named `{name}`; Warden keeps a set as files named \
             without their directories, so rename one",
            path.display()
        );
        files.push(json!({ "name": name, "text": read(path)? }));
    }
    Ok(files)
}

/// The requests file: JSON when its name ends in `.json`, YAML otherwise.
fn read_requests(path: &Path) -> anyhow::Result<RequestsFile> {
    let text = read(path)?;
    let label = path.display();
    let file: RequestsFile = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        serde_json::from_str(&text).with_context(|| label.to_string())?
    } else {
        serde_saphyr::from_str(&text).map_err(|error| anyhow::anyhow!("{label}: {error}"))?
    };
    anyhow::ensure!(!file.requests.is_empty(), "{label}: `requests` is empty");
    Ok(file)
}

/// The changed decisions (every one with `all`), one a line, then `N of M decisions would change`.
pub fn render(view: &SimulateView, all: bool) -> String {
    let mut out = format!(
        "active policy     {}\ncandidate policy  {}\n",
        view.active_policy, view.candidate_policy
    );
    for result in view.results.iter().filter(|r| all || r.changed) {
        let _ = writeln!(out, "{}", row(result));
    }
    let changed = view.results.iter().filter(|r| r.changed).count();
    let _ = writeln!(out, "{changed} of {} decisions would change", view.results.len());
    out
}

/// `agent action resource: allow -> deny (rule a -> rule b)`; an unchanged decision is named once.
fn row(result: &SimulatedResult) -> String {
    let (before, after) = (&result.active, &result.candidate);
    let decision = if result.changed {
        format!("{} -> {}", before.decision, after.decision)
    } else {
        before.decision.clone()
    };
    let (was, will) = (cause(before), cause(after));
    let why = if was == will { was } else { format!("{was} -> {will}") };
    format!(
        "{} {} {}: {decision} ({why})",
        result.agent, result.action, result.resource
    )
}

/// What decided a verdict: its rule, or the basis when no rule did.
fn cause(verdict: &Verdict) -> String {
    let basis = match verdict.basis.as_str() {
        "no_match" => "no rule matched",
        "grant" => "a grant",
        "inactive" => "agent inactive",
        "outside_scopes" => "outside the scopes",
        other => other,
    };
    match (&verdict.deciding_rule, verdict.basis.as_str()) {
        (Some(rule), "rule") => format!("rule {rule}"),
        (Some(rule), _) => format!("{basis}, rule {rule}"),
        (None, _) => basis.to_owned(),
    }
}

#[cfg(test)]
mod tests;
