//! Master-key rotation: everything sealed moves to a new key (signing keys, CA, every secret version,
//! the canary), the key file is replaced, and a start after a crash half-way finishes the job.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::json;
use warden_core::{MasterKey, SystemEntropy};
use warden_server::init;
use warden_vault::{KeyId, SealedSecret, SecretKind, SecretName, SecretRef, SecretVersion};

use super::support::{ADMIN, TestApp, test_config};

async fn store_secrets(app: &TestApp, count: usize) {
    for i in 0..count {
        let reply = app
            .call(
                Method::PUT,
                &format!("/v1/secrets/s{i}"),
                Some(ADMIN),
                Some(json!({"type": "generic", "data": {"v": i}})),
            )
            .await;
        reply.ok(StatusCode::CREATED);
        app.post(
            &format!("/v1/secrets/s{i}/rotate"),
            Some(ADMIN),
            json!({"data": {"v": i + 1000}}),
        )
        .await
        .ok(StatusCode::OK);
        app.post(
            &format!("/v1/secrets/s{i}/grants"),
            Some(ADMIN),
            json!({"agent_id": "reader"}),
        )
        .await
        .ok(StatusCode::CREATED);
    }
}

/// Every version of every secret opens, read as the agent.
async fn all_open(app: &TestApp, count: usize) {
    let (token, _) = app.login("reader").await;
    for i in 0..count {
        for (version, value) in [(1, i), (2, i + 1000)] {
            let reply = app
                .get(&format!("/v1/secrets/s{i}?version={version}"), Some(&token))
                .await;
            assert_eq!(reply.ok(StatusCode::OK)["data"]["v"], value, "s{i} version {version}");
        }
    }
}

fn key_file(app: &TestApp) -> Option<MasterKey> {
    init::master_key_from(&init::MasterKeySource::File(
        app.state.config.data_dir.join(init::MASTER_KEY_FILE),
    ))
    .ok()
}

/// Another application over the same data directory and database, started with `master`: a restart.
async fn restart(app: &TestApp, master: MasterKey) -> TestApp {
    let config = test_config(&app.state.config.data_dir, None);
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    TestApp::from_config(config, dir, master).await
}

#[tokio::test]
async fn rotation_moves_everything_to_a_new_key_and_replaces_the_key_file() {
    let app = TestApp::start().await;
    app.agent("reader", &[]).await;
    store_secrets(&app, 12).await;
    let old_id = KeyId::of(&app.state.master()).to_string();
    let old = MasterKey::from_bytes(app.state.master().expose_bytes()).unwrap_or_else(|e| unreachable!("{e}"));

    let reply = app.post("/v1/vault/rotate-master-key", Some(ADMIN), json!({})).await;
    let rotated = reply.ok(StatusCode::OK).clone();
    assert_eq!(rotated["old_key_id"], old_id.as_str());
    assert_ne!(rotated["new_key_id"], rotated["old_key_id"]);
    assert_eq!(rotated["records_rewrapped"], 24, "every version: {rotated}");
    assert!(
        rotated["keys_resealed"].as_u64().is_some_and(|n| n >= 2),
        "signing key and CA: {rotated}"
    );
    assert_eq!(rotated["unreadable"], json!([]));

    let new = app.state.master();
    assert_eq!(
        KeyId::of(&new).to_string(),
        rotated["new_key_id"].as_str().unwrap_or_default()
    );
    let on_disk = key_file(&app).map(|k| *k.expose_bytes());
    assert_eq!(on_disk, Some(*new.expose_bytes()), "the key file holds the new key");
    assert!(!app.state.config.data_dir.join(init::NEXT_MASTER_KEY_FILE).exists());
    let left = app
        .state
        .store
        .secret_versions_not_wrapped_by(&KeyId::of(&new).to_string(), 100)
        .await;
    assert_eq!(
        left.map(|l| l.len()).ok(),
        Some(0),
        "no record is left under the old key"
    );

    all_open(&app, 12).await;
    app.get("/readyz", None).await.ok(StatusCode::OK);
    let (token, _) = app.login("reader").await;
    app.passport(&token, json!({})).await.ok(StatusCode::OK);
    app.call(
        Method::PUT,
        "/v1/secrets/after",
        Some(ADMIN),
        Some(json!({"type": "generic", "data": {"v": 1}})),
    )
    .await
    .ok(StatusCode::CREATED);
    let events = app.events().await;
    assert!(events.iter().any(|e| e["kind"] == "vault.master_key_rotated"));

    // A restart with the new key opens everything; with the old one it refuses to start.
    let Some(from_file) = key_file(&app) else {
        unreachable!("the key file reads")
    };
    let restarted = restart(&app, from_file).await;
    all_open(&restarted, 12).await;
    restarted.state.store.close().await;
    let config = test_config(&app.state.config.data_dir, None);
    let clock = Arc::new(warden_core::ManualClock::at(warden_core::Timestamp::from_unix(
        super::support::START,
    )));
    let refused = warden_server::serve::build_state_with(config, clock, Arc::new(SystemEntropy), old, ADMIN).await;
    assert!(refused.is_err(), "the retired key opens nothing any more");
    app.finish().await;
}

