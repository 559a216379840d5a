//! Warden as a witness for other logs (C2SP `tlog-witness`): its cosigning key — created on first start,
//! sealed under the master key in the store like the ledger keys, so every replica cosigns as the same
//! witness — and the `add-checkpoint` decision: the log's signature, then the consistency proof from the
//! checkpoint cosigned last, then a compare-and-set of the stored state, and only then a cosignature.
//!
//! Successful cosignatures are not audit events: two Wardens witnessing each other would otherwise grow
//! each other's log with every checkpoint, forever. Refusals are logged, not audited, because anyone
//! may send them.

use std::sync::OnceLock;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use warden_core::{Entropy, MasterKey, Sealed, StoreError, Timestamp};
use warden_ledger::{
    AddCheckpoint, Checkpoint, CheckpointError, Cosigner, Refusal, Witnessed, check_update, verify_note,
};
use warden_store::{Store, WitnessKeyRecord, WitnessedCheckpoint};
use zeroize::Zeroizing;

use super::LedgerError;
use crate::config::witness::WitnessConfig;

/// Associated data binding the sealed witness seed to its purpose.
const SEAL_CONTEXT: &str = "witness-key:v1";

/// The witness's Ed25519 seed, and the cosigner made from it once the configured name is known.
pub struct WitnessKey {
    seed: Zeroizing<[u8; 32]>,
    cosigner: OnceLock<Cosigner>,
}

impl std::fmt::Debug for WitnessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessKey").finish_non_exhaustive()
    }
}

fn pair(seed: &[u8]) -> Result<Ed25519KeyPair, LedgerError> {
    Ed25519KeyPair::from_seed_unchecked(seed)
        .map_err(|_| LedgerError::Malformed("the witness seed is not an Ed25519 seed".into()))
}

impl WitnessKey {
    /// Opens the witness key, creating it on first start (two replicas starting at once agree on one).
    pub async fn load_or_create(
        store: &Store,
        master: &MasterKey,
        now: Timestamp,
        entropy: &dyn Entropy,
    ) -> Result<Self, LedgerError> {
        let record = match store.witness_key().await? {
            Some(record) => record,
            None => {
                let mut fresh = Zeroizing::new([0u8; 32]);
                entropy.fill(fresh.as_mut());
                let public = pair(fresh.as_ref())?.public_key().as_ref().to_vec();
                let sealed = master
                    .seal(SEAL_CONTEXT, fresh.as_ref(), entropy)
                    .map_err(|e| LedgerError::Malformed(e.to_string()))?;
                let record = WitnessKeyRecord {
                    sealed_seed: sealed.0,
                    public_key: public,
                    created_at: now,
                };
                store.insert_witness_key_if_absent(&record).await?
            }
        };
        let opened = master
            .open(SEAL_CONTEXT, &Sealed(record.sealed_seed.clone()))
            .map_err(|_| LedgerError::Keys)?;
        let seed: [u8; 32] = opened
            .as_slice()
            .try_into()
            .map_err(|_| LedgerError::Malformed("the witness seed is not 32 bytes".into()))?;
        let seed = Zeroizing::new(seed);
        if pair(seed.as_ref())?.public_key().as_ref() != record.public_key.as_slice() {
            return Err(LedgerError::Malformed(
                "the stored witness public key is not the sealed key's".into(),
            ));
        }
        Ok(WitnessKey {
            seed,
            cosigner: OnceLock::new(),
        })
    }

    #[cfg(test)]
    pub(crate) fn from_seed(seed: [u8; 32]) -> Self {
        WitnessKey {
            seed: Zeroizing::new(seed),
            cosigner: OnceLock::new(),
        }
    }

    /// The cosigner under `name` (the configured `witness.name`, the same for the process's life).
    pub fn cosigner(&self, name: &str) -> Result<&Cosigner, LedgerError> {
        if let Some(cosigner) = self.cosigner.get() {
            return Ok(cosigner);
        }
        let cosigner =
            Cosigner::new(name, pair(self.seed.as_ref())?).map_err(|e| LedgerError::Malformed(e.to_string()))?;
        Ok(self.cosigner.get_or_init(|| cosigner))
    }

