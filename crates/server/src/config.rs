//! Configuration: `warden.yaml` parsed strictly into raw types (unknown keys are errors naming their
//! path), environment overrides applied, then validated into types that cannot be wrong. Parsing does
//! no I/O beyond reading the file it is given; binding ports and opening stores come later.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use warden_core::{Seconds, Secret};
use warden_identity::keyring::RotationPolicy;
use warden_identity::passport::PassportPolicy;
use warden_identity::password::{LockoutPolicy, PasswordPolicy};

use crate::database_rotation::{AdminUrl, DatabaseRotation, MAX_GRACE};

pub mod ledger;
pub mod rate_limits;
pub mod witness;

/// The address Warden listens on when nothing says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7070";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{path}`: {reason}")]
    Read { path: String, reason: String },
    #[error("`{file}`: {message}")]
    Parse { file: String, message: String },
    #[error("`{field}` is invalid: {reason}")]
    Invalid { field: String, reason: String },
}

fn invalid(field: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// The file as written. Every section is optional and defaults to the values documented in the
/// generated `warden.yaml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub auth: RawAuth,
    #[serde(default)]
    pub passports: Option<PassportPolicy>,
    #[serde(default)]
    pub keys: RawKeys,
    #[serde(default)]
    pub vault: RawVault,
    #[serde(default)]
    pub ca: RawCa,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub rate_limits: rate_limits::RawRateLimits,
    #[serde(default)]
    pub audit: ledger::RawAudit,
    #[serde(default)]
    pub ledger: ledger::RawLedger,
    /// Warden as a witness for other logs; absent, it is none.
    pub witness: Option<witness::RawWitness>,
    /// The content firewall (see `warden_firewall::scanner::config`); absent: the built-in rules.
    #[serde(default)]
    pub firewall: warden_firewall::FirewallConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub max_body_bytes: Option<usize>,
    pub tls: Option<RawTls>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Extra CA (PEM) whose client certificates are accepted besides Warden's own CA.
    pub client_ca: Option<PathBuf>,
    /// `optional` (default: a client certificate is asked for, not required) or `required`.
    pub client_auth: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// Access-token lifetime (seed 004's `token_expiry`).
    pub token_expiry: Option<Seconds>,
    pub refresh_token_expiry: Option<Seconds>,
    pub clock_skew: Option<Seconds>,
    pub max_failed_attempts: Option<u32>,
    pub lockout_duration: Option<Seconds>,
    pub password_policy: Option<PasswordPolicy>,
    pub argon2: Option<RawArgon2>,
    pub challenge_ttl: Option<Seconds>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArgon2 {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeys {
    pub rotation: Option<RotationPolicy>,
    /// How often the server checks whether a rotation is due.
    pub check_interval: Option<Seconds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVault {
    pub keep_versions: Option<u32>,
    pub credential_rotation: Option<warden_vault::RawRotationConfig>,
    /// Warden-driven rotation of `database` secrets on PostgreSQL; absent: off.
    pub database_rotation: Option<RawDatabaseRotation>,
    /// How long the original of a firewall token is kept after a scan last issued the token; absent:
    /// until erased.
    pub token_retention: Option<Seconds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabaseRotation {
    /// `WARDEN_DB_ROTATION_URL` wins over it.
    pub admin_url: Option<Secret>,
    pub grace: Option<Seconds>,
    pub password_length: Option<u32>,
}

/// The vault's settings.
#[derive(Debug, Clone)]
pub struct VaultConfig {
    pub keep_versions: u32,
    pub rotation: warden_vault::RotationPolicy,
    /// `None`: Warden does not rotate database credentials itself.
    pub database_rotation: Option<DatabaseRotation>,
    /// `None`: firewall token originals are kept until erased.
    pub token_retention: Option<Seconds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCa {
    pub validity_days: Option<u32>,
    pub certificate_validity_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<String>,
    pub format: Option<String>,
}

/// Whether a TLS client must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Optional,
    Required,
}

#[derive(Debug, Clone)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
    pub client_auth: ClientAuth,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// Identity settings after validation.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Seconds,
    pub refresh_ttl: Seconds,
    pub clock_skew: Seconds,
    pub lockout: LockoutPolicy,
    pub password_policy: PasswordPolicy,
    pub argon2: Argon2Cost,
    pub challenge_ttl: Seconds,
}

/// The whole configuration, valid by construction.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub tls: Option<TlsConfig>,
    pub store_url: String,
    pub auth: AuthConfig,
    pub passports: PassportPolicy,
    pub rotation: RotationPolicy,
    pub rotation_check_interval: Seconds,
    pub ca_validity_days: u32,
    pub certificate_validity_days: u32,
    pub vault: VaultConfig,
    pub log_level: String,
    pub log_format: LogFormat,
    /// The admit step's rate limits.
    pub rate_limits: rate_limits::RateLimits,
    pub audit: ledger::AuditConfig,
    pub ledger: ledger::LedgerConfig,
    /// Warden as a witness for other logs (`None`: it is not one).
    pub witness: Option<witness::WitnessConfig>,
    /// The content firewall, compiled once at start.
    pub firewall: std::sync::Arc<warden_firewall::Scanner>,
}

/// Values that may come from the environment or the command line, which win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub store_url: Option<String>,
    pub log_level: Option<String>,
    pub log_format: Option<String>,
    /// `vault.database_rotation.admin_url` (it carries a password, hence [`Secret`]).
    pub db_rotation_url: Option<Secret>,
    /// `rate_limits.redis_url` (it may carry a password, hence [`Secret`]).
    pub redis_url: Option<Secret>,
}

impl Overrides {
    /// `WARDEN_LISTEN`, `WARDEN_STORE_URL`, `WARDEN_LOG`, `WARDEN_LOG_FORMAT`, `WARDEN_DB_ROTATION_URL`,
    /// `WARDEN_REDIS_URL`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Overrides {
            listen: var("WARDEN_LISTEN"),
            store_url: var("WARDEN_STORE_URL"),
            log_level: var("WARDEN_LOG"),
            log_format: var("WARDEN_LOG_FORMAT"),
            db_rotation_url: var("WARDEN_DB_ROTATION_URL").map(Secret::new),
            redis_url: var("WARDEN_REDIS_URL").map(Secret::new),
        }
    }

    /// Fields set here replace fields of `self`.
    pub fn or(self, lower: Overrides) -> Overrides {
        Overrides {
            listen: self.listen.or(lower.listen),
            store_url: self.store_url.or(lower.store_url),
            log_level: self.log_level.or(lower.log_level),
            log_format: self.log_format.or(lower.log_format),
            db_rotation_url: self.db_rotation_url.or(lower.db_rotation_url),
            redis_url: self.redis_url.or(lower.redis_url),
        }
    }
}

