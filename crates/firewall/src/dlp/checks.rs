//! Validation that turns a pattern match into a finding: checksums and the numbering plans of each
//! identifier. This is where false positives are removed, so each check says what it rejects.

/// The Luhn checksum every payment card number carries; rejects nine in ten random digit runs.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// The leading `n` digits as a number (digits are ASCII and already checked).
fn prefix(digits: &[u8], n: usize) -> u32 {
    digits
        .iter()
        .take(n)
        .fold(0, |acc, d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
}

/// Whether the digits carry a known issuer prefix at a length that issuer uses, and pass Luhn.
/// Ranges follow the networks' published IIN tables (Visa, Mastercard incl. the 2-series, Amex,
/// Discover, JCB, Diners, UnionPay, Maestro), plus the older JCB 15-digit prefixes 1800 and 2131.
pub(crate) fn card_number(digits: &[u8]) -> bool {
    let len = digits.len();
    if !(12..=19).contains(&len) || !luhn(digits) {
        return false;
    }
    let (p1, p2, p3, p4, p6) = (
        prefix(digits, 1),
        prefix(digits, 2),
        prefix(digits, 3),
        prefix(digits, 4),
        prefix(digits, 6),
    );
    let visa = p1 == 4 && matches!(len, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16;
    let amex = matches!(p2, 34 | 37) && len == 15;
    let discover = (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6))
        && (16..=19).contains(&len);
    let jcb = (p2 == 35 && (16..=19).contains(&len)) || (matches!(p4, 1800 | 2131) && len == 15);
    let diners = ((300..=305).contains(&p3) || p4 == 3095 || matches!(p2, 36 | 38 | 39)) && (14..=19).contains(&len);
    let unionpay = (p2 == 62 || p2 == 81) && (16..=19).contains(&len);
    let maestro = (p2 == 50 || (56..=58).contains(&p2) || matches!(p4, 6304 | 6759 | 6761 | 6762 | 6763 | 604 | 6390))
        && (12..=19).contains(&len);
    visa || mastercard || amex || discover || jcb || diners || unionpay || maestro
}

/// A US SSN as the SSA issues them: area 000, 666 and 900–999, group 00 and serial 0000 are never
/// issued; a few numbers published in advertising and examples are rejected too.
pub(crate) fn ssn(area: u32, group: u32, serial: u32) -> bool {
    let issued = area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
    let published = matches!((area, group, serial), (78, 5, 1120) | (219, 9, 9999) | (123, 45, 6789));
    let repeated = area == 111 * (area / 100) && group == 11 * (group / 10) && serial == 1111 * (serial / 1000);
    let same_digit = repeated && area / 100 == group / 10 && group / 10 == serial / 1000;
    issued && !published && !same_digit
}

/// IBAN lengths per country (ISO 13616 registry). A candidate whose country is not here is not an IBAN.
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// The registered IBAN length of a country, `None` if the country issues no IBANs.
pub(crate) fn iban_length(country: &[u8]) -> Option<usize> {
    IBAN_LENGTHS
        .iter()
        .find(|(code, _)| code.as_slice() == country)
        .map(|&(_, len)| len)
}

/// The ISO 7064 mod-97 check over the IBAN's alphanumerics (country and check digits moved to the end,
/// letters as 10..35); a valid IBAN leaves remainder 1. One random string in 97 passes.
pub(crate) fn iban_checksum(chars: &[u8]) -> bool {
    if chars.len() < 5 {
        return false;
    }
    let (head, tail) = chars.split_at(4);
    let mut rem = 0u32;
    for &c in tail.iter().chain(head) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// An email address with a plausible shape: no leading, trailing or doubled dots in the local part,
/// domain labels that do not start or end with a hyphen, an alphabetic top-level domain.
pub(crate) fn email(candidate: &str) -> bool {
    let Some((local, domain)) = candidate.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..");
    let labels_ok = domain
        .split('.')
        .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    let tld_ok = domain
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    local_ok && domain.contains('.') && labels_ok && tld_ok
}

/// A dotted-quad IPv4 address: four decimal octets of at most three digits, each at most 255.
pub(crate) fn ipv4(groups: &[&[u8]]) -> bool {
    groups.len() == 4 && groups.iter().all(|g| (1..=3).contains(&g.len()) && prefix(g, 3) <= 255)
}

/// An IPv6 address as `std` parses it (RFC 4291 text forms), with at least two groups and four hex
/// digits written out, so that `::` in prose or code (`a::b`) is not an address.
pub(crate) fn ipv6(candidate: &str) -> bool {
    let groups = candidate.split(':').filter(|g| !g.is_empty()).count();
    let hex = candidate.bytes().filter(u8::is_ascii_hexdigit).count();
    groups >= 2 && hex >= 4 && candidate.parse::<std::net::Ipv6Addr>().is_ok()
}

/// Shannon entropy in bits per byte, the measure gitleaks' `entropy` thresholds are written in.
pub(crate) fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}
