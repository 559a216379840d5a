//! The egress allowlist: which destinations an agent's outbound requests may reach. Matching is on the
//! URL as a WHATWG parser sees it (the same parse the HTTP client will do), never on the string: the host
//! is compared exactly or as a `*.suffix` on label boundaries, after IDNA to punycode, lowercasing and
//! dropping one trailing dot; the scheme and the port (the scheme's default when absent) must be listed.
//! Userinfo is refused outright: it has no legitimate use for an agent and is the classic
//! `https://api.openai.com@evil.example` trick. What this does not do: DNS (a listed name resolving to an
//! internal address is for the connecting proxy to refuse) and DLP on the body (the DLP scanner's job).

mod address;
mod pattern;

use serde::Deserialize;
use url::{Host, Url};

use crate::finding::{Finding, FindingKind, Severity};

pub use address::{AddressClass, classify_host, classify_ip, targets_internal, url_target};
pub use pattern::{DestinationPattern, HostPattern};

/// Why a destination pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    #[error("egress pattern `{0}` is empty")]
    Empty(String),
    #[error("egress pattern `{pattern}` has an invalid host: {reason}")]
    Host { pattern: String, reason: String },
    #[error("egress pattern `{0}` has an invalid port")]
    Port(String),
    #[error("egress pattern `{0}` has a wildcard other than a leading `*.`")]
    Wildcard(String),
    #[error("egress pattern `{0}` carries userinfo, a path, a query or a fragment; list hosts only")]
    NotAHost(String),
    #[error("egress pattern `{0}` has an invalid scheme")]
    Scheme(String),
}

/// The allowlist as users write it. `allowed_domains` is accepted as an alias so seed 002's
/// `ALLOWED_DOMAINS` list loads as is (with exact-host semantics, not its substring matching).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressConfig {
    /// Destination patterns: `https://api.openai.com`, `*.github.com:443`, `https://*.example.org`.
    #[serde(default, alias = "allowed_domains", alias = "ALLOWED_DOMAINS")]
    pub allow: Vec<String>,
}

/// A parsed allowlist. Empty means nothing may leave (fail closed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    patterns: Vec<DestinationPattern>,
}

/// The answer for one URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EgressVerdict {
    Allowed,
    Denied { reason: DenyReason },
}

/// Why a URL was refused, most specific first: a host that is listed but with another scheme is a
/// `Scheme` denial, so operators see what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// Not a URL a WHATWG parser accepts (or no scheme).
    Unparsable,
    /// A username or password before the host.
    Userinfo,
    /// A URL without a host (`mailto:`, `data:`).
    NoHost,
    /// The host is listed, but not for this scheme.
    Scheme,
    /// The host and scheme are listed, but not on this port.
    Port,
    /// No pattern names this host. `internal` says the host is also loopback, private or metadata.
    Host { internal: Option<AddressClass> },
}

impl DenyReason {
    /// A stable name for findings and audit events.
    #[must_use]
    pub fn rule(self) -> &'static str {
        match self {
            Self::Unparsable => "egress.unparsable",
            Self::Userinfo => "egress.userinfo",
            Self::NoHost => "egress.no_host",
            Self::Scheme => "egress.scheme_not_allowed",
            Self::Port => "egress.port_not_allowed",
            Self::Host { internal: Some(_) } => "egress.internal_target",
            Self::Host { internal: None } => "egress.host_not_allowed",
        }
    }
}

impl EgressVerdict {
    #[must_use]
    pub fn is_allowed(self) -> bool {
        self == Self::Allowed
    }

    /// The finding a denial reports, spanning the whole URL (the span is of the URL as given).
    #[must_use]
    pub fn finding(self, url: &str) -> Option<Finding> {
        let Self::Denied { reason } = self else {
            return None;
        };
        let severity = match reason {
            DenyReason::Host { internal: Some(_) } | DenyReason::Userinfo => Severity::Critical,
            _ => Severity::High,
        };
        Some(Finding {
            kind: FindingKind::Egress,
            rule: reason.rule().to_owned(),
            severity,
            score: 1.0,
            start: 0,
            end: url.len(),
        })
    }
}

impl EgressPolicy {
    /// Parses destination patterns; any invalid pattern fails the whole list, so a typo cannot silently
    /// narrow or widen the allowlist.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, EgressError> {
        let patterns = patterns
            .iter()
            .map(|p| DestinationPattern::parse(p.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { patterns })
    }

    /// The parsed patterns, in the order given.
    #[must_use]
    pub fn patterns(&self) -> &[DestinationPattern] {
        &self.patterns
    }

    /// Decides whether `url` may be requested.
    #[must_use]
    pub fn check(&self, url: &str) -> EgressVerdict {
        let deny = |reason| EgressVerdict::Denied { reason };
        let Ok(parsed) = Url::parse(url.trim()) else {
            return deny(DenyReason::Unparsable);
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return deny(DenyReason::Userinfo);
        }
        let Some(host) = parsed.host() else {
            return deny(DenyReason::NoHost);
        };
        let scheme = parsed.scheme();
        let port = parsed.port_or_known_default();
        let mut best = DenyReason::Host {
            internal: Some(classify_host(&host)).filter(|c| c.is_internal()),
        };
        for pattern in &self.patterns {
            if !pattern.host().matches(&host) {
                continue;
            }
            if pattern.scheme() != scheme {
                if !matches!(best, DenyReason::Port) {
                    best = DenyReason::Scheme;
                }
                continue;
            }
            if pattern.port() != port {
                best = DenyReason::Port;
                continue;
            }
            return EgressVerdict::Allowed;
        }
        deny(best)
    }
}

impl TryFrom<EgressConfig> for EgressPolicy {
    type Error = EgressError;

    fn try_from(config: EgressConfig) -> Result<Self, Self::Error> {
        Self::parse(&config.allow)
    }
}

/// A host as the matcher compares it: punycode, lowercase, without one trailing dot.
fn normalized_domain(name: &str) -> &str {
    name.strip_suffix('.').unwrap_or(name)
}

fn host_eq(a: &Host<String>, b: &Host<&str>) -> bool {
    match (a, b) {
        (Host::Domain(a), Host::Domain(b)) => normalized_domain(a) == normalized_domain(b),
        (Host::Ipv4(a), Host::Ipv4(b)) => a == b,
        (Host::Ipv6(a), Host::Ipv6(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
