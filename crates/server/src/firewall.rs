//! The content firewall at run time: scans on the request path (`/v1/scan`, `content` on
//! `/v1/authorize`), and the vault side of reversible PII tokens.
//!
//! Token ids are HMACs of the entity and the original under a key only Warden holds, so the same card
//! number gets the same token on every replica (joins keep working) and a token reveals nothing. The
//! originals are encrypted (AES-256-GCM, the token bound as associated data) under a token data key; both
//! keys are created on first start and sealed under the master key in the store, and master-key rotation
//! re-seals them. A scan issues tokens in memory and stores them durably before it answers: a token an
//! agent was shown can always be reversed by someone allowed to.

use std::collections::HashMap;
use std::sync::Arc;

use warden_core::{AuditEvent, AuditOutcome, Entropy, MasterKey, Sealed, StoreError, Timestamp};
use warden_firewall::dlp::{Entity, Token, TokenKey, TokenVault, VaultFailure};
use warden_firewall::{Direction, ScanError, ScanOutcome, ScanRequest, Scanner};
use warden_store::{FirewallKeysRecord, Store, TokenRecord};
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::state::AppState;

/// Associated data binding the sealed token keys to their purpose.
const SEAL_CONTEXT: &str = "firewall-token-keys:v1";
/// Texts up to this size are scanned on the request's own task; larger ones on the blocking pool, so a
/// megabyte of text cannot stall the runtime's workers.
const INLINE_SCAN_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the firewall token keys cannot be opened with this master key")]
    Keys,
    #[error("the firewall token keys are malformed")]
    Malformed,
}

/// The token keys: the HMAC key that derives token ids and the key that encrypts originals.
pub struct TokenKeys {
    id_key: TokenKey,
    data_key: MasterKey,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys([redacted])")
    }
}

/// The 64 sealed bytes: the id HMAC key, then the data key.
fn open_keys(bytes: &[u8]) -> Result<TokenKeys, FirewallError> {
    if bytes.len() != 64 {
        return Err(FirewallError::Malformed);
    }
    Ok(TokenKeys {
        id_key: TokenKey::new(&bytes[..32]).map_err(|_| FirewallError::Malformed)?,
        data_key: MasterKey::from_bytes(&bytes[32..]).map_err(|_| FirewallError::Malformed)?,
    })
}

/// What one original is bound to when encrypted: moving a ciphertext to another token fails to open.
fn original_context(token: &str) -> String {
    format!("firewall-token:v1:{token}")
}

impl TokenKeys {
    /// Opens the token keys, creating them on first start (replicas starting together agree on one set).
    pub async fn load_or_create(
        store: &Store,
        master: &MasterKey,
        now: Timestamp,
        entropy: &dyn Entropy,
    ) -> Result<TokenKeys, FirewallError> {
        let record = match store.firewall_keys().await? {
            Some(record) => record,
            None => {
                let mut fresh = Zeroizing::new([0u8; 64]);
                entropy.fill(fresh.as_mut());
                let sealed = master
                    .seal(SEAL_CONTEXT, fresh.as_ref(), entropy)
                    .map_err(|_| FirewallError::Malformed)?;
                let record = FirewallKeysRecord {
                    sealed_keys: sealed.0,
                    created_at: now,
                };
                store.insert_firewall_keys_if_absent(&record).await?
            }
        };
        let opened = master
            .open(SEAL_CONTEXT, &Sealed(record.sealed_keys))
            .map_err(|_| FirewallError::Keys)?;
        open_keys(&opened)
    }

    /// Master-key rotation: the token keys sealed under `new`; how many rows changed.
    pub async fn reseal(
        store: &Store,
        old: &MasterKey,
        new: &MasterKey,
        entropy: &dyn Entropy,
    ) -> Result<u64, FirewallError> {
        let Some(record) = store.firewall_keys().await? else {
            return Ok(0);
        };
        match MasterKey::reseal(old, new, SEAL_CONTEXT, &Sealed(record.sealed_keys), entropy) {
            Ok(Some(sealed)) => Ok(store.replace_firewall_keys_seal(&sealed.0).await?),
            Ok(None) => Ok(0),
            Err(_) => Err(FirewallError::Keys),
        }
    }

    fn seal_original(&self, token: &Token, original: &str, entropy: &dyn Entropy) -> Result<Vec<u8>, ApiError> {
        self.data_key
            .seal(&original_context(token.as_str()), original.as_bytes(), entropy)
            .map(|sealed| sealed.0)
            .map_err(|e| ApiError::Internal(format!("sealing a token original: {e}")))
    }

