//! Signing keys and the CA at run time: the first key and CA on first start, rotation when the
//! randomized schedule says so (or an operator asks), and reloading what other replicas rotated.

use warden_core::{AuditEvent, AuditOutcome, Clock, Entropy, MasterKey, Timestamp};
use warden_identity::ca::CertificateAuthority;
use warden_identity::keyring::{Keyring, RotationPolicy, generate_key};
use warden_identity::repo::{CredentialRepository, KeyRepository};
use warden_store::Store;

use crate::error::ApiError;
use crate::state::AppState;

const NEXT_ROTATION: &str = "keys.next_rotation";

#[derive(Debug, thiserror::Error)]
pub enum KeySetupError {
    #[error("store: {0}")]
    Store(#[from] warden_core::StoreError),
    #[error("{0}")]
    Identity(#[from] warden_identity::IdentityError),
    #[error("no current signing key after setup")]
    Missing,
}

/// Loads the keyring, creating the first key (and scheduling the first rotation) on first start.
/// A key that cannot be opened (wrong master key) is an error: Warden never overwrites keys.
pub async fn load_or_create_keyring(
    store: &Store,
    master: &MasterKey,
    policy: &RotationPolicy,
    clock: &dyn Clock,
    entropy: &dyn Entropy,
) -> Result<Keyring, KeySetupError> {
    let now = clock.now();
    let records = store.signing_keys().await?;
    if let Some(ring) = Keyring::load(&records, master, now)? {
        return Ok(ring);
    }
    let first = generate_key(now, master, entropy)?;
    // `rotate_signing_key` with no previous key simply inserts the first one.
    store.rotate_signing_key(&first, now, now).await?;
    store
        .put_setting(NEXT_ROTATION, &policy.next_rotation(now, entropy).unix().to_string())
        .await?;
    let records = store.signing_keys().await?;
    Keyring::load(&records, master, now)?.ok_or(KeySetupError::Missing)
}

/// Loads the CA, creating it on first start; two replicas starting at once agree on one CA.
pub async fn load_or_create_ca(
    store: &Store,
    master: &MasterKey,
    validity_days: u32,
    clock: &dyn Clock,
    entropy: &dyn Entropy,
) -> Result<CertificateAuthority, KeySetupError> {
    if let Some(record) = store.ca().await? {
        return Ok(CertificateAuthority::load(&record, master)?);
    }
    let (_, record) = CertificateAuthority::generate("Warden Agent CA", clock.now(), validity_days, master, entropy)?;
    let stored = store.insert_ca_if_absent(&record).await?;
    Ok(CertificateAuthority::load(&stored, master)?)
}

/// Rotates now: a new current key, the old one verifying for the grace period, the next rotation
/// drawn at random. Recorded in the audit log.
pub async fn rotate(state: &AppState, actor: &str, request_id: Option<&str>) -> Result<String, ApiError> {
    let now = state.now();
    let policy = state.config.rotation;
    let _rotating = state.key_lock.lock().await;
    let previous = state.keyring().current().kid().to_owned();
    let record = generate_key(now, &state.master(), state.entropy.as_ref())?;
    state
        .store
        .rotate_signing_key(&record, now, now.plus(policy.grace.get()))
        .await?;
    let next = policy.next_rotation(now, state.entropy.as_ref());
    state.store.put_setting(NEXT_ROTATION, &next.unix().to_string()).await?;
    reload(state).await?;
    state
        .audit(
            AuditEvent::new(now, "key.rotated", actor, AuditOutcome::Success)
                .resource(format!("signing-key:{}", record.kid))
                .detail("kid", record.kid.as_str())
                .detail("previous_kid", previous)
                .detail("grace_until", now.plus(policy.grace.get()).rfc3339())
                .request_id(request_id),
        )
        .await?;
    tracing::info!(kid = %record.kid, "signing key rotated");
    Ok(record.kid)
}

/// Reloads the keyring from the store (another replica may have rotated).
pub async fn reload(state: &AppState) -> Result<(), ApiError> {
    let records = state.store.signing_keys().await?;
    match Keyring::load(&records, &state.master(), state.now())? {
        Some(ring) => {
            state.replace_keyring(ring);
            Ok(())
        }
        None => Err(ApiError::Unavailable("no signing key is stored".into())),
    }
}

/// Rotates if the scheduled instant has passed; called periodically.
pub async fn rotate_if_due(state: &AppState) -> Result<bool, ApiError> {
    let now = state.now();
    let due = match state.store.setting(NEXT_ROTATION).await? {
        Some(text) => text
            .parse::<i64>()
            .map(Timestamp::from_unix)
            .unwrap_or(Timestamp::EPOCH),
        None => Timestamp::EPOCH,
    };
    if now < due {
        reload(state).await?;
        return Ok(false);
    }
    rotate(state, "system", None).await?;
    state.store.purge_signing_keys(now).await?;
    Ok(true)
}
