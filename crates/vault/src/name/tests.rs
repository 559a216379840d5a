use proptest::prelude::*;

use super::*;

#[test]
fn accepts_path_safe_names() {
    for name in [
        "openai",
        "prod/openai",
        "team-a/db/primary.password",
        "stripe_live",
        "a",
        ".env",
        "prod/.env",
        "v1.2.3",
        "...",
        &"x".repeat(MAX_NAME_LEN),
    ] {
        assert!(SecretName::new(name).is_ok(), "{name:?} should be accepted");
    }
}

#[test]
fn refuses_names_that_are_not_path_safe() {
    for name in [
        "",
        "/prod",
        "prod/",
        "/",
        "a//b",
        "a/../b",
        "..",
        ".",
        "a/./b",
        "../etc/passwd",
        "a b",
        "prod:db",
        "secret*",
        "naïve",
        "a\\b",
        "a\nb",
        "a%2Fb",
        &"x".repeat(MAX_NAME_LEN + 1),
    ] {
        assert!(
            matches!(SecretName::new(name), Err(VaultError::InvalidName { .. })),
            "{name:?} should be refused"
        );
    }
}

#[test]
fn errors_repeat_a_bounded_escaped_prefix() {
    let Err(error) = SecretName::new(format!("evil\nline{}", "y".repeat(10_000))) else {
        unreachable!("refused")
    };
    let message = error.to_string();
    assert!(message.len() < 300, "{message}");
    assert!(message.contains("evil\\nline"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn names_deserialize_through_the_rule() {
    assert!(serde_json::from_str::<SecretName>("\"prod/db\"").is_ok());
    assert!(serde_json::from_str::<SecretName>("\"prod/../db\"").is_err());
}

#[test]
fn versions_count_from_one() {
    assert_eq!(SecretVersion::new(0), None);
    assert_eq!(SecretVersion::FIRST.get(), 1);
    assert_eq!(SecretVersion::FIRST.next().map(SecretVersion::get), Some(2));
    assert_eq!(SecretVersion::new(u32::MAX).and_then(SecretVersion::next), None);
    assert_eq!("3".parse::<SecretVersion>().map(SecretVersion::get), Ok(3));
    for bad in ["0", "", "-1", "+1", " 1", "1.0", "4294967296", "x"] {
        assert!(bad.parse::<SecretVersion>().is_err(), "{bad:?}");
    }
    assert!(serde_json::from_str::<SecretVersion>("0").is_err());
}

proptest! {
    /// Whatever a name is, an accepted one keeps every stated property.
    #[test]
    fn accepted_names_keep_the_rule(name in "[a-z./_-]{0,12}") {
        if let Ok(name) = SecretName::new(name.clone()) {
            let text = name.as_str();
            prop_assert!(!text.is_empty() && !text.starts_with('/') && !text.ends_with('/'));
            prop_assert!(text.split('/').all(|s| !s.is_empty() && s != "." && s != ".."));
        }
    }
}
