//! SSRF targets: every `scheme://authority` in the decoded text is parsed as the victim's HTTP client
//! would parse it, and its host classified by the same code as the egress allowlist, so
//! `http://2130706433/`, `http://[::ffff:a9fe:a9fe]/`, `gopher://0x7f.1/` and
//! `http://evil.example@169.254.169.254/` are all caught without a regex per spelling.

use url::Url;

use super::decode::LINE_BREAK;
use super::rules::RuleTune;
use super::severity_finding;
use crate::egress::AddressClass;
use crate::finding::{Finding, Severity};

/// The id users disable or tune SSRF detection by.
pub(super) const RULE_ID: &str = "waf.ssrf.internal_url";

/// Bounds the work on a text full of URLs.
const MAX_URLS: usize = 32;
/// Longer than any real host with userinfo and port.
const MAX_AUTHORITY: usize = 300;

#[derive(Debug, Clone)]
pub(super) struct SsrfRule {
    severity: Option<Severity>,
    score: f32,
}

impl SsrfRule {
    pub fn new(tune: Option<&RuleTune>) -> Self {
        Self {
            severity: tune.and_then(|t| t.severity).map(Into::into),
            score: tune.and_then(|t| t.score).unwrap_or(1.0).clamp(0.0, 1.0),
        }
    }

    /// Findings with decoded-text spans, which the caller maps back to the source.
    pub fn scan<'a>(&'a self, text: &'a [u8]) -> impl Iterator<Item = (Finding, usize, usize)> + 'a {
        separators(text).take(MAX_URLS).filter_map(move |sep| {
            let (start, end) = url_bounds(text, sep)?;
            if obviously_public(&text[start..end]) {
                return None;
            }
            let candidate = std::str::from_utf8(&text[start..end]).ok()?;
            let class = target(candidate)?;
            let severity = self.severity.unwrap_or(match class {
                AddressClass::Metadata => Severity::Critical,
                _ => Severity::High,
            });
            Some((severity_finding(RULE_ID, severity, self.score, start, end), start, end))
        })
    }
}

fn separators(text: &[u8]) -> impl Iterator<Item = usize> + '_ {
    text.windows(3)
        .enumerate()
        .filter(|(_, w)| *w == b"://")
        .map(|(i, _)| i)
}

/// The scheme before `sep` and the authority after it.
fn url_bounds(text: &[u8], sep: usize) -> Option<(usize, usize)> {
    let scheme_len = text[..sep]
        .iter()
        .rev()
        .take(16)
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        .count();
    let start = sep - scheme_len;
    // Skip leading non-letters so `1http://` reads as `http://`.
    let start = start + text[start..sep].iter().take_while(|b| !b.is_ascii_alphabetic()).count();
    if start == sep {
        return None;
    }
    let authority = sep + 3;
    let len = text[authority..]
        .iter()
        .take(MAX_AUTHORITY)
        .take_while(|b| {
            !matches!(
                b,
                b'/' | b'?' | b'#' | b'\\' | b'"' | b'\'' | b'<' | b'>' | b'`' | b' ' | b'\t'
            )
        })
        .take_while(|b| {
            !matches!(b, b'\r' | b'\n' | b')' | b',' | b';' | b'|' | b'{' | b'}' | b'^') && **b != LINE_BREAK
        })
        .count();
    (len > 0).then_some((start, authority + len))
}

/// Names under these suffixes, or equal to them, can be internal whatever the rest says.
const SUSPECT_SUFFIXES: &[&[u8]] = &[
    b"localhost",
    b".internal",
    b".local",
    b".nip.io",
    b".sslip.io",
    b".xip.io",
    b".traefik.me",
    b"localtest.me",
    b".goog",
];

/// A plain `scheme://name.tld` (letters in the last label, no userinfo, no IP literal, no suspect name)
/// cannot be internal without DNS, so it skips URL parsing, which is most of a benign scan's SSRF cost.
fn obviously_public(url: &[u8]) -> bool {
    let Some(sep) = url.windows(3).position(|w| w == b"://") else {
        return false;
    };
    let authority = &url[sep + 3..];
    if authority
        .iter()
        .any(|b| matches!(b, b'@' | b'[' | b'%' | b'\\') || !b.is_ascii())
    {
        return false;
    }
    let host = authority.split(|b| *b == b':').next().unwrap_or(authority);
    let host = host.strip_suffix(b".").unwrap_or(host);
    let last = host.rsplit(|b| *b == b'.').next().unwrap_or(host);
    let alphabetic_tld = last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic) && !last.starts_with(b"0x");
    let suspect = SUSPECT_SUFFIXES.iter().any(|s| host.ends_with(s)) || host == b"metadata" || host == b"instance-data";
    host.contains(&b'.') && alphabetic_tld && !suspect
}

/// The internal class of the URL's host, if internal.
fn target(candidate: &str) -> Option<AddressClass> {
    let url = Url::parse(candidate).ok()?;
    // `file://` has no network target; `file:///etc/passwd` is the LFI rules' business.
    if url.scheme() == "file" {
        return None;
    }
    let class = crate::egress::classify_host(&url.host()?);
    class.is_internal().then_some(class)
}
