//! Action, resource and scope patterns: exact names and globs.
//!
//! One syntax everywhere: `*` alone (or `**` alone) matches anything; inside a pattern `*` matches any run
//! of characters except `/`, and `**` matches any run including `/`. So `mcp:github/*` matches
//! `mcp:github/create_issue` but not `mcp:github/a/b`, while `secret:prod/**` matches everything under
//! `secret:prod/`. Every other character stands for itself.

use regex::Regex;

/// A compiled pattern. Its literal prefix (the text before the first `*`) is what the index keys on.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Any,
    Exact,
    /// `prefix**` or `prefix*` with no other wildcard, the usual shape of a resource pattern: matched
    /// by comparing bytes, with no regex to compile at load or to run per request.
    Prefix {
        len: usize,
        any_depth: bool,
    },
    Glob(Regex),
}

impl Pattern {
    /// Parses a pattern written in a policy file.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        if text.is_empty() {
            return Err("a pattern cannot be empty".to_owned());
        }
        if text.contains("***") {
            return Err(format!("`{text}` has `***`; use `*` (one segment) or `**` (any depth)"));
        }
        if text == "*" || text == "**" {
            return Ok(Pattern {
                text: text.to_owned(),
                kind: Kind::Any,
            });
        }
        if !text.contains('*') {
            return Ok(Pattern::exact(text));
        }
        let (prefix, any_depth) = match text.strip_suffix("**") {
            Some(prefix) => (prefix, true),
            None => (text.strip_suffix('*').unwrap_or(text), false),
        };
        if !prefix.contains('*') {
            return Ok(Pattern {
                text: text.to_owned(),
                kind: Kind::Prefix {
                    len: prefix.len(),
                    any_depth,
                },
            });
        }
        let regex = Regex::new(&glob_to_regex(text)).map_err(|e| format!("`{text}` is not a valid pattern: {e}"))?;
        Ok(Pattern {
            text: text.to_owned(),
            kind: Kind::Glob(regex),
        })
    }

    /// A pattern that matches exactly `text`, even if it contains `*` (used for seed formats, whose
    /// values are literal).
    pub fn exact(text: &str) -> Pattern {
        Pattern {
            text: text.to_owned(),
            kind: Kind::Exact,
        }
    }

    pub fn any() -> Pattern {
        Pattern {
            text: "*".to_owned(),
            kind: Kind::Any,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, value: &str) -> bool {
        match &self.kind {
            Kind::Any => true,
            Kind::Exact => self.text == value,
            // `*` stops at `/`; `/` is ASCII, so it is never part of another character's UTF-8 bytes.
            Kind::Prefix { len, any_depth } => {
                let prefix = self.text.as_bytes().get(..*len).unwrap_or_default();
                value
                    .as_bytes()
                    .strip_prefix(prefix)
                    .is_some_and(|rest| *any_depth || !rest.contains(&b'/'))
            }
            Kind::Glob(regex) => regex.is_match(value),
        }
    }

    pub(crate) fn is_any(&self) -> bool {
        matches!(self.kind, Kind::Any)
    }

    pub(crate) fn is_exact(&self) -> bool {
        matches!(self.kind, Kind::Exact)
    }

    /// The text before the first wildcard; every value this pattern matches starts with it.
    pub(crate) fn literal_prefix(&self) -> &str {
        match self.kind {
            Kind::Any => "",
            Kind::Exact => &self.text,
            Kind::Prefix { len, .. } => self.text.get(..len).unwrap_or(""),
            Kind::Glob(_) => self.text.split('*').next().unwrap_or(""),
        }
    }

    /// The form hashed into the policy-set hash: exact patterns are marked so a literal `*` in a seed
    /// value cannot collide with a glob.
    pub(crate) fn canonical(&self) -> String {
        match self.kind {
            Kind::Any => "*".to_owned(),
            Kind::Exact => format!("={}", self.text),
            Kind::Prefix { .. } | Kind::Glob(_) => format!("~{}", self.text),
        }
    }
}

fn glob_to_regex(text: &str) -> String {
    let mut out = String::from("^(?s:");
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("**") {
            out.push_str(".*");
            rest = after;
        } else if let Some(after) = rest.strip_prefix('*') {
            out.push_str("[^/]*");
            rest = after;
        } else {
            let end = rest.find('*').unwrap_or(rest.len());
            out.push_str(&regex::escape(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out.push_str(")$");
    out
}

/// Whether a glob (same syntax as [`Pattern`]) matches `value`, without compiling anything: used for
/// passport scopes, which arrive with each request. Dynamic programming over bytes, so it is
/// O(len(pattern) × len(value)) whatever the pattern.
pub fn glob_matches(pattern: &str, value: &str) -> bool {
    if pattern == "*" || pattern == "**" {
        return true;
    }
    let tokens = tokenize(pattern);
    let value = value.as_bytes();
    // reachable[j]: the tokens consumed so far can match exactly value[..j].
    let mut reachable = vec![false; value.len() + 1];
    reachable[0] = true;
    for token in &tokens {
        let mut next = vec![false; value.len() + 1];
        for j in 0..=value.len() {
            if !reachable[j] {
                continue;
            }
            match token {
                Token::Byte(b) => {
                    if value.get(j) == Some(b) {
                        next[j + 1] = true;
                    }
                }
                Token::Star => {
                    next[j] = true;
                    let mut k = j;
                    while k < value.len() && value[k] != b'/' {
                        k += 1;
                        next[k] = true;
                    }
                }
                Token::DoubleStar => {
                    for slot in next.iter_mut().skip(j) {
                        *slot = true;
                    }
                }
            }
        }
        reachable = next;
    }
    reachable[value.len()]
}

enum Token {
    Byte(u8),
    Star,
    DoubleStar,
}

fn tokenize(pattern: &str) -> Vec<Token> {
    let bytes = pattern.as_bytes();
    let mut tokens = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'*' {
            if bytes.get(i + 1) == Some(&b'*') {
                tokens.push(Token::DoubleStar);
                i += 2;
            } else {
                tokens.push(Token::Star);
                i += 1;
            }
        } else {
            tokens.push(Token::Byte(bytes[i]));
            i += 1;
        }
    }
    tokens
}

#[cfg(test)]
mod tests;
