//! Master-key rotation: everything sealed under the master key (signing keys, the CA key, every vault
//! record's data key, the canary) moves to a new key, and the new key replaces the old in the data
//! directory — without touching a secret's ciphertext and without a moment where something acknowledged
//! cannot be opened.
//!
//! The steps, each safe to repeat:
//! 1. the new key is written as `master.key.next` (synced) — from here a crash resumes, never restarts;
//! 2. signing keys and the CA key are re-sealed, in one transaction;
//! 3. in memory the new key becomes current and the old one "previous" (vault writes are paused for
//!    the swap, so none is still sealing under the old key afterwards); reads pick the key a record
//!    names;
//! 4. every vault record not wrapped by the new key is re-wrapped (data key only), in batches;
//! 5. the canary is re-sealed;
//! 6. `master.key.next` is renamed over `master.key` (atomic) and the old key is forgotten.
//!
//! A start that finds `master.key.next` finishes steps 2–6 before serving. The rotation works with the
//! key file only: a key from `WARDEN_MASTER_KEY` or `WARDEN_MASTER_KEY_COMMAND` is the operator's to
//! replace.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use warden_core::{AuditEvent, AuditOutcome, Entropy, MasterKey, StoreError};
use warden_identity::ca::reseal_ca;
use warden_identity::keyring::reseal_key;
use warden_identity::repo::{CredentialRepository, KeyRepository};
use warden_store::Store;
use warden_vault::{KeyId, SealedSecret, SecretName, SecretRef, SecretVersion};

use crate::error::ApiError;
use crate::extract::{Admin, RequestId};
use crate::init::{self, MasterKeySource};
use crate::state::{AppState, MasterKeys};

/// Vault records re-wrapped per transaction.
const BATCH: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Identity(#[from] warden_identity::IdentityError),
    #[error("{0}")]
    Init(#[from] init::InitError),
    #[error("{0}")]
    Canary(#[from] crate::vault::CanaryError),
    #[error("ledger keys: {0}")]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("firewall token keys: {0}")]
    Firewall(#[from] crate::firewall::FirewallError),
}

/// What a rotation (or its resumption) did.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct Rotated {
    pub old_key_id: String,
    pub new_key_id: String,
    /// Signing keys and CA keys re-sealed.
    pub keys_resealed: u64,
    /// Vault records re-wrapped.
    pub records_rewrapped: u64,
    /// Records the old key could not open (already unreadable before the rotation), as `name@version`.
    pub unreadable: Vec<String>,
}

/// Step 2: signing keys and the CA key under `new`, in one transaction, then the ledger keys.
async fn reseal_keys(
    store: &Store,
    old: &MasterKey,
    new: &MasterKey,
    entropy: &dyn Entropy,
) -> Result<u64, RotationError> {
    let mut signing = Vec::new();
    for record in store.signing_keys().await? {
        if let Some(resealed) = reseal_key(&record, old, new, entropy)? {
            signing.push((resealed.kid, resealed.sealed_private_key));
        }
    }
    let ca = match store.ca().await? {
        Some(record) => reseal_ca(&record, old, new, entropy)?.map(|r| r.sealed_key),
        None => None,
    };
    let resealed = store.replace_key_seals(&signing, ca.as_deref()).await?;
    let ledger = crate::ledger::Ledger::reseal(store, old, new, entropy).await?;
    let tokens = crate::firewall::TokenKeys::reseal(store, old, new, entropy).await?;
    Ok(resealed + ledger + tokens)
}

/// Step 4: every vault record not yet wrapped by `new`, re-wrapped from `old`.
async fn rewrap_vault(
    store: &Store,
    old: &MasterKey,
    new: &MasterKey,
    entropy: &dyn Entropy,
    done: &mut Rotated,
) -> Result<(), RotationError> {
    let new_id = KeyId::of(new).to_string();
    // Every secret's type at once (one query, not one per record); a secret created meanwhile is
    // looked up when met.
    let mut kinds: HashMap<String, Option<String>> = store
        .secrets()
        .await?
        .into_iter()
        .map(|s| (s.name, Some(s.kind)))
        .collect();
    let mut skipped = BTreeSet::new();
    let mut cursor: Option<(String, i64)> = None;
    loop {
        let after = cursor.as_ref().map(|(name, version)| (name.as_str(), *version));
        let pending = store
            .secret_versions_not_wrapped_by_after(&new_id, after, BATCH)
            .await?;
        let Some(last) = pending.last() else { break };
        cursor = Some((last.name.clone(), last.version));
        let mut batch = Vec::new();
        for record in pending {
            if !kinds.contains_key(&record.name) {
                let kind = store.secret(&record.name).await?.map(|s| s.kind);
                kinds.insert(record.name.clone(), kind);
            }
            let rewrapped = kinds
                .get(&record.name)
                .cloned()
                .flatten()
                .and_then(|kind| rewrap_one(&record, &kind, old, new, entropy));
            match rewrapped {
                Some(sealed) => {
                    let previous = record.master_key_id.clone();
                    batch.push((
                        warden_store::SecretVersionRecord {
                            sealed,
                            master_key_id: new_id.clone(),
                            ..record
                        },
                        previous,
                    ));
                }
                None => {
                    let label = format!("{}@{}", record.name, record.version);
                    tracing::error!(record = %label, "a vault record does not open with the retiring master key");
                    skipped.insert(label);
                }
            }
        }
        if !batch.is_empty() {
            done.records_rewrapped += store.rewrap_secret_versions(&batch).await?;
        }
    }
    done.unreadable = skipped.into_iter().collect();
    Ok(())
}

fn rewrap_one(
    record: &warden_store::SecretVersionRecord,
    kind: &str,
    old: &MasterKey,
    new: &MasterKey,
    entropy: &dyn Entropy,
) -> Option<Vec<u8>> {
    let target = SecretRef {
        name: SecretName::new(record.name.clone()).ok()?,
        version: u32::try_from(record.version).ok().and_then(SecretVersion::new)?,
        kind: kind.parse().ok()?,
    };
    let sealed = SealedSecret::decode(&record.sealed).ok()?;
    warden_vault::rewrap(old, new, entropy, &target, &sealed)
        .ok()
        .map(|s| s.encode())
}

/// At start: finishes a rotation a crash interrupted, and returns the master key to run with.
pub async fn resume_at_start(
    data_dir: &Path,
    store_url: &str,
    current: MasterKey,
    entropy: &dyn Entropy,
) -> Result<MasterKey, RotationError> {
    let Some(next) = init::next_master_key(data_dir)? else {
        return Ok(current);
    };
    tracing::warn!("an interrupted master-key rotation is being finished");
    let store = Store::connect(store_url).await?;
    store.migrate().await?;
    let mut done = Rotated {
        old_key_id: KeyId::of(&current).to_string(),
        new_key_id: KeyId::of(&next).to_string(),
        ..Rotated::default()
    };
    done.keys_resealed = reseal_keys(&store, &current, &next, entropy).await?;
    rewrap_vault(&store, &current, &next, entropy, &mut done).await?;
    crate::vault::reseal_canary(&store, &current, &next, entropy).await?;
    init::promote_next_master_key(data_dir)?;
    store.close().await;
    tracing::info!(
        records = done.records_rewrapped,
        keys = done.keys_resealed,
        "master-key rotation finished"
    );
    Ok(next)
}

/// `POST /v1/vault/rotate-master-key` (admin): a new master key for everything sealed.
#[utoipa::path(post, path = "/v1/vault/rotate-master-key", tag = "vault",
    responses((status = 200, body = Rotated), (status = 409, description = "the key does not come from the key file")))]
