//! Whether a destination is inside the perimeter: loopback, private, link-local, cloud metadata. Shared by
//! the egress allowlist and the WAF's SSRF rule, so both agree on what "internal" means. Hosts are
//! classified after WHATWG parsing, so `2130706433`, `0x7f.1`, `0177.0.0.1` and `[::ffff:127.0.0.1]` are
//! all seen as 127.0.0.1. No DNS: a public name that resolves to an internal address is the resolver's
//! job (the proxy must check the address it connects to).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Where an address points, from the gateway's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// Routable on the internet as far as we can tell from the address alone.
    Public,
    /// 127.0.0.0/8, ::1, `localhost` and its subdomains.
    Loopback,
    /// RFC 1918, carrier-grade NAT, IPv6 unique-local and site-local.
    Private,
    /// 169.254.0.0/16 and fe80::/10 (other than the metadata addresses).
    LinkLocal,
    /// Cloud instance metadata: 169.254.169.254, fd00:ec2::254, `metadata.google.internal`, ...
    Metadata,
    /// 0.0.0.0/8 and `::`, which many stacks route to the local host.
    Unspecified,
    /// Multicast, broadcast, documentation, benchmarking and reserved ranges: never a legitimate target.
    Reserved,
}

impl AddressClass {
    /// True for everything but [`AddressClass::Public`].
    #[must_use]
    pub fn is_internal(self) -> bool {
        self != Self::Public
    }

    /// A short stable name, used in finding rule ids.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::LinkLocal => "link_local",
            Self::Metadata => "metadata",
            Self::Unspecified => "unspecified",
            Self::Reserved => "reserved",
        }
    }
}

/// Host names that cloud providers answer metadata requests on.
const METADATA_NAMES: &[&str] = &[
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
    "metadata.platformequinix.com",
];

/// Public wildcard-DNS services that answer with the address written in the name (`127.0.0.1.nip.io`).
const ECHO_DNS_SUFFIXES: &[&str] = &[".nip.io", ".sslip.io", ".xip.io", ".traefik.me", ".localtest.me"];

/// Classifies an IP address.
#[must_use]
pub fn classify_ip(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, d] = ip.octets();
    match (a, b, c, d) {
        (169, 254, 169, 254) | (169, 254, 170, 2) | (100, 100, 100, 200) | (192, 0, 0, 192) => AddressClass::Metadata,
        (0, ..) => AddressClass::Unspecified,
        (127, ..) => AddressClass::Loopback,
        (10, ..) | (192, 168, ..) => AddressClass::Private,
        (172, b, ..) if (16..32).contains(&b) => AddressClass::Private,
        (100, b, ..) if (64..128).contains(&b) => AddressClass::Private,
        (169, 254, ..) => AddressClass::LinkLocal,
        (192, 0, 0 | 2, _) | (198, 51, 100, _) | (203, 0, 113, _) => AddressClass::Reserved,
        (198, 18 | 19, ..) => AddressClass::Reserved,
        (a, ..) if a >= 224 => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    // IPv4 smuggled inside IPv6: mapped, compatible, NAT64 and 6to4 all reach the embedded v4 address.
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let s = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return AddressClass::Metadata;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    match s[0] {
        x if x & 0xfe00 == 0xfc00 => AddressClass::Private,
        x if x & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        x if x & 0xffc0 == 0xfec0 => AddressClass::Private,
        x if x & 0xff00 == 0xff00 => AddressClass::Reserved,
        0x2001 if s[1] == 0x0db8 => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0; 5] && (s[5] == 0xffff || (s[5] == 0 && (s[6] != 0 || s[7] > 1))) {
        return Some(low);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

/// Classifies a parsed host. Domain names are compared without a trailing dot.
#[must_use]
pub fn classify_host(host: &Host<&str>) -> AddressClass {
    match host {
        Host::Ipv4(v4) => classify_v4(*v4),
        Host::Ipv6(v6) => classify_v6(*v6),
        Host::Domain(name) => classify_domain(name),
    }
}

fn classify_domain(name: &str) -> AddressClass {
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") || name == "localtest.me" {
        return AddressClass::Loopback;
    }
    if METADATA_NAMES.contains(&name.as_str()) {
        return AddressClass::Metadata;
    }
    // An opaque host (`gopher://0x7f.1/`) was not IPv4-parsed by the URL parser; parse it the special way
    // (only when the last label could be a number: IDNA processing is not free).
    let last = name.rsplit('.').next().unwrap_or(&name);
    if last.starts_with(|c: char| c.is_ascii_digit())
        && let Ok(Host::Ipv4(v4)) = Host::parse(&name)
    {
        return classify_v4(v4);
    }
    for suffix in ECHO_DNS_SUFFIXES {
        if let Some(prefix) = name.strip_suffix(suffix) {
            return echo_dns_class(prefix);
        }
    }
    AddressClass::Public
}

/// `a.127.0.0.1` or `127-0-0-1` before an echo-DNS suffix: the last four numeric labels are the address.
fn echo_dns_class(prefix: &str) -> AddressClass {
    let dotted = prefix.rsplit('.').take(4).collect::<Vec<_>>();
    let candidate = if dotted.len() == 4 {
        dotted.iter().rev().copied().collect::<Vec<_>>().join(".")
    } else {
        prefix.rsplit('.').next().unwrap_or(prefix).replace('-', ".")
    };
    match candidate.parse::<Ipv4Addr>() {
        Ok(v4) => classify_v4(v4),
        // Unknown labels under an echo service: treat as loopback-capable, since the attacker picks them.
        Err(_) if prefix.is_empty() => AddressClass::Loopback,
        Err(_) => AddressClass::Public,
    }
}

/// The class of the host a URL points at, or `None` when the URL does not parse or has no host. For
/// non-special schemes (`gopher:`, `dict:`) the opaque host is parsed as a special host would be.
#[must_use]
pub fn url_target(url: &str) -> Option<AddressClass> {
    let parsed = Url::parse(url).ok()?;
    let host = parsed.host()?;
    Some(classify_host(&host))
}

/// True when the URL points at a loopback, private, link-local, metadata, unspecified or reserved address.
#[must_use]
pub fn targets_internal(url: &str) -> bool {
    url_target(url).is_some_and(AddressClass::is_internal)
}