/// Parses YAML text into the raw configuration; errors name the offending path and line.
pub fn parse(file: &str, text: &str) -> Result<RawConfig, ConfigError> {
    let mut path = String::new();
    let parsed = serde_saphyr::with_deserializer_from_str(text, |deserializer| {
        serde_path_to_error::deserialize(deserializer).map_err(|e| {
            path = e.path().to_string();
            e.into_inner()
        })
    });
    parsed.map_err(|e| {
        let inner = e.to_string();
        let message = if path.is_empty() || path == "." {
            inner
        } else {
            format!("at `{path}`: {inner}")
        };
        ConfigError::Parse {
            file: file.to_owned(),
            message,
        }
    })
}

/// Reads and parses the file at `path`.
pub fn load(path: &Path) -> Result<RawConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse(&path.display().to_string(), &text)
}

impl Config {
    /// Validates `raw` with `overrides` applied, resolving relative paths against `data_dir`.
    pub fn resolve(raw: RawConfig, overrides: Overrides, data_dir: &Path) -> Result<Config, ConfigError> {
        let listen_text = overrides
            .listen
            .or(raw.server.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            invalid(
                "server.listen",
                format!("`{listen_text}` is not an address such as 127.0.0.1:7070"),
            )
        })?;
        let max_body_bytes = raw.server.max_body_bytes.unwrap_or(1024 * 1024);
        if !(1024..=64 * 1024 * 1024).contains(&max_body_bytes) {
            return Err(invalid("server.max_body_bytes", "must be between 1024 and 67108864"));
        }
        let tls = raw.server.tls.map(|t| tls(t, data_dir)).transpose()?;
        let store_url = overrides
            .store_url
            .or(raw.store.url)
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", data_dir.join("warden.db").display()));
        if !(store_url.starts_with("sqlite:")
            || store_url.starts_with("postgres://")
            || store_url.starts_with("postgresql://"))
        {
            return Err(invalid("store.url", "must start with sqlite: or postgres://"));
        }
        let auth = auth(raw.auth)?;
        let passports = raw.passports.unwrap_or_default();
        if passports.default_ttl > passports.max_ttl || passports.max_ttl.get() == 0 {
            return Err(invalid(
                "passports.default_ttl",
                "must be positive and not above passports.max_ttl",
            ));
        }
        let rotation = raw.keys.rotation.unwrap_or_default();
        if rotation.min > rotation.max || rotation.min.get() == 0 {
            return Err(invalid("keys.rotation", "`min` must be positive and not above `max`"));
        }
        let log_format = match overrides.log_format.or(raw.log.format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(invalid("log.format", format!("`{other}` is not `text` or `json`"))),
        };
        let keep_versions = raw.vault.keep_versions.unwrap_or(10);
        if !(1..=1000).contains(&keep_versions) {
            return Err(invalid("vault.keep_versions", "must be 1 to 1000"));
        }
        let rotation_policy = match raw.vault.credential_rotation {
            Some(raw) => warden_vault::RotationPolicy::try_from(raw)
                .map_err(|e| invalid("vault.credential_rotation", e.to_string()))?,
            // The same as the generated warden.yaml says.
            None => {
                let days = |n| warden_vault::RotationDays::new(n).map_err(|e| invalid("vault", e.to_string()));
                warden_vault::RotationPolicy::with_default(days(90)?)
                    .with_exception(warden_vault::SecretKind::Database, days(30)?)
            }
        };
        let database_rotation = raw
            .vault
            .database_rotation
            .map(|raw| database_rotation(raw, overrides.db_rotation_url))
            .transpose()?;
        let token_retention = raw.vault.token_retention;
        if token_retention.is_some_and(|r| r.get() == 0) {
            return Err(invalid("vault.token_retention", "must be longer than 0 seconds"));
        }
        let rate_limits = rate_limits::resolve(raw.rate_limits, overrides.redis_url)?;
        Ok(Config {
            data_dir: data_dir.to_path_buf(),
            listen,
            max_body_bytes,
            tls,
            store_url,
            auth,
            passports,
            rotation,
            rotation_check_interval: raw.keys.check_interval.unwrap_or(Seconds::new(30)),
            ca_validity_days: raw.ca.validity_days.unwrap_or(3650),
            certificate_validity_days: raw.ca.certificate_validity_days.unwrap_or(30),
            vault: VaultConfig {
                keep_versions,
                rotation: rotation_policy,
                database_rotation,
                token_retention,
            },
            log_level: overrides
                .log_level
                .or(raw.log.level)
                .unwrap_or_else(|| "info".to_owned()),
            log_format,
            rate_limits,
            audit: ledger::resolve_audit(raw.audit)?,
            ledger: ledger::resolve_ledger(raw.ledger)?,
            witness: raw.witness.map(witness::resolve_witness).transpose()?,
            firewall: std::sync::Arc::new(firewall(&raw.firewall)?),
        })
    }
}

