//! Data-loss prevention: personal data (card numbers, SSNs, emails, phone numbers, IBANs, IP
//! addresses) and credentials (gitleaks-format rules) found in text, and what to do about them.
//!
//! The public interface is:
//! - [`DlpDetector`]: `scan(text) -> Vec<Finding>`; PII by one candidate pass plus validation
//!   (Luhn and issuer ranges, SSA numbering rules, mod-97, octet ranges, context words for layouts any
//!   number could have), secrets by gitleaks rules gated on their keywords.
//! - [`DlpPolicy`] and [`DlpAction`]: allow, mask, redact, tokenize or block, per [`Entity`].
//! - [`redact`], [`tokenize`] and [`detokenize`], which rewrite text by the findings' byte spans.
//! - [`TokenVault`], the seam to where token originals are kept; this crate holds none.
//!
//! It does not decide whether a finding denies a request (the policy engine does, on `findings.*`),
//! read files, or keep any state between scans.

mod action;
mod checks;
mod context;
mod entity;
mod gitleaks;
mod numeric;
mod pii;
mod token;

pub use action::{DlpAction, DlpOutcome, DlpPolicy, Mask, redact};
pub use entity::Entity;
pub use gitleaks::{GITLEAKS_DEFAULT_RULES, RuleFailure, RuleReport, WARDEN_SECRET_RULES};
pub use token::{Token, TokenKey, TokenVault, VaultFailure, detokenize, tokenize};

use crate::Finding;
use gitleaks::SecretRules;
use pii::PiiScanner;

/// Why DLP could not be set up or could not act.
#[derive(Debug, thiserror::Error)]
pub enum DlpError {
    /// The gitleaks rule file is not valid TOML or not the gitleaks format.
    #[error("gitleaks rules: {0}")]
    Rules(String),
    #[error("token key has {0} bytes, at least 32 are needed")]
    TokenKey(usize),
    #[error("token vault")]
    Vault(#[source] VaultFailure),
}

/// Finds PII and credentials. Build once (compiling the gitleaks rules takes milliseconds) and share:
/// scanning takes `&self`.
#[derive(Debug, Clone)]
pub struct DlpDetector {
    pii: PiiScanner,
    secrets: Option<SecretRules>,
}

impl DlpDetector {
    /// PII, gitleaks' default rules and Warden's additions (`rules/warden-secrets.toml`).
    pub fn new() -> Result<DlpDetector, DlpError> {
        // Both files are arrays of `[[rules]]` tables, so the second continues the first.
        DlpDetector::with_gitleaks(&format!("{GITLEAKS_DEFAULT_RULES}\n{WARDEN_SECRET_RULES}"))
    }

    /// PII and the credentials rules of a gitleaks-format TOML file (instead of the default rules).
    pub fn with_gitleaks(toml_text: &str) -> Result<DlpDetector, DlpError> {
        let pii = PiiScanner;
        Ok(DlpDetector {
            pii,
            secrets: Some(SecretRules::parse(toml_text)?),
        })
    }

    /// PII only, no credential rules.
    pub fn pii_only() -> Result<DlpDetector, DlpError> {
        let pii = PiiScanner;
        Ok(DlpDetector { pii, secrets: None })
    }

    /// What loading the credential rules did (empty for [`DlpDetector::pii_only`]).
    pub fn rule_report(&self) -> RuleReport {
        self.secrets.as_ref().map(|s| s.report().clone()).unwrap_or_default()
    }

    /// Every PII entity and credential in `text`, ordered by where they start.
    pub fn scan(&self, text: &str) -> Vec<Finding> {
        let mut findings = Vec::new();
        self.scan_into(text, &mut findings);
        findings
    }

    /// [`DlpDetector::scan`] appending to a caller's vector, to reuse its allocation.
    pub fn scan_into(&self, text: &str, findings: &mut Vec<Finding>) {
        let from = findings.len();
        self.pii.scan(text, findings);
        if let Some(secrets) = &self.secrets {
            secrets.scan(text, findings);
        }
        findings[from..].sort_by_key(|f| (f.start, f.end));
    }
}

#[cfg(test)]
mod tests;
