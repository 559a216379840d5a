use std::path::Path;

use super::*;

fn resolve(text: &str) -> Result<Config, ConfigError> {
    Config::resolve(parse("test.yaml", text)?, Overrides::default(), Path::new("/data"))
}

#[test]
fn the_generated_file_parses_to_the_defaults() {
    let config = resolve(include_str!("../init/warden.yaml"));
    let Ok(config) = config else {
        unreachable!("the shipped warden.yaml must parse: {config:?}")
    };
    assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
    assert_eq!(config.store_url, "sqlite:///data/warden.db?mode=rwc");
    assert_eq!(config.auth.access_ttl, Seconds::hours(1));
    assert_eq!(config.auth.lockout.max_failed_attempts, 5);
    assert_eq!(config.rotation.max, Seconds::hours(168));
    assert_eq!(config.passports.default_ttl, Seconds::minutes(5));
}

#[test]
fn an_empty_file_is_all_defaults() {
    let Ok(config) = resolve("{}") else { unreachable!() };
    assert_eq!(config.auth.issuer, "warden");
    assert!(config.tls.is_none());
}

#[test]
fn unknown_keys_are_errors_naming_their_path() {
    let error = resolve("auth:\n  password_policy:\n    min_lenght: 3\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("auth.password_policy"), "{error}");
    assert!(error.contains("min_lenght"), "{error}");
    let error = resolve("serverr: {}\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("serverr"), "{error}");
}

#[test]
fn seed_004_auth_keys_are_accepted() {
    let text = "auth:\n  token_expiry: 3600\n  refresh_token_expiry: 604800\n  max_failed_attempts: 5\n  lockout_duration: 300\n  password_policy:\n    min_length: 12\n    require_uppercase: true\n    require_lowercase: true\n    require_numbers: true\n    require_special: true\n    max_age_days: 90\n    history_size: 5\n";
    let Ok(config) = resolve(text) else {
        unreachable!("seed 004 keys must parse")
    };
    assert_eq!(config.auth.refresh_ttl, Seconds::days(7));
    assert_eq!(config.auth.lockout.lockout_duration, Seconds::new(300));
}

#[test]
fn invalid_values_name_the_field() {
    let cases = [
        ("server:\n  listen: nowhere\n", "server.listen"),
        ("store:\n  url: mysql://x\n", "store.url"),
        ("keys:\n  rotation: {min: 2h, max: 1h, grace: 1h}\n", "keys.rotation"),
        ("auth:\n  max_failed_attempts: 0\n", "auth.max_failed_attempts"),
        ("log:\n  format: xml\n", "log.format"),
        (
            "server:\n  tls: {cert: a, key: b, client_auth: sometimes}\n",
            "server.tls.client_auth",
        ),
        ("auth:\n  token_expiry: 5 parsecs\n", "auth.token_expiry"),
    ];
    for (text, field) in cases {
        let error = resolve(text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains(field), "{text:?} gave {error:?}");
    }
}

#[test]
fn overrides_win_over_the_file() {
    let raw = parse("t", "server:\n  listen: 127.0.0.1:1\n").ok().unwrap_or_default();
    let overrides = Overrides {
        listen: Some("127.0.0.1:9999".into()),
        store_url: Some("postgres://x@y/z".into()),
        ..Overrides::default()
    };
    let Ok(config) = Config::resolve(raw, overrides, Path::new("/d")) else {
        unreachable!()
    };
    assert_eq!(config.listen.port(), 9999);
    assert_eq!(config.store_url, "postgres://x@y/z");
}

#[test]
fn database_rotation_is_off_unless_configured() {
    let Ok(config) = resolve("{}") else { unreachable!() };
    assert!(config.vault.database_rotation.is_none());
    // The environment supplies the URL; the section is what turns the feature on.
    let overrides = Overrides {
        db_rotation_url: Some(Secret::new("postgres://rotator:pw@db/app")),
        ..Overrides::default()
    };
    let raw = parse("t", "{}").ok().unwrap_or_default();
    let Ok(config) = Config::resolve(raw, overrides, Path::new("/d")) else {
        unreachable!()
    };
    assert!(config.vault.database_rotation.is_none());
}

#[test]
fn the_documented_database_rotation_block_parses_when_uncommented() {
    // Uncomment `#database_rotation:` and the `#  ` lines right under it, nothing else.
    let mut in_block = false;
    let text: Vec<String> = include_str!("../init/warden.yaml")
        .lines()
        .map(|line| {
            if line == "  #database_rotation:" {
                in_block = true;
                return "  database_rotation:".to_owned();
            }
            in_block = in_block && line.starts_with("  #  ");
            if in_block {
                format!("    {}", &line["  #  ".len()..])
            } else {
                line.to_owned()
            }
        })
        .collect();
    let text = text.join("\n");
    let config = resolve(&text);
    let Ok(config) = config else {
        unreachable!("the documented block must parse: {config:?}")
    };
    let Some(rotation) = config.vault.database_rotation else {
        unreachable!("the block turns the feature on")
    };
    assert_eq!(rotation.grace, Seconds::hours(1));
    assert_eq!(rotation.password_length.get(), 32);
    assert_eq!(
        rotation.admin_url.redacted(),
        "postgres://warden_rotator:***@127.0.0.1:5432/postgres"
    );
    assert!(!format!("{:?}", rotation.admin_url).contains("CHANGE-ME"));
}

#[test]
fn the_environment_url_wins_and_is_never_shown() {
    let raw = parse(
        "t",
        "vault:\n  database_rotation:\n    admin_url: postgres://file:filepw@a/b\n    grace: 10m\n",
    )
    .ok()
    .unwrap_or_default();
    let overrides = Overrides {
        db_rotation_url: Some(Secret::new("postgres://env:envpw@c:5433/d")),
        ..Overrides::default()
    };
    let Ok(config) = Config::resolve(raw, overrides, Path::new("/d")) else {
        unreachable!()
    };
    let Some(rotation) = &config.vault.database_rotation else {
        unreachable!()
    };
    assert_eq!(rotation.admin_url.redacted(), "postgres://env:***@c:5433/d");
    assert_eq!(rotation.grace, Seconds::minutes(10));
    assert!(!format!("{config:?}").contains("envpw"));
}

#[test]
fn invalid_database_rotation_settings_name_the_field() {
    let cases = [
        ("vault:\n  database_rotation: {}\n", "vault.database_rotation.admin_url"),
        (
            "vault:\n  database_rotation: {admin_url: 'mysql://u:hunter2@h/d'}\n",
            "vault.database_rotation.admin_url",
        ),
        (
            "vault:\n  database_rotation: {admin_url: 'postgres://h/d', grace: 0}\n",
            "vault.database_rotation.grace",
        ),
        (
            "vault:\n  database_rotation: {admin_url: 'postgres://h/d', password_length: 16}\n",
            "vault.database_rotation.password_length",
        ),
        (
            "vault:\n  database_rotation: {admin_url: 'postgres://h/d', passwd_length: 40}\n",
            "passwd_length",
        ),
    ];
    for (text, field) in cases {
        let error = resolve(text).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains(field), "{text:?} gave {error:?}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}
