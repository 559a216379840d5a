//! Content inspection for Warden: every prompt, tool argument, tool result and outbound request is
//! normalized and scanned here, in process and offline. Pure logic: rules and model weights come in as
//! data, findings go out; the server decides what a finding means through the policy engine.

pub mod dlp;
pub mod egress;
mod finding;
pub mod injection;
pub mod normalize;
pub mod waf;

pub use egress::{EgressConfig, EgressError, EgressPolicy, EgressVerdict};
pub use finding::{Finding, FindingKind, Severity};
pub use injection::{InjectionDetector, InjectionError, scan_injection};
pub use waf::{WafConfig, WafError, WafRules};