/// The firewall `raw` describes; the error names every cause (a rule that does not compile, say).
fn firewall(raw: &warden_firewall::FirewallConfig) -> Result<warden_firewall::Scanner, ConfigError> {
    warden_firewall::Scanner::new(raw).map_err(|e| {
        let mut reason = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            reason.push_str(": ");
            reason.push_str(&cause.to_string());
            source = cause.source();
        }
        invalid("firewall", reason)
    })
}

fn tls(raw: RawTls, data_dir: &Path) -> Result<TlsConfig, ConfigError> {
    let client_auth = match raw.client_auth.as_deref() {
        None | Some("optional") => ClientAuth::Optional,
        Some("required") => ClientAuth::Required,
        Some(other) => {
            return Err(invalid(
                "server.tls.client_auth",
                format!("`{other}` is not `optional` or `required`"),
            ));
        }
    };
    let resolve = |p: PathBuf| if p.is_absolute() { p } else { data_dir.join(p) };
    Ok(TlsConfig {
        cert: resolve(raw.cert),
        key: resolve(raw.key),
        client_ca: raw.client_ca.map(resolve),
        client_auth,
    })
}

/// The section turns the feature on; the URL comes from the environment or the file, in that order.
fn database_rotation(raw: RawDatabaseRotation, env_url: Option<Secret>) -> Result<DatabaseRotation, ConfigError> {
    const FIELD: &str = "vault.database_rotation.admin_url";
    let url = env_url
        .or(raw.admin_url)
        .ok_or_else(|| invalid(FIELD, "is required (here or in WARDEN_DB_ROTATION_URL)"))?;
    let admin_url = AdminUrl::parse(url.expose()).map_err(|reason| invalid(FIELD, reason))?;
    let grace = raw.grace.unwrap_or(Seconds::hours(1));
    if grace.get() == 0 || grace > MAX_GRACE {
        return Err(invalid(
            "vault.database_rotation.grace",
            format!("must be 1 second to {} days", MAX_GRACE.get() / 86_400),
        ));
    }
    let password_length = raw
        .password_length
        .map(warden_vault::PasswordLength::new)
        .transpose()
        .map_err(|_| {
            invalid(
                "vault.database_rotation.password_length",
                format!(
                    "must be {} to {} characters (at least 128 bits)",
                    warden_vault::database::MIN_PASSWORD_LEN,
                    warden_vault::database::MAX_PASSWORD_LEN
                ),
            )
        })?
        .unwrap_or_default();
    Ok(DatabaseRotation {
        admin_url,
        grace,
        password_length,
    })
}

