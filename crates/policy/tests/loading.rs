//! Loading: every seed fixture loads unchanged; bad files are refused whole with located errors.

use std::path::Path;

use warden_policy::{Format, PolicySet, PolicySource};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let Ok(text) = std::fs::read_to_string(&path) else {
        unreachable!("{} is readable", path.display())
    };
    text
}

fn errors(text: &str) -> Vec<String> {
    match PolicySet::from_yaml("bad.yaml", text) {
        Ok(_) => vec![],
        Err(e) => e.errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_fixture_loads_unchanged() {
    for (name, format) in [
        ("seed004_zta_agent.yaml", Format::ZtaAgent),
        ("seed000_371os.yaml", Format::Os371),
        ("seed001_security.yaml", Format::RoleTable),
        ("seed002_roles.yaml", Format::RoleTable),
        ("warden_example.yaml", Format::Warden),
    ] {
        let text = fixture(name);
        let set = PolicySet::from_yaml(name, &text);
        let Ok(set) = set else {
            unreachable!("{name} loads: {set:?}")
        };
        assert!(!set.rules().is_empty(), "{name} has rules");
        assert!(
            set.rules().iter().any(|r| r.origin.format == format),
            "{name} is read as {format:?}"
        );
        assert_eq!(set.hash().as_str().len(), 64);
    }
}

#[test]
fn the_hash_ignores_file_order_and_sees_changes() {
    let (a, b) = (fixture("seed004_zta_agent.yaml"), fixture("seed002_roles.yaml"));
    let one = PolicySet::load(&[
        PolicySource { file: "a", text: &a },
        PolicySource { file: "b", text: &b },
    ]);
    let two = PolicySet::load(&[
        PolicySource { file: "b", text: &b },
        PolicySource { file: "a", text: &a },
    ]);
    let (Ok(one), Ok(two)) = (one, two) else {
        unreachable!("both load")
    };
    assert_eq!(one.hash(), two.hash());
    let changed = a.replace("priority: 90", "priority: 91");
    let Ok(three) = PolicySet::from_yaml("a", &changed) else {
        unreachable!("loads")
    };
    let Ok(four) = PolicySet::from_yaml("a", &a) else {
        unreachable!("loads")
    };
    assert_ne!(three.hash(), four.hash());
    assert_ne!(PolicySet::empty().hash(), four.hash());
}

#[test]
fn unknown_keys_are_errors_with_a_line() {
    let found = errors("rules:\n  - name: r\n    effect: allow\n    actions: [x]\n    colour: blue\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("bad.yaml:5") && found[0].contains("colour"),
        "{found:?}"
    );
    assert!(!errors("polices: []\n").is_empty());
}

#[test]
fn an_invalid_regex_is_a_load_error_naming_the_rule() {
    let found = errors(
        "policies:\n  policies:\n    - name: broken\n      conditions: {agent_id: {regex: \"(\"}}\n      effect: allow\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("bad.yaml:3") && found[0].contains("`broken`") && found[0].contains("regex"));
}

#[test]
fn every_error_in_a_file_is_listed() {
    let found = errors(concat!(
        "rules:\n",
        "  - {name: one, effect: allow, actions: [x], conditions: {path: principal.colour, op: eq, value: 1}}\n",
        "  - {name: two, effect: allow, actions: [x], conditions: {path: context.ip, op: cidr, value: [nope]}}\n",
        "  - {name: three, effect: allow, actions: [x], conditions: {path: context.a, op: like, value: 1}}\n",
        "  - {name: four, effect: deny, actions: [x], require_capabilities: [c]}\n",
        "  - {name: five, effect: allow, actions: [x], conditions: {time: {start: \"25:00\", end: \"01:00\"}}}\n",
        "  - {name: six, effect: allow, actions: [x], conditions: {time: {days: [1], timezone: Mars/Olympus}}}\n",
        "  - {name: one, effect: allow, actions: [w]}\n",
    ));
    assert_eq!(found.len(), 7, "{found:#?}");
    for (line, rule) in [
        (2, "one"),
        (3, "two"),
        (4, "three"),
        (5, "four"),
        (6, "five"),
        (7, "six"),
        (8, "one"),
    ] {
        assert!(
            found
                .iter()
                .any(|e| e.contains(&format!("bad.yaml:{line}: rule `{rule}`"))),
            "no error for line {line} in {found:#?}"
        );
    }
}

#[test]
fn role_cycles_and_unknown_parents_are_refused() {
    let found = errors(concat!(
        "roles:\n",
        "  - {name: a, permissions: [x], inherits: [b]}\n",
        "  - {name: b, permissions: [y], inherits: [a]}\n",
    ));
    assert!(found.iter().any(|e| e.contains("cycle")), "{found:?}");
    let found = errors("roles:\n  - {name: a, permissions: [x], inherits: [ghost]}\n");
    assert!(found.iter().any(|e| e.contains("ghost")), "{found:?}");
    let found = errors("roles:\n  - {name: a, inherits: [a]}\n");
    assert!(found.iter().any(|e| e.contains("cycle")), "{found:?}");
}

#[test]
fn a_bad_file_rejects_the_whole_set() {
    let good = fixture("seed002_roles.yaml");
    let result = PolicySet::load(&[
        PolicySource {
            file: "good.yaml",
            text: &good,
        },
        PolicySource {
            file: "bad.yaml",
            text: "rules: 7\n",
        },
    ]);
    let Err(error) = result else {
        unreachable!("the set is refused")
    };
    assert!(error.errors.iter().all(|e| e.file == "bad.yaml"), "{error}");
}

#[test]
fn hostile_yaml_is_refused_not_crashed() {
    for text in [
        "",
        "~",
        "[]",
        "rules: [",
        "a: &a [*a]",
        "rules:\n  - !!binary aGVsbG8=\n",
    ] {
        let _ = PolicySet::from_yaml("x", text);
    }
    let Ok(empty) = PolicySet::from_yaml("x", "{}") else {
        unreachable!("an empty mapping is an empty set")
    };
    assert!(empty.rules().is_empty());
}

#[test]
fn grants_delegate_one_hop_and_never_wider() {
    use warden_core::Timestamp;
    use warden_policy::{Grant, GrantError};
    let now = Timestamp::from_unix(1_000);
    let parent = Grant {
        id: "g1".to_owned(),
        agent_id: "a".to_owned(),
        action: "db:read".to_owned(),
        resource: "db:prod/users".to_owned(),
        expires_at: Timestamp::from_unix(2_000),
        delegable: true,
        delegated_from: None,
    };
    let Ok(child) = parent.delegate("g2".to_owned(), "b", Timestamp::from_unix(9_000), now) else {
        unreachable!("a delegable grant delegates")
    };
    assert_eq!(child.expires_at, parent.expires_at, "never later than the parent");
    assert_eq!(
        (child.action.as_str(), child.resource.as_str()),
        ("db:read", "db:prod/users")
    );
    assert!(!child.delegable && child.delegated_from.as_deref() == Some("a"));
    assert!(child.covers("b", "db:read", "db:prod/users", now));
    assert!(!child.covers("a", "db:read", "db:prod/users", now));
    assert_eq!(
        child.delegate("g3".to_owned(), "c", now, now),
        Err(GrantError::NotDelegable("g2".to_owned()))
    );
    let relay = Grant {
        delegable: true,
        ..child
    };
    assert_eq!(
        relay.delegate("g3".to_owned(), "c", now, now),
        Err(GrantError::AlreadyDelegated("g2".to_owned()))
    );
    assert!(
        parent
            .delegate("g4".to_owned(), "b", now, Timestamp::from_unix(2_000))
            .is_err()
    );
    assert_eq!(
        parent.delegate("g5".to_owned(), "a", now, now),
        Err(GrantError::SelfDelegation)
    );
}
