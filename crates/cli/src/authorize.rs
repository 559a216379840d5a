//! `warden authorize ACTION RESOURCE`: asks a running Warden (`POST /v1/authorize`) for a decision as
//! the agent whose token is in `WARDEN_TOKEN`, and says it in the exit status so scripts can branch:
//! 0 for allow, 2 for deny. Errors (Warden unreachable, a refused token, a malformed argument) exit 1
//! and are never mistaken for a decision.
//!
//! It does not decide anything itself, and it does not read policy files: the answer is the server's,
//! recorded there as an `authz.decision` audit event before it is printed here.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::Client;

/// The exit status of a deny.
pub const DENIED: u8 = 2;

#[derive(Debug, Args)]
#[command(after_help = "Exit status: 0 when Warden allows, 2 when it denies, 1 on any error \
    (Warden unreachable, a refused token, a malformed argument).\n\n\
    `context.auth_method` is set by Warden from how the token was obtained; a value given for it is \
    replaced.")]
pub struct AuthorizeArgs {
    /// The action, such as `secret:read`.
    pub action: String,
    /// The resource, such as `secret:prod/db/password`.
    pub resource: String,
    /// `context.KEY` for the rules (repeatable). VALUE is read as JSON when it parses (`true`, `42`,
    /// `["a","b"]`), otherwise as text; quote it as JSON (`'code="42"'`) to force text.
    #[arg(long = "context", value_name = "KEY=VALUE", value_parser = Attribute::parse)]
    pub context: Vec<Attribute>,
    /// `resource.KEY` for the rules (repeatable), read as `--context` reads its values.
    #[arg(long = "resource-attr", value_name = "KEY=VALUE", value_parser = Attribute::parse)]
    pub resource_attributes: Vec<Attribute>,
    /// A file whose text the action carries (`-` for standard input): Warden's content firewall scans
    /// it, and its findings reach the rules as `findings.*`.
    #[arg(long, value_name = "FILE")]
    pub content: Option<std::path::PathBuf>,
    /// Add the evaluation trace: each rule Warden considered and why it matched or not.
    #[arg(long)]
    pub explain: bool,
    /// Print Warden's answer as JSON (the exit status still says allow or deny).
    #[arg(long)]
    pub json: bool,
}

/// One `KEY=VALUE` from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub key: String,
    pub value: Value,
}

impl Attribute {
    /// `KEY=VALUE`, splitting at the first `=`; the value is JSON when it parses, else text.
    pub fn parse(text: &str) -> Result<Attribute, String> {
        let Some((key, raw)) = text.split_once('=') else {
            return Err(format!("`{text}` has no `=`: give KEY=VALUE"));
        };
        if key.trim().is_empty() {
            return Err(format!("`{text}`: the key before `=` is empty"));
        }
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
        Ok(Attribute {
            key: key.to_owned(),
            value,
        })
    }
}

/// The attributes as a JSON object; a key given twice is refused rather than silently overwritten.
pub fn object(flag: &str, attributes: Vec<Attribute>) -> anyhow::Result<Map<String, Value>> {
    let mut map = Map::new();
    for Attribute { key, value } in attributes {
        anyhow::ensure!(!map.contains_key(&key), "{flag}: `{key}` is given twice");
        map.insert(key, value);
    }
    Ok(map)
}

pub async fn run(args: AuthorizeArgs) -> anyhow::Result<ExitCode> {
    let mut body = json!({ "action": args.action, "resource": args.resource });
    let context = object("--context", args.context)?;
    if !context.is_empty() {
        body["context"] = Value::Object(context);
    }
    let resource_attributes = object("--resource-attr", args.resource_attributes)?;
    if !resource_attributes.is_empty() {
        body["resource_attributes"] = Value::Object(resource_attributes);
    }
    if let Some(file) = &args.content {
        let text = if file.as_os_str() == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading standard input")?;
            text
        } else {
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
        };
        body["content"] = Value::String(text);
    }
    let path = if args.explain {
        "/v1/authorize?explain=true"
    } else {
        "/v1/authorize"
    };
    let answer = Client::from_env()?.post(path, &body).await?;
    let view = DecisionView::deserialize(&answer).context("Warden's answer is not a decision")?;
    if args.json {
        crate::print(answer)?;
    } else {
        crate::emit(&render(&view))?;
    }
    Ok(if view.is_allow() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DENIED)
    })
}

