//! The vault's records: creation with a first version, optimistic rotation with pruning, grants that
//! expire, deletion of everything, master-key re-wrapping that never clobbers a newer write, counts.

use warden_core::StoreError;
use warden_store::{SecretGrantRecord, SecretRecord, SecretUpdate, SecretVersionRecord, Store};

use super::{T0, is_conflict, race, with_agent};

fn secret(name: &str, kind: &str) -> SecretRecord {
    SecretRecord {
        name: name.into(),
        kind: kind.into(),
        owner: "admin".into(),
        tags: vec!["prod".into(), "openai".into()],
        current_version: 1,
        rotation_days: Some(30),
        expires_at: None,
        created_at: T0,
        updated_at: T0,
        rotation_noted_version: None,
    }
}

fn version(name: &str, version: i64, key: &str) -> SecretVersionRecord {
    SecretVersionRecord {
        name: name.into(),
        version,
        sealed: vec![0, 255, version as u8, 7, 0],
        master_key_id: key.into(),
        created_by: "admin".into(),
        created_at: T0.plus(version as u64),
    }
}

pub(super) async fn secrets_round_trip_and_rotate(store: &Store) {
    let meta = secret("openai/prod", "api_key");
    store
        .insert_secret(&meta, &version("openai/prod", 1, "mk-a"))
        .await
        .unwrap();
    assert!(is_conflict(
        store.insert_secret(&meta, &version("openai/prod", 1, "mk-a")).await
    ));
    assert_eq!(store.secret("openai/prod").await.unwrap(), Some(meta.clone()));
    assert_eq!(store.secret("nope").await.unwrap(), None);
    let first = store.secret_version("openai/prod", 1).await.unwrap().unwrap();
    assert_eq!(
        first,
        version("openai/prod", 1, "mk-a"),
        "sealed bytes round-trip exactly"
    );
    assert!(!format!("{first:?}").contains("255"), "Debug shows no sealed bytes");

    // Rotation is optimistic: only from the version the writer read.
    let update = SecretUpdate {
        tags: Some(vec!["rotated".into()]),
        rotation_days: Some(None),
        expires_at: Some(Some(T0.plus(3600))),
    };
    assert_eq!(
        store
            .insert_secret_version(1, &version("openai/prod", 2, "mk-a"), &update, 5)
            .await
            .unwrap(),
        0
    );
    let stale = store
        .insert_secret_version(1, &version("openai/prod", 3, "mk-a"), &SecretUpdate::default(), 5)
        .await;
    assert!(
        is_conflict(stale),
        "a writer that read version 1 cannot write after version 2"
    );
    assert!(
        store.secret_version("openai/prod", 3).await.unwrap().is_none(),
        "nothing of it was kept"
    );
    let rotated = store.secret("openai/prod").await.unwrap().unwrap();
    assert_eq!(rotated.current_version, 2);
    assert_eq!(rotated.tags, ["rotated"]);
    assert_eq!(rotated.rotation_days, None, "Some(None) clears");
    assert_eq!(rotated.expires_at, Some(T0.plus(3600)));
    assert_eq!(rotated.updated_at, T0.plus(2));

    // Keep the newest 2: writing version 3 prunes version 1.
    let pruned = store
        .insert_secret_version(2, &version("openai/prod", 3, "mk-a"), &SecretUpdate::default(), 2)
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(store.secret_version_numbers("openai/prod").await.unwrap(), [2, 3]);
    assert_eq!(
        store.secret("openai/prod").await.unwrap().unwrap().tags,
        ["rotated"],
        "None keeps"
    );
    let missing = store
        .insert_secret_version(1, &version("ghost", 2, "mk-a"), &SecretUpdate::default(), 2)
        .await;
    assert!(is_conflict(missing));

    store
        .insert_secret(&secret("db/main", "database"), &version("db/main", 1, "mk-a"))
        .await
        .unwrap();
    let names: Vec<_> = store.secrets().await.unwrap().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["db/main", "openai/prod"]);
    let counts: Vec<_> = store
        .secret_counts()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.kind, c.secrets, c.versions))
        .collect();
    assert_eq!(counts, [("api_key".to_owned(), 1, 2), ("database".to_owned(), 1, 1)]);

    assert!(store.delete_secret("openai/prod").await.unwrap());
    assert!(!store.delete_secret("openai/prod").await.unwrap());
    assert_eq!(store.secret("openai/prod").await.unwrap(), None);
    assert!(store.secret_version("openai/prod", 3).await.unwrap().is_none());
    // The name is free again.
    store
        .insert_secret(&secret("openai/prod", "api_key"), &version("openai/prod", 1, "mk-a"))
        .await
        .unwrap();
}

