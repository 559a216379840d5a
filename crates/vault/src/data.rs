//! A secret's value: the structured `data` object, held only as its serialized bytes in memory that is
//! wiped on drop.
//!
//! The limit: `data` is a JSON object of at most [`MAX_DATA_LEN`] bytes (64 KiB) once serialized as
//! compact JSON. That is room for any API key, password, connection string or certificate chain, and it
//! keeps every sealed record and every HTTP body small.

use std::fmt;
use std::io;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use zeroize::{Zeroize, Zeroizing};

use crate::VaultError;

/// The largest serialized `data` accepted, in bytes.
pub const MAX_DATA_LEN: usize = 64 * 1024;

/// The plaintext of one secret version: a JSON object, serialized. `Debug` shows only its length and
/// there is deliberately no `Serialize` (nor `PartialEq`: nothing should compare secrets byte by byte); the HTTP layer asks for [`SecretData::to_value`] where it must
/// answer with the value.
#[derive(Clone)]
pub struct SecretData(Zeroizing<Vec<u8>>);

impl SecretData {
    /// Takes `data` as a request carried it, serializes it, and wipes the strings (keys and values) of
    /// the consumed value before it is dropped.
    pub fn from_value(mut data: Value) -> Result<Self, VaultError> {
        let result = if data.is_object() {
            serialize(&data).map(SecretData)
        } else {
            Err(VaultError::DataNotObject {
                position: String::new(),
            })
        };
        wipe(&mut data);
        result
    }

    /// Takes an opened plaintext back; refuses anything that is not a serialized JSON object.
    pub fn from_plaintext(bytes: Zeroizing<Vec<u8>>) -> Result<Self, VaultError> {
        if bytes.len() > MAX_DATA_LEN {
            return Err(VaultError::DataTooLarge {
                len: bytes.len(),
                max: MAX_DATA_LEN,
            });
        }
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let parsed = serde_json::from_slice::<IgnoredAny>(&bytes);
        match (first, parsed) {
            (Some(b'{'), Ok(_)) => Ok(SecretData(bytes)),
            (_, Err(error)) => Err(VaultError::DataNotObject {
                position: format!(" (invalid JSON at line {}, column {})", error.line(), error.column()),
            }),
            (_, Ok(_)) => Err(VaultError::DataNotObject {
                position: String::new(),
            }),
        }
    }

    /// The serialized object, to seal.
    pub fn expose_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The object again, for the one response that returns it. The copy is the caller's to guard.
    pub fn to_value(&self) -> Result<Value, VaultError> {
        serde_json::from_slice(&self.0).map_err(|error| VaultError::DataNotObject {
            position: format!(" (invalid JSON at line {}, column {})", error.line(), error.column()),
        })
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretData([redacted], {} bytes)", self.0.len())
    }
}

impl<'de> Deserialize<'de> for SecretData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SecretData::from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

/// Compact JSON into wiped memory, refusing more than [`MAX_DATA_LEN`] bytes.
fn serialize(data: &Value) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let mut writer = WipingWriter {
        buffer: Zeroizing::new(Vec::with_capacity(256)),
        total: 0,
    };
    // A `Value` always serializes and the writer never fails (past the limit it only counts), so there is
    // no error to report here; the limit is checked on `total` below.
    let _ = serde_json::to_writer(&mut writer, data);
    if writer.total > MAX_DATA_LEN {
        return Err(VaultError::DataTooLarge {
            len: writer.total,
            max: MAX_DATA_LEN,
        });
    }
    Ok(writer.buffer)
}

/// A `Vec` writer that never leaves a copy behind when it grows (the old allocation is wiped), and that
/// stops keeping bytes past the limit while still counting them.
struct WipingWriter {
    buffer: Zeroizing<Vec<u8>>,
    total: usize,
}

impl io::Write for WipingWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.total = self.total.saturating_add(bytes.len());
        if self.total > MAX_DATA_LEN {
            return Ok(bytes.len());
        }
        let needed = self.buffer.len() + bytes.len();
        if needed > self.buffer.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(self.buffer.capacity() * 2)));
            bigger.extend_from_slice(&self.buffer);
            self.buffer = bigger;
        }
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Overwrites every string and object key in `value`. Numbers, booleans and the tree's shape remain.
fn wipe(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Object(map) => {
            for (mut key, mut item) in std::mem::take(map) {
                key.zeroize();
                wipe(&mut item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests;
