//! The active policy set: where it comes from (the data directory's `policies/` files or `PUT
//! /v1/policies`), how every replica agrees on it (the store's newest policy version), and how a change
//! is picked up without a restart.
//!
//! The rule is "the latest change wins": editing the files activates them, a `PUT` activates its body,
//! and whichever happened last is active. Each activation is a new version in the store; replicas poll
//! the newest version number and load it when it moves. A candidate that does not load is refused
//! whole and the old set stays active.

use std::path::Path;
use std::sync::Arc;

use warden_core::{AuditEvent, AuditOutcome, AuditSink, Timestamp};
use warden_policy::{PolicyError, PolicySet, PolicySource};
use warden_store::{PolicyFile, PolicyVersion};

use crate::error::ApiError;
use crate::init::POLICY_DIR;
use crate::state::AppState;

/// Where an active set came from.
pub const SOURCE_FILES: &str = "files";
pub const SOURCE_API: &str = "api";

/// The compiled set every decision reads, with what it was built from.
#[derive(Debug)]
pub struct ActivePolicy {
    pub set: PolicySet,
    /// The store's version number; `None` for the empty set nothing was ever recorded for.
    pub version: Option<i64>,
    pub source: String,
    pub files: Vec<PolicyFile>,
    pub activated_by: String,
    pub activated_at: Option<Timestamp>,
}

impl ActivePolicy {
    /// Before any policy exists: no rules, so everything is denied.
    pub fn empty() -> ActivePolicy {
        ActivePolicy {
            set: PolicySet::empty(),
            version: None,
            source: SOURCE_FILES.to_owned(),
            files: Vec::new(),
            activated_by: String::new(),
            activated_at: None,
        }
    }

