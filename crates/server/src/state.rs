//! The application's shared state: configuration, store, keys and the in-memory views (keyring,
//! revocations, verified-token cache) that keep the hot path off the database.

use std::sync::{Arc, Mutex, RwLock};

use aws_lc_rs::digest::{SHA256, digest};
use subtle::ConstantTimeEq;
use warden_core::{AuditEvent, AuditSink, Clock, Entropy, MasterKey, Secret, Timestamp};
use warden_identity::ca::CertificateAuthority;
use warden_identity::keyring::Keyring;
use warden_identity::password::{PasswordHasher, change};
use warden_identity::repo::PasswordRecord;
use warden_identity::token::{Expectations, RevocationList, VerifiedCache};
use warden_store::{PolicyFile, Store};

use crate::config::Config;
use crate::error::ApiError;
use crate::password_pool::PasswordPool;
use crate::policy::ActivePolicy;

/// Most verified passports kept: bounded, and an entry is useless after its token expires anyway.
const VERIFIED_TOKEN_CACHE_SIZE: usize = 10_000;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
pub struct Inner {
    pub config: Config,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    masters: RwLock<MasterKeys>,
    /// Held by signing-key rotation and master-key rotation, so neither seals under a key the other
    /// is retiring.
    pub key_lock: tokio::sync::Mutex<()>,
    /// Held (shared) by every vault write from sealing to storing, and (exclusively) by a master-key
    /// rotation while it swaps keys: after the swap no write can still be sealing under the old key.
    pub vault_writes: tokio::sync::RwLock<()>,
    pub hasher: PasswordHasher,
    pub ca: CertificateAuthority,
    pub expect: Expectations,
    pub cache: VerifiedCache,
    /// The audit ledger's keys and tree (appends go through [`AppState::audit`]).
    pub ledger: crate::ledger::Ledger,
    keyring: RwLock<Arc<Keyring>>,
    revocations: RwLock<RevocationList>,
    admin_token_hash: [u8; 32],
    password_pool: PasswordPool,
    policy: RwLock<Arc<ActivePolicy>>,
    /// The policy files as last read from the data directory, to notice edits.
    seen_policy_files: Mutex<Option<Vec<PolicyFile>>>,
    /// The newest stored policy version that failed to load, so the failure is logged once.
    unloadable_policy_version: Mutex<Option<i64>>,
    /// Secret reads that failed the integrity check since start (`/v1/vault/stats`).
    decrypt_failures: std::sync::atomic::AtomicU64,
    /// The admit step's rules and budgets.
    pub admit: crate::admit::Admit,
    /// The keys of the firewall's reversible PII tokens.
    pub token_keys: Arc<crate::firewall::TokenKeys>,
}

/// The master key in use, and during a rotation the one being retired (which still opens what has
/// not been re-wrapped yet).
#[derive(Debug, Clone)]
pub struct MasterKeys {
    pub current: Arc<MasterKey>,
    pub previous: Option<Arc<MasterKey>>,
}