    /// Master-key rotation: the witness seed sealed under `new`.
    pub async fn reseal(
        store: &Store,
        old: &MasterKey,
        new: &MasterKey,
        entropy: &dyn Entropy,
    ) -> Result<u64, LedgerError> {
        let Some(record) = store.witness_key().await? else {
            return Ok(0);
        };
        match MasterKey::reseal(old, new, SEAL_CONTEXT, &Sealed(record.sealed_seed), entropy) {
            Ok(Some(sealed)) => Ok(store.replace_witness_key_seal(&sealed.0).await?),
            Ok(None) => Ok(0),
            Err(_) => Err(LedgerError::Keys),
        }
    }
}

/// Why `add-checkpoint` did not cosign.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// The protocol's own refusals, answered with the status it gives them.
    #[error("{0}")]
    Refused(Refusal),
    /// This Warden has no `witness:` section.
    #[error("this Warden is not a witness")]
    NotAWitness,
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Ledger(#[from] LedgerError),
}

impl From<Refusal> for AddError {
    fn from(refusal: Refusal) -> Self {
        AddError::Refused(refusal)
    }
}

/// The signature failed, or the note is not signed by the log's key: 403. Anything else about the note is
/// malformed: 400.
fn note_refusal(error: &CheckpointError) -> Refusal {
    match error {
        CheckpointError::UnknownKey | CheckpointError::Signature => Refusal::Forbidden,
        _ => Refusal::Malformed("the checkpoint note is malformed"),
    }
}

/// Handles one `add-checkpoint` request body: the cosignature line (without its newline) on success.
pub async fn add_checkpoint(
    store: &Store,
    key: &WitnessKey,
    config: Option<&WitnessConfig>,
    body: &[u8],
    now: Timestamp,
) -> Result<String, AddError> {
    let config = config.ok_or(AddError::NotAWitness)?;
    let request = AddCheckpoint::parse(body)?;
    let origin = request
        .origin()
        .ok_or(Refusal::Malformed("the checkpoint has no origin"))?;
    let log = config.log(origin).ok_or(Refusal::UnknownOrigin)?;
    let text = verify_note(&request.note, &log.verifier_key).map_err(|e| note_refusal(&e))?;
    let checkpoint = Checkpoint::parse_and_verify(&request.note, &log.verifier_key).map_err(|e| note_refusal(&e))?;
    let stored = store.witnessed_checkpoint(origin).await?;
    let latest = stored.as_ref().map(|s| Witnessed {
        size: s.size,
        root: s.root_hash,
    });
    if let Err(refusal) = check_update(&request, &checkpoint, latest.as_ref()) {
        if matches!(refusal, Refusal::BadProof) || request.old_size == checkpoint.size {
            // Possibly evidence of a log presenting two views: worth an operator's look.
            tracing::warn!(origin, size = checkpoint.size, %refusal, "witness refused a checkpoint");
        }
        return Err(refusal.into());
    }
    let next = WitnessedCheckpoint {
        origin: origin.to_owned(),
        size: checkpoint.size,
        root_hash: checkpoint.root,
        note: request.note.clone(),
        updated_at: now,
    };
    let expected = latest.as_ref().map(|w| (w.size, &w.root));
    if !store.advance_witnessed_checkpoint(expected, &next).await? {
        // Another request (or replica) moved the state between our read and our write: never cosign
        // on a state that is no longer the latest.
        let size = store.witnessed_checkpoint(origin).await?.map_or(0, |s| s.size);
        return Err(Refusal::Conflict { latest: size }.into());
    }
    let timestamp = u64::try_from(now.unix()).unwrap_or_default();
    key.cosigner(&config.name)?
        .cosign(text, timestamp)
        .map_err(|e| AddError::Ledger(LedgerError::Sign(e.to_string())))
}
