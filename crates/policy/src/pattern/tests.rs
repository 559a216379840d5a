use proptest::prelude::*;

use super::*;

fn pattern(text: &str) -> Pattern {
    let Ok(p) = Pattern::parse(text) else {
        unreachable!("`{text}` parses")
    };
    p
}

#[test]
fn globs_respect_segments() {
    assert!(pattern("mcp:github/*").matches("mcp:github/create_issue"));
    assert!(!pattern("mcp:github/*").matches("mcp:github/a/b"));
    assert!(pattern("secret:prod/**").matches("secret:prod/a/b"));
    assert!(!pattern("secret:prod/**").matches("secret:staging/a"));
    assert!(pattern("agent:*").matches("agent:view"));
    assert!(pattern("*").matches("anything/at/all"));
    assert!(pattern("a.b").matches("a.b") && !pattern("a.b").matches("axb"));
    assert_eq!(pattern("secret:prod/**").literal_prefix(), "secret:prod/");
}

#[test]
fn bad_patterns_are_refused() {
    assert!(Pattern::parse("").is_err());
    assert!(Pattern::parse("a***").is_err());
}

proptest! {
    #[test]
    fn the_scope_matcher_agrees_with_the_compiled_one(
        pattern_text in "[ab/:*]{1,8}",
        value in "[ab/:]{0,8}",
    ) {
        if let Ok(compiled) = Pattern::parse(&pattern_text) {
            prop_assert_eq!(compiled.matches(&value), glob_matches(&pattern_text, &value));
        }
    }
}

#[test]
fn trailing_wildcards_need_no_regex() {
    for text in ["secret:prod/**", "agent:*", "a**", "x/*"] {
        assert!(matches!(pattern(text).kind, Kind::Prefix { .. }), "`{text}`");
    }
    for text in ["a*b", "*a", "a/*/b", "a*b**", "**a"] {
        assert!(matches!(pattern(text).kind, Kind::Glob(_)), "`{text}`");
    }
    assert!(!pattern("secret:prod/**").matches("secret:prod"));
    assert!(pattern("secret:prod/**").matches("secret:prod/"));
    assert!(pattern("doc:*").matches("doc:é\nx") && !pattern("doc:*").matches("doc:é/x"));
}

proptest! {
    /// The byte comparison of `prefix*` and `prefix**` answers as the regex they used to compile to,
    /// on any text (multi-byte characters and newlines included).
    #[test]
    fn prefix_patterns_agree_with_their_regex(
        prefix in "[ab/é\n:]{0,6}",
        any_depth in any::<bool>(),
        value in "[ab/é\n:]{0,10}",
    ) {
        let text = format!("{prefix}{}", if any_depth { "**" } else { "*" });
        let compiled = pattern(&text);
        if matches!(compiled.kind, Kind::Prefix { .. }) {
            let Ok(regex) = Regex::new(&glob_to_regex(&text)) else {
                unreachable!("the glob regex compiles")
            };
            prop_assert_eq!(compiled.matches(&value), regex.is_match(&value), "`{}` on {:?}", text, value);
        }
    }
}
