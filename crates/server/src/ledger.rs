//! The ledger at run time: its keys (created on first start, sealed under the master key, shared by every
//! replica through the store), the Merkle tree kept in memory and caught up from the store, signed
//! checkpoints, and how events are shaped before they become leaves (payloads left out on request,
//! identifiers replaced by keyed hashes), sending checkpoints to witnesses ([`witness`]), and Warden's own
//! witness for other logs ([`witnessing`]: its key lives here, beside the ledger keys).
//!
//! Appending is the store's audit writer (group commit, dense indices); this module only reads what was
//! appended, so a replica's tree follows the entries every replica wrote.

mod anchor;
mod tasks;
pub mod witness;
pub mod witnessing;

pub use anchor::{AnchorError, anchor_checkpoint, anchor_data};
pub use tasks::spawn_ledger_tasks;

use aws_lc_rs::hmac;
use aws_lc_rs::signature::Ed25519KeyPair;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};
use warden_core::{AuditEvent, Entropy, MasterKey, Sealed, StoreError, Timestamp};
use warden_ledger::{Checkpoint, MerkleTree, NoteSigner};
use warden_store::{CheckpointRecord, LedgerKeysRecord, Store};
use zeroize::Zeroizing;

use crate::config::ledger::AuditConfig;

/// Associated data binding the sealed ledger keys to their purpose.
const SEAL_CONTEXT: &str = "ledger-keys:v1";
/// Leaf hashes read per query while catching the tree up.
const SYNC_CHUNK: u32 = 50_000;
/// Detail fields that hold identifiers to be matched later but not read: stored as keyed hashes.
const KEYED_FIELDS: &[&str] = &["api_key_id", "token_id", "refresh_token_id", "session_id", "client_ip"];
/// Detail fields that hold request payloads, left out when `audit.include_payloads` is false.
const PAYLOAD_FIELDS: &[&str] = &["context", "content", "body", "arguments"];

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the ledger keys cannot be opened with this master key")]
    Keys,
    #[error("the ledger keys are malformed: {0}")]
    Malformed(String),
    #[error("signing the checkpoint failed: {0}")]
    Sign(String),
}

/// The ledger's signing identity, identifier key and in-memory tree.
pub struct Ledger {
    signer: NoteSigner,
    origin: String,
    verifier_key: String,
    id_key: hmac::Key,
    tree: Mutex<MerkleTree>,
    /// The key Warden cosigns other logs' checkpoints with, when it is their witness.
    witness_key: witnessing::WitnessKey,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("origin", &self.origin)
            .field("verifier_key", &self.verifier_key)
            .finish_non_exhaustive()
    }
}

/// The 64 sealed bytes: the Ed25519 seed, then the identifier HMAC key.
fn open_keys(origin: &str, seed_and_id_key: &[u8]) -> Result<(NoteSigner, hmac::Key), LedgerError> {
    if seed_and_id_key.len() != 64 {
        return Err(LedgerError::Malformed("not 64 bytes".into()));
    }
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed_and_id_key[..32])
        .map_err(|_| LedgerError::Malformed("the seed is not an Ed25519 seed".into()))?;
    let signer = NoteSigner::new(origin, pair).map_err(|e| LedgerError::Malformed(e.to_string()))?;
    Ok((signer, hmac::Key::new(hmac::HMAC_SHA256, &seed_and_id_key[32..])))
}

/// The origin a stored verifier key names (`name+hash+key`).
fn origin_of(verifier_key: &str) -> Result<&str, LedgerError> {
    verifier_key
        .split('+')
        .next()
        .filter(|name| !name.is_empty())
        .ok_or_else(|| LedgerError::Malformed("the stored verifier key has no name".into()))
}

