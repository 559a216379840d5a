//! Content inspection for Warden: every prompt, tool argument, tool result and outbound request is
//! normalized and scanned here, in process and offline. Pure logic: rules and model weights come in as
//! data, findings go out; the server decides what a finding means through the policy engine.
//!
//! The public interface is:
//! - [`Scanner`], the entry point: built from a [`FirewallConfig`] (YAML, every field optional),
//!   `scan(&ScanRequest { text, direction, destination })` runs the detectors of the [`Direction`]
//!   (input: injection, DLP, WAF; output: injection, DLP; egress: allowlist, DLP, SSRF) over one
//!   normalization of the text and answers a [`ScanOutcome`]: a [`Verdict`] (allow, redact, block), the
//!   findings, the redacted text, and [`ScanOutcome::attributes`] for the policy engine's `findings.*`.
//! - [`Finding`]: kind, rule id, severity, score and byte span; never the matched text.
//! - The detectors, usable alone: [`normalize`] (the views rules match on), [`InjectionDetector`],
//!   [`dlp::DlpDetector`] with its per-entity actions and tokens, [`WafRules`], [`EgressPolicy`].
//!
//! What it does not do: I/O of any kind (rule files and token originals come in through values and the
//! [`dlp::TokenVault`] trait), clocks, rate limits, or deciding beyond the verdict.

pub mod dlp;
pub mod egress;
mod finding;
pub mod injection;
pub mod normalize;
mod pattern_set;
pub mod scanner;
pub mod waf;

pub use egress::{EgressConfig, EgressError, EgressPolicy, EgressVerdict};
pub use finding::{Finding, FindingKind, Severity};
pub use injection::{InjectionDetector, InjectionError, scan_injection};
pub use scanner::{
    DetectorMode, Direction, FirewallConfig, FirewallConfigError, ScanError, ScanOutcome, ScanRequest, Scanner, Verdict,
};
pub use waf::{WafConfig, WafError, WafRules};
