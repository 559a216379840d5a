//! The C2SP `tlog-witness.md` protocol, without the HTTP: the `add-checkpoint` request body, the witness's
//! decision on it, and the bodies it answers with.
//!
//! A request body is an old size line, consistency proof lines, an empty line and the signed checkpoint:
//!
//! ```text
//! old 20852014
//! PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
//! jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
//!
//! example.com/behind-the-sofa
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//!
//! — example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
//! ```
//!
//! The witness answers 200 with cosignature lines, 409 with its latest size (`text/x.tlog.size`) when the
//! old size is not the size it last cosigned, 404 for an origin it does not know, 403 when no signature
//! is by the log's key, 422 when the consistency proof fails, 400 for anything malformed.
//! [`check_update`] makes that decision from values; keeping the state durable and atomic is the caller's.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::Checkpoint;
use crate::hash::Hash;
use crate::proof::verify_consistency;

/// At most this many consistency proof lines are sent or accepted (the protocol's limit).
pub const MAX_PROOF_LINES: usize = 63;
/// The media type of a 409 answer's body: the witness's latest size and a newline.
pub const TLOG_SIZE_TYPE: &str = "text/x.tlog.size";

/// Why a witness refuses a checkpoint; each maps to the status code the protocol gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: the body is not an `add-checkpoint` request, or the old size is above the checkpoint's.
    #[error("the request is malformed: {0}")]
    Malformed(&'static str),
    /// 403: no signature on the checkpoint is by the log's key.
    #[error("the checkpoint is not signed by the log's key")]
    Forbidden,
    /// 404: the witness does not know the checkpoint's origin.
    #[error("the witness does not know this log")]
    UnknownOrigin,
    /// 409: the old size is not the size last cosigned, or the same size came with another root.
    #[error("the witness last cosigned size {latest}")]
    Conflict { latest: u64 },
    /// 422: the consistency proof does not lead from the cosigned tree to this one.
    #[error("the consistency proof does not verify")]
    BadProof,
}

impl Refusal {
    /// The HTTP status code `tlog-witness.md` gives this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::Forbidden => 403,
            Refusal::UnknownOrigin => 404,
            Refusal::Conflict { .. } => 409,
            Refusal::BadProof => 422,
        }
    }
}

/// An `add-checkpoint` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the witness last cosigned for this log (0 at first).
    pub old_size: u64,
    /// The RFC 9162 consistency proof from `old_size` to the checkpoint's size; empty from 0.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note.
    pub note: String,
}

/// A decimal without sign or leading zeros that fits u64.
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

fn parse_hash(line: &str) -> Option<Hash> {
    let bytes = STANDARD.decode(line).ok()?;
    let hash: Hash = bytes.as_slice().try_into().ok()?;
    // Canonical base64 only: re-encoding must give the same line.
    (STANDARD.encode(hash) == line).then_some(hash)
}

impl AddCheckpoint {
    /// The request body.
    pub fn encode(&self) -> String {
        let mut body = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            body.push_str(&STANDARD.encode(hash));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(&self.note);
        body
    }

    /// Parses a request body from untrusted bytes. Never panics; every failure is
    /// [`Refusal::Malformed`]. The note is only split off here: its signature and body are checked by the
    /// caller against the log's key.
    pub fn parse(body: &[u8]) -> Result<Self, Refusal> {
        let body = std::str::from_utf8(body).map_err(|_| Refusal::Malformed("the body is not UTF-8"))?;
        // Neither the old size line nor a proof line is empty, so the first blank line ends the header.
        let split = body
            .find("\n\n")
            .ok_or(Refusal::Malformed("no empty line before the checkpoint"))?;
        let (header, note) = (&body[..split], &body[split + 2..]);
        let mut lines = header.split('\n');
        let old_line = lines.next().unwrap_or_default();
        let old_size = old_line
            .strip_prefix("old ")
            .and_then(parse_decimal)
            .ok_or(Refusal::Malformed("the first line is not `old <size>`"))?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(Refusal::Malformed("more than 63 consistency proof lines"));
            }
            proof.push(parse_hash(line).ok_or(Refusal::Malformed("a proof line is not a base64 hash"))?);
        }
        if note.is_empty() || !note.ends_with('\n') {
            return Err(Refusal::Malformed("no signed checkpoint after the empty line"));
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            note: note.to_owned(),
        })
    }

    /// The origin line of the (not yet verified) checkpoint, to find the log's key by.
    pub fn origin(&self) -> Option<&str> {
        self.note.split('\n').next().filter(|origin| !origin.is_empty())
    }
}

/// What a witness remembers of one log: the checkpoint it last cosigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witnessed {
    pub size: u64,
    pub root: Hash,
}

/// The witness's decision on a request whose checkpoint verified against the log's key (`checkpoint`),
/// given what it last cosigned for the log (`latest`, `None` if never). `Ok` means: record `checkpoint`
/// (if and only if `latest` is still what it was) and cosign it.
pub fn check_update(
    request: &AddCheckpoint,
    checkpoint: &Checkpoint,
    latest: Option<&Witnessed>,
) -> Result<(), Refusal> {
    if request.old_size > checkpoint.size {
        return Err(Refusal::Malformed("the old size is above the checkpoint's size"));
    }
    let latest_size = latest.map_or(0, |w| w.size);
    if request.old_size != latest_size {
        return Err(Refusal::Conflict { latest: latest_size });
    }
    if request.old_size == checkpoint.size {
        // Nothing new: the same tree again, which must have the same root.
        if !request.proof.is_empty() {
            return Err(Refusal::BadProof);
        }
        return match latest {
            Some(w) if w.root != checkpoint.root => Err(Refusal::Conflict { latest: latest_size }),
            _ => Ok(()),
        };
    }
    match latest {
        Some(w) if w.size > 0 => verify_consistency(w.size, checkpoint.size, &w.root, &checkpoint.root, &request.proof)
            .map_err(|_| Refusal::BadProof),
        // Nothing (or only an empty tree) was cosigned yet: there is nothing to prove consistency with.
        _ if request.proof.is_empty() => Ok(()),
        _ => Err(Refusal::BadProof),
    }
}

/// The body of a 409 answer: the size and a newline.
pub fn encode_size(size: u64) -> String {
    format!("{size}\n")
}

/// Reads a 409 answer's body.
pub fn parse_size(body: &str) -> Option<u64> {
    body.strip_suffix('\n').and_then(parse_decimal)
}

/// Splits a 200 answer into its signature lines (without their newlines). Every line must start with
/// `—` and the body must end in a newline; at most [`crate::MAX_SIGNATURES`] lines.
pub fn parse_cosignature_lines(body: &str) -> Option<Vec<&str>> {
    let lines: Vec<&str> = body.strip_suffix('\n')?.split('\n').collect();
    let well_formed = lines.len() <= crate::MAX_SIGNATURES
        && lines
            .iter()
            .all(|line| crate::cosignature::parse_signature_line(line).is_ok());
    well_formed.then_some(lines)
}

#[cfg(test)]
mod tests;