    /// The original of a stored token; `None` if it does not open (tampered or moved), which the caller
    /// treats as an integrity failure.
    fn open_original(&self, record: &TokenRecord) -> Option<Zeroizing<String>> {
        let bytes = self
            .data_key
            .open(&original_context(&record.token), &Sealed(record.sealed.clone()))
            .ok()?;
        String::from_utf8(bytes.to_vec()).ok().map(Zeroizing::new)
    }
}

/// Issues keyed tokens during a scan and keeps the originals until they are stored.
struct Issuer<'a> {
    key: &'a TokenKey,
    issued: Vec<(Token, Zeroizing<String>)>,
}

impl TokenVault for Issuer<'_> {
    fn tokenize(&mut self, entity: Entity, original: &str) -> Result<Token, VaultFailure> {
        let token = Token::keyed(self.key, entity, original);
        if !self.issued.iter().any(|(t, _)| *t == token) {
            self.issued.push((token.clone(), Zeroizing::new(original.to_owned())));
        }
        Ok(token)
    }

    fn detokenize(&mut self, _: &Token) -> Result<Option<String>, VaultFailure> {
        Ok(None)
    }
}

/// Originals fetched from the store before the (synchronous) replacement runs.
struct Fetched(HashMap<String, Zeroizing<String>>);

impl TokenVault for Fetched {
    fn tokenize(&mut self, _: Entity, _: &str) -> Result<Token, VaultFailure> {
        Err("detokenizing issues no tokens".into())
    }

    fn detokenize(&mut self, token: &Token) -> Result<Option<String>, VaultFailure> {
        Ok(self.0.get(token.as_str()).map(|original| original.to_string()))
    }
}

/// One text to scan, owned so it can move to the blocking pool.
#[derive(Debug, Clone)]
pub struct ScanInput {
    pub text: String,
    pub direction: Direction,
    pub destination: Option<String>,
}

/// Scans `input` with the configured firewall, storing any tokens it issued before answering. `actor`
/// is recorded as the tokens' issuer.
pub async fn scan(state: &AppState, input: ScanInput, actor: &str) -> Result<ScanOutcome, ApiError> {
    let scanner = Arc::clone(&state.config.firewall);
    let keys = Arc::clone(&state.token_keys);
    let inline = input.text.len() <= INLINE_SCAN_BYTES;
    let run = move || scan_now(&scanner, &keys, &input);
    let scanned = if inline {
        run()
    } else {
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|e| ApiError::Internal(format!("the scan task failed: {e}")))?
    };
    let (outcome, issued) = scanned.map_err(scan_error)?;
    store_tokens(state, &issued, actor).await?;
    Ok(outcome)
}

type Issued = Vec<(Token, Zeroizing<String>)>;

fn scan_now(scanner: &Scanner, keys: &TokenKeys, input: &ScanInput) -> Result<(ScanOutcome, Issued), ScanError> {
    let request = ScanRequest {
        text: &input.text,
        direction: input.direction,
        destination: input.destination.as_deref(),
    };
    let mut issuer = Issuer {
        key: &keys.id_key,
        issued: Vec::new(),
    };
    let outcome = scanner.scan_with_vault(&request, &mut issuer)?;
    Ok((outcome, issuer.issued))
}

fn scan_error(error: ScanError) -> ApiError {
    match error {
        ScanError::TooLarge { .. } => ApiError::BadRequest(error.to_string()),
        // Tokenizing failed: the text cannot be passed on redacted, so it is not passed on at all.
        ScanError::Dlp(_) => ApiError::Unavailable("the firewall could not tokenize the text".into()),
    }
}

async fn store_tokens(state: &AppState, issued: &Issued, actor: &str) -> Result<(), ApiError> {
    if issued.is_empty() {
        return Ok(());
    }
    let now = state.now();
    let mut records = Vec::with_capacity(issued.len());
    for (token, original) in issued {
        records.push(TokenRecord {
            token: token.as_str().to_owned(),
            entity: token.entity().name().to_owned(),
            sealed: state
                .token_keys
                .seal_original(token, original, state.entropy.as_ref())?,
            created_at: now,
            created_by: actor.to_owned(),
        });
    }
    Ok(state.store.put_tokens(&records).await?)
}

/// Every well-formed token in `text`, once each, in order of first appearance.
pub fn tokens_in(text: &str) -> Vec<Token> {
    let mut found: Vec<Token> = Vec::new();
    let mut search = 0;
    while let Some(at) = text[search..].find("tok_") {
        let start = search + at;
        match Token::parse(&text[start..]) {
            Some((token, len)) => {
                if !found.contains(&token) {
                    found.push(token);
                }
                search = start + len;
            }
            None => search = start + 4,
        }
    }
    found
}

/// Whether `record` was last issued longer ago than `vault.token_retention`.
fn expired(state: &AppState, record: &TokenRecord) -> bool {
    state
        .config
        .vault
        .token_retention
        .is_some_and(|retention| record.created_at.plus(retention.get()) <= state.now())
}

