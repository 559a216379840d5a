//! A small seeded generator of fake personal data for the Presidio templates: valid card numbers
//! (Luhn, real issuer prefixes), SSNs the SSA could issue, emails, phone numbers in US and
//! international notations, IBANs with correct check digits, IPv4 and IPv6 addresses; and plain
//! names, places and numbers for the slots DLP does not detect, which is where false positives hide.

use warden_firewall::dlp::Entity;

/// splitmix64: deterministic, dependency-free, good enough for test data.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    pub fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A slot value DLP should find.
#[derive(Debug, Clone, Copy)]
pub struct Truth {
    pub entity: Entity,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug)]
pub struct Filled {
    pub text: String,
    pub truths: Vec<Truth>,
}

/// The template with every `{{slot}}` replaced, and where the detectable values went.
pub fn fill(template: &str, rng: &mut Rng) -> Filled {
    let template = template.replace("\\n", "\n");
    let mut text = String::with_capacity(template.len() + 64);
    let mut truths = Vec::new();
    let mut rest = template.as_str();
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else { break };
        text.push_str(&rest[..open]);
        let slot = &rest[open + 2..open + close];
        let (value, entity) = value(slot.trim(), rng);
        if let Some(entity) = entity {
            truths.push(Truth {
                entity,
                start: text.len(),
                end: text.len() + value.len(),
            });
        }
        text.push_str(&value);
        rest = &rest[open + close + 2..];
    }
    text.push_str(rest);
    Filled { text, truths }
}

fn value(slot: &str, rng: &mut Rng) -> (String, Option<Entity>) {
    match slot {
        "credit_card_number" => (card(rng), Some(Entity::CardNumber)),
        "ssn" => (ssn(rng), Some(Entity::Ssn)),
        "email" => (email(rng), Some(Entity::Email)),
        "phone_number" => (phone(rng), Some(Entity::Phone)),
        "iban" => (iban(rng), Some(Entity::Iban)),
        "ip_address" => (ip(rng), Some(Entity::IpAddress)),
        other => (plain(other, rng), None),
    }
}

const FIRST: &[&str] = &[
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "Wei",
    "Fatima",
    "Olga",
    "Hiroshi",
    "Priya",
    "Carlos",
    "Ana",
    "Mohammed",
    "Chloé",
    "Søren",
    "Zoë",
    "Ngozi",
];
const LAST: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Nguyen",
    "O'Brien",
    "Müller",
    "Kowalski",
    "Tanaka",
    "Okafor",
    "Van der Berg",
    "Smith-Jones",
    "Łukasz",
    "Iyer",
];
const STREETS: &[&str] = &[
    "Main",
    "Oak",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Sunset",
    "Park",
    "5th",
    "42nd",
    "King",
];
const STREET_KINDS: &[&str] = &[
    "Street", "St.", "Avenue", "Ave", "Road", "Blvd", "Lane", "Drive", "Way", "Court",
];
const CITIES: &[&str] = &[
    "Springfield",
    "New York",
    "Los Angeles",
    "Chicago",
    "Houston",
    "London",
    "Berlin",
    "Paris",
    "Tokyo",
    "São Paulo",
    "Zürich",
    "Mumbai",
    "Lagos",
    "Sydney",
    "Toronto",
];
const COUNTRIES: &[&str] = &[
    "United States",
    "Germany",
    "France",
    "Japan",
    "Brazil",
    "India",
    "Nigeria",
    "Canada",
    "United Kingdom",
    "Côte d'Ivoire",
];
const ORGS: &[&str] = &[
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Inc.",
    "Stark Industries",
    "Wayne Enterprises",
    "Contoso Ltd",
    "Fabrikam",
    "Northwind Traders",
    "3M",
    "7-Eleven",
    "Twenty First Century Fox",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "acme-corp.org",
    "mail.example.co.uk",
    "uni.edu",
    "company.io",
    "web.de",
    "orange.fr",
    "proton.me",
];
const STATES: &[&str] = &["CA", "NY", "TX", "FL", "IL", "WA", "MA", "OR"];

