//! A fixed workload for profiling the full input scan: `cargo run --release --example scan_profile --
//! [ascii|non-ascii] [rounds] [stage]` scans the same 2 KiB benign prompts as the bench crate's
//! `firewall` workload (AgentDojo tool outputs with NotInject prompts and PII items, cut into windows)
//! `rounds` times and prints the verdicts and the findings' rule ids once. Meant for
//! `valgrind --tool=callgrind` (instruction counts are stable on a loaded machine, wall time is not);
//! BENCHMARKS.md figures come from the bench crate. `stage` is `scan` (default), `normalize`,
//! `injection`, `dlp`, `waf`, or `per-prompt` (the full scan, then each prompt's fastest of `rounds`
//! scans, slowest prompts first: whether a tail comes from particular prompts or from the machine).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use warden_firewall::dlp::DlpDetector;
use warden_firewall::normalize::normalize;
use warden_firewall::{Direction, InjectionDetector, ScanRequest, Scanner, WafRules};

const PROMPT_BYTES: usize = 2048;
const PROMPTS: usize = 64;

const PII: [&str; 4] = [
    "Please charge my card 4111 1111 1111 1111 for the booking.",
    "You can reach me on +1 (415) 555-0132 after six.",
    "Wire it to IBAN GB82 WEST 1234 5698 7654 32, reference 7781.",
    "My SSN is 078-05-1120 if the form needs it.",
];

fn corpora() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/prompt-injection")
}

fn agentdojo_lines() -> Vec<String> {
    let suites = corpora().join("agentdojo-benign-tool-outputs/suites");
    let mut paths = Vec::new();
    for suite in ["workspace", "slack", "banking", "travel"] {
        let dir = suites.join(suite);
        paths.push(dir.join("environment.yaml"));
        if let Ok(entries) = std::fs::read_dir(dir.join("include")) {
            let mut included: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            included.sort();
            paths.extend(included);
        }
    }
    let mut lines = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        lines.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| l.len() > 12 && l.is_ascii())
                .map(str::to_owned),
        );
    }
    lines
}

fn notinject(ascii: bool) -> Vec<String> {
    let path = corpora().join("notinject/NotInject_one.json");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let items: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
    items
        .iter()
        .filter_map(|item| item["prompt"].as_str())
        .filter(|p| p.is_ascii() == ascii)
        .map(str::to_owned)
        .collect()
}

fn pool(lines: &[String], extra: &[String], every: usize) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        if i % every == every - 1 && !extra.is_empty() {
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

fn prompts(pool: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(PROMPTS);
    let mut at = 0;
    while out.len() < PROMPTS && pool.len() >= PROMPT_BYTES {
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

fn main() {
    let mut args = std::env::args().skip(1);
    let ascii = args.next().is_none_or(|a| a != "non-ascii");
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);
    let stage = args.next().unwrap_or_else(|| "scan".to_owned());
    let texts = prompts(&pool(&agentdojo_lines(), &notinject(ascii), if ascii { 5 } else { 2 }));
    let scanner = Scanner::default();
    let mut fired: BTreeMap<String, usize> = BTreeMap::new();
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    for text in &texts {
        let request = ScanRequest {
            text,
            direction: Direction::Input,
            destination: None,
        };
        let Ok(outcome) = scanner.scan(&request) else { continue };
        *verdicts.entry(format!("{:?}", outcome.verdict)).or_default() += 1;
        for finding in &outcome.findings {
            *fired.entry(finding.rule.clone()).or_default() += 1;
            if stage == "show" && !finding.rule.starts_with("pii.") {
                let from = text.floor_char_boundary(finding.start.saturating_sub(40));
                let to = text.ceil_char_boundary((finding.end + 40).min(text.len()));
                println!(
                    "{}: {:?} [{:?}]",
                    finding.rule,
                    &text[from..to],
                    &text[finding.start..finding.end]
                );
            }
        }
    }
    println!("{} prompts: {verdicts:?}\nfindings: {fired:?}", texts.len());
    let injection = InjectionDetector::default();
    let dlp = DlpDetector::new().ok();
    let waf = WafRules::builtin().ok();
    // One round unmeasured, as the scanner had above: the stage detectors' lazy DFAs start empty, and
    // building their states belongs to the first scans, not to the steady state measured here.
    let mut started = Instant::now();
    for round in 0..=rounds {
        if round == 1 {
            started = Instant::now();
        }
        for text in &texts {
            let request = ScanRequest {
                text,
                direction: Direction::Input,
                destination: None,
            };
            match stage.as_str() {
                "normalize" => drop(black_box(normalize(black_box(text)))),
                "injection" => drop(black_box(injection.scan(black_box(text)))),
                "dlp" => drop(black_box(dlp.as_ref().map(|d| d.scan(black_box(text))))),
                "waf" => drop(black_box(waf.as_ref().map(|w| w.scan(black_box(text))))),
                _ => drop(black_box(scanner.scan(black_box(&request)))),
            }
        }
    }
    if stage == "per-prompt" {
        // The fastest of `rounds` scans of each prompt, slowest first: which prompts make the tail.
        let mut best: Vec<(f64, usize)> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let request = ScanRequest {
                    text,
                    direction: Direction::Input,
                    destination: None,
                };
                let fastest = (0..rounds.max(1))
                    .map(|_| {
                        let t = Instant::now();
                        drop(black_box(scanner.scan(black_box(&request))));
                        t.elapsed().as_secs_f64() * 1e6
                    })
                    .fold(f64::INFINITY, f64::min);
                (fastest, i)
            })
            .collect();
        best.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (micros, i) in best.iter().take(8).chain(best.iter().rev().take(3)) {
            println!("prompt {i:2}: {micros:.1} µs");
        }
    }
    let calls = (rounds * texts.len()).max(1);
    println!(
        "{stage}: {:.1} µs per call ({calls} calls)",
        started.elapsed().as_secs_f64() * 1e6 / calls as f64
    );
}
