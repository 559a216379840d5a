//! Unit tests of the validators, the actions and tokenization, with an in-memory vault standing in
//! for the server's.

use std::collections::HashMap;

use super::*;
use crate::FindingKind;

fn detector() -> DlpDetector {
    let Ok(detector) = DlpDetector::new() else {
        unreachable!("the default rules load")
    };
    detector
}

/// Tokens keyed by HMAC, originals in a map: what the server's vault does, without storage.
struct MemoryVault {
    key: TokenKey,
    originals: HashMap<String, String>,
}

impl MemoryVault {
    fn new() -> MemoryVault {
        let Ok(key) = TokenKey::new(&[7u8; 32]) else {
            unreachable!("32 bytes is enough")
        };
        MemoryVault {
            key,
            originals: HashMap::new(),
        }
    }
}

impl TokenVault for MemoryVault {
    fn tokenize(&mut self, entity: Entity, original: &str) -> Result<Token, VaultFailure> {
        let token = Token::keyed(&self.key, entity, original);
        self.originals.insert(token.as_str().to_owned(), original.to_owned());
        Ok(token)
    }

    fn detokenize(&mut self, token: &Token) -> Result<Option<String>, VaultFailure> {
        Ok(self.originals.get(token.as_str()).cloned())
    }
}

#[test]
fn luhn_and_issuers() {
    assert!(checks::card_number(b"4111111111111111"));
    assert!(checks::card_number(b"2223003122003222"));
    assert!(!checks::card_number(b"4111111111111112"));
    // Luhn-valid, but 99 is no issuer's prefix.
    assert!(!checks::card_number(b"9999999999999995"));
    // A Visa prefix at a length Visa does not use.
    assert!(!checks::card_number(b"41111111111111"));
}

#[test]
fn ssn_numbering_rules() {
    assert!(checks::ssn(536, 22, 1234));
    for (area, group, serial) in [
        (0, 12, 3456),
        (666, 12, 3456),
        (900, 12, 3456),
        (999, 1, 1),
        (123, 0, 4567),
        (123, 45, 0),
    ] {
        assert!(!checks::ssn(area, group, serial), "{area}-{group}-{serial}");
    }
}

#[test]
fn iban_lengths_and_checksum() {
    assert_eq!(checks::iban_length(b"DE"), Some(22));
    assert_eq!(checks::iban_length(b"US"), None);
    assert!(checks::iban_checksum(b"DE89370400440532013000"));
    assert!(!checks::iban_checksum(b"DE89370400440532013001"));
}

#[test]
fn findings_are_pii_or_secret_with_byte_spans() {
    let text = "é card 4111111111111111 and key AKIAQYLPMN5HHHFPZAM2.";
    let findings = detector().scan(text);
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(
        (findings[0].kind, findings[0].rule.as_str()),
        (FindingKind::Pii, "pii.card_number")
    );
    assert_eq!(&text[findings[0].start..findings[0].end], "4111111111111111");
    assert_eq!(
        (findings[1].kind, findings[1].rule.as_str()),
        (FindingKind::Secret, "secret.aws-access-token")
    );
    assert_eq!(&text[findings[1].start..findings[1].end], "AKIAQYLPMN5HHHFPZAM2");
}

#[test]
fn redact_labels_or_keeps_the_last_four() {
    let text = "card 4111 1111 1111 1111, mail a@example.com";
    let findings = detector().scan(text);
    assert_eq!(
        redact(text, &findings, Mask::Label),
        "card [REDACTED:card_number], mail [REDACTED:email]"
    );
    assert_eq!(
        redact(text, &findings, Mask::LastFour),
        "card **** **** **** 1111, mail *@******e.com"
    );
}

#[test]
fn overlapping_findings_are_merged_and_the_strongest_action_wins() {
    let text = "x 0123456789 y";
    let finding = |entity: Entity, start, end| entity.finding(start, end, 1.0);
    let findings = [
        finding(Entity::Phone, 2, 12),
        finding(Entity::Ssn, 4, 10),
        finding(Entity::IpAddress, 11, 14),
    ];
    assert_eq!(redact(text, &findings, Mask::Label), "x [REDACTED:phone]");
    let policy = DlpPolicy {
        phone: DlpAction::Allow,
        ssn: DlpAction::Redact,
        ..DlpPolicy::default()
    };
    let Ok(outcome) = policy.apply(text, &findings, &mut MemoryVault::new()) else {
        unreachable!()
    };
    assert_eq!(
        outcome,
        DlpOutcome::Pass {
            text: "x [REDACTED:ssn]".to_owned()
        }
    );
    // Spans that are not ranges of the text are ignored, not trusted.
    assert_eq!(redact("short", &[finding(Entity::Email, 3, 99)], Mask::Label), "short");
}