fn name(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FIRST), rng.pick(LAST))
}

fn address(rng: &mut Rng) -> String {
    let street = format!(
        "{} {} {}",
        rng.range(1, 99999),
        rng.pick(STREETS),
        rng.pick(STREET_KINDS)
    );
    let unit = if rng.chance(40) {
        format!(" {} {}", rng.pick(&["Apt.", "Suite", "Unit", "#"]), rng.range(1, 999))
    } else {
        String::new()
    };
    let zip = if rng.chance(20) {
        format!("{}-{}", rng.digits(5), rng.digits(4))
    } else {
        rng.digits(5)
    };
    format!("{street}{unit}, {}, {} {zip}", rng.pick(CITIES), rng.pick(STATES))
}

/// Anything that is not PII DLP detects, including plenty of numbers.
fn plain(slot: &str, rng: &mut Rng) -> String {
    match slot {
        "person" | "name" | "name_male" | "name_female" => name(rng),
        "first_name" | "first_name_male" | "first_name_female" | "first_name_nonbinary" => rng.pick(FIRST).to_owned(),
        "last_name" | "last_name_male" | "last_name_female" => rng.pick(LAST).to_owned(),
        "prefix" | "prefix_male" | "prefix_female" => rng.pick(&["Mr.", "Mrs.", "Ms.", "Dr.", "Mx."]).to_owned(),
        "address" => address(rng),
        "street_name" => format!("{} {}", rng.pick(STREETS), rng.pick(STREET_KINDS)),
        "building_number" => rng.range(1, 99999).to_string(),
        "secondary_address" => format!("{} {}", rng.pick(&["Apt.", "Suite", "Unit"]), rng.range(1, 999)),
        "city" => rng.pick(CITIES).to_owned(),
        "country" => rng.pick(COUNTRIES).to_owned(),
        "state_abbr" => rng.pick(STATES).to_owned(),
        "zipcode" => {
            if rng.chance(25) {
                format!("{}-{}", rng.digits(5), rng.digits(4))
            } else {
                rng.digits(5)
            }
        }
        "postcode" => rng
            .pick(&["SW1A 1AA", "10115", "75008", "100-0001", "M5V 3L9", "2000", "94105"])
            .to_owned(),
        "organization" => rng.pick(ORGS).to_owned(),
        "age" => rng.range(1, 99).to_string(),
        "year" => rng.range(1900, 2030).to_string(),
        "date_of_birth" => match rng.below(3) {
            0 => format!(
                "{:02}/{:02}/{}",
                rng.range(1, 12),
                rng.range(1, 28),
                rng.range(1930, 2010)
            ),
            1 => format!(
                "{}-{:02}-{:02}",
                rng.range(1930, 2010),
                rng.range(1, 12),
                rng.range(1, 28)
            ),
            _ => format!(
                "{} {}, {}",
                rng.pick(&["March", "July", "October"]),
                rng.range(1, 28),
                rng.range(1930, 2010)
            ),
        },
        "date_time" => format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02}",
            rng.range(1990, 2030),
            rng.range(1, 12),
            rng.range(1, 28),
            rng.range(0, 23),
            rng.range(0, 59),
            rng.range(0, 59)
        ),
        "day_of_week" => rng.pick(&["Monday", "Tuesday", "Friday", "Sunday"]).to_owned(),
        "url" => format!(
            "https://www.{}/{}?id={}",
            rng.pick(DOMAINS),
            rng.pick(&["photos", "p", "files/share"]),
            rng.digits(6)
        ),
        "us_driver_license" => match rng.below(3) {
            0 => format!("{}{}", rng.pick(&["A", "D", "H", "S"]), rng.digits(7)),
            1 => rng.digits(9),
            _ => format!("{}{}", rng.pick(&["F", "K"]), rng.digits(12)),
        },
        "job" => rng
            .pick(&["software engineer", "nurse", "accountant", "teacher"])
            .to_owned(),
        "nationality" | "nation_woman" | "nation_plural" => {
            rng.pick(&["French", "Japanese", "Nigerian", "Brazilian"]).to_owned()
        }
        _ => rng.pick(FIRST).to_owned(),
    }
}

