//! Signing-key rotation (also concurrent), purging, and settings.

use warden_core::{StoreError, Timestamp};
use warden_identity::repo::{KeyRepository, SigningKeyRecord};
use warden_store::Store;

use super::{T0, is_conflict, race};

fn signing_key(kid: &str, created_at: Timestamp) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        algorithm: "EdDSA".into(),
        sealed_private_key: vec![0, 1, 2, 255, 254, kid.len() as u8],
        public_key: vec![7; 32],
        created_at,
        retired_at: None,
        verify_until: None,
    }
}

pub(super) async fn signing_key_rotation_and_purge(store: &Store) {
    assert!(store.signing_keys().await.unwrap().is_empty());
    let first = signing_key("kid-1", T0);
    store.rotate_signing_key(&first, T0, T0).await.unwrap();
    assert_eq!(
        store.signing_keys().await.unwrap(),
        std::slice::from_ref(&first),
        "the first key is current"
    );

    let second = signing_key("kid-2", T0.plus(100));
    store
        .rotate_signing_key(&second, T0.plus(100), T0.plus(500))
        .await
        .unwrap();
    let retired = SigningKeyRecord {
        retired_at: Some(T0.plus(100)),
        verify_until: Some(T0.plus(500)),
        ..first
    };
    assert_eq!(store.signing_keys().await.unwrap(), [retired.clone(), second.clone()]);
    assert!(
        is_conflict(store.rotate_signing_key(&second, T0, T0).await),
        "kid reuse"
    );
    assert_eq!(
        store.signing_keys().await.unwrap(),
        [retired, second.clone()],
        "rolled back"
    );

    assert_eq!(
        store.purge_signing_keys(T0.plus(500)).await.unwrap(),
        0,
        "still verifying"
    );
    assert_eq!(store.purge_signing_keys(T0.plus(501)).await.unwrap(), 1);
    assert_eq!(
        store.signing_keys().await.unwrap(),
        [second],
        "the current key is never purged"
    );
}

pub(super) async fn concurrent_rotations_leave_one_current_key(store: &Store) {
    store
        .rotate_signing_key(&signing_key("kid-0", T0), T0, T0)
        .await
        .unwrap();
    let outcomes = race(store, 4, |store, i| async move {
        let at = T0.plus(1 + i as u64);
        let key = signing_key(&format!("kid-{}", i + 1), at);
        store.rotate_signing_key(&key, at, T0.plus(900)).await
    })
    .await;
    for outcome in outcomes {
        // A rotation that loses a race may be refused as a conflict; it must never half-apply.
        match outcome {
            Ok(()) | Err(StoreError::Conflict(_)) => {}
            Err(other) => panic!("unexpected rotation failure: {other}"),
        }
    }
    let keys = store.signing_keys().await.unwrap();
    let current: Vec<_> = keys.iter().filter(|k| k.retired_at.is_none()).collect();
    assert_eq!(current.len(), 1, "exactly one current key: {keys:?}");
    assert!(keys.iter().all(|k| k.retired_at.is_some() == k.verify_until.is_some()));
}

pub(super) async fn settings_upsert(store: &Store) {
    assert_eq!(store.setting("next_rotation").await.unwrap(), None);
    store.put_setting("next_rotation", "1700000000").await.unwrap();
    assert_eq!(
        store.setting("next_rotation").await.unwrap().as_deref(),
        Some("1700000000")
    );
    store.put_setting("next_rotation", "1800000000").await.unwrap();
    store.put_setting("other", "").await.unwrap();
    assert_eq!(
        store.setting("next_rotation").await.unwrap().as_deref(),
        Some("1800000000")
    );
    assert_eq!(store.setting("other").await.unwrap().as_deref(), Some(""));
}
