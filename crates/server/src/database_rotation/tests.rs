#![allow(clippy::unwrap_used, reason = "tests fail by panicking")]

use super::*;

#[test]
fn the_admin_url_never_shows_its_password() {
    let cases = [
        (
            "postgres://warden:s3cr%40t@db.internal:5432/app",
            "postgres://warden:***@db.internal:5432/app",
        ),
        (
            "postgresql://warden:p@ss@db:5432/app?sslmode=require&password=other",
            "postgresql://warden:***@db:5432/app?…",
        ),
        (
            "postgres://postgres@127.0.0.1:5432/test",
            "postgres://postgres@127.0.0.1:5432/test",
        ),
        ("postgres://127.0.0.1/test", "postgres://127.0.0.1/test"),
    ];
    for (url, shown) in cases {
        let parsed = AdminUrl::parse(url).unwrap();
        assert_eq!(parsed.redacted(), shown);
        let debug = format!("{parsed:?}");
        for secret in ["s3cr", "p@ss", "other"] {
            assert!(!debug.contains(secret), "{debug}");
        }
    }
    assert!(AdminUrl::parse("mysql://root@localhost/db").is_err());
    let error = AdminUrl::parse("postgres://u:hunter2@host:notaport/db").unwrap_err();
    assert!(!error.contains("hunter2"), "{error}");
}

#[test]
fn literals_and_identifiers_are_quoted() {
    assert_eq!(
        quote_literal("SCRAM-SHA-256$4096:a+b/=$c:d"),
        "'SCRAM-SHA-256$4096:a+b/=$c:d'"
    );
    assert_eq!(quote_literal("it's"), "'it''s'");
    assert_eq!(quote_literal("a\\'b"), "E'a\\\\''b'");
    let role = RoleName::new("r", "App_v2").unwrap();
    assert_eq!(quote_ident(&role), "\"App_v2\"");
}

#[test]
fn a_broken_connection_is_described_in_our_words() {
    let error = refused(
        "creating role `x`",
        sqlx::Error::Io(std::io::Error::other("connection reset")),
        "SCRAM-SHA-256$4096:zzz",
    );
    assert_eq!(
        error.to_string(),
        "the connection to PostgreSQL failed while creating role `x`: connection reset"
    );
}
