//! Passwords and lockout counters, API keys, public keys, challenges, certificates and the CA.

use std::collections::BTreeSet;

use warden_identity::repo::{
    ApiKeyRecord, CaRecord, CertificateRecord, ChallengeRecord, CredentialRepository, KeyAlgorithm, PasswordRecord,
    PublicKeyRecord, TokenRepository,
};
use warden_store::Store;

use super::{T0, is_conflict, race, refresh, with_agent};

fn password(agent_id: &str) -> PasswordRecord {
    PasswordRecord {
        agent_id: agent_id.into(),
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        changed_at: T0,
        history: vec!["$argon2id$old1".into(), "$argon2id$old2".into()],
        failed_attempts: 0,
        locked_until: None,
    }
}

pub(super) async fn passwords_round_trip(store: &Store) {
    with_agent(store, "ag-1").await;
    assert_eq!(store.password("ag-1").await.unwrap(), None);
    let mut record = password("ag-1");
    store.put_password(&record).await.unwrap();
    assert_eq!(store.password("ag-1").await.unwrap(), Some(record.clone()));

    record.history.insert(0, record.hash.clone());
    record.hash = "$argon2id$new".into();
    record.changed_at = T0.plus(10);
    record.failed_attempts = 3;
    record.locked_until = Some(T0.plus(900));
    store.put_password(&record).await.unwrap();
    assert_eq!(store.password("ag-1").await.unwrap(), Some(record));
}

pub(super) async fn failed_attempts_count_atomically(store: &Store) {
    with_agent(store, "ag-1").await;
    store.put_password(&password("ag-1")).await.unwrap();

    let counts = race(store, 20, |store, _| async move {
        store.add_failed_attempt("ag-1").await.unwrap()
    })
    .await;
    let seen: BTreeSet<u32> = counts.into_iter().collect();
    assert_eq!(seen, (1..=20).collect(), "every concurrent call sees its own increment");
    assert_eq!(store.password("ag-1").await.unwrap().unwrap().failed_attempts, 20);

    store.lock_until("ag-1", T0.plus(300)).await.unwrap();
    let locked = store.password("ag-1").await.unwrap().unwrap();
    assert_eq!((locked.failed_attempts, locked.locked_until), (20, Some(T0.plus(300))));

    store.clear_failed_attempts("ag-1").await.unwrap();
    let cleared = store.password("ag-1").await.unwrap().unwrap();
    assert_eq!((cleared.failed_attempts, cleared.locked_until), (0, None));
    assert_eq!(store.add_failed_attempt("ag-1").await.unwrap(), 1);

    // Nothing to count for an agent without a password; the other calls are no-ops.
    assert_eq!(store.add_failed_attempt("nobody").await.unwrap(), 0);
    store.lock_until("nobody", T0).await.unwrap();
    store.clear_failed_attempts("nobody").await.unwrap();
    assert_eq!(store.password("nobody").await.unwrap(), None);
}

pub(super) async fn api_keys_round_trip(store: &Store) {
    with_agent(store, "ag-1").await;
    let key = ApiKeyRecord {
        id: "k1".into(),
        agent_id: "ag-1".into(),
        secret_hash: [0xab; 32],
        created_at: T0,
        revoked_at: None,
    };
    store.insert_api_key(&key).await.unwrap();
    assert_eq!(store.api_key("k1").await.unwrap(), Some(key.clone()));
    assert_eq!(store.api_key("k2").await.unwrap(), None);
    assert!(is_conflict(store.insert_api_key(&key).await));

    assert!(store.revoke_api_key("k1", T0.plus(5)).await.unwrap());
    assert!(!store.revoke_api_key("k1", T0.plus(6)).await.unwrap(), "second revoke");
    assert!(!store.revoke_api_key("k2", T0.plus(6)).await.unwrap(), "unknown key");
    let revoked = store.api_key("k1").await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(T0.plus(5)), "the first revocation time stays");
}

pub(super) async fn credentials_need_an_agent(store: &Store) {
    let key = ApiKeyRecord {
        id: "k1".into(),
        agent_id: "ghost".into(),
        secret_hash: [1; 32],
        created_at: T0,
        revoked_at: None,
    };
    assert!(is_conflict(store.insert_api_key(&key).await));
    assert!(is_conflict(store.put_password(&password("ghost")).await));
    assert!(is_conflict(store.insert_refresh(&refresh("r1", "ghost", T0)).await));
}

