//! The storage identity needs, declared here and implemented by `warden-store` for SQLite and
//! PostgreSQL. Every method either succeeds or says why with a [`StoreError`]; none of them decides
//! anything: the rules live in this crate's other modules and in the server that calls both.

use async_trait::async_trait;
use warden_core::{StoreError, Timestamp};

use crate::Agent;

/// A stored password and its lockout state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRecord {
    pub agent_id: String,
    /// The PHC string of the current password (argon2id).
    pub hash: String,
    pub changed_at: Timestamp,
    /// PHC strings of previous passwords, newest first, at most the policy's `history_size`.
    pub history: Vec<String>,
    pub failed_attempts: u32,
    pub locked_until: Option<Timestamp>,
}

/// A stored API key: only the SHA-256 of its secret part is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// The visible id embedded in the key (`wdn_<id>_…`).
    pub id: String,
    pub agent_id: String,
    pub secret_hash: [u8; 32],
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// The algorithms accepted for challenge-response login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    Ed25519,
    P256,
}

impl KeyAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::P256 => "p256",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "ed25519" | "eddsa" => Some(KeyAlgorithm::Ed25519),
            "p256" | "p-256" | "es256" | "ecdsa-p256" => Some(KeyAlgorithm::P256),
            _ => None,
        }
    }
}

/// A public key registered for an agent. `public_key` is raw: 32 bytes for Ed25519, the 65-byte
/// uncompressed point for P-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyRecord {
    pub id: String,
    pub agent_id: String,
    pub algorithm: KeyAlgorithm,
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
}

/// An outstanding login challenge. Only the SHA-256 of the nonce is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeRecord {
    pub nonce_hash: [u8; 32],
    pub agent_id: String,
    pub expires_at: Timestamp,
}

/// A client certificate Warden's CA issued to an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// SHA-256 of the certificate's DER, lowercase hex.
    pub fingerprint: String,
    pub serial: String,
    pub agent_id: String,
    pub not_after: Timestamp,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// The CA's certificate and its private key sealed under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaRecord {
    pub certificate_pem: String,
    pub sealed_key: Vec<u8>,
    pub created_at: Timestamp,
}

/// A refresh token's bookkeeping. Refresh tokens of one login form a family; reusing a spent one
/// revokes the whole family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub jti: String,
    pub family_id: String,
    pub agent_id: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
    pub spent_at: Option<Timestamp>,
}

/// What happened when a refresh token was presented for spending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpendOutcome {
    /// It was unspent and is now spent: the caller may issue the next pair.
    Spent(RefreshRecord),
    /// It had already been spent: reuse, the family must be revoked.
    AlreadySpent(RefreshRecord),
    /// No such refresh token was ever issued.
    Unknown,
}

/// Revocations still in force.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Revocations {
    /// Revoked token ids with the time after which the entry is moot (the token's own expiry).
    pub tokens: Vec<(String, Timestamp)>,
    /// Revoked refresh families (a family id is the `sid` of every token issued under it).
    pub families: Vec<(String, Timestamp)>,
}

/// A signing key as stored: the PKCS#8 private key sealed under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// Always `EdDSA` today; stored so a later algorithm can be added without a migration.
    pub algorithm: String,
    pub sealed_private_key: Vec<u8>,
    /// The raw 32-byte Ed25519 public key.
    pub public_key: Vec<u8>,
    pub created_at: Timestamp,
    /// When it stopped signing (a newer key took over); `None` while it is the current key.
    pub retired_at: Option<Timestamp>,
    /// When it stops verifying: the end of its grace period.
    pub verify_until: Option<Timestamp>,
}