/// The fields of Warden's decision the CLI reads; unknown ones are ignored, so a newer server works.
#[derive(Debug, Deserialize)]
pub struct DecisionView {
    pub decision: String,
    #[serde(default)]
    pub decision_id: String,
    #[serde(default)]
    pub policy: String,
    #[serde(default)]
    pub policy_version: Option<i64>,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub obligations: Map<String, Value>,
    #[serde(default)]
    pub findings: Vec<Value>,
    /// The content with PII masked or tokenized, when the firewall redacted it.
    #[serde(default)]
    pub redacted: Option<String>,
    #[serde(default)]
    pub ledger_index: Option<u64>,
    #[serde(default)]
    pub deciding_rule: Option<String>,
    #[serde(default)]
    pub basis: String,
    #[serde(default)]
    pub grant_id: Option<String>,
    #[serde(default)]
    pub matching_rules: Vec<String>,
    #[serde(default)]
    pub missing_attributes: Vec<String>,
    #[serde(default)]
    pub errors: Vec<String>,
    #[serde(default)]
    pub trace: Option<Vec<TraceStep>>,
}

impl DecisionView {
    /// Only an explicit `allow` allows; anything else, however spelt, is a deny.
    pub fn is_allow(&self) -> bool {
        self.decision == "allow"
    }
}

#[derive(Debug, Deserialize)]
pub struct TraceStep {
    pub rule: String,
    pub effect: String,
    pub priority: i64,
    pub outcome: TraceOutcome,
}

/// `{kind, detail?}`, as `warden_policy::Outcome` serializes.
#[derive(Debug, Deserialize)]
pub struct TraceOutcome {
    pub kind: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// The decision for a person: `allow` or `deny` alone on the first line, then one labelled line per
/// fact, then the trace when there is one.
pub fn render(view: &DecisionView) -> String {
    let mut out = format!("{}\n", if view.is_allow() { "allow" } else { "deny" });
    let mut line = |label: &str, value: &str| {
        let _ = writeln!(out, "  {label:<12} {value}");
    };
    line("rule", view.deciding_rule.as_deref().unwrap_or("(none)"));
    line("basis", &view.basis);
    if let Some(grant) = &view.grant_id {
        line("grant", grant);
    }
    if !view.matching_rules.is_empty() {
        line("matching", &view.matching_rules.join(", "));
    }
    for reason in &view.reasons {
        line("reason", reason);
    }
    for (key, value) in &view.obligations {
        line("obligation", &format!("{key} = {value}"));
    }
    for missing in &view.missing_attributes {
        line("missing", missing);
    }
    for error in &view.errors {
        line("error", error);
    }
    for finding in &view.findings {
        line("finding", &finding.to_string());
    }
    if let Some(redacted) = &view.redacted {
        line("redacted", redacted);
    }
    let version = view
        .policy_version
        .map(|v| format!(" (version {v})"))
        .unwrap_or_default();
    line("policy", &format!("{}{version}", view.policy));
    let event = view
        .ledger_index
        .map(|i| format!(" (audit event {i})"))
        .unwrap_or_default();
    line("decision id", &format!("{}{event}", view.decision_id));
    if let Some(trace) = &view.trace {
        out.push_str("trace (each rule Warden considered, in order):\n");
        if trace.is_empty() {
            out.push_str("  (no rule considered)\n");
        }
        for step in trace {
            let _ = writeln!(out, "{}", trace_line(step));
        }
    }
    out
}

/// `  matched   NAME (EFFECT, priority P)[: why]` or `  skipped   NAME: why`.
fn trace_line(step: &TraceStep) -> String {
    let detail = step.outcome.detail.as_deref().unwrap_or("");
    let (matched, why) = match step.outcome.kind.as_str() {
        "matched" => (true, String::new()),
        "matched_on_missing" => (true, format!("`{detail}` is missing (fail closed)")),
        "matched_on_error" => (true, format!("the condition failed (fail closed): {detail}")),
        "action_differs" => (false, "action differs".to_owned()),
        "resource_differs" => (false, "resource differs".to_owned()),
        "missing_capability" => (false, format!("lacks capability `{detail}`")),
        "condition_false" => (false, "condition false".to_owned()),
        "condition_missing" => (false, format!("condition needs `{detail}`, which is missing")),
        "condition_error" => (false, format!("condition failed: {detail}")),
        // An outcome this CLI does not know yet: say it as the server spelt it.
        other => (
            other.starts_with("matched"),
            format!("{} {detail}", other.replace('_', " ")).trim_end().to_owned(),
        ),
    };
    if matched {
        let head = format!(
            "  matched   {} ({}, priority {})",
            step.rule, step.effect, step.priority
        );
        if why.is_empty() { head } else { format!("{head}: {why}") }
    } else {
        format!("  skipped   {}: {why}", step.rule)
    }
}

#[cfg(test)]
mod tests;