/// A Luhn-valid card number of a real issuer, bare (as Faker writes them) or grouped.
fn card(rng: &mut Rng) -> String {
    let (prefix, len): (String, usize) = match rng.below(11) {
        0 => ("4".into(), 16),
        1 => ("4".into(), *[13, 19].get(rng.below(2)).unwrap_or(&16)),
        2 => (format!("5{}", rng.range(1, 5)), 16),
        3 => (format!("{}", rng.range(2221, 2720)), 16),
        4 => (rng.pick(&["34", "37"]).into(), 15),
        5 => (rng.pick(&["6011", "65", "644"]).into(), 16),
        6 => (rng.pick(&["300", "305", "36", "38"]).into(), 14),
        7 => (rng.pick(&["3528", "3589", "35"]).into(), 16),
        8 => (rng.pick(&["2131", "1800"]).into(), 15),
        9 => (
            rng.pick(&["5018", "5020", "5038", "56", "58", "6304", "6759", "6761"])
                .into(),
            *[12, 16, 19].get(rng.below(3)).unwrap_or(&16),
        ),
        _ => ("62".into(), 16),
    };
    let mut digits = prefix;
    digits.push_str(&rng.digits(len - digits.len() - 1));
    let check = (0..10u8).find(|&c| luhn(&format!("{digits}{c}"))).unwrap_or(0);
    digits.push(char::from(b'0' + check));
    match (rng.below(10), len) {
        (0..=5, _) | (_, 12 | 13) => digits,
        (6..=7, 15) => format!("{} {} {}", &digits[..4], &digits[4..10], &digits[10..]),
        (6..=7, 14) => format!("{} {} {}", &digits[..4], &digits[4..10], &digits[10..]),
        (sep, _) => {
            let sep = if sep == 8 { " " } else { "-" };
            digits
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(sep)
        }
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// An SSN the SSA could have issued, mostly dashed (as Faker writes it).
fn ssn(rng: &mut Rng) -> String {
    let area = loop {
        let a = rng.range(1, 899);
        if a != 666 {
            break a;
        }
    };
    let (group, serial) = (rng.range(1, 99), rng.range(1, 9999));
    match rng.below(10) {
        0..=6 => format!("{area:03}-{group:02}-{serial:04}"),
        7..=8 => format!("{area:03} {group:02} {serial:04}"),
        _ => format!("{area:03}{group:02}{serial:04}"),
    }
}

fn email(rng: &mut Rng) -> String {
    let first = rng.pick(&["james", "mary", "j", "wei", "olga", "carlos", "a.b", "info", "x_y"]);
    let last = rng.pick(&["smith", "garcia", "nguyen", "okafor", "muller", "tanaka"]);
    let local = match rng.below(5) {
        0 => format!("{first}.{last}"),
        1 => format!("{first}{}", rng.range(1, 9999)),
        2 => format!("{first}_{last}{}", rng.range(10, 99)),
        3 => format!("{first}+{}", rng.pick(&["news", "shop", "work"])),
        _ => format!("{}{last}", &first[..1]),
    };
    format!("{local}@{}", rng.pick(DOMAINS))
}

/// US numbers in Faker's en_US notations (area code and exchange 2–9), and international ones.
fn phone(rng: &mut Rng) -> String {
    let area = format!("{}{}", rng.range(2, 9), rng.digits(2));
    let exchange = format!("{}{}", rng.range(2, 9), rng.digits(2));
    let line = rng.digits(4);
    let ext_len = rng.range(3, 5);
    let ext = format!("x{}", rng.digits(ext_len));
    match rng.below(20) {
        16 => format!(
            "({}) {} {}",
            rng.pick(&["0161", "0117", "0131", "0121"]),
            rng.digits(3),
            rng.digits(4)
        ),
        17 => format!(
            "0{} {} {} {} {}",
            rng.range(1, 9),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2)
        ),
        18 => format!("+44(0){} {} {}", rng.range(20, 29), rng.digits(4), rng.digits(4)),
        19 => format!("0{}{} {}", rng.range(3, 9), rng.digits(3), rng.digits(6)),
        0 => format!("{area}{exchange}{line}"),
        1 | 2 => format!("{area}-{exchange}-{line}"),
        3 => format!("({area}){exchange}-{line}"),
        4 => format!("({area}) {exchange}-{line}"),
        5 => format!("{area}.{exchange}.{line}"),
        6 => format!("{area}-{exchange}-{line}{ext}"),
        7 => format!("({area}){exchange}-{line}{ext}"),
        8 => format!("+1-{area}-{exchange}-{line}"),
        9 => format!("001-{area}-{exchange}-{line}{ext}"),
        10 => format!("+1 ({area}) {exchange}-{line}"),
        11 => format!("+44 20 {} {}", rng.digits(4), rng.digits(4)),
        12 => format!("+49 30 {}", rng.digits(8)),
        13 => format!(
            "+33 {} {} {} {} {}",
            rng.range(1, 9),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2),
            rng.digits(2)
        ),
        14 => format!("+91 {}{} {}", rng.range(6, 9), rng.digits(4), rng.digits(5)),
        _ => format!("+61 {} {} {}", rng.range(2, 8), rng.digits(4), rng.digits(4)),
    }
}

