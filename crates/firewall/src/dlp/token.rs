//! Reversible PII tokens, `tok_<entity>_<24 hex digits>`. The originals live in a vault that this crate
//! never touches: the [`TokenVault`] trait is the seam, implemented by the server on Warden's vault.
//! A token must not reveal what it stands for, so its id is either random (passed in, this crate reads
//! no RNG) or an HMAC-SHA256 under a key passed in — never a plain hash, which for a 16-digit card
//! number is brute-forced in minutes.

use aws_lc_rs::hmac;

use super::{DlpError, Entity};
use crate::Finding;

const PREFIX: &str = "tok_";
/// Hex digits in a token id: 96 bits.
const ID_HEX: usize = 24;

/// An error from a vault implementation, carried through as the source of [`DlpError::Vault`].
pub type VaultFailure = Box<dyn std::error::Error + Send + Sync>;

/// Where token originals are kept. `tokenize` stores `original` and returns its token (the same token
/// for the same original is allowed and useful: joins keep working); `detokenize` looks one up.
pub trait TokenVault {
    fn tokenize(&mut self, entity: Entity, original: &str) -> Result<Token, VaultFailure>;
    fn detokenize(&mut self, token: &Token) -> Result<Option<String>, VaultFailure>;
}

/// A well-formed token. Construct with [`Token::keyed`], [`Token::from_id`] or [`Token::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    text: String,
    entity: Entity,
}

/// The HMAC key for keyed token ids. `Debug` shows nothing of the key.
#[derive(Debug)]
pub struct TokenKey(hmac::Key);

impl TokenKey {
    /// At least 32 bytes, as HMAC-SHA256 wants a key as long as its output.
    pub fn new(bytes: &[u8]) -> Result<TokenKey, DlpError> {
        if bytes.len() < 32 {
            return Err(DlpError::TokenKey(bytes.len()));
        }
        Ok(TokenKey(hmac::Key::new(hmac::HMAC_SHA256, bytes)))
    }
}

impl Token {
    /// The token whose id is the HMAC of the entity and the original under `key`: deterministic, and
    /// unguessable without the key.
    pub fn keyed(key: &TokenKey, entity: Entity, original: &str) -> Token {
        let mut ctx = hmac::Context::with_key(&key.0);
        ctx.update(entity.name().as_bytes());
        ctx.update(&[0]);
        ctx.update(original.as_bytes());
        let tag = ctx.sign();
        let mut id = [0u8; ID_HEX / 2];
        id.copy_from_slice(&tag.as_ref()[..ID_HEX / 2]);
        Token::from_id(entity, id)
    }

    /// The token with a caller-chosen id, typically 12 random bytes from the server's RNG.
    pub fn from_id(entity: Entity, id: [u8; ID_HEX / 2]) -> Token {
        let mut text = String::with_capacity(PREFIX.len() + entity.name().len() + 1 + ID_HEX);
        text.push_str(PREFIX);
        text.push_str(entity.name());
        text.push('_');
        for byte in id {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        Token { text, entity }
    }

    /// Parses the token at the start of `s`, if there is one; the returned length is how much it covers.
    pub fn parse(s: &str) -> Option<(Token, usize)> {
        let rest = s.strip_prefix(PREFIX)?;
        let entity = Entity::ALL.into_iter().find(|e| {
            rest.strip_prefix(e.name())
                .and_then(|r| r.strip_prefix('_'))
                .is_some_and(|id| {
                    id.len() >= ID_HEX
                        && id.as_bytes()[..ID_HEX]
                            .iter()
                            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                })
        })?;
        let len = PREFIX.len() + entity.name().len() + 1 + ID_HEX;
        Some((
            Token {
                text: s[..len].to_owned(),
                entity,
            },
            len,
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn entity(&self) -> Entity {
        self.entity
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

pub(crate) fn issue(vault: &mut dyn TokenVault, entity: Entity, original: &str) -> Result<Token, DlpError> {
    let token = vault.tokenize(entity, original).map_err(DlpError::Vault)?;
    if token.entity != entity {
        return Err(DlpError::Vault(
            format!("vault returned a `{}` token for a {}", token.text, entity.name()).into(),
        ));
    }
    Ok(token)
}

/// Replaces every DLP finding in `text` by a token from `vault` (overlapping findings become one token).
pub fn tokenize(text: &str, findings: &[Finding], vault: &mut dyn TokenVault) -> Result<String, DlpError> {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in super::action::merge(text, findings, |_| super::DlpAction::Tokenize) {
        out.push_str(&text[at..span.start]);
        out.push_str(issue(vault, span.entity, &text[span.start..span.end])?.as_str());
        at = span.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Replaces every token in `text` that the vault knows by its original. Unknown tokens stay as they
/// are: a caller not authorized for an original sees the token, not an error in place of the text.
pub fn detokenize(text: &str, vault: &mut dyn TokenVault) -> Result<String, DlpError> {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut search = 0;
    while let Some(found) = text[search..].find(PREFIX) {
        let start = search + found;
        let boundary_before = start == 0 || !is_token_byte(text.as_bytes()[start - 1]);
        let parsed = Token::parse(&text[start..])
            .filter(|(_, len)| text.as_bytes().get(start + len).is_none_or(|&b| !is_token_byte(b)));
        match parsed {
            Some((token, len)) if boundary_before => {
                if let Some(original) = vault.detokenize(&token).map_err(DlpError::Vault)? {
                    out.push_str(&text[at..start]);
                    out.push_str(&original);
                    at = start + len;
                }
                search = start + len;
            }
            _ => search = start + PREFIX.len(),
        }
    }
    out.push_str(&text[at..]);
    Ok(out)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}