/// What [`AppState::new`] needs; built by `serve` (and by tests with a manual clock).
#[derive(Debug)]
pub struct Parts {
    pub config: Config,
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub entropy: Arc<dyn Entropy>,
    pub master: MasterKey,
    pub hasher: PasswordHasher,
    pub ca: CertificateAuthority,
    pub keyring: Keyring,
    pub revocations: RevocationList,
    pub admin_token: String,
    pub policy: ActivePolicy,
    /// The data directory's policy files as read at start.
    pub policy_files: Vec<PolicyFile>,
    pub ledger: crate::ledger::Ledger,
    pub token_keys: crate::firewall::TokenKeys,
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, bytes).as_ref());
    out
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(parts: Parts) -> Self {
        let expect = Expectations {
            issuer: parts.config.auth.issuer.clone(),
            audience: parts.config.auth.audience.clone(),
            leeway: parts.config.auth.clock_skew.get(),
        };
        let cache = VerifiedCache::new(VERIFIED_TOKEN_CACHE_SIZE);
        let admit = crate::admit::Admit::new(&parts.config.rate_limits);
        AppState(Arc::new(Inner {
            config: parts.config,
            store: parts.store,
            clock: parts.clock,
            entropy: parts.entropy,
            masters: RwLock::new(MasterKeys {
                current: Arc::new(parts.master),
                previous: None,
            }),
            key_lock: tokio::sync::Mutex::new(()),
            vault_writes: tokio::sync::RwLock::new(()),
            hasher: parts.hasher,
            ca: parts.ca,
            expect,
            cache,
            ledger: parts.ledger,
            keyring: RwLock::new(Arc::new(parts.keyring)),
            revocations: RwLock::new(parts.revocations),
            admin_token_hash: sha256(parts.admin_token.as_bytes()),
            password_pool: PasswordPool::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            policy: RwLock::new(Arc::new(parts.policy)),
            seen_policy_files: Mutex::new(Some(parts.policy_files)),
            unloadable_policy_version: Mutex::new(None),
            decrypt_failures: std::sync::atomic::AtomicU64::new(0),
            admit,
            token_keys: Arc::new(parts.token_keys),
        }))
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The master key new seals use.
    pub fn master(&self) -> Arc<MasterKey> {
        Arc::clone(&self.masters.read().unwrap_or_else(|p| p.into_inner()).current)
    }

    pub fn master_keys(&self) -> MasterKeys {
        self.masters.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The master key that wrapped a vault record: the current one, or the one a rotation is retiring.
    pub fn master_for(&self, id: warden_vault::KeyId) -> Option<Arc<MasterKey>> {
        let keys = self.master_keys();
        std::iter::once(keys.current)
            .chain(keys.previous)
            .find(|key| warden_vault::KeyId::of(key) == id)
    }

    pub fn set_master_keys(&self, keys: MasterKeys) {
        *self.masters.write().unwrap_or_else(|p| p.into_inner()) = keys;
    }

    pub fn keyring(&self) -> Arc<Keyring> {
        match self.keyring.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn replace_keyring(&self, keyring: Keyring) {
        let mut guard = self.keyring.write().unwrap_or_else(|p| p.into_inner());
        *guard = Arc::new(keyring);
    }

    /// The policy set decisions are made with right now.
    pub fn policy(&self) -> Arc<ActivePolicy> {
        Arc::clone(&self.policy.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Swaps in `active` unless a newer version is already active (two activations racing each other
    /// must end on the newest).
    pub fn replace_policy(&self, active: Arc<ActivePolicy>) {
        let mut guard = self.policy.write().unwrap_or_else(|p| p.into_inner());
        if active.version >= guard.version {
            if let Some(version) = active.version {
                metrics::gauge!("warden_policy_version").set(version as f64);
            }
            *guard = active;
        }
    }

    /// Whether `files` differ from the policy files seen last; remembers them either way.
    pub fn swap_seen_policy_files(&self, files: &[PolicyFile]) -> bool {
        let mut seen = self.seen_policy_files.lock().unwrap_or_else(|p| p.into_inner());
        if seen.as_deref() == Some(files) {
            return false;
        }
        *seen = Some(files.to_vec());
        true
    }

    /// Makes the next poll treat the files as edited again (their activation failed for a transient
    /// reason).
    pub fn forget_seen_policy_files(&self) {
        *self.seen_policy_files.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Remembers that stored `version` does not load; whether it is news.
    pub fn note_unloadable_policy_version(&self, version: i64) -> bool {
        let mut noted = self.unloadable_policy_version.lock().unwrap_or_else(|p| p.into_inner());
        noted.replace(version) != Some(version)
    }

    pub fn note_decrypt_failure(&self) {
        self.decrypt_failures.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        metrics::counter!("warden_vault_decrypt_failures_total").increment(1);
    }

    pub fn decrypt_failures(&self) -> u64 {
        self.decrypt_failures.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn with_revocations<T>(&self, f: impl FnOnce(&RevocationList) -> T) -> T {
        let guard = self.revocations.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    pub fn update_revocations(&self, f: impl FnOnce(&mut RevocationList)) {
        let mut guard = self.revocations.write().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }

    /// Constant-time check of a presented admin token.
    pub fn is_admin_token(&self, presented: &str) -> bool {
        bool::from(sha256(presented.as_bytes()).ct_eq(&self.admin_token_hash))
    }

    /// Appends an audit event to the ledger and answers its leaf index once it is durable; if it cannot
    /// be made durable the request fails with 503 (fail closed). Identifiers are keyed and payloads
    /// dropped as configured before the event becomes a leaf.
    pub async fn audit(&self, event: AuditEvent) -> Result<u64, ApiError> {
        let event = self.ledger.shape(event, &self.config.audit);
        Ok(self.store.record(event).await?)
    }

    /// Runs argon2 work on the password threads (see [`crate::password_pool`]).
    async fn password_work<T: Send + 'static>(
        &self,
        work: impl FnOnce(&PasswordHasher, &dyn Entropy) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (hasher, entropy) = (self.hasher.clone(), Arc::clone(&self.entropy));
        self.password_pool
            .run(move || work(&hasher, entropy.as_ref()))
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))
    }

    /// Whether `password` matches the PHC string `hash`.
    pub async fn verify_password(&self, password: &Secret, hash: &str) -> Result<bool, ApiError> {
        let (password, hash) = (password.clone(), hash.to_owned());
        self.password_work(move |hasher, _| hasher.verify(&password, &hash))
            .await
    }

    /// The same work as a failed verification, so unknown identities cost as much as wrong passwords.
    pub async fn dummy_password_check(&self, password: &Secret) -> Result<(), ApiError> {
        let password = password.clone();
        self.password_work(move |hasher, _| hasher.dummy_verify(&password))
            .await
    }

    /// The password record `password` would make for `agent_id`, after the policy and history checks.
    pub async fn password_record(
        &self,
        current: Option<&PasswordRecord>,
        password: &Secret,
        agent_id: &str,
    ) -> Result<PasswordRecord, ApiError> {
        let (current, password, agent_id) = (current.cloned(), password.clone(), agent_id.to_owned());
        let (policy, now) = (self.config.auth.password_policy.clone(), self.now());
        let record = self
            .password_work(move |hasher, entropy| {
                change(current.as_ref(), &password, &policy, hasher, entropy, &agent_id, now)
            })
            .await??;
        Ok(record)
    }

    /// A random identifier (token ids, family ids): 16 bytes as lowercase hex.
    pub fn random_id(&self) -> String {
        let bytes = warden_core::random_bytes::<16>(self.entropy.as_ref());
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
