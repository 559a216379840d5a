//! DLP rules against data: per-rule positive cases (with the exact span expected), negative cases and
//! decoys that must not fire, the published sandbox card numbers, and the gitleaks rule file's load.

use std::collections::BTreeSet;

use warden_firewall::Finding;
use warden_firewall::dlp::{DlpDetector, GITLEAKS_DEFAULT_RULES, WARDEN_SECRET_RULES};

const POSITIVE: &str = include_str!("data/dlp_positive.txt");
const NEGATIVE: &str = include_str!("data/dlp_negative.txt");
const CARDS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpora/dlp/test-card-numbers.txt"
));

fn detector() -> DlpDetector {
    let Ok(detector) = DlpDetector::new() else {
        unreachable!("the default rules load")
    };
    detector
}

/// `(rule, text)` pairs of a data file, `\n` unescaped, comments and blank lines skipped.
fn cases(file: &str) -> impl Iterator<Item = (&str, String)> {
    file.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let Some((rule, text)) = line.split_once('\t') else {
                unreachable!("case without a tab: {line}")
            };
            (rule, text.replace("\\n", "\n"))
        })
}

fn describe(text: &str, findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| format!("{} {:?}", f.rule, &text[f.start..f.end]))
        .collect()
}

#[test]
fn positive_cases_find_the_marked_span() {
    let detector = detector();
    let mut failures = Vec::new();
    for (rule, marked) in cases(POSITIVE) {
        let (Some(open), Some(close)) = (marked.find("[["), marked.find("]]")) else {
            unreachable!("positive case without [[ ]]: {marked}")
        };
        let text = marked.replace("[[", "").replace("]]", "");
        let (start, end) = (open, close - 2);
        let findings = detector.scan(&text);
        if !findings
            .iter()
            .any(|f| f.rule == rule && f.start == start && f.end == end)
        {
            failures.push(format!(
                "{rule}: {text:?} wanted {:?}, got {:?}",
                &text[start..end],
                describe(&text, &findings)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} positive cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn negative_cases_do_not_fire() {
    let detector = detector();
    let mut failures = Vec::new();
    for (rule, text) in cases(NEGATIVE) {
        let findings = detector.scan(&text);
        let fired: Vec<&Finding> = findings
            .iter()
            .filter(|f| rule == "*" || f.rule.starts_with(rule))
            .collect();
        if !fired.is_empty() {
            failures.push(format!("{rule}: {text:?} fired {:?}", describe(&text, &findings)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} negative cases fired:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_published_test_card_number_is_found() {
    let detector = detector();
    let numbers: Vec<&str> = CARDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(numbers.len() >= 12);
    for number in numbers {
        for text in [
            format!("card {number} on file"),
            number.to_owned(),
            format!("({number})"),
        ] {
            let findings = detector.scan(&text);
            let found = findings
                .iter()
                .any(|f| f.rule == "pii.card_number" && &text[f.start..f.end] == number);
            assert!(found, "{text:?}: {:?}", describe(&text, &findings));
        }
    }
}

#[test]
fn luhn_invalid_variants_of_the_test_cards_do_not_fire() {
    let detector = detector();
    for number in CARDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let Some(last) = number.chars().last().and_then(|c| c.to_digit(10)) else {
            unreachable!()
        };
        for delta in 1..10 {
            let broken = format!("{}{}", &number[..number.len() - 1], (last + delta) % 10);
            let findings = detector.scan(&format!("card {broken} on file"));
            assert!(!findings.iter().any(|f| f.rule == "pii.card_number"), "{broken} fired");
        }
    }
}

#[test]
fn the_gitleaks_rule_file_loads_with_every_failure_reported() {
    let detector = detector();
    let report = detector.rule_report();
    let rules_in_file =
        GITLEAKS_DEFAULT_RULES.matches("\n[[rules]]\n").count() + WARDEN_SECRET_RULES.matches("\n[[rules]]\n").count();
    println!(
        "gitleaks rules: {} in file, {} loaded, {} path-only (skipped), {} failed to compile",
        rules_in_file,
        report.loaded,
        report.path_only.len(),
        report.failed.len()
    );
    for failure in &report.failed {
        println!("  failed: {} ({})", failure.rule, failure.reason);
    }
    println!("  path-only: {}", report.path_only.join(", "));
    assert_eq!(
        report.loaded + report.path_only.len() + report.failed.len(),
        rules_in_file
    );
    assert!(report.failed.is_empty(), "rules failed to compile: {:?}", report.failed);
    assert!(report.loaded >= 210, "only {} rules loaded", report.loaded);
}

#[test]
fn every_rule_id_in_the_positive_file_exists_in_the_rule_files() {
    let ids: BTreeSet<&str> = GITLEAKS_DEFAULT_RULES
        .lines()
        .chain(WARDEN_SECRET_RULES.lines())
        .filter_map(|l| l.strip_prefix("id = \"")?.strip_suffix('"'))
        .collect();
    for (rule, _) in cases(POSITIVE) {
        if let Some(id) = rule.strip_prefix("secret.") {
            assert!(ids.contains(id), "no rule `{id}` in gitleaks' or Warden's rule file");
        }
    }
}

#[test]
fn a_user_rule_file_replaces_the_default_rules() {
    let toml = r#"
        [allowlist]
        stopwords = ["notreal"]
        [[rules]]
        id = "acme-key"
        regex = '''\b(acme_[a-z0-9]{16})\b'''
        keywords = ["acme_"]
        entropy = 2.0
        [[rules]]
        id = "broken"
        regex = '''(unclosed'''
        keywords = ["x"]
    "#;
    let Ok(detector) = DlpDetector::with_gitleaks(toml) else {
        unreachable!("the file parses")
    };
    let report = detector.rule_report();
    assert_eq!(report.loaded, 1);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].rule, "broken");
    let text = "key acme_k3j5h6g7f8d9s0a1 and ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let rules: Vec<String> = detector.scan(text).into_iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["secret.acme-key"]);
    assert!(detector.scan("acme_notreal12345678").is_empty());
    assert!(DlpDetector::with_gitleaks("[[rules]]\nid = 1").is_err());
    assert!(DlpDetector::with_gitleaks("[[rules]]\nid = \"a\"\nregx = 'typo'").is_err());
}

#[test]
fn a_lead_in_rule_finds_a_secret_longer_than_its_search_window() {
    let toml = r#"
        [[rules]]
        id = "acme-long"
        regex = '''(?i)[\w.-]{0,50}?(?:acme)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|:)[\x60'"\s=]{0,5}([a-z0-9]{600,700})(?:[\x60'"\s;]|$)'''
        keywords = ["acme"]
        [[rules]]
        id = "acme-open-ended"
        regex = '''(?i)[\w.-]{0,50}?(?:acme)(?:[ \t\w.-]{0,20})[\s'"]{0,3}(?:=|:)[\x60'"\s=]{0,5}([a-z0-9]{20,})(?:[\x60'"\s;]|\\[nr]|$)'''
        keywords = ["acme"]
    "#;
    let Ok(detector) = DlpDetector::with_gitleaks(toml) else {
        unreachable!("the file parses")
    };
    let secret: String = (0..650)
        .map(|i| char::from(b"abcdefghij0123456789"[(i * 7 + i / 3) % 20]))
        .collect();
    for prefix in ["", "some words before. ", &"x ".repeat(300)] {
        let text = format!("{prefix}my_acme_token = \"{secret}\" and more");
        let findings = detector.scan(&text);
        let spans: Vec<&str> = findings.iter().map(|f| &text[f.start..f.end]).collect();
        assert_eq!(
            spans,
            [secret.as_str(), secret.as_str()],
            "prefix of {} bytes",
            prefix.len()
        );
    }
}