#[async_trait]
pub trait AgentRepository: Send + Sync {
    /// Fails with [`StoreError::Conflict`] when the name is taken.
    async fn insert_agent(&self, agent: &Agent) -> Result<(), StoreError>;
    async fn agent(&self, id: &str) -> Result<Option<Agent>, StoreError>;
    async fn agent_by_name(&self, name: &str) -> Result<Option<Agent>, StoreError>;
    /// Agents ordered by id, starting after `after`.
    async fn list_agents(&self, after: Option<&str>, limit: u32) -> Result<Vec<Agent>, StoreError>;
    /// Replaces the stored agent with the same id; `false` if there is none.
    async fn update_agent(&self, agent: &Agent) -> Result<bool, StoreError>;
    async fn count_agents(&self) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait CredentialRepository: Send + Sync {
    async fn password(&self, agent_id: &str) -> Result<Option<PasswordRecord>, StoreError>;
    /// Inserts or replaces the agent's password record.
    async fn put_password(&self, record: &PasswordRecord) -> Result<(), StoreError>;
    /// Atomically adds one failed attempt and returns the new count.
    async fn add_failed_attempt(&self, agent_id: &str) -> Result<u32, StoreError>;
    async fn lock_until(&self, agent_id: &str, until: Timestamp) -> Result<(), StoreError>;
    /// Clears the failure count and any lock.
    async fn clear_failed_attempts(&self, agent_id: &str) -> Result<(), StoreError>;

    /// Fails with [`StoreError::Conflict`] when the id exists.
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// `false` when there is no such key or it was already revoked.
    async fn revoke_api_key(&self, id: &str, at: Timestamp) -> Result<bool, StoreError>;

    async fn insert_public_key(&self, key: &PublicKeyRecord) -> Result<(), StoreError>;
    async fn public_keys(&self, agent_id: &str) -> Result<Vec<PublicKeyRecord>, StoreError>;

    async fn insert_challenge(&self, challenge: &ChallengeRecord) -> Result<(), StoreError>;
    /// Removes and returns the challenge: a nonce can be taken once, however many callers race.
    async fn take_challenge(&self, nonce_hash: &[u8; 32]) -> Result<Option<ChallengeRecord>, StoreError>;
    /// Deletes challenges that expired before `now`; returns how many.
    async fn purge_challenges(&self, now: Timestamp) -> Result<u64, StoreError>;

    async fn insert_certificate(&self, certificate: &CertificateRecord) -> Result<(), StoreError>;
    async fn certificate(&self, fingerprint: &str) -> Result<Option<CertificateRecord>, StoreError>;

    async fn ca(&self) -> Result<Option<CaRecord>, StoreError>;
    /// Stores the CA unless one exists; returns the one that is stored afterwards, so two replicas
    /// starting at once agree on a single CA.
    async fn insert_ca_if_absent(&self, ca: &CaRecord) -> Result<CaRecord, StoreError>;
}

#[async_trait]
pub trait TokenRepository: Send + Sync {
    async fn insert_refresh(&self, record: &RefreshRecord) -> Result<(), StoreError>;
    /// Marks the refresh token spent if it was not; atomic, so of two racing callers one wins.
    async fn spend_refresh(&self, jti: &str, at: Timestamp) -> Result<SpendOutcome, StoreError>;
    async fn revoke_family(&self, family_id: &str, until: Timestamp) -> Result<(), StoreError>;
    async fn revoke_token(&self, jti: &str, until: Timestamp) -> Result<(), StoreError>;
    /// Revocations whose `until` is after `now`.
    async fn revocations(&self, now: Timestamp) -> Result<Revocations, StoreError>;
    /// Deletes revocations and refresh records that expired before `now`; returns how many.
    async fn purge_expired(&self, now: Timestamp) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait KeyRepository: Send + Sync {
    /// All signing keys, oldest first.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;
    /// Makes `new_key` current and retires the previous current key, in one transaction.
    async fn rotate_signing_key(
        &self,
        new_key: &SigningKeyRecord,
        retired_at: Timestamp,
        verify_until: Timestamp,
    ) -> Result<(), StoreError>;
    /// Deletes keys whose grace period ended before `now`.
    async fn purge_signing_keys(&self, now: Timestamp) -> Result<u64, StoreError>;
    /// A small key-value table for schedules such as the next rotation time.
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError>;
    async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError>;
}
