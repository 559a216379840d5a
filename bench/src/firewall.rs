//! The content firewall on 2 KiB prompts, in process, one thread: `Scanner::default()` in the input
//! direction (normalization, injection rules and model, DLP with redaction, WAF), p50/p99 per scan and
//! MB/s, then each stage alone on the same texts so the slow part shows.
//!
//! The prompts are cut deterministically from the shared corpora (`../shared/corpora`): AgentDojo's
//! benign tool outputs (emails, calendar entries, files: ASCII, with email addresses), NotInject's benign
//! prompts full of trigger words, and a few PII items (card, phone, IBAN) every ten lines. The non-ASCII
//! set interleaves NotInject's multilingual prompts (Chinese, Russian, accented Latin, emoji) between
//! every two lines. 64 different prompts per set, each scanned `ROUNDS` times.

use std::collections::BTreeMap;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use warden_firewall::dlp::DlpDetector;
use warden_firewall::normalize::normalize;
use warden_firewall::{Direction, InjectionDetector, ScanRequest, Scanner, Verdict, WafRules};

use crate::quantile;

const PROMPT_BYTES: usize = 2048;
const PROMPTS: usize = 64;
const ROUNDS: usize = 300;

const PII: [&str; 4] = [
    "Please charge my card 4111 1111 1111 1111 for the booking.",
    "You can reach me on +1 (415) 555-0132 after six.",
    "Wire it to IBAN GB82 WEST 1234 5698 7654 32, reference 7781.",
    "My SSN is 078-05-1120 if the form needs it.",
];

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpora")
}

/// The AgentDojo environment files' lines, trimmed, in a fixed order.
fn agentdojo_lines() -> anyhow::Result<Vec<String>> {
    let suites = corpora().join("prompt-injection/agentdojo-benign-tool-outputs/suites");
    let mut paths = Vec::new();
    for suite in ["workspace", "slack", "banking", "travel"] {
        let dir = suites.join(suite);
        paths.push(dir.join("environment.yaml"));
        if let Ok(entries) = fs::read_dir(dir.join("include")) {
            let mut included: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            included.sort();
            paths.extend(included);
        }
    }
    let mut lines = Vec::new();
    for path in paths {
        let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        lines.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| l.len() > 12 && l.is_ascii())
                .map(str::to_owned),
        );
    }
    anyhow::ensure!(lines.len() > 200, "the AgentDojo corpus is missing");
    Ok(lines)
}

/// NotInject's prompts: (ASCII ones, non-ASCII ones).
fn notinject() -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let path = corpora().join("prompt-injection/notinject/NotInject_one.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let items: Vec<serde_json::Value> = serde_json::from_str(&text)?;
    let prompts = items
        .iter()
        .filter_map(|item| item["prompt"].as_str().map(str::to_owned));
    let (ascii, other): (Vec<String>, Vec<String>) = prompts.partition(|p| p.is_ascii());
    anyhow::ensure!(
        !ascii.is_empty() && !other.is_empty(),
        "the NotInject corpus is missing"
    );
    Ok((ascii, other))
}

/// One long text: the AgentDojo lines, a NotInject prompt every `every` lines (from `extra`), a PII item
/// every ten lines.
fn pool(lines: &[String], extra: &[String], every: usize) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        if i % every == every - 1 {
            out.push_str(&extra[(i / every) % extra.len()]);
            out.push('\n');
        }
        if i % 10 == 9 {
            out.push_str(PII[(i / 10) % PII.len()]);
            out.push('\n');
        }
    }
    out
}

/// `PROMPTS` consecutive 2 KiB windows of `pool` (wrapping), cut on character boundaries.
fn prompts(pool: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(PROMPTS);
    let mut at = 0;
    while out.len() < PROMPTS {
        let mut end = (at + PROMPT_BYTES).min(pool.len());
        while !pool.is_char_boundary(end) {
            end -= 1;
        }
        if end - at < PROMPT_BYTES / 2 {
            at = 0;
            continue;
        }
        out.push(pool[at..end].to_owned());
        at = end;
        while !pool.is_char_boundary(at) {
            at += 1;
        }
    }
    out
}

struct Stage {
    name: &'static str,
    samples: Vec<u64>,
}

impl Stage {
    fn new(name: &'static str) -> Self {
        Stage {
            name,
            samples: Vec::with_capacity(PROMPTS * ROUNDS),
        }
    }

    fn time<T>(&mut self, op: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = black_box(op());
        self.samples.push(started.elapsed().as_nanos() as u64);
        out
    }

