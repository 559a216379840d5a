//! Context words: some layouts (ten bare digits, nine bare digits) are phone numbers or SSNs only
//! when the text says so nearby, as in "call me at 2025550143" or "SSN 123456789".

/// Bytes looked at before and after a candidate.
const BEFORE: usize = 48;
const AFTER: usize = 24;

/// Words that announce a phone number. Matched at the start of a word, case-insensitively, so
/// "call" also covers "calling" and "phone" covers "phones".
pub(crate) const PHONE_WORDS: &[&str] = &[
    "phone",
    "tel",
    "call",
    "mobile",
    "cell",
    "fax",
    "sms",
    "text",
    "message",
    "whatsapp",
    "signal",
    "contact",
    "reach",
    "dial",
    "ring",
    "office",
    "desk",
    "landline",
    "number",
    "answer",
    "hotline",
    "voicemail",
    "extension",
    "ph.",
    "mob",
    "direct",
    "helpline",
];

/// Words that announce a US social security number.
pub(crate) const SSN_WORDS: &[&str] = &[
    "ssn",
    "social security",
    "social-security",
    "soc sec",
    "ss#",
    "ss #",
    "ss no",
    "ssa",
    "taxpayer",
];

/// Whether one of `words` starts a word within a short window around `text[start..end]`.
pub(crate) fn near(text: &str, start: usize, end: usize, words: &[&str]) -> bool {
    let bytes = text.as_bytes();
    let before = &bytes[start.saturating_sub(BEFORE)..start];
    let after = &bytes[end..bytes.len().min(end + AFTER)];
    contains_word(before, words) || contains_word(after, words)
}

fn contains_word(window: &[u8], words: &[&str]) -> bool {
    words.iter().any(|word| {
        let word = word.as_bytes();
        window
            .windows(word.len())
            .enumerate()
            .any(|(i, w)| w.eq_ignore_ascii_case(word) && (i == 0 || !window[i - 1].is_ascii_alphabetic()))
    })
}