pub(super) async fn concurrent_rotations_have_one_winner(store: &Store) {
    store
        .insert_secret(&secret("race", "generic"), &version("race", 1, "mk-a"))
        .await
        .unwrap();
    let outcomes = race(store, 8, |store, i| async move {
        let mut record = version("race", 2, "mk-a");
        record.sealed = vec![i as u8];
        store
            .insert_secret_version(1, &record, &SecretUpdate::default(), 10)
            .await
    })
    .await;
    let won = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(won, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| o.is_ok() || matches!(o, Err(StoreError::Conflict(_))))
    );
    assert_eq!(store.secret_version_numbers("race").await.unwrap(), [1, 2]);
}

pub(super) async fn secret_grants_expire_and_go_with_the_secret(store: &Store) {
    with_agent(store, "ag-1").await;
    with_agent(store, "ag-2").await;
    store
        .insert_secret(&secret("s", "password"), &version("s", 1, "mk-a"))
        .await
        .unwrap();
    let grant = |agent: &str, expires_at| SecretGrantRecord {
        name: "s".into(),
        agent_id: agent.into(),
        granted_by: "admin".into(),
        created_at: T0,
        expires_at,
    };
    store
        .upsert_secret_grant(&grant("ag-1", Some(T0.plus(3600))))
        .await
        .unwrap();
    store.upsert_secret_grant(&grant("ag-2", None)).await.unwrap();
    assert!(store.live_secret_grant("s", "ag-1", T0).await.unwrap().is_some());
    assert!(
        store
            .live_secret_grant("s", "ag-1", T0.plus(3600))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(
        store
            .live_secret_grant("s", "ag-2", T0.plus(999_999))
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.live_secret_grant("s", "ag-3", T0).await.unwrap().is_none());
    // Re-granting replaces the earlier grant.
    store
        .upsert_secret_grant(&grant("ag-1", Some(T0.plus(60))))
        .await
        .unwrap();
    let grants = store.secret_grants("s").await.unwrap();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0].expires_at, Some(T0.plus(60)));
    assert!(store.delete_secret_grant("s", "ag-2").await.unwrap());
    assert!(!store.delete_secret_grant("s", "ag-2").await.unwrap());
    assert!(
        store.upsert_secret_grant(&grant("nobody", None)).await.is_err(),
        "grants need an agent"
    );
    assert!(
        store.delete_secret("s").await.unwrap(),
        "grants do not hold a secret back"
    );
    assert!(store.secret_grants("s").await.unwrap().is_empty());
}

pub(super) async fn master_key_rewrap_is_resumable_and_never_clobbers(store: &Store) {
    for name in ["a", "b", "c"] {
        store
            .insert_secret(&secret(name, "generic"), &version(name, 1, "mk-old"))
            .await
            .unwrap();
    }
    let todo = store.secret_versions_not_wrapped_by("mk-new", 2).await.unwrap();
    assert_eq!(todo.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let rewrapped: Vec<_> = todo
        .into_iter()
        .map(|mut v| {
            let previous = v.master_key_id.clone();
            v.sealed = vec![42];
            v.master_key_id = "mk-new".into();
            (v, previous)
        })
        .collect();
    // Someone re-wrapped `b` meanwhile: that update must not be overwritten.
    store.rewrap_secret_versions(&rewrapped[1..]).await.unwrap();
    assert_eq!(
        store.rewrap_secret_versions(&rewrapped).await.unwrap(),
        1,
        "only `a` was still old"
    );
    let left = store.secret_versions_not_wrapped_by("mk-new", 100).await.unwrap();
    assert_eq!(
        left.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
        ["c"],
        "resumes where it stopped"
    );
    let a = store.secret_version("a", 1).await.unwrap().unwrap();
    assert_eq!((a.sealed, a.master_key_id), (vec![42], "mk-new".to_owned()));
}

pub(super) async fn rotation_due_is_noted_once(store: &Store) {
    store
        .insert_secret(&secret("r", "generic"), &version("r", 1, "mk-a"))
        .await
        .unwrap();
    let noted = race(store, 6, |store, _| async move {
        store.note_rotation_due("r", 1).await.unwrap()
    })
    .await;
    assert_eq!(noted.iter().filter(|n| **n).count(), 1, "exactly one caller raises it");
    assert!(
        !store.note_rotation_due("r", 7).await.unwrap(),
        "not for a version that is not current"
    );
    store
        .insert_secret_version(1, &version("r", 2, "mk-a"), &SecretUpdate::default(), 5)
        .await
        .unwrap();
    assert!(
        store.note_rotation_due("r", 2).await.unwrap(),
        "a new version can fall due again"
    );
}