    /// Prints p50/p99 and throughput; returns the mean in nanoseconds.
    fn report(mut self, bytes: f64) -> f64 {
        self.samples.sort_unstable();
        let total: u64 = self.samples.iter().sum();
        let mean = total as f64 / self.samples.len().max(1) as f64;
        println!(
            "  {:<22} p50={:>7.1} µs  p99={:>7.1} µs  mean={:>7.1} µs  {:>7.1} MB/s",
            self.name,
            quantile(&self.samples, 0.50) as f64 / 1e3,
            quantile(&self.samples, 0.99) as f64 / 1e3,
            mean / 1e3,
            bytes / mean * 1e3,
        );
        mean
    }
}

fn measure(label: &str, texts: &[String]) -> anyhow::Result<()> {
    let scanner = Scanner::default();
    let injection = InjectionDetector::default();
    let dlp = DlpDetector::new()?;
    let waf = WafRules::builtin()?;
    let bytes = texts.iter().map(String::len).sum::<usize>() as f64 / texts.len() as f64;
    let non_ascii = texts.iter().flat_map(|t| t.chars()).filter(|c| !c.is_ascii()).count();
    let chars = texts.iter().map(|t| t.chars().count()).sum::<usize>();
    let mut verdicts = [0usize; 3];
    // Which rules fired, over all prompts (a rule counted once per prompt): on benign texts, anything
    // that blocks is a false positive worth seeing by name.
    let mut fired: BTreeMap<String, usize> = BTreeMap::new();
    for text in texts {
        let request = ScanRequest {
            text,
            direction: Direction::Input,
            destination: None,
        };
        let outcome = scanner.scan(&request)?;
        verdicts[outcome.verdict as usize] += 1;
        let mut rules: Vec<&str> = outcome.findings.iter().map(|f| f.rule.as_str()).collect();
        rules.sort_unstable();
        rules.dedup();
        for rule in rules {
            *fired.entry(rule.to_owned()).or_default() += 1;
        }
    }
    println!(
        "{label}: {} prompts of {bytes:.0} bytes on average, {:.1}% non-ASCII characters; verdicts allow {} / redact {} / block {}",
        texts.len(),
        100.0 * non_ascii as f64 / chars.max(1) as f64,
        verdicts[Verdict::Allow as usize],
        verdicts[Verdict::Redact as usize],
        verdicts[Verdict::Block as usize],
    );
    let fired: Vec<String> = fired.iter().map(|(rule, n)| format!("{rule} ×{n}")).collect();
    println!("  rules that fired (prompts): {}", fired.join(", "));
    let mut stages = [
        Stage::new("scan (input, total)"),
        Stage::new("  normalize"),
        Stage::new("  injection (rules+model)"),
        Stage::new("  dlp scan"),
        Stage::new("  waf"),
    ];
    // Full scans first, back to back as a server runs them: timing a stage's own detectors between two
    // full scans would evict the full scanner's tables and lazy DFA states and charge that to the scan.
    for round in 0..ROUNDS {
        let [scan, ..] = &mut stages;
        for text in texts {
            let request = ScanRequest {
                text,
                direction: Direction::Input,
                destination: None,
            };
            scan.time(|| scanner.scan(black_box(&request)).map(|o| o.findings.len()))?;
        }
        if round == 0 {
            // The first round warmed the caches and the lazily built tables: drop it.
            scan.samples.clear();
        }
    }
    for round in 0..ROUNDS {
        let [_, norm, inj, data, attacks] = &mut stages;
        for text in texts {
            // Normalization timed apart from the injection detector that consumes it.
            let normalized = norm.time(|| normalize(black_box(text)));
            inj.time(|| injection.scan_normalized(black_box(text), &normalized).len());
            data.time(|| dlp.scan(black_box(text)).len());
            attacks.time(|| waf.scan(black_box(text)).len());
        }
        if round == 0 {
            stages.iter_mut().skip(1).for_each(|s| s.samples.clear());
        }
    }
    let [scan, rest @ ..] = stages;
    let total = scan.report(bytes);
    for stage in rest {
        let mean = stage.report(bytes);
        println!("  {:<22} {:>5.1}% of the full scan's mean", "", 100.0 * mean / total);
    }
    Ok(())
}

pub fn run() -> anyhow::Result<()> {
    let lines = agentdojo_lines()?;
    let (ascii, other) = notinject()?;
    measure("ASCII", &prompts(&pool(&lines, &ascii, 5)))?;
    measure("non-ASCII", &prompts(&pool(&lines, &other, 2)))?;
    Ok(())
}
