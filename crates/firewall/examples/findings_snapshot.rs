//! Prints every finding of every detector on every sample of the shared corpora, one line per sample:
//! `cargo run --release --example findings_snapshot > before.txt`, change the code, run again and diff.
//! A refactor for speed must leave the output identical; a quality change shows exactly what it moved.
//! Samples: the prompt-injection corpora (attacks, benign, NotInject), every line of the
//! PayloadsAllTheThings WAF lists (plain and percent-encoded), GoTestWAF's benign texts, the DLP
//! test data, and 2 KiB windows of the AgentDojo environments.

#[path = "../tests/support/corpora.rs"]
mod corpora;

use std::path::{Path, PathBuf};

use warden_firewall::dlp::DlpDetector;
use warden_firewall::{Finding, InjectionDetector, WafConfig, WafRules};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "txt") {
            out.push(path);
        }
    }
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn describe(findings: &[Finding]) -> String {
    let mut parts: Vec<String> = findings
        .iter()
        .map(|f| format!("{}@{}..{}:{:.4}", f.rule, f.start, f.end, f.score))
        .collect();
    parts.sort();
    parts.join(" ")
}

/// Windows of about 2 KiB over the concatenated lines, cut on line ends.
fn windows(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        current.push_str(line);
        current.push('\n');
        if current.len() >= 2048 {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
    out
}

fn main() {
    let root = corpora::root();
    let injection = InjectionDetector::default();
    // `WAF_RULES=path` replaces built-in rules by id with a rule file's (same format as rules/waf.yaml),
    // to try rule changes without a rebuild.
    let waf = match std::env::var("WAF_RULES") {
        Ok(path) => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            serde_saphyr::from_str::<WafConfig>(&text)
                .map_err(|e| eprintln!("WAF_RULES: {e}"))
                .ok()
                .and_then(|config| WafRules::with_config(&config).map_err(|e| eprintln!("{e}")).ok())
        }
        Err(_) => WafRules::builtin().ok(),
    };
    let dlp = DlpDetector::new().ok();
    let mut samples: Vec<(String, String)> = Vec::new();
    for sample in corpora::attacks()
        .into_iter()
        .chain(corpora::benign())
        .chain(corpora::notinject())
    {
        samples.push((sample.corpus.to_owned(), sample.text));
    }
    let mut lists = Vec::new();
    files(&root.join("waf/payloadsallthethings"), &mut lists);
    for path in &lists {
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            samples.push(("patt".to_owned(), line.to_owned()));
            samples.push(("patt-url".to_owned(), url_encode(line)));
        }
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    for name in ["dlp_positive.txt", "dlp_negative.txt", "injection_evasion.txt"] {
        let text = std::fs::read_to_string(data.join(name)).unwrap_or_default();
        for line in text.lines() {
            samples.push((name.to_owned(), line.replace("\\n", "\n")));
        }
    }
    let mut yamls = Vec::new();
    collect_yaml(&root.join("prompt-injection/agentdojo-benign-tool-outputs"), &mut yamls);
    for path in yamls {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for window in windows(&text) {
            samples.push(("agentdojo-window".to_owned(), window));
        }
    }
    for (corpus, text) in &samples {
        let inj = describe(&injection.scan(text));
        let w = waf.as_ref().map(|w| describe(&w.scan(text))).unwrap_or_default();
        let d = dlp.as_ref().map(|d| describe(&d.scan(text))).unwrap_or_default();
        let head: String = text.chars().take(60).collect();
        println!("{corpus}\t{head:?}\tI[{inj}]\tW[{w}]\tD[{d}]");
    }
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}