pub(super) async fn public_keys_round_trip(store: &Store) {
    with_agent(store, "ag-1").await;
    with_agent(store, "ag-2").await;
    let ed = PublicKeyRecord {
        id: "pk-b".into(),
        agent_id: "ag-1".into(),
        algorithm: KeyAlgorithm::Ed25519,
        public_key: vec![9; 32],
        created_at: T0,
    };
    let p256 = PublicKeyRecord {
        id: "pk-a".into(),
        algorithm: KeyAlgorithm::P256,
        public_key: [vec![4], vec![3; 64]].concat(),
        created_at: T0.plus(1),
        ..ed.clone()
    };
    store.insert_public_key(&p256).await.unwrap();
    store.insert_public_key(&ed).await.unwrap();
    assert_eq!(
        store.public_keys("ag-1").await.unwrap(),
        [ed.clone(), p256],
        "oldest first"
    );
    assert!(store.public_keys("ag-2").await.unwrap().is_empty());
    assert!(is_conflict(store.insert_public_key(&ed).await));
}

pub(super) async fn challenge_is_taken_once_under_race(store: &Store) {
    let challenge = ChallengeRecord {
        nonce_hash: [0x5a; 32],
        agent_id: "ag-1".into(),
        expires_at: T0,
    };
    store.insert_challenge(&challenge).await.unwrap();

    let outcomes = race(store, 10, |store, _| async move {
        store.take_challenge(&[0x5a; 32]).await.unwrap()
    })
    .await;
    let taken: Vec<_> = outcomes.into_iter().flatten().collect();
    assert_eq!(taken, [challenge], "exactly one racer gets the challenge");
    assert_eq!(store.take_challenge(&[0x5a; 32]).await.unwrap(), None);
}

pub(super) async fn challenges_purge(store: &Store) {
    for (byte, expires_at) in [(1u8, T0.minus(1)), (2, T0.minus(100)), (3, T0), (4, T0.plus(30))] {
        let challenge = ChallengeRecord {
            nonce_hash: [byte; 32],
            agent_id: "ag-1".into(),
            expires_at,
        };
        store.insert_challenge(&challenge).await.unwrap();
    }
    assert_eq!(
        store.purge_challenges(T0).await.unwrap(),
        2,
        "only those expired before now"
    );
    assert_eq!(store.take_challenge(&[1; 32]).await.unwrap(), None);
    assert!(store.take_challenge(&[3; 32]).await.unwrap().is_some());
    assert!(store.take_challenge(&[4; 32]).await.unwrap().is_some());
}

pub(super) async fn certificates_round_trip(store: &Store) {
    with_agent(store, "ag-1").await;
    let certificate = CertificateRecord {
        fingerprint: "ab".repeat(32),
        serial: "01f3".into(),
        agent_id: "ag-1".into(),
        not_after: T0.plus(86_400),
        created_at: T0,
        revoked_at: None,
    };
    store.insert_certificate(&certificate).await.unwrap();
    assert_eq!(
        store.certificate(&"ab".repeat(32)).await.unwrap(),
        Some(certificate.clone())
    );
    assert_eq!(store.certificate("cd").await.unwrap(), None);
    assert!(is_conflict(store.insert_certificate(&certificate).await));
}

pub(super) async fn ca_insert_if_absent_race_has_one_winner(store: &Store) {
    assert_eq!(store.ca().await.unwrap(), None);
    let candidates = ["replica-a", "replica-b"].map(|who| CaRecord {
        certificate_pem: format!("-----BEGIN CERTIFICATE-----\n{who}\n-----END CERTIFICATE-----\n"),
        sealed_key: who.as_bytes().to_vec(),
        created_at: T0,
    });
    let results = race(store, 2, |store, i| {
        let ca = candidates[i].clone();
        async move { store.insert_ca_if_absent(&ca).await.unwrap() }
    })
    .await;
    assert_eq!(results[0], results[1], "both replicas get the same CA");
    assert!(candidates.contains(&results[0]));
    assert_eq!(store.ca().await.unwrap().as_ref(), Some(&results[0]));

    let late = CaRecord {
        certificate_pem: "late".into(),
        sealed_key: vec![],
        created_at: T0,
    };
    assert_eq!(store.insert_ca_if_absent(&late).await.unwrap(), results[0]);
}
