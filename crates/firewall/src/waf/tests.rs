use std::collections::BTreeMap;

use proptest::prelude::*;
use serde::Deserialize;

use super::*;

fn rules() -> WafRules {
    match WafRules::builtin() {
        Ok(rules) => rules,
        Err(e) => unreachable!("the built-in rules compile: {e}"),
    }
}

#[test]
fn builtin_rules_compile() {
    assert!(rules().len() > 20);
}

/// The per-rule cases file: texts each rule must flag and look-alikes it must leave alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    rules: BTreeMap<String, RuleCases>,
    benign: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleCases {
    hit: Vec<String>,
    miss: Vec<String>,
}

const CASES: &str = include_str!("../../tests/data/waf.yaml");

fn cases() -> CaseFile {
    match serde_saphyr::from_str(CASES) {
        Ok(cases) => cases,
        Err(e) => unreachable!("waf.yaml parses: {e}"),
    }
}

fn fired(rules: &WafRules, text: &str) -> Vec<String> {
    rules.scan(text).into_iter().map(|f| f.rule).collect()
}

#[test]
fn every_rule_hits_its_positives_and_spares_its_negatives() {
    let rules = rules();
    let mut failures = Vec::new();
    for (id, case) in &cases().rules {
        for text in &case.hit {
            if !fired(&rules, text).contains(id) {
                failures.push(format!("{id} should flag {text:?}; fired {:?}", fired(&rules, text)));
            }
        }
        for text in &case.miss {
            if fired(&rules, text).contains(id) {
                failures.push(format!("{id} should not flag {text:?}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn benign_texts_raise_nothing() {
    let rules = rules();
    for text in &cases().benign {
        assert!(rules.scan(text).is_empty(), "{text:?} fired {:?}", fired(&rules, text));
    }
}

#[test]
fn every_builtin_rule_has_cases() {
    let file = cases();
    let Ok(specs) = rules::parse_rules(BUILTIN_RULES) else {
        unreachable!("built-in rules parse")
    };
    for spec in specs {
        assert!(
            file.rules.contains_key(&spec.id),
            "{} has no cases in tests/data/waf.yaml",
            spec.id
        );
    }
}

#[test]
fn spans_point_into_the_original_text() {
    let rules = rules();
    let text = "q=hello%20world&x=1%27%20UNION%20SELECT%20password%20FROM%20users--";
    let findings = rules.scan(text);
    let Some(union) = findings.iter().find(|f| f.rule == "waf.sqli.union_select") else {
        unreachable!("union select found: {findings:?}")
    };
    assert_eq!(&text[union.start..union.end], "UNION%20SELECT");
    let plain = "name: <script>alert(1)</script>";
    let findings = rules.scan(plain);
    let Some(tag) = findings.iter().find(|f| f.rule == "waf.xss.script_tag") else {
        unreachable!("script tag")
    };
    assert_eq!(&plain[tag.start..tag.end], "<script");
}

#[test]
fn findings_are_waf_findings_with_categories() {
    let rules = rules();
    let findings = rules.scan("http://169.254.169.254/latest/meta-data/");
    assert!(findings.iter().all(|f| f.kind == FindingKind::Waf));
    let categories: Vec<_> = findings.iter().filter_map(category_of).collect();
    assert!(categories.contains(&WafCategory::Ssrf), "{findings:?}");
    let Some(ssrf) = findings.iter().find(|f| f.rule == "waf.ssrf.internal_url") else {
        unreachable!("ssrf")
    };
    assert_eq!(ssrf.severity, Severity::Critical);
}

#[test]
fn users_disable_add_and_tune_rules() {
    let yaml = "disable: [waf.xss.script_tag]\nrules:\n  - id: waf.code.internal_marker\n    pattern: 'forbidden-marker'\n    keywords: [forbidden-marker]\n    severity: low\ntune:\n  waf.sqli.union_select: { severity: low, score: 0.5 }\n";
    let Ok(config) = serde_saphyr::from_str::<WafConfig>(yaml) else {
        unreachable!("config parses")
    };
    let Ok(rules) = WafRules::with_config(&config) else {
        unreachable!("config applies")
    };
    assert!(!fired(&rules, "<script>").contains(&"waf.xss.script_tag".to_owned()));
    assert!(fired(&rules, "a FORBIDDEN-MARKER b").contains(&"waf.code.internal_marker".to_owned()));
    let findings = rules.scan("1 union select 2");
    let Some(union) = findings.iter().find(|f| f.rule == "waf.sqli.union_select") else {
        unreachable!("union")
    };
    assert_eq!((union.severity, union.score), (Severity::Low, 0.5));
}

#[test]
fn bad_configuration_is_refused() {
    let unknown = WafConfig {
        disable: vec!["waf.sqli.nope".to_owned()],
        ..WafConfig::default()
    };
    assert!(matches!(WafRules::with_config(&unknown), Err(WafError::UnknownRule(_))));
    assert!(serde_saphyr::from_str::<WafConfig>("disabled: []\n").is_err());
    let bad_pattern = "rules:\n  - id: waf.sqli.broken\n    pattern: '(unclosed'\n    severity: high\n";
    let Ok(config) = serde_saphyr::from_str::<WafConfig>(bad_pattern) else {
        unreachable!("parses")
    };
    assert!(matches!(WafRules::with_config(&config), Err(WafError::Pattern { .. })));
    let bad_id = "rules:\n  - id: sqli.no_prefix\n    pattern: 'x'\n    severity: high\n";
    let Ok(config) = serde_saphyr::from_str::<WafConfig>(bad_id) else {
        unreachable!("parses")
    };
    assert!(matches!(WafRules::with_config(&config), Err(WafError::Id(_))));
}

#[test]
fn ssrf_can_be_switched_off() {
    let config = WafConfig {
        disable: vec!["waf.ssrf.internal_url".to_owned()],
        ..WafConfig::default()
    };
    let Ok(rules) = WafRules::with_config(&config) else {
        unreachable!("config applies")
    };
    assert!(!fired(&rules, "http://10.0.0.1/").contains(&"waf.ssrf.internal_url".to_owned()));
}

#[test]
fn decoding_is_bounded_and_total() {
    let rules = rules();
    // Deeply nested encodings stop after a few rounds instead of looping.
    let mut nested = "%27".to_owned();
    for _ in 0..20 {
        nested = nested.replace('%', "%25");
    }
    let _ = rules.scan(&nested);
    for text in [
        "%",
        "%u",
        "&#",
        "&#x;",
        "\\u{110000}",
        "\\x",
        "\\u{0}",
        "\\u{d800}",
        "&#99999999999;",
        "\\ud800",
    ] {
        let _ = rules.scan(text);
    }
    let invalid = String::from_utf8_lossy(&[0xc0, 0xaf, 0xe0, 0x80, 0xaf, 0xff, b'%', b'c', b'0']).into_owned();
    let _ = rules.scan(&invalid);
}

#[test]
fn prechecked_rules_are_the_builtin_patterns() {
    let waf = rules();
    let prechecked: Vec<&str> = waf
        .rules
        .iter()
        .filter(|r| r.precheck.is_some())
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(prechecked, ["waf.sqli.quote_break"]);
}

/// The shortcut finds the same first match as the plain regex, on texts around its edges.
#[test]
fn precheck_agrees_with_the_regex() {
    let waf = rules();
    let texts = [
        "it's fine",
        "don't ) -- x",
        "a' or 1=1",
        "x')) union select 1",
        "'\t)\x0b;drop table t",
        "\"  ) ) order by 2",
        "`||f(",
        "' <> '",
        "'",
        "a'\x1e--",
        "' s' select",
        "' xor",
        "'%'",
        "'!='",
        "'^'",
        "'/**/or",
        "' ) )",
        "'hello' 'world' and 'x'='x'",
    ];
    for rule in waf.rules.iter().filter(|r| r.precheck.is_some()) {
        for text in texts {
            let plain = rule.regex.find(text.as_bytes()).map(|m| (m.start(), m.end()));
            assert_eq!(rule.find(text.as_bytes(), false), plain, "{} on {text:?}", rule.id);
        }
    }
}

/// Pieces of each prefilter-free rule's pattern (and of prose around them), so random texts reach deep
/// into every alternative: keywords, quotes, operators, spacing, digits and line ends.
fn unfiltered_pieces(id: &str) -> Vec<&'static str> {
    match id {
        "waf.sqli.tautology" => vec![
            " ", "\t", "\n", "\x1e", "or", "and", "xor", "having", "where", "not", "||", "&&", "(", ")", "'", "a'",
            "\"", "1", "7.5", "=", "<=>", "!=", "<>", "<", ">", "like", "rlike", "regexp", "is", "between", "in",
            "null", "true", "--", "#", "/*", ";", "x", ".", " or ", " and ", "1=1", "'1'='1",
        ],
        "waf.code.server_side" => vec![
            " ",
            "\n",
            "(",
            ")",
            "'",
            "\"",
            "`",
            "$",
            "x",
            "1",
            ".",
            "system",
            "exec",
            "eval",
            "include_once",
            "os",
            "popen",
            "spawnve",
            "subprocess",
            "__import__",
            "runtime",
            "getruntime",
            "processbuilder",
            "{",
            "}",
            "@",
            "print",
            "!!",
            "python",
            "java",
            "/",
            "__proto__",
            "[",
            "=",
            "constructor",
            "prototype",
            "child_process",
            "response.write",
        ],
        _ => vec![
            " ",
            "\t",
            "\n",
            "j",
            "a",
            "v",
            "java",
            "vb",
            "b",
            "live",
            "l",
            "i",
            "mocha",
            "m",
            "o",
            "s",
            "c",
            "r",
            "p",
            "t",
            "script",
            "s c r i p t",
            ":",
            "script:",
            "javascript",
            "vbscript",
            "java script",
            "x",
            "(",
            "`",
            "=",
            "$",
            "[",
            "]",
            ".",
        ],
    }
}

fn unfiltered_text(id: &str) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(unfiltered_pieces(id)), 0..32).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    /// A rule searched without its prefilter finds what the plain regex finds, from any start.
    #[test]
    fn unfiltered_search_matches_the_regex(
        texts in (
            unfiltered_text("waf.sqli.tautology"),
            unfiltered_text("waf.code.server_side"),
            unfiltered_text("waf.xss.script_uri"),
        ),
        from in 0usize..8,
    ) {
        static WAF: std::sync::LazyLock<WafRules> = std::sync::LazyLock::new(rules);
        let unfiltered: Vec<&CompiledRule> = WAF.rules.iter().filter(|r| r.unfiltered.is_some()).collect();
        prop_assert_eq!(unfiltered.len(), 3);
        for text in [&texts.0, &texts.1, &texts.2] {
            let h = text.as_bytes();
            let from = from.min(h.len());
            for rule in &unfiltered {
                let plain = rule.regex.find_at(h, from).map(|m| (m.start(), m.end()));
                let fast = rule.unfiltered.as_ref().and_then(|u| u.find(regex_automata::Input::new(h).range(from..)));
                prop_assert_eq!(fast.map(|m| (m.start(), m.end())), plain, "{} on {:?}", &rule.id, text);
                prop_assert_eq!(rule.find(h, false), rule.regex.find(h).map(|m| (m.start(), m.end())));
            }
        }
    }
}

/// Whether each view's set names exactly the rules whose own regex matches that view of `text`.
fn view_sets_agree_on(waf: &WafRules, text: &str) -> Result<(), String> {
    let decoded = Decoded::new(text);
    for set in &waf.view_sets {
        let haystack = match set.view {
            View::Decoded => decoded.bytes.clone(),
            View::Sql => rules::strip_sql_comments(&decoded.bytes).0,
            View::Shell => rules::shell_words(&decoded.bytes).0,
        };
        let named: Vec<usize> = set
            .set
            .matching(&haystack)
            .map(|m| m.iter().map(|p| set.rules[p.as_usize()]).collect())
            .unwrap_or_default();
        let matching: Vec<usize> = set
            .rules
            .iter()
            .copied()
            .filter(|&i| waf.rules[i].regex.is_match(&haystack))
            .collect();
        if named != matching {
            return Err(format!(
                "{:?} view of {text:?}: set {named:?}, regexes {matching:?}",
                set.view
            ));
        }
    }
    Ok(())
}

fn all_case_texts() -> Vec<String> {
    let cases = cases();
    let mut texts = cases.benign;
    for case in cases.rules.into_values() {
        texts.extend(case.hit);
        texts.extend(case.miss);
    }
    texts
}

#[test]
fn view_sets_name_what_each_rule_finds_on_every_case() {
    let waf = rules();
    assert_eq!(waf.view_sets.len(), 3, "a set per view");
    let texts = all_case_texts();
    assert!(texts.len() > 200);
    let failures: Vec<String> = texts.iter().filter_map(|t| view_sets_agree_on(&waf, t).err()).collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    /// The same on texts joined from several cases, where one rule's match may sit beside another's.
    #[test]
    fn view_sets_name_what_each_rule_finds_on_joined_cases(
        picks in proptest::collection::vec((any::<proptest::sample::Index>(), 0usize..4), 1..5),
    ) {
        static WAF: std::sync::LazyLock<WafRules> = std::sync::LazyLock::new(rules);
        static TEXTS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(all_case_texts);
        let text: String = picks
            .iter()
            .map(|(index, glue)| format!("{}{}", index.get(&TEXTS), [" ", "\n", "; ", ""][*glue]))
            .collect();
        prop_assert!(view_sets_agree_on(&WAF, &text).is_ok(), "{:?}", view_sets_agree_on(&WAF, &text));
    }
}
