//! The YAML case corpus: every file under `tests/cases/` names a policy (fixture files or inline YAML)
//! and a list of requests with the decision and deciding rule expected. One test runs them all and
//! reports every mismatch at once.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};
use warden_core::Timestamp;
use warden_policy::{Basis, Effect, Grant, PolicySet, PolicySource, PrincipalStatus, Request, Subject};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    fixtures: Vec<String>,
    #[serde(default)]
    policy: Option<String>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    principal: CasePrincipal,
    action: String,
    #[serde(default = "default_resource")]
    resource: String,
    #[serde(default)]
    resource_attributes: Map<String, Value>,
    #[serde(default)]
    context: Map<String, Value>,
    #[serde(default)]
    findings: Map<String, Value>,
    /// RFC 3339; defaults to Monday 2026-11-16 12:00 UTC.
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    grants: Vec<Grant>,
    expect: Effect,
    /// The deciding rule; `none` means no rule decided. Left out, it is not checked.
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    basis: Option<String>,
    #[serde(default)]
    missing: Option<Vec<String>>,
    #[serde(default)]
    obligations: Option<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CasePrincipal {
    name: String,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    capabilities: Vec<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    tier: Option<String>,
    #[serde(default)]
    status: Option<PrincipalStatus>,
    #[serde(default)]
    attributes: Map<String, Value>,
}

fn default_resource() -> String {
    "operation".to_owned()
}

const DEFAULT_NOW: &str = "2026-11-16T12:00:00Z";

fn read(path: &Path) -> String {
    let Ok(text) = std::fs::read_to_string(path) else {
        unreachable!("{} is readable", path.display())
    };
    text
}

fn load_policy(dir: &Path, file: &CaseFile) -> Result<PolicySet, String> {
    let mut texts: Vec<(String, String)> = file
        .fixtures
        .iter()
        .map(|name| (name.clone(), read(&dir.join("fixtures").join(name))))
        .collect();
    if let Some(inline) = &file.policy {
        texts.push(("inline".to_owned(), inline.clone()));
    }
    let sources: Vec<PolicySource<'_>> = texts.iter().map(|(file, text)| PolicySource { file, text }).collect();
    PolicySet::load(&sources).map_err(|e| e.to_string())
}

fn basis_name(basis: &Basis) -> &'static str {
    match basis {
        Basis::Inactive { .. } => "inactive",
        Basis::Rule => "rule",
        Basis::Grant { .. } => "grant",
        Basis::NoMatch => "no_match",
        Basis::OutsideScopes => "outside_scopes",
    }
}

fn run_case(set: &PolicySet, case: &Case) -> Vec<String> {
    let Some(now) = Timestamp::parse_rfc3339(case.now.as_deref().unwrap_or(DEFAULT_NOW)) else {
        return vec!["`now` is not RFC 3339".to_owned()];
    };
    let p = &case.principal;
    let request = Request {
        principal: Subject {
            agent_id: p.agent_id.clone().unwrap_or_else(|| p.name.clone()),
            name: p.name.clone(),
            roles: p.roles.clone(),
            capabilities: p.capabilities.clone(),
            scopes: p.scopes.clone(),
            tier: p.tier.clone(),
            status: p.status.unwrap_or(PrincipalStatus::Active),
            attributes: p.attributes.clone(),
        },
        action: case.action.clone(),
        resource: case.resource.clone(),
        resource_attributes: case.resource_attributes.clone(),
        context: case.context.clone(),
        findings: case.findings.clone(),
        now,
    };
    let decision = set.explain(&request, &case.grants);
    let mut diffs = Vec::new();
    if decision.decision != case.expect {
        diffs.push(format!("decision: expected {}, got {}", case.expect, decision.decision));
    }
    if let Some(rule) = &case.rule {
        let got = decision.deciding_rule.as_deref().unwrap_or("none");
        if got != rule {
            diffs.push(format!("rule: expected `{rule}`, got `{got}`"));
        }
    }
    if let Some(basis) = &case.basis
        && basis != basis_name(&decision.basis)
    {
        diffs.push(format!("basis: expected {basis}, got {}", basis_name(&decision.basis)));
    }
    if let Some(missing) = &case.missing
        && missing != &decision.missing_attributes
    {
        diffs.push(format!(
            "missing: expected {missing:?}, got {:?}",
            decision.missing_attributes
        ));
    }
    if let Some(obligations) = &case.obligations
        && obligations != &decision.obligations
    {
        diffs.push(format!(
            "obligations: expected {obligations:?}, got {:?}",
            decision.obligations
        ));
    }
    if !diffs.is_empty() {
        diffs.push(format!("reasons: {:?}", decision.reasons));
        diffs.push(format!("trace: {:?}", decision.trace));
    }
    diffs
}

#[test]
fn the_case_corpus_decides_as_written() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let Ok(entries) = std::fs::read_dir(dir.join("cases")) else {
        unreachable!("tests/cases exists")
    };
    let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut count = 0;
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let label = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file: CaseFile = match serde_saphyr::from_str(&read(path)) {
            Ok(file) => file,
            Err(e) => {
                failures.insert(label, vec![format!("unreadable case file: {e}")]);
                continue;
            }
        };
        let set = match load_policy(&dir, &file) {
            Ok(set) => set,
            Err(e) => {
                failures.insert(label, vec![format!("policy does not load: {e}")]);
                continue;
            }
        };
        for case in &file.cases {
            count += 1;
            let diffs = run_case(&set, case);
            if !diffs.is_empty() {
                failures.insert(format!("{label} / {}", case.name), diffs);
            }
        }
    }
    let report: Vec<String> = failures
        .iter()
        .map(|(name, diffs)| format!("{name}:\n    {}", diffs.join("\n    ")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        report.join("\n")
    );
    assert!(count >= 100, "the corpus shrank to {count} cases");
}