    fn from_version(version: PolicyVersion) -> Result<ActivePolicy, PolicyError> {
        Ok(ActivePolicy {
            set: compile(&version.files)?,
            version: Some(version.version),
            source: version.source,
            files: version.files,
            activated_by: version.activated_by,
            activated_at: Some(version.activated_at),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyLoadError {
    #[error("cannot read policy directory {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{0}")]
    Invalid(#[from] PolicyError),
    #[error("store: {0}")]
    Store(#[from] warden_core::StoreError),
    #[error("audit: {0}")]
    Audit(String),
}

/// Compiles files into a set (every error of every file, or the set).
pub fn compile(files: &[PolicyFile]) -> Result<PolicySet, PolicyError> {
    let sources: Vec<PolicySource<'_>> = files
        .iter()
        .map(|f| PolicySource {
            file: &f.name,
            text: &f.text,
        })
        .collect();
    PolicySet::load(&sources)
}

/// The `*.yaml` and `*.yml` files of `<data_dir>/policies`, sorted by name; none when the directory
/// does not exist.
pub fn read_policy_dir(data_dir: &Path) -> Result<Vec<PolicyFile>, PolicyLoadError> {
    let dir = data_dir.join(POLICY_DIR);
    let read_error = |reason: std::io::Error| PolicyLoadError::Read {
        path: dir.display().to_string(),
        reason: reason.to_string(),
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read_error(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(read_error)?.path();
        let is_yaml = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e == "yaml" || e == "yml");
        if !is_yaml || !path.is_file() {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path).map_err(read_error)?;
        files.push(PolicyFile { name, text });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// The set to start with. The files win when they changed since they were last recorded (or were
/// never recorded); otherwise the store's newest version (perhaps an API change made after them) is
/// active. An invalid file refuses the start: better no Warden than a Warden on a policy nobody wrote.
pub async fn initial(
    store: &warden_store::Store,
    data_dir: &Path,
    now: Timestamp,
) -> Result<(ActivePolicy, Vec<PolicyFile>), PolicyLoadError> {
    let files = read_policy_dir(data_dir)?;
    let set = compile(&files)?;
    let recorded_files = store
        .latest_policy_version(Some(SOURCE_FILES))
        .await?
        .map(|v| v.files)
        .unwrap_or_default();
    if recorded_files == files {
        if let Some(latest) = store.latest_policy_version(None).await? {
            return Ok((ActivePolicy::from_version(latest)?, files));
        }
        if files.is_empty() {
            return Ok((ActivePolicy::empty(), files));
        }
    }
    let version = store
        .insert_policy_version(set.hash().as_str(), SOURCE_FILES, &files, "startup", now)
        .await?;
    let event = AuditEvent::new(now, "policy.activated", "startup", AuditOutcome::Success)
        .resource("policy")
        .detail("hash", set.hash().as_str())
        .detail("version", version)
        .detail("source", SOURCE_FILES)
        .detail("rules", set.rules().len());
    store
        .record(event)
        .await
        .map_err(|e| PolicyLoadError::Audit(e.to_string()))?;
    let active = ActivePolicy {
        set,
        version: Some(version),
        source: SOURCE_FILES.to_owned(),
        files: files.clone(),
        activated_by: "startup".to_owned(),
        activated_at: Some(now),
    };
    Ok((active, files))
}

/// Activates a candidate everywhere: records it as the newest version, swaps it in, audits it.
pub async fn activate(
    state: &AppState,
    files: Vec<PolicyFile>,
    source: &str,
    activated_by: &str,
    request_id: Option<&str>,
) -> Result<Arc<ActivePolicy>, ActivateError> {
    let set = compile(&files)?;
    let now = state.now();
    let version = state
        .store
        .insert_policy_version(set.hash().as_str(), source, &files, activated_by, now)
        .await
        .map_err(ApiError::from)?;
    let event = AuditEvent::new(now, "policy.activated", activated_by, AuditOutcome::Success)
        .resource("policy")
        .detail("hash", set.hash().as_str())
        .detail("version", version)
        .detail("source", source)
        .detail("rules", set.rules().len())
        .request_id(request_id);
    let active = Arc::new(ActivePolicy {
        set,
        version: Some(version),
        source: source.to_owned(),
        files,
        activated_by: activated_by.to_owned(),
        activated_at: Some(now),
    });
    state.replace_policy(Arc::clone(&active));
    state.audit(event).await?;
    tracing::info!(version, hash = %active.set.hash(), source, "policy set activated");
    Ok(active)
}

#[derive(Debug, thiserror::Error)]
pub enum ActivateError {
    #[error("{0}")]
    Invalid(#[from] PolicyError),
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// Records a refused candidate (a bad `PUT` or a bad file edit) in the audit trail.
pub async fn audit_rejection(
    state: &AppState,
    source: &str,
    actor: &str,
    error: &PolicyError,
    request_id: Option<&str>,
) -> Result<(), ApiError> {
    let errors: Vec<String> = error.errors.iter().map(ToString::to_string).collect();
    let event = AuditEvent::new(state.now(), "policy.rejected", actor, AuditOutcome::Failure)
        .resource("policy")
        .detail("source", source)
        .detail("errors", errors)
        .request_id(request_id);
    state.audit(event).await.map(|_| ())
}

/// One poll: activates edited policy files, and loads a version another replica (or this one's API)
/// recorded. A bad file edit is logged and audited once, and the old set stays.
pub async fn sync(state: &AppState) {
    match read_policy_dir(&state.config.data_dir) {
        Ok(files) => {
            if state.swap_seen_policy_files(&files) {
                if files.is_empty() {
                    tracing::warn!("the policy directory holds no policy file: every request will be denied");
                }
                match activate(state, files, SOURCE_FILES, "policy-files", None).await {
                    Ok(_) => {}
                    Err(ActivateError::Invalid(error)) => {
                        tracing::error!(%error, "edited policy files refused; the previous set stays active");
                        if let Err(e) = audit_rejection(state, SOURCE_FILES, "policy-files", &error, None).await {
                            tracing::warn!(error = %e, "could not audit the refused policy files");
                        }
                    }
                    Err(ActivateError::Api(error)) => {
                        tracing::warn!(%error, "could not activate edited policy files; will retry");
                        state.forget_seen_policy_files();
                    }
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not read the policy directory"),
    }
    match state.store.latest_policy_version_number().await {
        Ok(Some(newest)) if Some(newest) > state.policy().version => {
            match state.store.latest_policy_version(None).await {
                Ok(Some(version)) => match ActivePolicy::from_version(version) {
                    Ok(active) => {
                        tracing::info!(version = newest, hash = %active.set.hash(), "policy set loaded from the store");
                        state.replace_policy(Arc::new(active));
                    }
                    // Said once per version, not on every poll.
                    Err(error) if state.note_unloadable_policy_version(newest) => {
                        tracing::error!(version = newest, %error, "stored policy version does not load; keeping the current set");
                    }
                    Err(_) => {}
                },
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, "could not read the newest policy version"),
            }
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "could not poll policy versions"),
    }
}
