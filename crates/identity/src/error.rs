use crate::agent::AgentStatus;

/// Why an identity operation was refused. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("`{field}` is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("the agent is {}", .0.as_str())]
    AgentInactive(AgentStatus),
    #[error("the agent is revoked; revocation is final")]
    AgentRevoked,
    #[error("the password does not meet the policy: {}", .0.join("; "))]
    WeakPassword(Vec<String>),
    #[error("the password was used recently; choose one not among the last {0}")]
    PasswordReused(u32),
    #[error("password hashing failed")]
    Hashing,
    #[error("`{0}` is not a supported key: {1}")]
    BadKey(&'static str, String),
    #[error("certificate authority error: {0}")]
    Certificate(String),
    #[error("key material could not be sealed or opened: {0}")]
    Sealing(#[from] warden_core::SealingError),
}
