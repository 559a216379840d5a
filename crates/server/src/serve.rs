//! Starting Warden: from a data directory to a listening server with its background tasks, and a
//! graceful stop on SIGTERM or Ctrl-C.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use warden_core::{Clock, Entropy, MasterKey, SystemClock, SystemEntropy};
use warden_identity::password::PasswordHasher;
use warden_identity::repo::{CredentialRepository, TokenRepository};
use warden_identity::token::RevocationList;
use warden_store::Store;

use crate::config::{self, Config, ConfigError, Overrides};
use crate::init::{self, InitError};
use crate::keys::{self, KeySetupError};
use crate::state::{AppState, Parts};
use crate::tls::{self, TlsError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Init(#[from] InitError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("store: {0}")]
    Store(#[from] warden_core::StoreError),
    #[error(
        "the master key does not open this data directory's keys ({0}); \
         start with the master key this data directory was created with — nothing was changed"
    )]
    WrongMasterKey(KeySetupError),
    #[error("policy: {0}")]
    Policy(#[from] crate::policy::PolicyLoadError),
    #[error("the master key does not open this data directory's vault ({0}); nothing was changed")]
    Vault(crate::vault::CanaryError),
    #[error("finishing an interrupted master-key rotation: {0}")]
    MasterRotation(crate::master_key::RotationError),
    #[error("signing keys: {0}")]
    Keys(KeySetupError),
    #[error("ledger: {0}")]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error("firewall: {0}")]
    Firewall(#[from] crate::firewall::FirewallError),
    #[error("{0}")]
    Tls(#[from] TlsError),
    #[error("cannot listen on {address}: {reason}")]
    Bind { address: String, reason: String },
}

/// Where to start from.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub data_dir: PathBuf,
    pub config_file: Option<PathBuf>,
    pub overrides: Overrides,
}

/// Creates what is missing in the data directory and reads the configuration.
pub fn prepare(options: &StartOptions) -> Result<(Config, init::Initialized), StartError> {
    let initialized = init::init(&options.data_dir, &SystemEntropy)?;
    let config_path = options
        .config_file
        .clone()
        .unwrap_or_else(|| options.data_dir.join(init::CONFIG_FILE));
    let raw = config::load(&config_path)?;
    let overrides = options.overrides.clone().or(Overrides::from_env());
    let config = Config::resolve(raw, overrides, &options.data_dir)?;
    Ok((config, initialized))
}

fn key_error(error: KeySetupError) -> StartError {
    match error {
        KeySetupError::Identity(warden_identity::IdentityError::Sealing(_)) => StartError::WrongMasterKey(error),
        other => StartError::Keys(other),
    }
}

/// Opens the store, loads or creates keys and the CA, and builds the application state.
pub async fn build_state(
    config: Config,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
) -> Result<AppState, StartError> {
    let master: MasterKey = init::master_key(&config.data_dir)?;
    let master = crate::master_key::resume_at_start(&config.data_dir, &config.store_url, master, entropy.as_ref())
        .await
        .map_err(StartError::MasterRotation)?;
    let admin_token = init::admin_token(&config.data_dir)?;
    build_state_with(config, clock, entropy, master, admin_token.as_str()).await
}

/// [`build_state`] with the master key and admin token given (tests).
pub async fn build_state_with(
    config: Config,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    master: MasterKey,
    admin_token: &str,
) -> Result<AppState, StartError> {
    let store = Store::connect(&config.store_url).await?;
    store.migrate().await?;
    let keyring = keys::load_or_create_keyring(&store, &master, &config.rotation, clock.as_ref(), entropy.as_ref())
        .await
        .map_err(key_error)?;
    let ca = keys::load_or_create_ca(
        &store,
        &master,
        config.ca_validity_days,
        clock.as_ref(),
        entropy.as_ref(),
    )
    .await
    .map_err(key_error)?;
    crate::vault::ensure_canary(&store, &master, entropy.as_ref())
        .await
        .map_err(StartError::Vault)?;
    let ledger =
        crate::ledger::Ledger::load_or_create(&store, &master, &config.ledger.origin, clock.now(), entropy.as_ref())
            .await?;
    let token_keys = crate::firewall::TokenKeys::load_or_create(&store, &master, clock.now(), entropy.as_ref()).await?;
    let revocations = RevocationList::from_revocations(store.revocations(clock.now()).await?);
    let (policy, policy_files) = crate::policy::initial(&store, &config.data_dir, clock.now()).await?;
    let cost = config.auth.argon2;
    let hasher =
        PasswordHasher::new(cost.memory_kib, cost.iterations, cost.parallelism).map_err(|e| ConfigError::Invalid {
            field: "auth.argon2".into(),
            reason: e.to_string(),
        })?;
    Ok(AppState::new(Parts {
        config,
        store,
        clock,
        entropy,
        master,
        hasher,
        ca,
        keyring,
        revocations,
        admin_token: admin_token.to_owned(),
        policy,
        policy_files,
        token_keys,
        ledger,
    }))
}

/// Runs Warden until `shutdown` resolves.
pub async fn serve(state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
    let address = state.config.listen;
    let listener = TcpListener::bind(address).await.map_err(|e| StartError::Bind {
        address: address.to_string(),
        reason: e.to_string(),
    })?;
    serve_on(listener, state, shutdown).await
}

/// Runs Warden on an already bound listener (tests bind `127.0.0.1:0`).
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let tasks = spawn_background(state.clone());
    let ledger_tasks = crate::ledger::spawn_ledger_tasks(state.clone());
    let app = crate::routes::app(state.clone());
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    match &state.config.tls {
        Some(tls_config) => {
            let server_config = tls::server_config(tls_config, state.ca.certificate_der())?;
            tracing::info!(address = %local, "Warden listening (TLS 1.3)");
            tls::serve(listener, server_config, app, shutdown).await;
        }
        None => {
            tracing::info!(address = %local, "Warden listening");
            // The peer address is the client IP of the admit step's per-IP rate limits.
            let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(|e| StartError::Bind {
                    address: local,
                    reason: e.to_string(),
                })?;
        }
    }
    tasks.abort();
    ledger_tasks.abort();
    // Closing the store lets SQLite checkpoint its WAL into the database file: a stopped Warden leaves
    // a self-contained `warden.db`, and the next start (even one refused, say for a wrong master key)
    // has nothing to replay into it.
    state.store.close().await;
    tracing::info!("Warden stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// How often policy files and the store's newest policy version are checked.
const POLICY_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// How long an ended grant stays listed (`include_inactive`) before it is purged.
const ENDED_GRANT_RETENTION: u64 = 30 * 86_400;

/// Key rotation on schedule, cleanup of expired revocations, challenges and ended grants, syncing
/// what other replicas changed, and picking up policy changes.
fn spawn_background(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::join!(housekeeping(state.clone()), policy_watch(state));
    })
}

async fn housekeeping(state: AppState) {
    let mut interval = tokio::time::interval(state.config.rotation_check_interval.as_std());
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(error) = keys::rotate_if_due(&state).await {
            tracing::warn!(%error, "key rotation check failed");
        }
        let now = state.now();
        let purged = state.store.purge_expired(now).await;
        let _ = state.store.purge_challenges(now).await;
        let _ = state.store.purge_grants(now.minus(ENDED_GRANT_RETENTION)).await;
        match crate::firewall::purge_expired_tokens(&state).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "firewall token originals past their retention erased"),
            Err(error) => tracing::warn!(%error, "could not purge expired firewall tokens"),
        }
        if let Err(error) = crate::routes::secrets::note_due_rotations(&state).await {
            tracing::warn!(%error, "could not check secrets for due rotations");
        }
        match state.store.revocations(now).await {
            Ok(current) => state.update_revocations(|list| *list = RevocationList::from_revocations(current)),
            Err(error) => tracing::warn!(%error, "could not refresh revocations"),
        }
        if let Ok(count) = purged
            && count > 0
        {
            tracing::debug!(count, "expired revocations and refresh records purged");
        }
    }
}

async fn policy_watch(state: AppState) {
    let mut interval = tokio::time::interval(POLICY_POLL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        crate::policy::sync(&state).await;
    }
}

/// Default data directory: `./warden-data`.
pub fn default_data_dir() -> PathBuf {
    Path::new("warden-data").to_path_buf()
}

/// The production clock and entropy.
pub fn system() -> (Arc<dyn Clock>, Arc<dyn Entropy>) {
    (Arc::new(SystemClock), Arc::new(SystemEntropy))
}