impl Ledger {
    /// Opens the ledger keys, creating them on first start (two replicas starting at once agree on one
    /// set), and builds the tree from the stored leaf hashes.
    pub async fn load_or_create(
        store: &Store,
        master: &MasterKey,
        origin: &str,
        now: Timestamp,
        entropy: &dyn Entropy,
    ) -> Result<Self, LedgerError> {
        let record = match store.ledger_keys().await? {
            Some(record) => record,
            None => {
                let mut fresh = Zeroizing::new([0u8; 64]);
                entropy.fill(fresh.as_mut());
                let (signer, _) = open_keys(origin, fresh.as_ref())?;
                let sealed = master
                    .seal(SEAL_CONTEXT, fresh.as_ref(), entropy)
                    .map_err(|e| LedgerError::Malformed(e.to_string()))?;
                let record = LedgerKeysRecord {
                    sealed_keys: sealed.0,
                    verifier_key: signer.verifier_key(),
                    created_at: now,
                };
                store.insert_ledger_keys_if_absent(&record).await?
            }
        };
        let stored_origin = origin_of(&record.verifier_key)?.to_owned();
        if stored_origin != origin {
            tracing::warn!(
                configured = origin,
                stored = stored_origin.as_str(),
                "ledger.origin differs from the origin this ledger was created with; keeping the stored one"
            );
        }
        let opened = master
            .open(SEAL_CONTEXT, &Sealed(record.sealed_keys.clone()))
            .map_err(|_| LedgerError::Keys)?;
        let (signer, id_key) = open_keys(&stored_origin, &opened)?;
        if signer.verifier_key() != record.verifier_key {
            return Err(LedgerError::Malformed(
                "the stored verifier key is not the sealed key's".into(),
            ));
        }
        let witness_key = witnessing::WitnessKey::load_or_create(store, master, now, entropy).await?;
        let ledger = Ledger {
            signer,
            origin: stored_origin,
            verifier_key: record.verifier_key,
            id_key,
            tree: Mutex::new(MerkleTree::new()),
            witness_key,
        };
        drop(ledger.synced(store).await?);
        Ok(ledger)
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The C2SP verifier key (`name+hash+base64`) that checks this ledger's checkpoints.
    pub fn verifier_key(&self) -> &str {
        &self.verifier_key
    }

    /// Warden's witness key (whether or not `witness:` is configured; it is created on first start).
    pub fn witness_key(&self) -> &witnessing::WitnessKey {
        &self.witness_key
    }

    /// The tree, caught up with every entry committed so far (by this replica or another).
    pub async fn synced(&self, store: &Store) -> Result<MutexGuard<'_, MerkleTree>, StoreError> {
        let mut tree = self.tree.lock().await;
        loop {
            let hashes = store.ledger_leaf_hashes(tree.size(), SYNC_CHUNK).await?;
            let done = hashes.len() < SYNC_CHUNK as usize;
            for hash in hashes {
                tree.append_leaf_hash(hash);
            }
            if done {
                return Ok(tree);
            }
        }
    }

    /// Signs and stores a checkpoint of the log as it is now; if one of this size exists (another replica
    /// or an earlier call signed it), that one is returned.
    pub async fn checkpoint(&self, store: &Store, now: Timestamp) -> Result<CheckpointRecord, LedgerError> {
        let tree = self.synced(store).await?;
        let checkpoint = Checkpoint {
            origin: self.origin.clone(),
            size: tree.size(),
            root: tree.root(),
        };
        drop(tree);
        let note = checkpoint
            .sign(&self.signer)
            .map_err(|e| LedgerError::Sign(e.to_string()))?;
        let record = CheckpointRecord {
            size: checkpoint.size,
            root_hash: checkpoint.root,
            note,
            created_at: now,
            anchor: None,
            cosignatures: Vec::new(),
        };
        if store.insert_checkpoint(&record).await? {
            return Ok(record);
        }
        let stored = store.checkpoints(checkpoint.size.checked_sub(1), 1).await?;
        stored
            .into_iter()
            .find(|c| c.size == checkpoint.size)
            .ok_or_else(|| LedgerError::Store(StoreError::Corrupt("a stored checkpoint vanished".into())))
    }

    /// The keyed hash that stands for an identifier in the ledger: equal identifiers give equal values, so
    /// events can be matched to a known key id, but the id cannot be read back.
    pub fn keyed_id(&self, value: &str) -> String {
        let tag = hmac::sign(&self.id_key, value.as_bytes());
        format!("hmac-sha256:{}", URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16]))
    }

    /// An event as it may enter the ledger: identifiers keyed, payloads dropped unless configured in.
    pub fn shape(&self, mut event: AuditEvent, audit: &AuditConfig) -> AuditEvent {
        if let Value::Object(details) = &mut event.details {
            for field in KEYED_FIELDS {
                if let Some(Value::String(value)) = details.get(*field) {
                    let keyed = self.keyed_id(value);
                    details.insert((*field).to_owned(), Value::String(keyed));
                }
            }
            if !audit.include_payloads {
                for field in PAYLOAD_FIELDS {
                    details.remove(*field);
                }
            }
        }
        event
    }

    /// Master-key rotation: the ledger keys and the witness key sealed under `new`.
    pub async fn reseal(
        store: &Store,
        old: &MasterKey,
        new: &MasterKey,
        entropy: &dyn Entropy,
    ) -> Result<u64, LedgerError> {
        let witness = witnessing::WitnessKey::reseal(store, old, new, entropy).await?;
        let Some(record) = store.ledger_keys().await? else {
            return Ok(witness);
        };
        match MasterKey::reseal(old, new, SEAL_CONTEXT, &Sealed(record.sealed_keys), entropy) {
            Ok(Some(sealed)) => Ok(witness + store.replace_ledger_keys_seal(&sealed.0).await?),
            Ok(None) => Ok(witness),
            Err(_) => Err(LedgerError::Keys),
        }
    }
}

#[cfg(test)]
mod tests;
