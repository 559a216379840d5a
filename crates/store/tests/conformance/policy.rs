//! Policy versions (the newest is active everywhere) and just-in-time grants: liveness, revocation
//! that reaches delegated children, and purging of ended grants.

use warden_store::{GrantRecord, PolicyFile, Store};

use super::{T0, with_agent};

fn file(name: &str, text: &str) -> PolicyFile {
    PolicyFile {
        name: name.into(),
        text: text.into(),
    }
}

fn grant(id: &str, agent_id: &str, expires_in: u64) -> GrantRecord {
    GrantRecord {
        id: id.into(),
        agent_id: agent_id.into(),
        action: "secret:read".into(),
        resource: "secret:prod/db".into(),
        reason: "incident 42".into(),
        delegable: true,
        parent_id: None,
        delegated_from: None,
        created_by: "admin".into(),
        created_at: T0,
        expires_at: T0.plus(expires_in),
        revoked_at: None,
    }
}

pub(super) async fn policy_versions_newest_wins(store: &Store) {
    assert_eq!(store.latest_policy_version(None).await.unwrap(), None);
    assert_eq!(store.latest_policy_version_number().await.unwrap(), None);

    let files = vec![
        file("a.yaml", "rules: []\n"),
        file("b.yaml", "roles:\n  - name: \"ünï\"\n"),
    ];
    let first = store
        .insert_policy_version("hash-1", "files", &files, "startup", T0)
        .await
        .unwrap();
    let second = store
        .insert_policy_version("hash-2", "api", &files[..1], "admin", T0.plus(5))
        .await
        .unwrap();
    assert!(second > first, "versions increase: {first} then {second}");
    assert_eq!(store.latest_policy_version_number().await.unwrap(), Some(second));

    let latest = store.latest_policy_version(None).await.unwrap().unwrap();
    assert_eq!(
        (latest.version, latest.hash.as_str(), latest.source.as_str()),
        (second, "hash-2", "api")
    );
    assert_eq!(latest.files, files[..1].to_vec());
    assert_eq!(latest.activated_at, T0.plus(5));

    let from_files = store.latest_policy_version(Some("files")).await.unwrap().unwrap();
    assert_eq!(from_files.version, first);
    assert_eq!(from_files.files, files, "file names and texts round-trip exactly");
    assert_eq!(from_files.activated_by, "startup");
}

pub(super) async fn grants_live_revoke_and_purge(store: &Store) {
    with_agent(store, "ag-1").await;
    with_agent(store, "ag-2").await;
    let parent = grant("g-1", "ag-1", 600);
    store.insert_grant(&parent).await.unwrap();
    let child = GrantRecord {
        id: "g-2".into(),
        agent_id: "ag-2".into(),
        delegable: false,
        parent_id: Some("g-1".into()),
        delegated_from: Some("ag-1".into()),
        expires_at: T0.plus(300),
        ..grant("g-2", "ag-2", 0)
    };
    store.insert_grant(&child).await.unwrap();
    store.insert_grant(&grant("g-3", "ag-1", 60)).await.unwrap();
    assert!(store.insert_grant(&parent).await.is_err(), "ids are unique");

    assert_eq!(store.grant("g-2").await.unwrap(), Some(child.clone()));
    assert_eq!(store.grant("nope").await.unwrap(), None);

    let live: Vec<_> = store
        .live_grants("ag-1", T0)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(live, ["g-1", "g-3"]);
    let later: Vec<_> = store
        .live_grants("ag-1", T0.plus(60))
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(later, ["g-1"], "a grant is dead at its expiry second");

    let listed = store.grants(Some("ag-2"), false, T0, 100).await.unwrap();
    assert_eq!(listed, vec![child.clone()]);
    assert_eq!(store.grants(None, false, T0, 100).await.unwrap().len(), 3);
    assert_eq!(store.grants(None, false, T0.plus(60), 100).await.unwrap().len(), 2);
    assert_eq!(store.grants(None, true, T0.plus(60), 100).await.unwrap().len(), 3);
    assert_eq!(
        store.grants(None, true, T0, 1).await.unwrap().len(),
        1,
        "the limit holds"
    );

    // Revoking the parent ends the delegated child with it; revoking twice changes nothing.
    assert_eq!(store.revoke_grant("g-1", T0.plus(10)).await.unwrap(), 2);
    assert_eq!(store.revoke_grant("g-1", T0.plus(11)).await.unwrap(), 0);
    assert!(store.live_grants("ag-2", T0.plus(10)).await.unwrap().is_empty());
    let revoked = store.grant("g-2").await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(T0.plus(10)));

    // Purge: everything that ended before the cutoff goes, children before their parent.
    assert_eq!(
        store.purge_grants(T0.plus(10)).await.unwrap(),
        0,
        "nothing had ended before then"
    );
    assert_eq!(
        store.purge_grants(T0.plus(11)).await.unwrap(),
        2,
        "the revoked parent and its child"
    );
    assert_eq!(store.purge_grants(T0.plus(3600)).await.unwrap(), 1, "the expired one");
    assert!(store.grants(None, true, T0, 100).await.unwrap().is_empty());
}
