//! `warden policy …`: work on policy files. `validate` loads files as one set the way the server would
//! and `test` runs case files (`warden_policy::cases`) against such a set, both offline; `simulate`
//! (`policy/simulate.rs`) asks a running Warden which decisions a candidate set would change.
//!
//! A case file given to `test` carries only `cases:`. One that names its own policy (`fixtures:` or
//! `policy:`, as the engine's corpus does) is refused: the policy under test is the one on the command
//! line, and silently testing another set than the file names would make a passing run mean nothing.

mod simulate;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use warden_policy::cases::{self, Case, CaseFile, CaseReport, Field};
use warden_policy::{Decision, Outcome, PolicySet, PolicySource};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Load policy files as one set; print its size and hash, or every error.
    Validate(PolicyFiles),
    /// Run test cases against policy files; exits non-zero on any mismatch.
    Test(TestArgs),
    /// Replay requests on a running Warden: which decisions would the candidate files change?
    Simulate(simulate::SimulateArgs),
}

/// The files that make up one policy set.
#[derive(Debug, Args)]
pub struct PolicyFiles {
    /// Policy files (YAML, any accepted format); together they form one set.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    policy: PolicyFiles,
    /// A case file (`cases:` only; the policy comes from FILE…). May be repeated.
    #[arg(long = "cases", required = true, value_name = "CASES.yaml")]
    cases: Vec<PathBuf>,
}

pub async fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    let done = match command {
        PolicyCommand::Validate(files) => {
            let set = files.load()?;
            println!(
                "policy set ok: {} rules, {} roles from {} file(s)",
                set.rules().len(),
                set.roles().roles().count(),
                files.files.len()
            );
            println!("hash: {}", set.hash().as_str());
            Ok(())
        }
        PolicyCommand::Test(args) => test(&args),
        PolicyCommand::Simulate(args) => return simulate::run(&args).await,
    };
    done.map(|()| ExitCode::SUCCESS)
}

impl PolicyFiles {
    /// Reads every file and loads them as one set, each named by its path as given. A set with any
    /// error is refused with every error listed (file:line: rule `name`: message).
    pub fn load(&self) -> anyhow::Result<PolicySet> {
        let texts = self
            .files
            .iter()
            .map(|path| Ok((path.display().to_string(), read(path)?)))
            .collect::<anyhow::Result<Vec<(String, String)>>>()?;
        let sources: Vec<PolicySource<'_>> = texts.iter().map(|(file, text)| PolicySource { file, text }).collect();
        Ok(PolicySet::load(&sources)?)
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Reads a case file for `test`: parse errors carry the file and line; a named policy is refused.
fn read_cases(path: &Path) -> anyhow::Result<CaseFile> {
    let label = path.display();
    let file = CaseFile::from_yaml(&read(path)?).map_err(|error| match error.line {
        Some(line) => anyhow::anyhow!("{label}:{line}: {error}"),
        None => anyhow::anyhow!("{label}: {error}"),
    })?;
    anyhow::ensure!(
        file.fixtures.is_empty() && file.policy.is_none(),
        "{label}: a case file for `warden policy test` cannot name its own policy (`fixtures:` or `policy:`); \
         the policy under test is the files on the command line: remove those keys"
    );
    Ok(file)
}

fn test(args: &TestArgs) -> anyhow::Result<()> {
    let set = args.policy.load()?;
    let files = args
        .cases
        .iter()
        .map(|path| Ok((path, read_cases(path)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (mut passed, mut failed) = (0_usize, 0_usize);
    for (path, file) in &files {
        for case in &file.cases {
            let report = cases::check(&set, case);
            let place = match case.line {
                Some(line) => format!("{}:{line}", path.display()),
                None => path.display().to_string(),
            };
            if report.passed() {
                passed += 1;
                println!("ok   {place}: {}", case.name);
            } else {
                failed += 1;
                println!("FAIL {place}: {}", case.name);
                print!("{}", failure(case, &report));
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    anyhow::ensure!(passed + failed > 0, "the case files hold no cases");
    anyhow::ensure!(failed == 0, "{failed} of {} case(s) failed", passed + failed);
    Ok(())
}

/// The diff of one failed case (every field, expected against actual), the reasons and the trace.
fn failure(case: &Case, report: &CaseReport) -> String {
    let decision = &report.decision;
    let mut out = String::new();
    for field in Field::ALL {
        let actual = field.actual(decision);
        let mismatched = report.mismatches.iter().any(|m| m.field == field);
        let name = field.as_str();
        let line = match case.expected(field) {
            Some(expected) if mismatched => {
                format!("  ! {name:<12} expected {expected}\n    {:<12} actual   {actual}", "")
            }
            Some(_) => format!("    {name:<12} {actual} (as expected)"),
            None => format!("    {name:<12} {actual} (not checked)"),
        };
        let _ = writeln!(out, "{line}");
    }
    for reason in &decision.reasons {
        let _ = writeln!(out, "    reason       {reason}");
    }
    for error in &decision.errors {
        let _ = writeln!(out, "    error        {error}");
    }
    out.push_str(&trace(decision));
    out
}

fn trace(decision: &Decision) -> String {
    let mut out = String::from("    trace (each rule the index offered, in order):\n");
    if decision.trace.is_empty() {
        out.push_str("      (no rule considered)\n");
    }
    for step in &decision.trace {
        let _ = writeln!(
            out,
            "      {} ({}, priority {}): {}",
            step.rule,
            step.effect,
            step.priority,
            outcome(&step.outcome)
        );
    }
    let _ = writeln!(out, "    policy set {}", decision.policy_set_hash.as_str());
    out
}

fn outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Matched => "matched".to_owned(),
        Outcome::MatchedOnMissing(path) => format!("matched: `{path}` is missing (fail closed)"),
        Outcome::MatchedOnError(error) => format!("matched: the condition failed (fail closed): {error}"),
        Outcome::ActionDiffers => "action differs".to_owned(),
        Outcome::ResourceDiffers => "resource differs".to_owned(),
        Outcome::MissingCapability(capability) => format!("lacks capability `{capability}`"),
        Outcome::ConditionFalse => "condition false".to_owned(),
        Outcome::ConditionMissing(path) => format!("condition needs `{path}`, which is missing"),
        Outcome::ConditionError(error) => format!("condition failed: {error}"),
    }
}