#[tokio::test]
async fn a_start_after_a_crash_half_way_finishes_the_rotation() {
    let app = TestApp::start().await;
    app.agent("reader", &[]).await;
    store_secrets(&app, 6).await;
    let data_dir = app.state.config.data_dir.clone();
    let old = MasterKey::from_bytes(app.state.master().expose_bytes()).unwrap_or_else(|e| unreachable!("{e}"));

    // The crash: the next key was written and some records were re-wrapped, then the process died.
    let new = MasterKey::generate(&SystemEntropy);
    assert!(init::write_next_master_key(&data_dir, &new).is_ok());
    let store = &app.state.store;
    let old_id = KeyId::of(&old).to_string();
    let some = store
        .secret_versions_not_wrapped_by("nobody", 5)
        .await
        .unwrap_or_default();
    let mut half = Vec::new();
    for record in some {
        let target = SecretRef {
            name: SecretName::new(record.name.clone()).unwrap_or_else(|e| unreachable!("{e}")),
            version: SecretVersion::new(record.version as u32).unwrap_or_else(|| unreachable!()),
            kind: SecretKind::Generic,
        };
        let sealed = SealedSecret::decode(&record.sealed).unwrap_or_else(|e| unreachable!("{e}"));
        let moved =
            warden_vault::rewrap(&old, &new, &SystemEntropy, &target, &sealed).unwrap_or_else(|e| unreachable!("{e}"));
        half.push((
            warden_store::SecretVersionRecord {
                sealed: moved.encode(),
                master_key_id: KeyId::of(&new).to_string(),
                ..record
            },
            old_id.clone(),
        ));
    }
    assert_eq!(store.rewrap_secret_versions(&half).await.ok(), Some(5));

    // The restart finds `master.key.next` and finishes before serving.
    let url = app.state.config.store_url.clone();
    let resumed = warden_server::master_key::resume_at_start(&data_dir, &url, old, &SystemEntropy).await;
    let Ok(running) = resumed else {
        unreachable!("resumed: {resumed:?}")
    };
    assert_eq!(
        running.expose_bytes(),
        new.expose_bytes(),
        "the start runs with the new key"
    );
    assert!(!data_dir.join(init::NEXT_MASTER_KEY_FILE).exists());
    assert_eq!(key_file(&app).map(|k| *k.expose_bytes()), Some(*new.expose_bytes()));
    let restarted = restart(&app, running).await;
    all_open(&restarted, 6).await;
    restarted.get("/readyz", None).await.ok(StatusCode::OK);

    // Resuming again is harmless: nothing is left to do.
    let again = warden_server::master_key::resume_at_start(
        &data_dir,
        &url,
        MasterKey::from_bytes(new.expose_bytes()).unwrap_or_else(|e| unreachable!("{e}")),
        &SystemEntropy,
    )
    .await;
    assert!(again.is_ok());
    restarted.state.store.close().await;
    app.finish().await;
}

#[tokio::test]
async fn a_record_the_old_key_cannot_open_is_reported_and_the_rest_moves_on() {
    let app = TestApp::start().await;
    app.agent("reader", &[]).await;
    store_secrets(&app, 3).await;
    let store = &app.state.store;
    let Some(mut broken) = store.secret_version("s1", 2).await.ok().flatten() else {
        unreachable!()
    };
    // A byte inside the wrapped data key (after magic, format and key id): the data key no longer
    // unwraps. (Tampering with the ciphertext alone would not stop a re-wrap, which never reads it.)
    broken.sealed[4 + 1 + 8 + 10] ^= 0x80;
    let key = broken.master_key_id.clone();
    assert_eq!(store.rewrap_secret_versions(&[(broken, key)]).await.ok(), Some(1));

    let reply = app.post("/v1/vault/rotate-master-key", Some(ADMIN), json!({})).await;
    let rotated = reply.ok(StatusCode::OK).clone();
    assert_eq!(rotated["unreadable"], json!(["s1@2"]), "{rotated}");
    assert_eq!(rotated["records_rewrapped"], 5);
    let (token, _) = app.login("reader").await;
    for (name, version) in [("s0", 1), ("s0", 2), ("s1", 1), ("s2", 2)] {
        let reply = app
            .get(&format!("/v1/secrets/{name}?version={version}"), Some(&token))
            .await;
        reply.ok(StatusCode::OK);
    }
    app.get("/v1/secrets/s1?version=2", Some(&token))
        .await
        .problem(StatusCode::INTERNAL_SERVER_ERROR);
    app.finish().await;
}
