//! Go RE2 syntax, as gitleaks rules are written, into the syntax of Rust's `regex`. The two agree on
//! almost everything; patterns are compiled over bytes with Unicode off, which gives `\b`, `\w`, `\d`
//! and `\s` RE2's ASCII meaning (and the speed of ASCII classes). What remains is written here:
//! RE2 reads a `{` that does not start a repetition as a literal, and a `[` inside a class as a
//! literal, where Rust's parser rejects the first and reads the second as a nested class.

/// The pattern rewritten for `regex::bytes`.
pub(crate) fn go_to_rust(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    // Position of the first character inside the current class, where `]` is literal.
    let mut class_start = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                out.push(c);
                if let Some(&next) = chars.get(i + 1) {
                    out.push(next);
                }
                i += 2;
                continue;
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                continue;
            }
            '[' => {
                if let Some(close) = posix_class_end(&chars, i) {
                    // A POSIX class `[:alpha:]` is the same in both.
                    out.extend(&chars[i..=close]);
                    i = close + 1;
                    continue;
                }
                out.push_str("\\[");
            }
            ']' if in_class && i != class_start => {
                in_class = false;
                out.push(']');
            }
            ']' if in_class => out.push_str("\\]"),
            // Rust reads `&&`, `--` and `~~` in a class as set operations; RE2 as two literals.
            '&' | '~' | '-' if in_class && chars.get(i + 1) == Some(&c) => {
                out.push('\\');
                out.push(c);
            }
            '{' if !in_class && !is_repetition(&chars[i..]) => out.push_str("\\{"),
            '}' if !in_class && !closes_repetition(&chars[..i]) => out.push_str("\\}"),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// The index of the `]` ending a POSIX class that starts at `open` (`[:name:]`, `[:^name:]`).
fn posix_class_end(chars: &[char], open: usize) -> Option<usize> {
    if chars.get(open + 1) != Some(&':') {
        return None;
    }
    let mut j = open + 2;
    while j + 1 < chars.len() {
        if chars[j] == ':' && chars[j + 1] == ']' {
            return Some(j + 1);
        }
        if !chars[j].is_ascii_alphabetic() && chars[j] != '^' {
            return None;
        }
        j += 1;
    }
    None
}

/// Whether `rest` starts with `{n}`, `{n,}` or `{n,m}`.
fn is_repetition(rest: &[char]) -> bool {
    let digits = |j: &mut usize| {
        let from = *j;
        while rest.get(*j).is_some_and(char::is_ascii_digit) {
            *j += 1;
        }
        *j > from
    };
    let mut j = 1;
    if !digits(&mut j) {
        return false;
    }
    if rest.get(j) == Some(&',') {
        j += 1;
        digits(&mut j);
    }
    rest.get(j) == Some(&'}')
}

/// Whether the `}` after `before` closes a repetition (`{n}`, `{n,}`, `{n,m}`).
fn closes_repetition(before: &[char]) -> bool {
    let Some(open) = before.iter().rposition(|&c| c == '{') else {
        return false;
    };
    let inner = &before[open + 1..];
    let escaped = open > 0 && before[open - 1] == '\\';
    !escaped && inner.first().is_some_and(char::is_ascii_digit) && inner.iter().all(|c| c.is_ascii_digit() || *c == ',')
}
