//! What a scan reports: one finding per match, never the matched text itself (findings go to the audit
//! log, which must not hold the PII or secret that was found).

use serde::Serialize;

/// The family a finding belongs to; policies test these as `findings.<kind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Prompt injection, jailbreak framing, system-prompt extraction.
    Injection,
    /// Personal data: card numbers, SSNs, emails, phone numbers, IBANs, IP addresses.
    Pii,
    /// Credentials: API keys, tokens, private keys.
    Secret,
    /// Attacks on tools and proxied requests: SQL injection, XSS, traversal, command injection, SSRF, SSTI.
    Waf,
    /// An outbound destination that the egress allowlist does not admit.
    Egress,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// One match. `start..end` is a byte range of the text as the caller sent it (not of its normalized form),
/// so a caller can redact exactly what was found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// The rule or model that matched, e.g. `pii.card_number`, `secret.aws-access-token`, `injection.model`.
    pub rule: String,
    pub severity: Severity,
    /// Confidence in [0, 1]: 1.0 for validated deterministic matches, the model's probability otherwise.
    /// Serialized with four decimals, so 0.95 reads 0.95 and not the nearest `f32`, 0.949999988.
    #[serde(serialize_with = "four_decimals")]
    pub score: f32,
    pub start: usize,
    pub end: usize,
}

fn four_decimals<S: serde::Serializer>(score: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((f64::from(*score) * 10_000.0).round() / 10_000.0)
}
