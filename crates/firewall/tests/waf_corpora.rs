//! WAF quality over the shared corpora (`../shared/corpora/waf/`): detection per category on GoTestWAF's
//! attack test cases and PayloadsAllTheThings' payload lists, false positives on GoTestWAF's benign texts.
//!
//! What counts as a payload:
//! - GoTestWAF: every `payload` of every test case under `owasp/`, `owasp-api/` and `community/`, sent as
//!   is when the case lists the `Plain` encoder and percent-encoded when it lists `URL`. `Base64Flat` is
//!   reported apart: Warden does not base64-decode WAF inputs. GraphQL introspection queries are not
//!   attacks Warden's WAF looks for and are reported apart.
//! - PayloadsAllTheThings: each non-blank line of the `Intruder(s)/` lists (and CRLF's `Files/` list),
//!   minus comment lines starting with `# `. Lists that are vocabularies rather than payloads (bare
//!   event-handler names, LDAP attribute names, file paths without traversal to try as LFI targets) are
//!   reported as "wordlist" rows and kept out of the overall figure.
//! - A deterministic fifth of all payloads (FNV-1a of the text) is held out: misses were studied on the
//!   rest only, and both figures are printed.
//!
//! Run with `--nocapture` to see the table; `WAF_MISSES=1` prints development-split misses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use warden_firewall::waf::WafRules;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/waf");

#[derive(Debug, Deserialize)]
struct TestCase {
    payload: Vec<String>,
    #[serde(default)]
    encoder: Vec<String>,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    total: usize,
    hit: usize,
    held_total: usize,
    held_hit: usize,
}

impl Tally {
    fn add(&mut self, detected: bool, held_out: bool) {
        self.total += 1;
        self.hit += usize::from(detected);
        if held_out {
            self.held_total += 1;
            self.held_hit += usize::from(detected);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.total += other.total;
        self.hit += other.hit;
        self.held_total += other.held_total;
        self.held_hit += other.held_hit;
    }

    fn rate(&self) -> f64 {
        ratio(self.hit, self.total)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn held_out(text: &str) -> bool {
    fnv1a(text).is_multiple_of(5)
}

/// Percent-encodes every byte but ASCII alphanumerics, as GoTestWAF's URL encoder does for reserved ones.
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

fn rules() -> WafRules {
    match WafRules::builtin() {
        Ok(rules) => rules,
        Err(e) => unreachable!("built-in rules compile: {e}"),
    }
}

fn read(path: &Path) -> String {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => unreachable!("{}: {e}", path.display()),
    }
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        unreachable!("{} exists", dir.display())
    };
    let mut files: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    files.sort();
    files
}

/// GoTestWAF's YAML is read by Go's parser, which tolerates `\'` and `\0` in double-quoted scalars; these
/// are rewritten to escapes every YAML parser knows.
fn test_case(path: &Path) -> TestCase {
    let text = read(path).replace("\\'", "'").replace("\\0", "\\x00");
    match serde_saphyr::from_str::<TestCase>(&text) {
        Ok(case) => case,
        Err(e) => unreachable!("{}: {e}", path.display()),
    }
}

struct Report {
    rows: BTreeMap<String, Tally>,
    misses: Vec<(String, String)>,
}

impl Report {
    fn record(&mut self, row: &str, payload: &str, detected: bool) {
        let held = held_out(payload);
        self.rows.entry(row.to_owned()).or_default().add(detected, held);
        if !detected && !held {
            self.misses.push((row.to_owned(), payload.chars().take(160).collect()));
        }
    }
}

fn gotestwaf(rules: &WafRules, report: &mut Report) {
    for set in ["owasp", "owasp-api", "community"] {
        for path in yaml_files(&Path::new(ROOT).join("gotestwaf/testcases").join(set)) {
            let case = test_case(&path);
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let wordlist = case.kind.eq_ignore_ascii_case("graphql");
            for payload in &case.payload {
                for encoder in &case.encoder {
                    let (row, text) = match encoder.as_str() {
                        "Plain" => (format!("gotestwaf {}", case.kind), payload.clone()),
                        "URL" => (format!("gotestwaf {}", case.kind), url_encode(payload)),
                        _ => (format!("apart: gotestwaf {encoder}"), BASE64.encode(payload)),
                    };
                    let row = if wordlist {
                        format!("apart: gotestwaf {name}")
                    } else {
                        row
                    };
                    let detected = !rules.scan(&text).is_empty();
                    report.record(&row, &text, detected);
                }
            }
        }
    }
}

/// PayloadsAllTheThings list files: (directory, row name, is a wordlist).
fn patt_lists() -> Vec<(PathBuf, String, bool)> {
    let base = Path::new(ROOT).join("payloadsallthethings");
    let dirs = [
        ("SQL Injection/Intruder", "sqli"),
        ("XSS Injection/Intruders", "xss"),
        ("Directory Traversal/Intruder", "traversal"),
        ("File Inclusion/Intruders", "lfi"),
        ("Command Injection/Intruder", "cmdi"),
        ("Server Side Template Injection/Intruder", "ssti"),
        ("NoSQL Injection/Intruder", "nosqli"),
        ("LDAP Injection/Intruder", "ldapi"),
        ("XXE Injection/Intruders", "xxe"),
        ("CRLF Injection/Files", "crlf"),
    ];
    let wordlists = [
        "0xcela_event_handlers.txt",
        "port_swigger_xss_cheatsheet_event_handlers.txt",
        "LDAP_attributes.txt",
        "Linux-files.txt",
        "Windows-files.txt",
        "Mac-files.txt",
        "BSD-files.txt",
        "Web-files.txt",
        "LFI-WindowsFileCheck.txt",
        "LFI-FD-check.txt",
        "List_Of_File_To_Include.txt",
        "List_Of_File_To_Include_NullByteAdded.txt",
    ];
    let mut lists = Vec::new();
    for (dir, category) in dirs {
        let Ok(entries) = std::fs::read_dir(base.join(dir)) else {
            unreachable!("{dir} exists")
        };
        let mut files: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let wordlist = wordlists.contains(&name.as_str());
            let row = if wordlist {
                format!("wordlist: {category} {name}")
            } else {
                format!("patt {category}")
            };
            lists.push((file, row, wordlist));
        }
    }
    lists
}

