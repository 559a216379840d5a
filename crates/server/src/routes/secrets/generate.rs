//! `POST /v1/secrets/{name}/rotate` with `{"generate": true}`: Warden makes the new credential of a
//! `database` secret itself. It generates a password, creates the new version's login role on
//! PostgreSQL (a member of the secret's group role), lets the previous version's role log in for the
//! configured grace, and only then stores the new version.
//!
//! The order is what keeps the two sides consistent: nothing is stored unless the database change
//! committed, and if storing fails after that, the database change is undone. A failure of the
//! database step answers 502 (409 when the role already exists) and is audited as
//! `secret.rotation_failed`; neither the answer nor the event carries the password.

use warden_core::{AuditOutcome, random_bytes};
use warden_store::{SecretRecord, SecretUpdate};
use warden_vault::{
    DatabaseLogin, SecretKind, SecretName, SecretVersion, generate_password, scram_sha256_verifier, with_login,
};

use super::{GeneratedLogin, SecretWritten, audit, open_version, sealed_version, version_of};
use crate::database_rotation::{self, Applied, DatabaseRotation, RotationError};
use crate::error::ApiError;
use crate::extract::RequestId;
use crate::state::AppState;

pub(super) async fn rotate(
    state: &AppState,
    actor: &str,
    name: &SecretName,
    secret: &SecretRecord,
    kind: SecretKind,
    next: SecretVersion,
    request_id: &RequestId,
) -> Result<SecretWritten, ApiError> {
    if kind != SecretKind::Database {
        return Err(ApiError::bad_request(format!(
            "generate: Warden makes new credentials only for `database` secrets; `{name}` is of type \
             `{}`: rotate it with `data`",
            kind.as_str()
        )));
    }
    let Some(config) = &state.config.vault.database_rotation else {
        return Err(ApiError::Conflict(
            "generate: Warden-driven rotation of `database` secrets is not configured on this server \
             (`vault.database_rotation` in warden.yaml); rotate with `data` instead"
                .into(),
        ));
    };
    let current = version_of(secret.current_version)?;
    let (data, _) = open_version(state, actor, name, kind, current, request_id).await?;
    let step = DatabaseLogin::from_data(&data)?.next(next)?;
    let password = generate_password(state.entropy.as_ref(), config.password_length);
    let verifier = scram_sha256_verifier(&password, &random_bytes::<16>(state.entropy.as_ref()));
    let new_data = with_login(&data, &step.new_role, &password, &step.group)?;
    drop(password);

    let attempt = Attempt {
        state,
        actor,
        name,
        next,
        role: step.new_role.as_str(),
        request_id,
    };
    let applied = match database_rotation::apply(config, &step, &verifier).await {
        Ok(applied) => applied,
        Err(error) => {
            tracing::warn!(secret = %name, role = %step.new_role, %error, "database rotation failed");
            let answer = match &error {
                RotationError::RoleExists { .. } => {
                    ApiError::Conflict(format!("{error}; nothing was changed or stored"))
                }
                _ => ApiError::Upstream(format!(
                    "the database step of the rotation failed: {error}; nothing was changed or stored"
                )),
            };
            return Err(attempt.failed(&error.to_string(), answer).await);
        }
    };

    // From sealing to storing, a master-key rotation waits (see `AppState::vault_writes`); the
    // database step above runs outside that window so a slow database cannot hold a key rotation up.
    let stored = {
        let _writing = state.vault_writes.read().await;
        let now = state.now();
        let keep = state.config.vault.keep_versions;
        match sealed_version(state, name, next, kind, &new_data, actor, now) {
            Ok(record) => state
                .store
                .insert_secret_version(secret.current_version, &record, &SecretUpdate::default(), keep)
                .await
                .map(|_| now)
                .map_err(ApiError::from),
            Err(error) => Err(error),
        }
    };
    let now = match stored {
        Ok(now) => now,
        Err(error) => return Err(attempt.undo(config, &applied, error).await),
    };

    audit(
        state,
        "secret.rotated",
        actor,
        name,
        AuditOutcome::Success,
        request_id,
        |e| {
            e.detail("version", next.get())
                .detail("generated", true)
                .detail("username", applied.new_role.as_str())
                .detail("previous_username", applied.previous.as_str())
                .detail("previous_valid_until", applied.previous_valid_until.as_str())
        },
    )
    .await?;
    Ok(SecretWritten {
        name: name.as_str().to_owned(),
        version: next.get(),
        kind: kind.as_str().to_owned(),
        created_at: now.rfc3339(),
        login: Some(GeneratedLogin {
            username: applied.new_role.to_string(),
            previous_username: applied.previous.to_string(),
            previous_valid_until: applied.previous_valid_until,
        }),
    })
}

/// One generated rotation, for the failure paths.
struct Attempt<'a> {
    state: &'a AppState,
    actor: &'a str,
    name: &'a SecretName,
    next: SecretVersion,
    /// The login role the new version was to get.
    role: &'a str,
    request_id: &'a RequestId,
}

impl Attempt<'_> {
    /// Storing failed after the database committed: take the database change back, so the previous
    /// login does not expire while the vault still hands it out. Answers with the storing error.
    async fn undo(&self, config: &DatabaseRotation, applied: &Applied, error: ApiError) -> ApiError {
        let next = self.next;
        let reason = match database_rotation::undo(config, applied).await {
            Ok(()) => format!("storing version {next} failed ({error}); the database change was undone"),
            Err(undo_error) => {
                tracing::error!(
                    secret = %self.name, role = %applied.new_role, previous = %applied.previous, %undo_error,
                    "a database rotation could not be undone: drop the new role and restore the previous role's \
                     VALID UNTIL by hand"
                );
                format!(
                    "storing version {next} failed ({error}) and undoing the database change failed too \
                     ({undo_error}): drop role `{}` and restore VALID UNTIL on `{}` by hand",
                    applied.new_role, applied.previous
                )
            }
        };
        self.failed(&reason, error).await
    }

    /// Audits `secret.rotation_failed` with `reason` and returns `answer` (the audit failure instead,
    /// if any).
    async fn failed(&self, reason: &str, answer: ApiError) -> ApiError {
        let recorded = audit(
            self.state,
            "secret.rotation_failed",
            self.actor,
            self.name,
            AuditOutcome::Failure,
            self.request_id,
            |e| {
                e.detail("version", self.next.get())
                    .detail("generated", true)
                    .detail("username", self.role)
                    .detail("reason", reason)
            },
        )
        .await;
        match recorded {
            Ok(()) => answer,
            Err(error) => error,
        }
    }
}
