//! `warden secret …`: the vault from the command line, over Warden's HTTP API (`/v1/secrets`).
//!
//! A value goes in from a file (`--data-file`) or standard input (`--from-stdin`), so it never lands in
//! shell history; `--data JSON` works too, with a warning. A value comes out only through `secret get`,
//! asked as the agent whose token is in `WARDEN_TOKEN`: the admin token manages secrets but cannot read
//! their values. The other commands print metadata and answers, never a value.
//!
//! It decides nothing and keeps nothing: the server's policy engine, the secret's grants and its owner
//! decide who may read; nothing is cached or written to disk here.

use std::io::Read as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand};
use serde_json::{Value, json};

use crate::client::{self, Client, Refusal};

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret, or a new version of one (of the same type).
    #[command(group(ArgGroup::new("source").required(true).args(["data", "data_file", "from_stdin"])))]
    Put {
        name: String,
        /// api_key, database, password, certificate, payment or generic.
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        #[command(flatten)]
        data: DataSource,
        /// A label for `list --tag` and for policy conditions on `resource.tags` (repeatable).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Due for rotation this many days after each version is stored (overrides the configuration).
        #[arg(long, value_name = "DAYS")]
        rotation_days: Option<u32>,
        /// Expired after this time (RFC 3339, such as 2027-01-31T00:00:00Z).
        #[arg(long, value_name = "RFC3339")]
        expires_at: Option<String>,
    },
    /// Print a secret's data as the agent of `WARDEN_TOKEN`, or one field of it raw.
    Get {
        name: String,
        /// A kept earlier version (default: the current one).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        version: Option<u32>,
        /// Print only this field's value, as it is (text unquoted), for `$(warden secret get … --field …)`.
        #[arg(long, value_name = "KEY")]
        field: Option<String>,
    },
    /// List secrets (metadata only, never a value).
    List {
        /// Only secrets carrying this tag.
        #[arg(long)]
        tag: Option<String>,
    },
    /// Let an agent (id or name) read a secret, until unshared or for `--ttl`.
    Share {
        name: String,
        agent: String,
        /// How long, such as 3600, "1h" or "7d" (at most 365 days; default: until unshared).
        #[arg(long)]
        ttl: Option<String>,
    },
    /// Take back a share.
    Unshare { name: String, agent: String },
    /// Store a new value as the next version (the type stays), or with --generate have Warden make it.
    #[command(group(ArgGroup::new("source").required(true).args(["data", "data_file", "from_stdin", "generate"])))]
    Rotate {
        name: String,
        /// Warden generates the password, creates the new login role on PostgreSQL and stores it
        /// (`database` secrets, with `vault.database_rotation` configured; see docs/vault.md).
        #[arg(long, conflicts_with = "DataSource")]
        generate: bool,
        #[command(flatten)]
        data: DataSource,
    },
    /// Delete a secret: every version and every share.
    Delete { name: String },
    /// Secrets due for rotation or expiring within `--days` (default 7), and those already past.
    Expiring {
        #[arg(long)]
        days: Option<u32>,
    },
}

/// Where the value comes from: at most one of the three (each command that takes it requires one, or
/// for `rotate`, `--generate` instead).
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct DataSource {
    /// The value as a JSON object, such as '{"api_key": "…"}'. It lands in your shell history: prefer
    /// --data-file or --from-stdin.
    #[arg(long, value_name = "JSON")]
    data: Option<String>,
    /// Read the JSON object from FILE.
    #[arg(long, value_name = "FILE")]
    data_file: Option<PathBuf>,
    /// Read the JSON object from standard input.
    #[arg(long)]
    from_stdin: bool,
}

/// What `--data` prints to standard error.
pub const HISTORY_WARNING: &str =
    "warning: a value given with --data lands in your shell history; prefer --data-file FILE or --from-stdin";

impl DataSource {
    /// The JSON object, read from wherever it was given.
    fn read(self) -> anyhow::Result<Value> {
        let text = match (self.data, self.data_file, self.from_stdin) {
            (Some(text), _, _) => {
                eprintln!("{HISTORY_WARNING}");
                text
            }
            (None, Some(path), _) => {
                std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?
            }
            (None, None, true) => {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading standard input")?;
                anyhow::ensure!(!text.trim().is_empty(), "nothing on standard input");
                text
            }
            (None, None, false) => anyhow::bail!("give --data-file FILE, --from-stdin or --data JSON"),
        };
        parse_data(&text)
    }
}

/// The secret's `data`: a JSON object. A refusal says where the text stopped being JSON, never what it
/// said, since that could be the secret.
pub fn parse_data(text: &str) -> anyhow::Result<Value> {
    let value: Value = serde_json::from_str(text).map_err(|error| {
        anyhow::anyhow!(
            "the value is not JSON (line {}, column {}): give an object such as {{\"api_key\": \"…\"}}",
            error.line(),
            error.column()
        )
    })?;
    anyhow::ensure!(
        value.is_object(),
        "the value must be a JSON object such as {{\"api_key\": \"…\"}}"
    );
    Ok(value)
}

