//! Who is asking, once authentication has turned a credential into facts.

use serde::{Deserialize, Serialize};

/// How a principal proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    Password,
    ApiKey,
    PublicKey,
    Certificate,
    Passport,
    AdminToken,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::ApiKey => "api_key",
            AuthMethod::PublicKey => "public_key",
            AuthMethod::Certificate => "certificate",
            AuthMethod::Passport => "passport",
            AuthMethod::AdminToken => "admin_token",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            AuthMethod::Password,
            AuthMethod::ApiKey,
            AuthMethod::PublicKey,
            AuthMethod::Certificate,
            AuthMethod::Passport,
            AuthMethod::AdminToken,
        ]
        .into_iter()
        .find(|method| method.as_str() == text)
    }
}

/// An authenticated caller: an agent with the facts policy may test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Principal {
    pub agent_id: String,
    pub name: String,
    pub roles: Vec<String>,
    pub capabilities: Vec<String>,
    pub scopes: Vec<String>,
    pub tier: Option<String>,
    pub auth_method: AuthMethod,
    /// The id of the token the principal presented, so it can be revoked.
    pub token_id: Option<String>,
}
