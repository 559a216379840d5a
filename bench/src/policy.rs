//! Warden's policy engine beside Cedar (`cedar-policy`), in one process, on one generated policy set
//! rendered into both languages (`scenario` describes it, `render` writes it in each).
//!
//! Before anything is timed, every benchmark request is decided by both engines and the run stops if
//! they disagree on allow/deny once, or if either reports an evaluation error: the figures compare
//! engines that give the same answers. Then each engine decides every request again, one decision per
//! `Instant`, after a warm-up. Last, the reload: `PolicySet::load` of the largest set.

mod render;
mod scenario;

use std::hint::black_box;
use std::str::FromStr;
use std::time::Instant;

use anyhow::{Context as _, bail, ensure};
use cedar_policy::{Authorizer, Entities};
use warden_policy::{Basis, PolicySet, PolicySource, Request};

use crate::quantile;
use scenario::{RequestSpec, Rng};

/// Per-agent rules in each scenario (the global denies come on top).
const SCENARIOS: &[usize] = &[100, 1_000];
const SEED: u64 = 0x5741_5244_454e;
const RELOADS: usize = 20;

/// Requests, timed passes over them, and warm-up decisions; `WARDEN_BENCH_SCALE` (a divisor) shrinks
/// the first and last.
fn sizes() -> (usize, usize, usize) {
    let scale = std::env::var("WARDEN_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    (10_000 / scale, 3, 2_000 / scale)
}

/// One scenario loaded in both engines, with its requests in both forms.
struct Loaded {
    warden: PolicySet,
    cedar: cedar_policy::PolicySet,
    requests: Vec<(Request, cedar_policy::Request, Entities)>,
    yaml: String,
    cedar_text: String,
}

fn load(per_agent: usize, count: usize) -> anyhow::Result<Loaded> {
    let mut rng = Rng::new(SEED ^ per_agent as u64);
    let rules = scenario::rules(per_agent, &mut rng);
    let specs: Vec<RequestSpec> = scenario::requests(&rules, count, &mut rng);
    let yaml = render::warden_yaml(&rules);
    let cedar_text = render::cedar_text(&rules);
    let warden =
        PolicySet::from_yaml("bench.yaml", &yaml).map_err(|e| anyhow::anyhow!("warden refused the set: {e}"))?;
    let cedar = cedar_policy::PolicySet::from_str(&cedar_text).map_err(|e| anyhow::anyhow!("cedar refused: {e}"))?;
    ensure!(
        warden.rules().len() == rules.len() && cedar.policies().count() == rules.len(),
        "the engines loaded {} and {} rules, not {}",
        warden.rules().len(),
        cedar.policies().count(),
        rules.len()
    );
    let requests = specs
        .iter()
        .map(|spec| {
            let (request, entities) = render::cedar_request(spec).with_context(|| format!("{spec:?}"))?;
            Ok((render::warden_request(spec), request, entities))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Loaded {
        warden,
        cedar,
        requests,
        yaml,
        cedar_text,
    })
}

/// Both engines on every request; any disagreement or evaluation error stops the run.
fn agree(loaded: &Loaded, authorizer: &Authorizer) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    for (warden_request, cedar_request, entities) in &loaded.requests {
        let warden = loaded.warden.evaluate(warden_request, &[]);
        let cedar = authorizer.is_authorized(cedar_request, &loaded.cedar, entities);
        let cedar_errors: Vec<String> = cedar.diagnostics().errors().map(ToString::to_string).collect();
        ensure!(
            warden.errors.is_empty() && cedar_errors.is_empty(),
            "evaluation errors on {warden_request:?}: warden {:?}, cedar {cedar_errors:?}",
            warden.errors
        );
        let cedar_allows = cedar.decision() == cedar_policy::Decision::Allow;
        if warden.is_allow() != cedar_allows {
            let cedar_reasons: Vec<String> = cedar
                .diagnostics()
                .reason()
                .map(|id| match loaded.cedar.policy(id).and_then(|p| p.annotation("id")) {
                    Some(name) => name.to_owned(),
                    None => id.to_string(),
                })
                .collect();
            bail!(
                "the engines disagree on {warden_request:?}: warden {} ({:?}, matching {:?}), cedar {:?} ({cedar_reasons:?})",
                warden.decision,
                warden.reasons,
                warden.matching_rules,
                cedar.decision(),
            );
        }
        match (cedar_allows, &warden.basis) {
            (true, _) => tally.allowed += 1,
            (false, Basis::Rule) => tally.denied_by_rule += 1,
            (false, _) => tally.denied_by_default += 1,
        }
        tally.fail_closed += usize::from(!warden.missing_attributes.is_empty());
    }
    Ok(tally)
}

/// How the agreed answers split.
#[derive(Debug, Default)]
struct Tally {
    allowed: usize,
    denied_by_rule: usize,
    denied_by_default: usize,
    /// Requests where a deny rule matched on a missing attribute (fail closed).
    fail_closed: usize,
}

/// Sorted nanoseconds of `rounds` passes of `decide` over every request, after `warmup` untimed calls.
fn time<T>(loaded: &Loaded, rounds: usize, warmup: usize, mut decide: impl FnMut(usize) -> T) -> Vec<u64> {
    let n = loaded.requests.len();
    for i in 0..warmup {
        black_box(decide(i % n.max(1)));
    }
    let mut samples = Vec::with_capacity(n * rounds);
    for _ in 0..rounds {
        for i in 0..n {
            let started = Instant::now();
            let answer = decide(i);
            samples.push(started.elapsed().as_nanos() as u64);
            black_box(answer);
        }
    }
    samples.sort_unstable();
    samples
}

fn micros(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

struct Row {
    rules: usize,
    warden: Vec<u64>,
    cedar: Vec<u64>,
}

fn print_table(rows: &[Row]) {
    println!();
    println!("| rules | engine | decisions timed | p50 | p99 | max |\n| --- | --- | --- | --- | --- | --- |");
    for row in rows {
        for (engine, samples) in [("Warden", &row.warden), ("Cedar", &row.cedar)] {
            println!(
                "| {} | {engine} | {} | {:.2} µs | {:.2} µs | {:.1} µs |",
                row.rules,
                samples.len(),
                micros(quantile(samples, 0.50)),
                micros(quantile(samples, 0.99)),
                micros(samples.last().copied().unwrap_or(0)),
            );
        }
    }
    println!();
    println!(
        "| rules | Warden/Cedar p50 | Warden/Cedar p99 | Warden faster by (p50, p99) |\n| --- | --- | --- | --- |"
    );
    for row in rows {
        let ratio = |q| quantile(&row.warden, q) as f64 / quantile(&row.cedar, q).max(1) as f64;
        println!(
            "| {} | {:.4} | {:.4} | {:.0}×, {:.0}× |",
            row.rules,
            ratio(0.50),
            ratio(0.99),
            1.0 / ratio(0.50),
            1.0 / ratio(0.99)
        );
    }
}

/// Reload: `PolicySet::load` of the set's YAML (and, for reference, Cedar parsing its text).
fn reload(loaded: &Loaded, rules: usize) -> anyhow::Result<()> {
    let mut warden = Vec::with_capacity(RELOADS);
    let mut cedar = Vec::with_capacity(RELOADS);
    for _ in 0..RELOADS {
        let started = Instant::now();
        let set = PolicySet::load(&[PolicySource {
            file: "bench.yaml",
            text: &loaded.yaml,
        }]);
        warden.push(started.elapsed().as_nanos() as u64);
        ensure!(set.is_ok(), "reload failed");
        let started = Instant::now();
        let set = cedar_policy::PolicySet::from_str(&loaded.cedar_text);
        cedar.push(started.elapsed().as_nanos() as u64);
        ensure!(set.is_ok(), "cedar parse failed");
    }
    warden.sort_unstable();
    cedar.sort_unstable();
    println!();
    println!(
        "reload, {rules} rules ({} bytes of YAML), {RELOADS} loads: Warden PolicySet::load p50 {:.1} ms, max {:.1} ms \
         (Cedar PolicySet::from_str p50 {:.1} ms)",
        loaded.yaml.len(),
        micros(quantile(&warden, 0.50)) / 1000.0,
        micros(warden.last().copied().unwrap_or(0)) / 1000.0,
        micros(quantile(&cedar, 0.50)) / 1000.0,
    );
    Ok(())
}

pub fn run() -> anyhow::Result<()> {
    let (count, rounds, warmup) = sizes();
    let authorizer = Authorizer::new();
    let mut rows = Vec::new();
    let mut largest = None;
    for &per_agent in SCENARIOS {
        let loaded = load(per_agent, count)?;
        let rules = loaded.warden.rules().len();
        let tally = agree(&loaded, &authorizer)?;
        println!(
            "{rules} rules ({per_agent} per-agent over {} agents + {} global denies): both engines agree on all {} \
             requests: {} allowed, {} denied by a rule ({} of them failing closed on a missing attribute), {} denied \
             by default",
            scenario::AGENTS,
            rules - per_agent,
            loaded.requests.len(),
            tally.allowed,
            tally.denied_by_rule,
            tally.fail_closed,
            tally.denied_by_default,
        );
        let warden = time(&loaded, rounds, warmup, |i| {
            loaded
                .requests
                .get(i)
                .map(|(r, _, _)| loaded.warden.evaluate(r, &[]).decision)
        });
        let cedar = time(&loaded, rounds, warmup, |i| {
            loaded
                .requests
                .get(i)
                .map(|(_, r, e)| authorizer.is_authorized(r, &loaded.cedar, e).decision())
        });
        rows.push(Row { rules, warden, cedar });
        largest = Some((loaded, rules));
    }
    print_table(&rows);
    if let Some((loaded, rules)) = largest {
        reload(&loaded, rules)?;
    }
    Ok(())
}