/// One field of a secret's data as `--field` prints it: text as it is, anything else as JSON; a newline
/// is added unless the text ends with one.
pub fn field_text(name: &str, data: &Value, key: &str) -> anyhow::Result<String> {
    let Some(value) = data.get(key) else {
        // Sorted: the map's own order depends on serde_json's features in the build.
        let mut fields: Vec<&str> = data
            .as_object()
            .map(|object| object.keys().map(String::as_str).collect())
            .unwrap_or_default();
        fields.sort_unstable();
        anyhow::bail!(
            "secret `{name}` has no field `{key}`; its fields: {}",
            fields.join(", ")
        );
    };
    let mut text = match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Printed after `warden secret --help`.
pub const AFTER_HELP: &str = "Secret names are letters, digits, `.`, `_`, `-` and `/` (`prod/openai`). `get` asks as \
    the agent of WARDEN_TOKEN; the other commands use WARDEN_TOKEN when set (an agent's token or the admin \
    token), else the data directory's admin.token. Exit status: 0 on success, 1 on any error, a refused \
    read included.";

/// `error` with what was being done to which secret; a 403 says "denied" in words.
fn about(error: anyhow::Error, doing: &str, name: &str) -> anyhow::Error {
    let denied = error.downcast_ref::<Refusal>().is_some_and(Refusal::is_forbidden);
    if denied {
        error.context(format!("{doing} secret `{name}` was denied"))
    } else {
        error.context(format!("{doing} secret `{name}`"))
    }
}

fn path(name: &str) -> String {
    format!("/v1/secrets/{}", client::segment(name))
}

pub async fn run(command: SecretCommand) -> anyhow::Result<()> {
    match command {
        SecretCommand::Get { name, version, field } => {
            let query = version.map(|v| format!("?version={v}")).unwrap_or_default();
            let answer = Client::from_env()?
                .get(&format!("{}{query}", path(&name)))
                .await
                .map_err(|e| about(e, "reading", &name))?;
            match field {
                Some(key) => crate::emit(&field_text(&name, &answer["data"], &key)?),
                None => crate::print(answer["data"].clone()),
            }
        }
        SecretCommand::Put {
            name,
            kind,
            data,
            tags,
            rotation_days,
            expires_at,
        } => {
            let mut body = json!({ "type": kind, "data": data.read()?, "tags": tags });
            if let Some(days) = rotation_days {
                body["rotation_days"] = json!(days);
            }
            if let Some(at) = expires_at {
                body["expires_at"] = json!(at);
            }
            let client = Client::admin_from_env()?;
            crate::print(
                client
                    .put(&path(&name), &body)
                    .await
                    .map_err(|e| about(e, "storing", &name))?,
            )
        }
        SecretCommand::Rotate { name, generate, data } => {
            let body = if generate {
                json!({ "generate": true })
            } else {
                json!({ "data": data.read()? })
            };
            let client = Client::admin_from_env()?;
            let answer = client
                .post(&format!("{}/rotate", path(&name)), &body)
                .await
                .map_err(|e| about(e, "rotating", &name))?;
            crate::print(answer)
        }
        SecretCommand::List { tag } => {
            let query = tag.map(|t| format!("?tag={}", client::segment(&t))).unwrap_or_default();
            crate::print(Client::admin_from_env()?.get(&format!("/v1/secrets{query}")).await?)
        }
        SecretCommand::Share { name, agent, ttl } => {
            let mut body = json!({ "agent_id": agent });
            if let Some(ttl) = ttl {
                body["ttl"] = json!(ttl);
            }
            let answer = Client::admin_from_env()?
                .post(&format!("{}/grants", path(&name)), &body)
                .await
                .map_err(|e| about(e, "sharing", &name))?;
            crate::print(answer)
        }
        SecretCommand::Unshare { name, agent } => {
            Client::admin_from_env()?
                .delete(&format!("{}/grants/{}", path(&name), client::segment(&agent)))
                .await
                .map_err(|e| about(e, "unsharing", &name))?;
            crate::emit(&format!("secret `{name}` is no longer shared with `{agent}`\n"))
        }
        SecretCommand::Delete { name } => {
            Client::admin_from_env()?
                .delete(&path(&name))
                .await
                .map_err(|e| about(e, "deleting", &name))?;
            crate::emit(&format!("secret `{name}` deleted\n"))
        }
        SecretCommand::Expiring { days } => {
            let query = days.map(|d| format!("?days={d}")).unwrap_or_default();
            crate::print(
                Client::admin_from_env()?
                    .get(&format!("/v1/secrets-expiring{query}"))
                    .await?,
            )
        }
    }
}

#[cfg(test)]
mod tests;
