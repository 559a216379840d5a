use serde::Deserialize;

use super::*;

/// The cases file: a policy and URLs with the verdict expected.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    allow: Vec<String>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    url: String,
    verdict: String,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    why: Option<String>,
}

const CASES: &str = include_str!("../../tests/data/egress.yaml");

#[test]
fn cases_file_verdicts() {
    let Ok(file) = serde_saphyr::from_str::<CaseFile>(CASES) else {
        unreachable!("egress.yaml parses")
    };
    let Ok(policy) = EgressPolicy::parse(&file.allow) else {
        unreachable!("the allowlist parses")
    };
    let mut failures = Vec::new();
    for case in &file.cases {
        let verdict = policy.check(&case.url);
        let finding = verdict.finding(&case.url);
        let got_rule = finding.as_ref().map(|f| f.rule.as_str());
        let ok = match case.verdict.as_str() {
            "allow" => verdict.is_allowed(),
            "deny" => !verdict.is_allowed() && (case.rule.is_none() || got_rule == case.rule.as_deref()),
            other => unreachable!("unknown verdict {other}"),
        };
        if !ok {
            failures.push(format!("{} ({:?}): got {verdict:?} {got_rule:?}", case.url, case.why));
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
fn seed_002_shape_loads_with_exact_semantics() {
    let yaml = "ALLOWED_DOMAINS:\n  - api.openai.com\n  - api.anthropic.com\n  - generativelanguage.googleapis.com\n";
    let Ok(config) = serde_saphyr::from_str::<EgressConfig>(yaml) else {
        unreachable!("seed shape parses")
    };
    let Ok(policy) = EgressPolicy::try_from(config) else {
        unreachable!("seed patterns are valid")
    };
    assert!(policy.check("https://api.openai.com/v1").is_allowed());
    // The seed's `domain in destination` would let these through.
    assert!(!policy.check("https://evil.example/api.openai.com").is_allowed());
    assert!(!policy.check("https://api.openai.com.evil.example/").is_allowed());
}

#[test]
fn unknown_config_fields_are_refused() {
    assert!(serde_saphyr::from_str::<EgressConfig>("allow: []\nallowed: [x]\n").is_err());
}

#[test]
fn invalid_patterns_are_refused() {
    for bad in [
        "",
        "*",
        "*.",
        "api.*.com",
        "*api.openai.com",
        "https://user@api.openai.com",
        "https://a.com/path",
    ] {
        assert!(EgressPolicy::parse(&[bad]).is_err(), "{bad:?} should be refused");
    }
    for bad in [
        "https://a.com:99999",
        "https://a.com:x",
        "1http://a.com",
        "*.127.0.0.1",
        "https://a b.com",
    ] {
        assert!(EgressPolicy::parse(&[bad]).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn empty_policy_denies_everything() {
    let policy = EgressPolicy::default();
    assert!(!policy.check("https://api.openai.com/").is_allowed());
}

#[test]
fn allowed_verdict_has_no_finding() {
    assert!(EgressVerdict::Allowed.finding("https://a.example").is_none());
    let denied = EgressVerdict::Denied {
        reason: DenyReason::Userinfo,
    };
    let Some(finding) = denied.finding("https://u@a.example") else {
        unreachable!("a denial reports")
    };
    assert_eq!(finding.kind, FindingKind::Egress);
    assert_eq!((finding.start, finding.end), (0, 19));
}

#[test]
fn internal_targets() {
    let internal = [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://017700000001/",
        "http://0x7f.0x0.0x0.0x1/",
        "http://0/",
        "http://0.0.0.0:8080/",
        "http://[::]/",
        "http://[::1]/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:a9fe:a9fe::]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.170.2/v2/credentials",
        "http://100.100.100.200/latest/meta-data/",
        "http://metadata.google.internal/",
        "http://METADATA.GOOGLE.INTERNAL./",
        "http://localhost:3000/",
        "http://api.localhost/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://172.31.255.255/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://user@127.0.0.1/",
        "http://evil.example@10.0.0.1/",
        "gopher://127.0.0.1:6379/_INFO",
        "gopher://0x7f.1:6379/_INFO",
        "dict://2130706433:11211/stat",
        "http://127.0.0.1.nip.io/",
        "http://app.10.0.0.1.sslip.io/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
    ];
    for url in internal {
        assert!(targets_internal(url), "{url} is internal: {:?}", url_target(url));
    }
    assert_eq!(url_target("http://169.254.169.254/"), Some(AddressClass::Metadata));
    assert_eq!(
        url_target("http://[::ffff:169.254.169.254]/"),
        Some(AddressClass::Metadata)
    );
    assert_eq!(
        url_target("http://metadata.google.internal/"),
        Some(AddressClass::Metadata)
    );
    assert_eq!(url_target("http://[fe80::1]/"), Some(AddressClass::LinkLocal));
    assert_eq!(url_target("not a url"), None);
}

#[test]
fn public_targets() {
    for url in [
        "https://api.openai.com/",
        "http://8.8.8.8/",
        "http://172.32.0.1/",
        "http://192.169.0.1/",
        "http://[2001:4860:4860::8888]/",
        "http://localhost.evil.example/",
        "http://127.0.0.1.evil.example/",
        "https://nip.io.evil.example/",
    ] {
        assert!(!targets_internal(url), "{url} is public: {:?}", url_target(url));
    }
}
