//! The firewall's one entry point: a [`Scanner`] built from a [`FirewallConfig`] runs the detectors a
//! direction calls for over one text and turns their findings into a [`Verdict`].
//!
//! - `input` (prompts, tool arguments): prompt injection, DLP and WAF.
//! - `output` (tool results shown to an agent): indirect prompt injection and DLP.
//! - `egress` (outbound requests): the allowlist on the destination, DLP and SSRF on the body.
//!
//! The text is normalized once, for the injection detector; DLP and the WAF read the text as sent (DLP
//! must redact exactly those bytes; the WAF decodes on its own terms). The verdict is `block` if any
//! enforced finding blocks (an injection score at or above `block_threshold`, any WAF or SSRF finding, a
//! refused destination, a DLP entity whose action is `block`), else `redact` if DLP rewrote the text
//! (mask, label or token), else `allow`. A detector that could not be built blocks every text it should
//! have scanned (fail closed). [`ScanOutcome::attributes`] is what the policy engine sees as
//! `findings.*`. What this does not do: decide beyond the verdict (the policy engine does), keep state
//! between scans, or store token originals (the caller's [`TokenVault`] does).

mod config;
mod summary;

use serde::{Deserialize, Serialize};

pub use config::{
    DEFAULT_BLOCK_THRESHOLD, DEFAULT_MAX_BYTES, DetectorMode, Detectors, DirectionConfig, DirectionsConfig, DlpConfig,
    FirewallConfig, InjectionConfig,
};

use crate::dlp::{DlpAction, DlpDetector, DlpError, DlpOutcome, DlpPolicy, Entity, TokenVault};
use crate::egress::EgressPolicy;
use crate::normalize::normalize;
use crate::waf::{self, WafCategory};
use crate::{EgressError, Finding, FindingKind, InjectionDetector, InjectionError, Severity, WafError, WafRules};

/// Which way the text is going; decides which detectors run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Prompts and tool arguments, on their way to a model or a tool.
    Input,
    /// Tool results, on their way back to an agent.
    Output,
    /// An outbound request body, on its way to `destination`.
    Egress,
}

/// One text to scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanRequest<'a> {
    pub text: &'a str,
    pub direction: Direction,
    /// The URL an egress request goes to; required for `egress` (its absence is a finding), ignored
    /// otherwise.
    pub destination: Option<&'a str>,
}

/// What should happen to the text. Ordered by strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    /// Pass [`ScanOutcome::redacted`] on instead of the text.
    Redact,
    Block,
}

/// The answer for one text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanOutcome {
    pub verdict: Verdict,
    /// Every finding, ordered by where it starts. Spans are byte ranges of the text as sent, on character
    /// boundaries; egress findings are about the destination, not the text, and have the empty span `0..0`.
    pub findings: Vec<Finding>,
    /// The text with DLP's masks, labels and tokens in place; present exactly when the verdict is
    /// `redact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
}

