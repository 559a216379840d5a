//! One allowlist entry: `[scheme://]host[:port]` where host is exact or `*.suffix`. A missing scheme means
//! `https` (plain HTTP must be asked for by name); a missing port means the scheme's default port.

use url::Host;

use super::{EgressError, host_eq, normalized_domain};

/// The host part of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// This host only (a domain in punycode without trailing dot, or an IP address).
    Exact(Host<String>),
    /// Any subdomain of this suffix, at any depth; never the suffix itself.
    Subdomains(String),
}

impl HostPattern {
    /// Whether a parsed URL host matches. `*.example.org` matches `a.example.org` but neither
    /// `example.org` nor `badexample.org`.
    #[must_use]
    pub fn matches(&self, host: &Host<&str>) -> bool {
        match self {
            Self::Exact(exact) => host_eq(exact, host),
            Self::Subdomains(suffix) => match host {
                Host::Domain(name) => normalized_domain(name)
                    .strip_suffix(suffix.as_str())
                    .and_then(|head| head.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty()),
                Host::Ipv4(_) | Host::Ipv6(_) => false,
            },
        }
    }
}

/// A parsed allowlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationPattern {
    scheme: String,
    host: HostPattern,
    port: Option<u16>,
}

impl DestinationPattern {
    /// Parses `https://api.openai.com`, `*.github.com:443`, `https://*.example.org`, `http://[::1]:8080`.
    pub fn parse(raw: &str) -> Result<Self, EgressError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(EgressError::Empty(raw.to_owned()));
        }
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_owned(), text),
        };
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !scheme_ok {
            return Err(EgressError::Scheme(raw.to_owned()));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@', '\\']) {
            return Err(EgressError::NotAHost(raw.to_owned()));
        }
        let (host_text, port) = split_port(rest, raw)?;
        let port = port.or_else(|| default_port(&scheme));
        let host = parse_host(host_text, raw)?;
        Ok(Self { scheme, host, port })
    }

    #[must_use]
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    #[must_use]
    pub fn host(&self) -> &HostPattern {
        &self.host
    }

    /// The port admitted; `None` only for a scheme without a known default and no port given.
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.port
    }
}

fn split_port<'a>(rest: &'a str, raw: &str) -> Result<(&'a str, Option<u16>), EgressError> {
    let port_at = if rest.starts_with('[') {
        rest.find(']').map(|close| close + 1).filter(|&i| i < rest.len())
    } else {
        rest.rfind(':')
    };
    let Some(at) = port_at else {
        return Ok((rest, None));
    };
    let Some(digits) = rest[at..].strip_prefix(':') else {
        return Err(EgressError::Port(raw.to_owned()));
    };
    let port = digits.parse::<u16>().map_err(|_| EgressError::Port(raw.to_owned()))?;
    Ok((&rest[..at], Some(port)))
}

fn parse_host(text: &str, raw: &str) -> Result<HostPattern, EgressError> {
    let invalid = |reason: String| EgressError::Host {
        pattern: raw.to_owned(),
        reason,
    };
    let (wildcard, name) = match text.strip_prefix("*.") {
        Some(suffix) => (true, suffix),
        None => (false, text),
    };
    if name.contains('*') {
        return Err(EgressError::Wildcard(raw.to_owned()));
    }
    let host = Host::parse(name).map_err(|e| invalid(e.to_string()))?;
    match (wildcard, host) {
        (false, Host::Domain(domain)) => Ok(HostPattern::Exact(Host::Domain(normalized_domain(&domain).to_owned()))),
        (false, ip) => Ok(HostPattern::Exact(ip)),
        (true, Host::Domain(domain)) => {
            let suffix = normalized_domain(&domain);
            if suffix.is_empty() || !suffix.contains(|c: char| c.is_ascii_alphabetic()) {
                return Err(EgressError::Wildcard(raw.to_owned()));
            }
            Ok(HostPattern::Subdomains(suffix.to_owned()))
        }
        (true, _) => Err(EgressError::Wildcard(raw.to_owned())),
    }
}

/// The WHATWG special schemes' default ports (what `Url::port_or_known_default` reports for URLs).
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}