#[test]
fn policy_actions_per_entity() {
    let text = "mail a@example.com, ip 10.1.2.3, card 4111111111111111";
    let findings = detector().scan(text);
    let policy = DlpPolicy {
        email: DlpAction::Tokenize,
        ip_address: DlpAction::Allow,
        card_number: DlpAction::Mask,
        ..DlpPolicy::default()
    };
    let mut vault = MemoryVault::new();
    let Ok(DlpOutcome::Pass { text: out }) = policy.apply(text, &findings, &mut vault) else {
        unreachable!()
    };
    assert!(out.starts_with("mail tok_email_"), "{out}");
    assert!(out.ends_with(", ip 10.1.2.3, card ************1111"), "{out}");
    let Ok(back) = detokenize(&out, &mut vault) else {
        unreachable!()
    };
    assert_eq!(back, "mail a@example.com, ip 10.1.2.3, card ************1111");

    let block = DlpPolicy {
        card_number: DlpAction::Block,
        ..DlpPolicy::default()
    };
    let Ok(outcome) = block.apply(text, &findings, &mut vault) else {
        unreachable!()
    };
    assert_eq!(
        outcome,
        DlpOutcome::Block {
            rules: vec!["pii.card_number".to_owned()]
        }
    );
}

#[test]
fn policy_config_is_strict_and_defaults_fail_closed() {
    let Ok(policy) = serde_json::from_str::<DlpPolicy>(r#"{"email": "allow", "card_number": "tokenize"}"#) else {
        unreachable!()
    };
    assert_eq!(policy.action(Entity::Email), DlpAction::Allow);
    assert_eq!(policy.action(Entity::CardNumber), DlpAction::Tokenize);
    assert_eq!(policy.action(Entity::Secret), DlpAction::Block);
    assert_eq!(policy.action(Entity::Ssn), DlpAction::Redact);
    assert!(serde_json::from_str::<DlpPolicy>(r#"{"emial": "allow"}"#).is_err());
    assert!(serde_json::from_str::<DlpPolicy>(r#"{"email": "shred"}"#).is_err());
}

#[test]
fn tokens_round_trip_and_do_not_reveal_the_original() {
    let text = "SSN 536-22-1234, card 4111111111111111, card again 4111111111111111";
    let findings = detector().scan(text);
    let mut vault = MemoryVault::new();
    let Ok(tokenized) = tokenize(text, &findings, &mut vault) else {
        unreachable!()
    };
    assert!(
        !tokenized.contains("4111") && !tokenized.contains("1234"),
        "{tokenized}"
    );
    let tokens: Vec<&str> = tokenized.split([' ', ',']).filter(|w| w.starts_with("tok_")).collect();
    assert_eq!(tokens.len(), 3);
    assert!(tokens[0].starts_with("tok_ssn_") && tokens[1].starts_with("tok_card_number_"));
    // Keyed: the same card gets the same token; another key gives another token.
    assert_eq!(tokens[1], tokens[2]);
    let Ok(other_key) = TokenKey::new(&[8u8; 32]) else {
        unreachable!()
    };
    assert_ne!(
        Token::keyed(&other_key, Entity::CardNumber, "4111111111111111").as_str(),
        tokens[1]
    );
    let Ok(back) = detokenize(&tokenized, &mut vault) else {
        unreachable!()
    };
    assert_eq!(back, text);
}

#[test]
fn detokenize_leaves_unknown_and_malformed_tokens_alone() {
    let mut vault = MemoryVault::new();
    let unknown = Token::from_id(Entity::Email, [1; 12]);
    let text = format!(
        "{} tok_email_xyz tok_nothing_000 atok_email_{}",
        unknown.as_str(),
        "0".repeat(24)
    );
    let Ok(out) = detokenize(&text, &mut vault) else {
        unreachable!()
    };
    assert_eq!(out, text);
    let Some((parsed, len)) = Token::parse(unknown.as_str()) else {
        unreachable!()
    };
    assert_eq!((parsed.entity(), len), (Entity::Email, unknown.as_str().len()));
}

#[test]
fn short_token_keys_are_refused() {
    assert!(matches!(TokenKey::new(&[0u8; 16]), Err(DlpError::TokenKey(16))));
}

#[test]
fn go_regex_syntax_is_translated() {
    for (go, matches) in [
        (r"^\${(?:[A-Z_]+)}$", "${API_KEY}"),
        (r"^\{\d{0,2}}$", "{12}"),
        (r"[^]]+", "abc"),
        (r"[[:alpha:]]{3}", "abc"),
        (r"\bkey\b", "a key b"),
    ] {
        let Ok(regex) = gitleaks::compile(go) else {
            unreachable!("{go} compiles")
        };
        assert!(regex.is_match(matches.as_bytes()), "{go} on {matches}");
    }
}

#[test]
fn numbers_after_an_escaped_line_break_are_found() {
    // JSON-escaped tool arguments carry `\n` as two characters; the digits after it start a word.
    let detector = detector();
    let text = r"Name: Ana\nPhone:\n415-555-0132\ncard:\t4111 1111 1111 1111";
    let findings = detector.scan(text);
    let kinds: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), &text[f.start..f.end]))
        .collect();
    assert!(kinds.contains(&("pii.phone", "415-555-0132")), "{kinds:?}");
    assert!(kinds.contains(&("pii.card_number", "4111 1111 1111 1111")), "{kinds:?}");
    // A digit glued to an ordinary word is still not a number's start.
    assert!(detector.scan("version n4155550132 of the build").is_empty());
}