/// Why a [`Scanner`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum FirewallConfigError {
    #[error("firewall configuration: {0}")]
    Syntax(String),
    #[error("injection rules")]
    Injection(#[source] InjectionError),
    #[error("dlp")]
    Dlp(#[source] DlpError),
    #[error("waf rules")]
    Waf(#[source] WafError),
    #[error("egress allowlist")]
    Egress(#[source] EgressError),
    #[error("injection block threshold `{0}` is outside 0..=1")]
    BlockThreshold(f32),
    #[error("max_bytes must be at least 1")]
    MaxBytes,
}

/// Why a text was not scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("the {part} is {len} bytes, more than the firewall's limit of {max}")]
    TooLarge { part: &'static str, len: usize, max: usize },
    /// Tokenizing needed the vault, and the vault failed.
    #[error("dlp could not tokenize")]
    Dlp(#[source] DlpError),
}

/// A built firewall: compile once (milliseconds), share across threads, scan many texts.
#[derive(Debug)]
pub struct Scanner {
    max_bytes: usize,
    block_threshold: f32,
    input: Detectors,
    output: Detectors,
    egress: Detectors,
    injection: InjectionDetector,
    /// `None` only in the fail-closed fallback of [`Scanner::default`].
    dlp: Option<DlpDetector>,
    dlp_policy: DlpPolicy,
    waf: Option<WafRules>,
    allowlist: EgressPolicy,
}

impl Default for Scanner {
    /// The built-in everything ([`FirewallConfig::default`]). Should the built-in data ever fail to
    /// compile (the crate's tests rule it out), the fallback scanner blocks every text.
    fn default() -> Self {
        Scanner::new(&FirewallConfig::default()).unwrap_or_else(|_| Scanner::closed())
    }
}

impl Scanner {
    /// Compiles every detector `config` names (all of them, so switching a direction's detector on is a
    /// configuration change and never a rebuild).
    pub fn new(config: &FirewallConfig) -> Result<Scanner, FirewallConfigError> {
        let max_bytes = config.max_bytes.unwrap_or(DEFAULT_MAX_BYTES);
        if max_bytes == 0 {
            return Err(FirewallConfigError::MaxBytes);
        }
        let block_threshold = config.injection.block_threshold.unwrap_or(DEFAULT_BLOCK_THRESHOLD);
        if !(0.0..=1.0).contains(&block_threshold) {
            return Err(FirewallConfigError::BlockThreshold(block_threshold));
        }
        let injection = match &config.injection.rules {
            Some(overrides) => InjectionDetector::with_overrides(overrides).map_err(FirewallConfigError::Injection)?,
            None => InjectionDetector::default(),
        };
        let dlp = match (&config.dlp.gitleaks, config.dlp.secrets) {
            (_, false) => DlpDetector::pii_only(),
            (Some(rules), true) => DlpDetector::with_gitleaks(rules),
            (None, true) => DlpDetector::new(),
        }
        .map_err(FirewallConfigError::Dlp)?;
        let waf = WafRules::with_config(&config.waf).map_err(FirewallConfigError::Waf)?;
        let allowlist = EgressPolicy::parse(&config.egress.allow).map_err(FirewallConfigError::Egress)?;
        let directions = &config.directions;
        Ok(Scanner {
            max_bytes,
            block_threshold,
            input: directions.input.resolve(Detectors::INPUT),
            output: directions.output.resolve(Detectors::OUTPUT),
            egress: directions.egress.resolve(Detectors::EGRESS),
            injection,
            dlp: Some(dlp),
            dlp_policy: config.dlp.actions,
            waf: Some(waf),
            allowlist,
        })
    }

    /// A scanner without DLP and WAF, whose default directions therefore block everything.
    fn closed() -> Scanner {
        Scanner {
            max_bytes: DEFAULT_MAX_BYTES,
            block_threshold: 0.0,
            input: Detectors::INPUT,
            output: Detectors::OUTPUT,
            egress: Detectors::EGRESS,
            injection: InjectionDetector::default(),
            dlp: None,
            dlp_policy: DlpPolicy::default(),
            waf: None,
            allowlist: EgressPolicy::default(),
        }
    }

    /// The detectors that run for `direction`, and how.
    pub fn detectors(&self, direction: Direction) -> Detectors {
        match direction {
            Direction::Input => self.input,
            Direction::Output => self.output,
            Direction::Egress => self.egress,
        }
    }

    /// The largest text a scan accepts, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Scans one text. DLP entities whose action is `tokenize` are redacted with a label instead, as
    /// there is no vault to keep their originals; use [`Scanner::scan_with_vault`] for tokens.
    pub fn scan(&self, request: &ScanRequest<'_>) -> Result<ScanOutcome, ScanError> {
        self.scan_inner(request, None)
    }

    /// Scans one text, issuing DLP tokens through `vault`.
    pub fn scan_with_vault(
        &self,
        request: &ScanRequest<'_>,
        vault: &mut dyn TokenVault,
    ) -> Result<ScanOutcome, ScanError> {
        self.scan_inner(request, Some(vault))
    }

    fn scan_inner(
        &self,
        request: &ScanRequest<'_>,
        vault: Option<&mut dyn TokenVault>,
    ) -> Result<ScanOutcome, ScanError> {
        self.check_size("text", request.text.len())?;
        if let Some(destination) = request.destination {
            self.check_size("destination", destination.len())?;
        }
        let text = request.text;
        let detectors = self.detectors(request.direction);
        let mut scan = Tally::default();
        if detectors.injection != DetectorMode::Off {
            let normalized = normalize(text);
            let found = self.injection.scan_normalized(text, &normalized);
            let blocks = found.iter().any(|f| f.score >= self.block_threshold);
            scan.add(found, detectors.injection, blocks);
        }
        let attacks = if detectors.waf != DetectorMode::Off {
            Some((detectors.waf, None))
        } else if detectors.ssrf != DetectorMode::Off {
            Some((detectors.ssrf, Some(WafCategory::Ssrf)))
        } else {
            None
        };
        if let Some((mode, only)) = attacks {
            match &self.waf {
                Some(rules) => {
                    let mut found = rules.scan(text);
                    if let Some(category) = only {
                        found.retain(|f| waf::category_of(f) == Some(category));
                    }
                    let blocks = !found.is_empty();
                    scan.add(found, mode, blocks);
                }
                None => scan.unavailable(mode),
            }
        }
        if detectors.allowlist != DetectorMode::Off {
            let found = self.check_destination(request.destination);
            let blocks = found.is_some();
            scan.add(found.into_iter().collect(), detectors.allowlist, blocks);
        }
        let mut redacted = None;
        if detectors.dlp != DetectorMode::Off {
            match &self.dlp {
                Some(dlp) => redacted = self.data_loss(dlp, text, detectors.dlp, vault, &mut scan)?,
                None => scan.unavailable(detectors.dlp),
            }
        }
        let verdict = match (scan.block, &redacted) {
            (true, _) => Verdict::Block,
            (false, Some(_)) => Verdict::Redact,
            (false, None) => Verdict::Allow,
        };
        let mut findings = scan.findings;
        findings.sort_by_key(|f| (f.start, f.end));
        Ok(ScanOutcome {
            verdict,
            findings,
            redacted: redacted.filter(|_| verdict == Verdict::Redact),
        })
    }

    fn check_size(&self, part: &'static str, len: usize) -> Result<(), ScanError> {
        if len > self.max_bytes {
            return Err(ScanError::TooLarge {
                part,
                len,
                max: self.max_bytes,
            });
        }
        Ok(())
    }

    /// The finding for a destination the allowlist refuses (or for a missing one).
    fn check_destination(&self, destination: Option<&str>) -> Option<Finding> {
        let Some(url) = destination else {
            return Some(Finding {
                kind: FindingKind::Egress,
                rule: "egress.no_destination".to_owned(),
                severity: Severity::High,
                score: 1.0,
                start: 0,
                end: 0,
            });
        };
        let finding = self.allowlist.check(url).finding(url)?;
        Some(Finding {
            start: 0,
            end: 0,
            ..finding
        })
    }

    /// Runs DLP, records its findings, and returns the rewritten text when an enforced policy rewrites it.
    fn data_loss(
        &self,
        dlp: &DlpDetector,
        text: &str,
        mode: DetectorMode,
        vault: Option<&mut dyn TokenVault>,
        scan: &mut Tally,
    ) -> Result<Option<String>, ScanError> {
        let found = dlp.scan(text);
        if found.is_empty() {
            return Ok(None);
        }
        let policy = match vault {
            Some(_) => self.dlp_policy,
            None => without_tokens(self.dlp_policy),
        };
        let actions = found.iter().filter_map(Entity::of).map(|e| policy.action(e));
        let strongest = actions.max().unwrap_or(DlpAction::Allow);
        let enforced = mode == DetectorMode::Enforce;
        let rewrite = enforced && matches!(strongest, DlpAction::Mask | DlpAction::Redact | DlpAction::Tokenize);
        let outcome = match (rewrite, vault) {
            (false, _) => None,
            (true, Some(vault)) => Some(policy.apply(text, &found, vault)),
            (true, None) => Some(policy.apply(text, &found, &mut NoVault)),
        };
        scan.add(found, mode, strongest == DlpAction::Block);
        match outcome.transpose().map_err(ScanError::Dlp)? {
            Some(DlpOutcome::Pass { text }) => Ok(Some(text)),
            Some(DlpOutcome::Block { .. }) => {
                scan.block = true;
                Ok(None)
            }
            None => Ok(None),
        }
    }
}

/// The findings so far and whether an enforced one blocks.
#[derive(Debug, Default)]
struct Tally {
    findings: Vec<Finding>,
    block: bool,
}

impl Tally {
    fn add(&mut self, found: Vec<Finding>, mode: DetectorMode, blocks: bool) {
        self.block |= mode == DetectorMode::Enforce && blocks;
        self.findings.extend(found);
    }

    /// A detector that should have run could not be built: fail closed when it was to be enforced.
    fn unavailable(&mut self, mode: DetectorMode) {
        self.block |= mode == DetectorMode::Enforce;
    }
}

/// `policy` with `tokenize` read as `redact`, for scans without a vault.
fn without_tokens(policy: DlpPolicy) -> DlpPolicy {
    let label = |action| match action {
        DlpAction::Tokenize => DlpAction::Redact,
        other => other,
    };
    DlpPolicy {
        card_number: label(policy.card_number),
        ssn: label(policy.ssn),
        email: label(policy.email),
        phone: label(policy.phone),
        iban: label(policy.iban),
        ip_address: label(policy.ip_address),
        secret: label(policy.secret),
    }
}

/// Stands in for a vault when none was given; never asked, as `without_tokens` leaves nothing to tokenize.
struct NoVault;

impl TokenVault for NoVault {
    fn tokenize(&mut self, _: Entity, _: &str) -> Result<crate::dlp::Token, crate::dlp::VaultFailure> {
        Err("no token vault".into())
    }

    fn detokenize(&mut self, _: &crate::dlp::Token) -> Result<Option<String>, crate::dlp::VaultFailure> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
