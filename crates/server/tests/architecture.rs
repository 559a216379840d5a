//! The direction of dependencies is the architecture: domain crates hold logic only, so none of them
//! may depend, even transitively, on an async runtime, a database driver or an HTTP stack.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::Value;

const DOMAIN_CRATES: &[&str] = &[
    "warden-core",
    "warden-identity",
    "warden-policy",
    "warden-vault",
    "warden-ledger",
    "warden-firewall",
];
const FORBIDDEN: &[&str] = &[
    "tokio",
    "sqlx",
    "sqlx-core",
    "rusqlite",
    "libsqlite3-sys",
    "hyper",
    "axum",
    "reqwest",
    "mio",
];

fn metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    let Ok(output) = output else {
        unreachable!("cargo metadata runs")
    };
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// Every package reachable from `root` through normal (non-dev, non-build) dependencies.
fn normal_closure(meta: &Value, root: &str) -> BTreeSet<String> {
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let nodes: HashMap<&str, Vec<&str>> = meta["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| {
            let deps = n["deps"]
                .as_array()?
                .iter()
                .filter(|d| {
                    d["dep_kinds"]
                        .as_array()
                        .is_some_and(|k| k.iter().any(|k| k["kind"].is_null()))
                })
                .filter_map(|d| d["pkg"].as_str())
                .collect();
            Some((n["id"].as_str()?, deps))
        })
        .collect();
    let Some(start) = names.iter().find(|(_, name)| **name == root).map(|(id, _)| *id) else {
        unreachable!("{root} is a workspace member")
    };
    let mut seen = BTreeSet::new();
    let mut stack = vec![start];
    while let Some(id) = stack.pop() {
        if let Some(name) = names.get(id)
            && seen.insert((*name).to_owned())
        {
            stack.extend(nodes.get(id).into_iter().flatten().copied());
        }
    }
    seen
}

#[test]
fn domain_crates_do_no_io() {
    let meta = metadata();
    for domain in DOMAIN_CRATES {
        let closure = normal_closure(&meta, domain);
        assert!(
            closure.len() > 1,
            "{domain} resolved to nothing; the check itself is broken"
        );
        let bad: Vec<_> = FORBIDDEN.iter().filter(|f| closure.contains(**f)).collect();
        assert!(
            bad.is_empty(),
            "{domain} depends on {bad:?}; domain crates must stay free of I/O stacks"
        );
    }
}

#[test]
fn the_check_would_catch_a_violation() {
    // The server crate does depend on tokio: if this failed, the closure walk would be blind.
    let closure = normal_closure(&metadata(), "warden-server");
    assert!(closure.contains("tokio") && closure.contains("sqlx"));
}