/// Erases the originals of tokens last issued longer ago than `vault.token_retention`; how many.
pub async fn purge_expired_tokens(state: &AppState) -> Result<u64, ApiError> {
    let Some(retention) = state.config.vault.token_retention else {
        return Ok(0);
    };
    // A record issued exactly `retention` ago is expired too (see `expired`).
    let now = state.now();
    let cutoff = now.minus(retention.get()).plus(1);
    let count = state.store.delete_tokens_issued_before(cutoff).await?;
    // The erasure is done before it is recorded: a failed record leaves the originals gone, which is
    // what retention promised; the next purge finds nothing to record.
    if count > 0 {
        let event = AuditEvent::new(now, "firewall.token.purge", "vault", AuditOutcome::Success)
            .detail("erased", count)
            .detail("retention_seconds", retention.get());
        state.audit(event).await?;
    }
    Ok(count)
}

/// The token of `value` as an entity of kind `entity`: what a scan that found it issued (or would
/// issue), so an original can be erased by value without Warden keeping any index of values.
pub fn token_of(state: &AppState, entity: Entity, value: &str) -> Token {
    Token::keyed(&state.token_keys.id_key, entity, value)
}

/// Erases `token` and its original; whether there was one. Scanning the same value again issues the
/// same token anew.
pub async fn erase(state: &AppState, token: &Token) -> Result<bool, ApiError> {
    Ok(state.store.delete_token(token.as_str()).await?)
}

/// What a detokenization did.
#[derive(Debug)]
pub struct Revealed {
    pub text: String,
    /// Tokens replaced by their originals.
    pub replaced: usize,
    /// Tokens left as they are: unknown to this Warden, or of an entity the caller may not reveal.
    pub kept: usize,
}

/// Replaces the tokens in `text` whose entity `may_reveal` allows by their originals. A stored token
/// whose original does not open is an integrity failure, never silently kept.
pub async fn detokenize(
    state: &AppState,
    text: &str,
    may_reveal: impl Fn(Entity) -> bool,
) -> Result<Revealed, ApiError> {
    let tokens = tokens_in(text);
    let mut originals = HashMap::new();
    for token in &tokens {
        if !may_reveal(token.entity()) {
            continue;
        }
        let Some(record) = state.store.token(token.as_str()).await? else {
            continue;
        };
        if expired(state, &record) {
            // Past retention and not yet purged: as good as erased.
            continue;
        }
        let original = state.token_keys.open_original(&record).ok_or_else(|| {
            ApiError::Integrity(format!(
                "the stored original of `{}` failed its integrity check",
                record.token
            ))
        })?;
        originals.insert(record.token, original);
    }
    let replaced = originals.len();
    let text = warden_firewall::dlp::detokenize(text, &mut Fetched(originals))
        .map_err(|e| ApiError::Internal(format!("detokenizing: {e}")))?;
    Ok(Revealed {
        text,
        replaced,
        kept: tokens.len() - replaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_finds_each_token_once_and_skips_lookalikes() {
        let key = TokenKey::new(&[7u8; 32]).unwrap_or_else(|e| unreachable!("{e}"));
        let card = Token::keyed(&key, Entity::CardNumber, "4111111111111111");
        let email = Token::keyed(&key, Entity::Email, "a@example.com");
        let text = format!(
            "{} and {} again {} but not tok_card_number_xyz",
            card.as_str(),
            email.as_str(),
            card.as_str()
        );
        let found = tokens_in(&text);
        assert_eq!(found, vec![card, email]);
    }

    #[test]
    fn keys_are_64_bytes_or_refused() {
        assert!(open_keys(&[1u8; 64]).is_ok());
        assert!(matches!(open_keys(&[1u8; 63]), Err(FirewallError::Malformed)));
    }

    #[test]
    fn an_original_opens_only_under_its_own_token() {
        let keys = open_keys(&[3u8; 64]).unwrap_or_else(|e| unreachable!("{e}"));
        let entropy = warden_core::SystemEntropy;
        let a = Token::keyed(&keys.id_key, Entity::Ssn, "078-05-1120");
        let b = Token::keyed(&keys.id_key, Entity::Ssn, "219-09-9999");
        let sealed = keys
            .seal_original(&a, "078-05-1120", &entropy)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let record = |token: &Token| TokenRecord {
            token: token.as_str().to_owned(),
            entity: "ssn".into(),
            sealed: sealed.clone(),
            created_at: Timestamp::from_unix(0),
            created_by: "t".into(),
        };
        assert_eq!(
            keys.open_original(&record(&a)).as_deref().map(String::as_str),
            Some("078-05-1120")
        );
        assert!(keys.open_original(&record(&b)).is_none());
    }
}
