use serde_json::Map;

use super::*;
use crate::agent::{Agent, NewAgent};

const NOW: i64 = 1_800_000_000;

fn agent() -> Agent {
    let request = NewAgent {
        name: "code_generator_001".into(),
        roles: vec!["developer".into()],
        capabilities: vec!["code_generation".into()],
        scopes: vec!["agent:execute".into(), "context:read".into(), "registry:read".into()],
        tier: Some("pantheon".into()),
        attributes: Map::new(),
    };
    match Agent::register("a-1".into(), request, Timestamp::from_unix(0)) {
        Ok(a) => a,
        Err(e) => unreachable!("{e}"),
    }
}

fn at(jti: &str) -> Issuance<'static> {
    Issuance {
        issuer: "warden",
        audience: "warden",
        jti: jti.into(),
        now: Timestamp::from_unix(NOW),
    }
}

fn passport(scopes: Option<Vec<&str>>) -> Claims {
    let request = PassportRequest {
        scopes: scopes.map(|s| s.into_iter().map(String::from).collect()),
        ..Default::default()
    };
    match issue(
        &agent(),
        request,
        &PassportPolicy::default(),
        at("p1"),
        Some("sid-1".into()),
    ) {
        Ok(c) => c,
        Err(e) => unreachable!("{e}"),
    }
}

#[test]
fn carries_identity_roles_capabilities_tier_and_scopes() {
    let claims = passport(None);
    assert_eq!(claims.typ, TokenKind::Passport);
    assert_eq!(claims.sub, "a-1");
    assert_eq!(claims.agent_id.as_deref(), Some("a-1"));
    assert_eq!(claims.tier.as_deref(), Some("pantheon"));
    assert_eq!(claims.capabilities, Some(vec!["code_generation".to_string()]));
    assert_eq!(claims.scopes.as_ref().map(Vec::len), Some(3));
    assert_eq!(claims.exp - claims.iat, 300);
}

#[test]
fn never_more_scope_than_the_agent_holds() {
    let narrowed = passport(Some(vec!["context:read"]));
    assert_eq!(narrowed.scopes, Some(vec!["context:read".to_string()]));
    let request = PassportRequest {
        scopes: Some(vec!["agent:delete".into()]),
        ..Default::default()
    };
    let refused = issue(&agent(), request, &PassportPolicy::default(), at("p"), None);
    assert_eq!(refused.err(), Some(PassportError::ScopeNotHeld("agent:delete".into())));
}

#[test]
fn ttl_is_bounded() {
    for ttl in [0, 3601] {
        let request = PassportRequest {
            ttl: Some(Seconds::new(ttl)),
            ..Default::default()
        };
        assert_eq!(
            issue(&agent(), request, &PassportPolicy::default(), at("p"), None).err(),
            Some(PassportError::Ttl(3600))
        );
    }
}

#[test]
fn an_extra_audience_keeps_warden_in_it() {
    let request = PassportRequest {
        audience: Some("payments".into()),
        ..Default::default()
    };
    let Ok(claims) = issue(&agent(), request, &PassportPolicy::default(), at("p"), None) else {
        unreachable!()
    };
    assert!(claims.aud.contains("warden") && claims.aud.contains("payments"));
}

#[test]
fn exchange_narrows_and_records_the_chain() {
    let subject = passport(None);
    let first = exchange(
        &subject,
        "orchestrator",
        Some(vec!["context:read".into()]),
        None,
        &PassportPolicy::default(),
        at("x1"),
    );
    let Ok(first) = first else {
        unreachable!("narrowing is allowed")
    };
    assert_eq!(first.sub, "a-1");
    assert_eq!(first.scopes, Some(vec!["context:read".to_string()]));
    assert_eq!(
        first.act,
        Some(Actor {
            sub: "orchestrator".into(),
            act: None
        })
    );
    assert_eq!(first.tier, subject.tier);

    let second = exchange(&first, "worker", None, None, &PassportPolicy::default(), at("x2"));
    let Ok(second) = second else {
        unreachable!("re-delegation is allowed")
    };
    assert_eq!(second.act.as_ref().map(Actor::depth), Some(2));
    assert_eq!(
        second.act.as_ref().and_then(|a| a.act.as_ref()).map(|a| a.sub.as_str()),
        Some("orchestrator")
    );
}

#[test]
fn exchange_can_never_widen() {
    let subject = passport(Some(vec!["context:read"]));
    let wider = exchange(
        &subject,
        "x",
        Some(vec!["agent:execute".into()]),
        None,
        &PassportPolicy::default(),
        at("x"),
    );
    assert_eq!(wider.err(), Some(PassportError::ScopeNotHeld("agent:execute".into())));

    // A longer ttl is clipped to the subject's expiry.
    let later = Issuance {
        now: Timestamp::from_unix(NOW + 200),
        ..at("x")
    };
    let Ok(clipped) = exchange(
        &subject,
        "x",
        None,
        Some(Seconds::hours(1)),
        &PassportPolicy::default(),
        later,
    ) else {
        unreachable!()
    };
    assert_eq!(clipped.exp, subject.exp);

    let mut access = subject.clone();
    access.typ = TokenKind::Access;
    assert_eq!(
        exchange(&access, "x", None, None, &PassportPolicy::default(), at("x")).err(),
        Some(PassportError::NotAPassport)
    );
}

#[test]
fn delegation_depth_is_bounded() {
    let policy = PassportPolicy {
        max_delegation_depth: 2,
        ..Default::default()
    };
    let mut claims = passport(None);
    for i in 0..2 {
        let Ok(next) = exchange(&claims, &format!("hop{i}"), None, None, &policy, at("x")) else {
            unreachable!()
        };
        claims = next;
    }
    assert_eq!(
        exchange(&claims, "hop3", None, None, &policy, at("x")).err(),
        Some(PassportError::ChainTooLong(2))
    );
}
