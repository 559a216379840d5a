//! The vault's canary: a sealed record written once per data directory that readiness opens, so a
//! replica whose master key cannot open the vault's records is never reported ready.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use warden_core::{Entropy, MasterKey, StoreError};
use warden_identity::repo::KeyRepository;
use warden_store::Store;
use warden_vault::{SealedSecret, SecretKind, SecretName, SecretRef, SecretVersion, VaultError};

use crate::error::ApiError;
use crate::state::MasterKeys;

const CANARY_SETTING: &str = "vault.canary";
const CANARY_PLAINTEXT: &[u8] = b"{\"canary\":\"warden\"}";

fn canary_ref() -> Result<SecretRef, VaultError> {
    Ok(SecretRef {
        name: SecretName::new("warden-canary")?,
        version: SecretVersion::FIRST,
        kind: SecretKind::Generic,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the vault canary: {0}")]
    Vault(#[from] VaultError),
    #[error("the vault canary is not valid base64")]
    Encoding,
}

/// Opens the stored canary with `master`, writing it first if this data directory has none.
pub async fn ensure_canary(store: &Store, master: &MasterKey, entropy: &dyn Entropy) -> Result<(), CanaryError> {
    match store.setting(CANARY_SETTING).await? {
        Some(text) => open_canary(master, &text),
        None => {
            let sealed = warden_vault::seal(master, entropy, &canary_ref()?, CANARY_PLAINTEXT)?;
            store
                .put_setting(CANARY_SETTING, &STANDARD.encode(sealed.encode()))
                .await?;
            Ok(())
        }
    }
}

fn open_canary(master: &MasterKey, text: &str) -> Result<(), CanaryError> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| CanaryError::Encoding)?;
    let sealed = SealedSecret::decode(&bytes)?;
    let plaintext = warden_vault::open(master, &canary_ref()?, &sealed)?;
    if plaintext.as_slice() == CANARY_PLAINTEXT {
        Ok(())
    } else {
        Err(CanaryError::Vault(VaultError::Decryption))
    }
}

/// For readiness: the canary opens with the master key in use (or, mid-rotation, the one retiring).
pub async fn check_canary(store: &Store, keys: &MasterKeys) -> Result<(), ApiError> {
    let text = store
        .setting(CANARY_SETTING)
        .await?
        .ok_or_else(|| ApiError::Unavailable("vault: the canary is missing".into()))?;
    let opened = open_canary(&keys.current, &text);
    match (opened, &keys.previous) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(previous)) if open_canary(previous, &text).is_ok() => Ok(()),
        (Err(e), _) => Err(ApiError::Unavailable(format!("vault: {e}"))),
    }
}

/// Re-seals the canary under `new` (master-key rotation); nothing to do when `new` opens it already.
pub async fn reseal_canary(
    store: &Store,
    old: &MasterKey,
    new: &MasterKey,
    entropy: &dyn Entropy,
) -> Result<(), CanaryError> {
    let Some(text) = store.setting(CANARY_SETTING).await? else {
        return ensure_canary(store, new, entropy).await;
    };
    if open_canary(new, &text).is_ok() {
        return Ok(());
    }
    open_canary(old, &text)?;
    let sealed = warden_vault::seal(new, entropy, &canary_ref()?, CANARY_PLAINTEXT)?;
    store
        .put_setting(CANARY_SETTING, &STANDARD.encode(sealed.encode()))
        .await?;
    Ok(())
}
