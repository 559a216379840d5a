use super::*;

fn request() -> NewAgent {
    NewAgent {
        name: "research_bot".into(),
        roles: vec!["researcher".into(), "researcher".into()],
        capabilities: vec!["web_search".into()],
        scopes: vec!["agent:execute".into()],
        tier: Some("pantheon".into()),
        attributes: Map::new(),
    }
}

#[test]
fn registers_active_with_deduplicated_roles() {
    let agent = Agent::register("a1".into(), request(), Timestamp::from_unix(10));
    let Ok(agent) = agent else {
        unreachable!("valid request")
    };
    assert_eq!(agent.status, AgentStatus::Active);
    assert_eq!(agent.roles, vec!["researcher".to_string()]);
    assert!(agent.ensure_active().is_ok());
}

#[test]
fn rejects_bad_names_and_labels() {
    for name in ["", "has space", "../etc", "a/b", &"x".repeat(129)] {
        let r = Agent::register(
            "a".into(),
            NewAgent {
                name: name.into(),
                ..request()
            },
            Timestamp::EPOCH,
        );
        assert!(
            matches!(r, Err(IdentityError::Invalid { field: "name", .. })),
            "{name:?} accepted"
        );
    }
    let r = Agent::register(
        "a".into(),
        NewAgent {
            roles: vec!["bad role".into()],
            ..request()
        },
        Timestamp::EPOCH,
    );
    assert!(matches!(r, Err(IdentityError::Invalid { field: "roles", .. })));
    let many = (0..65).map(|i| format!("s{i}")).collect();
    let r = Agent::register(
        "a".into(),
        NewAgent {
            scopes: many,
            ..request()
        },
        Timestamp::EPOCH,
    );
    assert!(matches!(r, Err(IdentityError::Invalid { field: "scopes", .. })));
}

#[test]
fn quarantine_kills_earlier_tokens_and_revocation_is_final() {
    let Ok(mut agent) = Agent::register("a1".into(), request(), Timestamp::from_unix(10)) else {
        unreachable!("valid request")
    };
    assert!(!agent.token_predates_cutoff(Timestamp::from_unix(100)));
    assert!(
        agent
            .change_status(StatusChange::Quarantine, Timestamp::from_unix(100))
            .is_ok()
    );
    assert!(agent.token_predates_cutoff(Timestamp::from_unix(100)));
    assert!(matches!(
        agent.ensure_active(),
        Err(IdentityError::AgentInactive(AgentStatus::Quarantined))
    ));
    assert!(
        agent
            .change_status(StatusChange::Release, Timestamp::from_unix(200))
            .is_ok()
    );
    assert!(agent.ensure_active().is_ok());
    assert!(
        agent
            .change_status(StatusChange::Revoke, Timestamp::from_unix(300))
            .is_ok()
    );
    assert!(matches!(
        agent.change_status(StatusChange::Release, Timestamp::from_unix(400)),
        Err(IdentityError::AgentRevoked)
    ));
}