pub async fn rotate(State(state): State<AppState>, _: Admin, request_id: RequestId) -> Result<Json<Rotated>, ApiError> {
    let data_dir = state.config.data_dir.clone();
    if !matches!(MasterKeySource::from_env(&data_dir), MasterKeySource::File(_)) {
        return Err(ApiError::Conflict(
            "the master key comes from WARDEN_MASTER_KEY or WARDEN_MASTER_KEY_COMMAND; rotate it there and \
             restart (Warden rotates only a key it keeps in its key file)"
                .into(),
        ));
    }
    let _rotating = state.key_lock.lock().await;
    let old = state.master();
    let internal = |e: RotationError| ApiError::Unavailable(format!("master-key rotation: {e}"));
    let new = match init::next_master_key(&data_dir).map_err(|e| internal(e.into()))? {
        Some(next) => next,
        None => {
            let next = MasterKey::generate(state.entropy.as_ref());
            init::write_next_master_key(&data_dir, &next).map_err(|e| internal(e.into()))?;
            next
        }
    };
    let new = Arc::new(new);
    let entropy = state.entropy.as_ref();
    let mut done = Rotated {
        old_key_id: KeyId::of(&old).to_string(),
        new_key_id: KeyId::of(&new).to_string(),
        ..Rotated::default()
    };
    done.keys_resealed = reseal_keys(&state.store, &old, &new, entropy).await.map_err(internal)?;
    {
        let _paused = state.vault_writes.write().await;
        state.set_master_keys(MasterKeys {
            current: Arc::clone(&new),
            previous: Some(Arc::clone(&old)),
        });
    }
    crate::keys::reload(&state).await?;
    rewrap_vault(&state.store, &old, &new, entropy, &mut done)
        .await
        .map_err(internal)?;
    crate::vault::reseal_canary(&state.store, &old, &new, entropy)
        .await
        .map_err(|e| internal(e.into()))?;
    init::promote_next_master_key(&data_dir).map_err(|e| internal(e.into()))?;
    state.set_master_keys(MasterKeys {
        current: new,
        previous: None,
    });
    let event = AuditEvent::new(state.now(), "vault.master_key_rotated", "admin", AuditOutcome::Success)
        .resource("master-key")
        .detail("old_key_id", done.old_key_id.as_str())
        .detail("new_key_id", done.new_key_id.as_str())
        .detail("keys_resealed", done.keys_resealed)
        .detail("records_rewrapped", done.records_rewrapped)
        .detail("unreadable", done.unreadable.clone())
        .request_id(Some(&request_id.0));
    state.audit(event).await?;
    tracing::info!(
        records = done.records_rewrapped,
        keys = done.keys_resealed,
        "master key rotated"
    );
    Ok(Json(done))
}