fn payloads_all_the_things(rules: &WafRules, report: &mut Report) {
    for (file, row, _) in patt_lists() {
        for line in read(&file).lines() {
            let payload = line.trim_end_matches(['\r', '\n']);
            if payload.trim().is_empty() || payload.starts_with("# ") {
                continue;
            }
            let detected = !rules.scan(payload).is_empty();
            report.record(&row, payload, detected);
        }
    }
}

fn benign(rules: &WafRules) -> (usize, usize, Vec<String>) {
    let case = test_case(&Path::new(ROOT).join("gotestwaf/testcases/false-pos/texts.yml"));
    let mut flagged = Vec::new();
    let mut total = 0;
    for text in &case.payload {
        for sent in [text.clone(), url_encode(text)] {
            total += 1;
            let findings = rules.scan(&sent);
            if let Some(f) = findings.first() {
                flagged.push(format!("{text:?} -> {}", f.rule));
            }
        }
    }
    (flagged.len(), total, flagged)
}

#[test]
fn waf_corpora_detection_and_false_positives() {
    let rules = rules();
    let mut report = Report {
        rows: BTreeMap::new(),
        misses: Vec::new(),
    };
    gotestwaf(&rules, &mut report);
    payloads_all_the_things(&rules, &mut report);

    let mut overall = Tally::default();
    println!(
        "{:<64} {:>6} {:>6} {:>7} {:>9}",
        "category", "hit", "total", "rate", "held-out"
    );
    for (row, tally) in &report.rows {
        println!(
            "{row:<64} {:>6} {:>6} {:>6.1}% {:>8.1}%",
            tally.hit,
            tally.total,
            100.0 * tally.rate(),
            100.0 * ratio(tally.held_hit, tally.held_total)
        );
        if !row.starts_with("wordlist") && !row.starts_with("apart") {
            overall.merge(*tally);
        }
    }
    let held_rate = ratio(overall.held_hit, overall.held_total);
    println!(
        "OVERALL payloads: {}/{} = {:.1}% (held-out {}/{} = {:.1}%)",
        overall.hit,
        overall.total,
        100.0 * overall.rate(),
        overall.held_hit,
        overall.held_total,
        100.0 * held_rate
    );
    let (fp, benign_total, flagged) = benign(&rules);
    println!("FALSE POSITIVES on GoTestWAF benign texts (plain and URL-encoded): {fp}/{benign_total}");
    for f in &flagged {
        println!("  FP {f}");
    }
    if std::env::var_os("WAF_MISSES").is_some() {
        for (row, payload) in &report.misses {
            println!("MISS [{row}] {payload}");
        }
    }
    assert!(
        overall.rate() >= 0.90,
        "overall detection {:.3} below 90%",
        overall.rate()
    );
    assert!(held_rate >= 0.88, "held-out detection {held_rate:.3} below 88%");
    assert!(ratio(fp, benign_total) <= 0.05, "false positives {fp}/{benign_total}");
}

/// A 2 KiB text of the kind agents send: prose with a URL, a path and some punctuation.
fn text_2k(unit: &str) -> String {
    let mut text = String::new();
    while text.len() < 2048 {
        text.push_str(unit);
    }
    let mut end = 2048;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

/// Prints the time per 2 KiB scan (release mode gives the meaningful figure); no assertion, timing
/// belongs in BENCHMARKS.md, not in a pass/fail test.
#[test]
fn waf_scan_speed() {
    let rules = rules();
    let ascii = text_2k(
        "Please summarise the attached report and send it to the finance team by Friday; the figures are in \
         https://docs.example.com/q3/report?id=42&lang=en and the draft in src/reports/q3.md (see section 2). ",
    );
    let non_ascii = text_2k(
        "Résumé du rapport trimestriel : les chiffres sont dans le tableau ci-joint, 価格は前年比で上昇しました。 \
         Пожалуйста, проверьте раздел 2 и ответьте до пятницы. ",
    );
    let attack = text_2k("name=x' UNION SELECT password FROM users-- &q=<script>alert(1)</script>&f=../../etc/passwd ");
    for (name, text) in [("ascii", &ascii), ("non-ascii", &non_ascii), ("attack-dense", &attack)] {
        let rounds = 2000;
        let mut samples = Vec::with_capacity(rounds);
        let mut findings = 0;
        for _ in 0..rounds {
            let start = std::time::Instant::now();
            findings += rules.scan(text).len();
            samples.push(start.elapsed());
        }
        samples.sort();
        let p50 = samples[rounds / 2];
        let p99 = samples[rounds * 99 / 100];
        let total: std::time::Duration = samples.iter().sum();
        let mbps = (text.len() * rounds) as f64 / total.as_secs_f64() / 1e6;
        println!(
            "waf scan {name:>12}: {} bytes, p50 {p50:?}, p99 {p99:?}, {mbps:.0} MB/s, {} findings/scan",
            text.len(),
            findings / rounds
        );
    }
}
