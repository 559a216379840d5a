//! The leaf format: how an audit event becomes the bytes the log hashes.
//!
//! A leaf is one JSON object with exactly the keys `action`, `actor`, `details`, `index`, `kind`,
//! `outcome`, `request_id`, `resource` and `timestamp`, written canonically:
//! - keys of every object (the event's and those inside `details`) sorted by their UTF-8 bytes;
//! - no whitespace between tokens; UTF-8, non-ASCII characters written as themselves;
//! - strings escaped as serde_json escapes them: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control
//!   characters as `\u00xx` (lowercase hex), nothing else;
//! - numbers as serde_json prints them (integers in plain decimal);
//! - `index` is the leaf's position in the log, `timestamp` whole Unix seconds (both integers),
//!   `outcome` one of `success`, `failure`, `denied`, and `request_id` a string or `null`.
//!
//! The format is part of the log: changing it changes every leaf hash, so it is versioned by the log's
//! origin, never changed in place. Binding the index into the leaf means an event cannot be moved to
//! another position without its leaf hash changing.

use serde::Deserialize;
use serde_json::Value;
use warden_core::{AuditEvent, AuditOutcome, Timestamp};

/// Why stored leaf bytes were refused as an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    #[error("leaf is not the JSON of an event: {0}")]
    Json(String),
    #[error("leaf is not in canonical form")]
    NotCanonical,
}

/// The fields of a leaf, exactly; anything else in the object is refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLeaf {
    action: String,
    actor: String,
    details: Value,
    index: u64,
    kind: String,
    outcome: AuditOutcome,
    request_id: Option<String>,
    resource: String,
    timestamp: i64,
}

/// Reads leaf bytes back into their index and event. Only the canonical form is accepted (the bytes
/// must be exactly what [`leaf_bytes`] writes for the event they hold), so one event has one leaf and a
/// reader never sees an event that differs from what was hashed.
pub fn parse_leaf(bytes: &[u8]) -> Result<(u64, AuditEvent), LeafError> {
    let raw: RawLeaf = serde_json::from_slice(bytes).map_err(|e| LeafError::Json(e.to_string()))?;
    let event = AuditEvent {
        timestamp: Timestamp::from_unix(raw.timestamp),
        kind: raw.kind,
        actor: raw.actor,
        action: raw.action,
        resource: raw.resource,
        outcome: raw.outcome,
        details: raw.details,
        request_id: raw.request_id,
    };
    if leaf_bytes(raw.index, &event) != bytes {
        return Err(LeafError::NotCanonical);
    }
    Ok((raw.index, event))
}

/// The canonical leaf bytes of `event` at position `index`.
pub fn leaf_bytes(index: u64, event: &AuditEvent) -> Vec<u8> {
    // Keys in sorted order, written by hand so no map type's ordering is relied on.
    let mut out = String::with_capacity(256);
    out.push_str("{\"action\":");
    write_string(&mut out, &event.action);
    out.push_str(",\"actor\":");
    write_string(&mut out, &event.actor);
    out.push_str(",\"details\":");
    write_canonical_json(&mut out, &event.details);
    out.push_str(",\"index\":");
    out.push_str(&index.to_string());
    out.push_str(",\"kind\":");
    write_string(&mut out, &event.kind);
    out.push_str(",\"outcome\":");
    write_string(&mut out, event.outcome.as_str());
    out.push_str(",\"request_id\":");
    match &event.request_id {
        Some(id) => write_string(&mut out, id),
        None => out.push_str("null"),
    }
    out.push_str(",\"resource\":");
    write_string(&mut out, &event.resource);
    out.push_str(",\"timestamp\":");
    out.push_str(&event.timestamp.unix().to_string());
    out.push('}');
    out.into_bytes()
}

/// Writes any JSON value canonically (sorted keys, no whitespace).
pub fn write_canonical_json(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_canonical_json(out, item);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests;
