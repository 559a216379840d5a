//! How repository traits report failure, whichever backend implements them.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or failed; nothing may be granted on the strength of it.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule was broken (a name already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data could not be read back into a valid value.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}
