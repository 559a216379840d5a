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
