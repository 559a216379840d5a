//! Warden's half of the DLP comparison with Presidio and detect-secrets (`bench/compare/dlp_compare.py`
//! writes the texts, runs the Python tools and prints the table). Reads a JSONL file of texts (`id`,
//! `text`; the labels are ignored here), runs `DlpDetector::new()` and, timed apart, the full
//! `Scanner::default()` in the input direction over each, and writes one JSONL line per text: the
//! findings with their spans in characters (Unicode scalar values, which is what Python's `str` indexes)
//! rather than Warden's bytes, and the nanoseconds each took.
//!
//! Every text is scanned once untimed (lazily built tables, caches), then `ROUNDS` times, each timed on
//! its own; the time reported for a text is the median of those rounds, so that a scan the scheduler
//! preempted (this is a shared 2-core machine) does not stand for the text.

use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use warden_firewall::dlp::{DlpDetector, Entity};
use warden_firewall::{Direction, Finding, ScanRequest, Scanner};

use crate::quantile;

const ROUNDS: usize = 5;

/// One text of the dataset.
struct Sample {
    id: String,
    text: String,
}

/// `warden-bench dlp-compare --input FILE --output FILE`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let (input, output) = paths(args)?;
    let samples = read(&input)?;
    let dlp = DlpDetector::new()?;
    let scanner = Scanner::default();
    let scan = |text: &str| {
        scanner.scan(&ScanRequest {
            text,
            direction: Direction::Input,
            destination: None,
        })
    };
    for sample in &samples {
        black_box(dlp.scan(&sample.text));
        black_box(scan(&sample.text)?);
    }
    let mut out = String::new();
    let (mut dlp_ns, mut scanner_ns) = (Vec::new(), Vec::new());
    for sample in &samples {
        let text = sample.text.as_str();
        let dlp_time = median_ns(|| {
            black_box(dlp.scan(black_box(text)));
            Ok(())
        })?;
        let scanner_time = median_ns(|| {
            black_box(scan(black_box(text))?);
            Ok(())
        })?;
        let findings = dlp.scan(text);
        let outcome = scan(text)?;
        let line = json!({
            "id": sample.id,
            "dlp_ns": dlp_time,
            "scanner_ns": scanner_time,
            "findings": spans(text, &findings)?,
            "scanner_verdict": outcome.verdict,
            "scanner_findings": spans(text, &outcome.findings)?,
        });
        writeln!(out, "{line}")?;
        dlp_ns.push(dlp_time);
        scanner_ns.push(scanner_time);
    }
    fs::write(&output, out).with_context(|| format!("writing {output}"))?;
    println!(
        "dlp-compare: {} texts from {input}, findings in {output}",
        samples.len()
    );
    report("DlpDetector::scan", dlp_ns);
    report("Scanner::scan (input)", scanner_ns);
    Ok(())
}

fn paths(args: &[String]) -> anyhow::Result<(String, String)> {
    let (mut input, mut output) = (None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--input", Some(path)) => input = Some(path.clone()),
            ("--output", Some(path)) => output = Some(path.clone()),
            _ => bail!("usage: warden-bench dlp-compare --input FILE --output FILE"),
        }
    }
    match (input, output) {
        (Some(input), Some(output)) => Ok((input, output)),
        _ => bail!("usage: warden-bench dlp-compare --input FILE --output FILE"),
    }
}

fn read(path: &str) -> anyhow::Result<Vec<Sample>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let value: Value = serde_json::from_str(line).with_context(|| format!("{path}:{}", n + 1))?;
        let (Some(id), Some(text)) = (value["id"].as_str(), value["text"].as_str()) else {
            bail!("{path}:{}: a line needs string fields `id` and `text`", n + 1);
        };
        samples.push(Sample {
            id: id.to_owned(),
            text: text.to_owned(),
        });
    }
    Ok(samples)
}

/// The findings as JSON with character offsets. The entity is DLP's name (`card_number`, `secret`) or,
/// for the scanner's other findings, their kind (`injection`, `waf`).
fn spans(text: &str, findings: &[Finding]) -> anyhow::Result<Vec<Value>> {
    findings
        .iter()
        .map(|f| {
            let entity = match Entity::of(f) {
                Some(entity) => entity.name().to_owned(),
                None => serde_json::to_value(f.kind)?.as_str().unwrap_or("other").to_owned(),
            };
            Ok(json!({
                "entity": entity,
                "rule": f.rule,
                "start": chars_before(text, f.start)?,
                "end": chars_before(text, f.end)?,
            }))
        })
        .collect()
}

/// The number of characters in `text[..byte]`: the character offset of a byte offset.
fn chars_before(text: &str, byte: usize) -> anyhow::Result<usize> {
    match text.get(..byte) {
        Some(head) => Ok(head.chars().count()),
        None => bail!(
            "byte offset {byte} is not on a character boundary of a {}-byte text",
            text.len()
        ),
    }
}

/// The median of `ROUNDS` separately timed calls of `op`, in nanoseconds.
fn median_ns(mut op: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<u64> {
    let mut times = [0u64; ROUNDS];
    for time in &mut times {
        let started = Instant::now();
        op()?;
        *time = started.elapsed().as_nanos() as u64;
    }
    times.sort_unstable();
    Ok(times[ROUNDS / 2])
}

fn report(name: &str, mut ns: Vec<u64>) {
    ns.sort_unstable();
    let mean = ns.iter().sum::<u64>() as f64 / ns.len().max(1) as f64;
    println!(
        "  {name:<24} mean={:>8.2} µs  p50={:>8.2} µs  p99={:>8.2} µs",
        mean / 1e3,
        quantile(&ns, 0.50) as f64 / 1e3,
        quantile(&ns, 0.99) as f64 / 1e3,
    );
}

#[cfg(test)]
mod tests {
    use super::chars_before;

    #[test]
    fn byte_offsets_become_character_offsets() {
        let text = "é€😀 a";
        assert_eq!(chars_before(text, 0).ok(), Some(0));
        assert_eq!(chars_before(text, 2).ok(), Some(1));
        assert_eq!(chars_before(text, 5).ok(), Some(2));
        assert_eq!(chars_before(text, 9).ok(), Some(3));
        assert_eq!(chars_before(text, text.len()).ok(), Some(5));
        assert!(chars_before(text, 1).is_err());
    }
}
