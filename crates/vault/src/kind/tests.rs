use super::*;

#[test]
fn every_kind_round_trips_through_its_name() {
    for kind in SecretKind::ALL {
        assert_eq!(kind.as_str().parse::<SecretKind>(), Ok(kind));
        let json = serde_json::to_string(&kind).unwrap_or_default();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
        assert_eq!(serde_json::from_str::<SecretKind>(&json).ok(), Some(kind));
    }
}

#[test]
fn the_seed_alias_reads_as_database() {
    assert_eq!("database_password".parse::<SecretKind>(), Ok(SecretKind::Database));
    assert_eq!(SecretKind::Database.to_string(), "database");
}

#[test]
fn an_unknown_kind_names_the_allowed_ones() {
    let Err(error) = "ssh_key".parse::<SecretKind>() else {
        unreachable!("ssh_key is not a kind")
    };
    assert_eq!(
        error.to_string(),
        "`ssh_key` is not a secret type; use one of `api_key`, `database`, `password`, `certificate`, \
         `payment` or `generic`"
    );
    for near_miss in ["", "API_KEY", "ApiKey", "api-key", " generic"] {
        assert!(near_miss.parse::<SecretKind>().is_err(), "{near_miss:?}");
    }
}
