use super::*;

#[test]
fn redact_drops_password_and_query() {
    assert_eq!(
        redact("postgres://warden:s3cret@db.example:5432/warden?sslmode=require&password=x"),
        "postgres://warden@db.example:5432/warden"
    );
    assert_eq!(
        redact("postgres://warden@db/warden"),
        "postgres://warden@db/warden"
    );
    assert_eq!(
        redact("sqlite:///var/lib/warden/warden.db?mode=rwc"),
        "sqlite:///var/lib/warden/warden.db"
    );
    assert_eq!(redact("sqlite:warden.db"), "sqlite:warden.db");
}

#[test]
fn backend_is_named_by_scheme() {
    assert_eq!(Backend::from_url("sqlite:x.db").ok(), Some(Backend::Sqlite));
    assert_eq!(
        Backend::from_url("sqlite://x.db?mode=rwc").ok(),
        Some(Backend::Sqlite)
    );
    assert_eq!(
        Backend::from_url("postgres://h/db").ok(),
        Some(Backend::Postgres)
    );
    assert_eq!(
        Backend::from_url("postgresql://h/db").ok(),
        Some(Backend::Postgres)
    );
    assert!(matches!(
        Backend::from_url("mysql://h/db"),
        Err(StoreError::Unavailable(_))
    ));
    assert!(matches!(
        Backend::from_url("warden.db"),
        Err(StoreError::Unavailable(_))
    ));
}