/// An IBAN with the country's registered length and correct check digits, electronic or printed.
fn iban(rng: &mut Rng) -> String {
    let (country, bban) = match rng.below(8) {
        0 => ("DE", rng.digits(18)),
        1 => (
            "GB",
            format!("{}{}", rng.pick(&["NWBK", "BARC", "MIDL", "WEST"]), rng.digits(14)),
        ),
        2 => (
            "FR",
            format!("{}{}{}", rng.digits(10), rng.pick(&["0", "A", "M"]), rng.digits(12)),
        ),
        3 => ("ES", rng.digits(20)),
        4 => ("IT", format!("{}{}", rng.pick(&["X", "A", "K"]), rng.digits(22))),
        5 => (
            "NL",
            format!("{}{}", rng.pick(&["ABNA", "INGB", "RABO"]), rng.digits(10)),
        ),
        6 => ("CH", rng.digits(17)),
        _ => ("PL", rng.digits(24)),
    };
    // Faker's default bank provider writes 21-character GB IBANs (one digit short of the registry).
    let (country, bban) = if rng.chance(15) {
        ("GB", format!("{}{}", rng.pick(&["WEST", "ABCD"]), rng.digits(13)))
    } else {
        (country, bban)
    };
    let check = 98 - mod97(&format!("{bban}{country}00"));
    let iban = format!("{country}{check:02}{bban}");
    if rng.chance(50) {
        iban
    } else {
        iban.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn mod97(s: &str) -> u32 {
    s.bytes().fold(0, |rem, b| {
        let v = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        }
    })
}

fn ip(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=6 => format!(
            "{}.{}.{}.{}",
            rng.range(1, 223),
            rng.below(256),
            rng.below(256),
            rng.range(1, 254)
        ),
        7..=8 => {
            let groups: Vec<String> = (0..8).map(|_| format!("{:x}", rng.below(0x10000))).collect();
            groups.join(":")
        }
        _ if rng.chance(50) => format!("2001:db8::{:x}:{:x}", rng.below(0x10000), rng.range(1, 0xffff)),
        _ => format!(
            "{:x}:{:x}:{:x}::",
            rng.range(0x2000, 0x3fff),
            rng.below(0x10000),
            rng.range(1, 0xffff)
        ),
    }
}