fn auth(raw: RawAuth) -> Result<AuthConfig, ConfigError> {
    let nonempty = |field: &str, value: Option<String>| -> Result<String, ConfigError> {
        let value = value.unwrap_or_else(|| "warden".to_owned());
        if value.is_empty() || value.len() > 256 {
            return Err(invalid(field, "must be 1 to 256 characters"));
        }
        Ok(value)
    };
    let access_ttl = raw.token_expiry.unwrap_or(Seconds::hours(1));
    let refresh_ttl = raw.refresh_token_expiry.unwrap_or(Seconds::days(7));
    if access_ttl.get() == 0 || refresh_ttl.get() == 0 {
        return Err(invalid("auth.token_expiry", "token lifetimes must be positive"));
    }
    let defaults = LockoutPolicy::default();
    let lockout = LockoutPolicy {
        max_failed_attempts: raw.max_failed_attempts.unwrap_or(defaults.max_failed_attempts),
        lockout_duration: raw.lockout_duration.unwrap_or(defaults.lockout_duration),
    };
    if lockout.max_failed_attempts == 0 {
        return Err(invalid("auth.max_failed_attempts", "must be at least 1"));
    }
    let argon2 = raw.argon2.map_or(
        Argon2Cost {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        },
        |a| Argon2Cost {
            memory_kib: a.memory_kib,
            iterations: a.iterations,
            parallelism: a.parallelism,
        },
    );
    if argon2.memory_kib < 8 * argon2.parallelism.max(1) || argon2.iterations == 0 || argon2.parallelism == 0 {
        return Err(invalid(
            "auth.argon2",
            "memory_kib must be at least 8 × parallelism; iterations and parallelism at least 1",
        ));
    }
    Ok(AuthConfig {
        issuer: nonempty("auth.issuer", raw.issuer)?,
        audience: nonempty("auth.audience", raw.audience)?,
        access_ttl,
        refresh_ttl,
        clock_skew: raw.clock_skew.unwrap_or(Seconds::new(30)),
        lockout,
        password_policy: raw.password_policy.unwrap_or_default(),
        argon2,
        challenge_ttl: raw.challenge_ttl.unwrap_or(Seconds::new(60)),
    })
}

#[cfg(test)]
mod tests;
