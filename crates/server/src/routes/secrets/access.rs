//! Who may do what to a secret: every agent action is a policy decision on `secret:<name>` (ownership
//! and, for reads, the secret's grant counted as grants, so deny rules still win), and every refusal is
//! an audit event. The admin token may do everything but read values.

use serde_json::{Map, Value};
use warden_core::{AuditEvent, AuditOutcome, Timestamp};
use warden_policy::{Decision, Grant};
use warden_store::SecretRecord;
use warden_vault::{SecretKind, SecretName};

use crate::error::ApiError;
use crate::extract::{AdminOrCaller, Caller, RequestId};
use crate::routes::authorize::{basis_of, effect_name, engine_request, grant_of, subject_of};
use crate::state::AppState;

/// A grant with no expiry is judged as one that ends in the far future.
const NEVER: Timestamp = Timestamp::from_unix(i64::MAX / 2);

pub(super) fn actor_id(who: &AdminOrCaller) -> String {
    match who {
        AdminOrCaller::Admin => "admin".to_owned(),
        AdminOrCaller::Agent(caller) => caller.agent.id.clone(),
    }
}

/// The secret, if `who` may do `action` on it: the admin always; an agent when the policy allows it,
/// its ownership counting as a grant (so deny rules bind owners too). A refusal is audited as `kind`
/// and answered 403 whether the secret exists or not.
pub(super) async fn managed(
    state: &AppState,
    who: &AdminOrCaller,
    name: String,
    action: &str,
    kind: &str,
    request_id: &RequestId,
) -> Result<(SecretName, SecretRecord), ApiError> {
    let name = SecretName::new(name)?;
    let secret = state.store.secret(name.as_str()).await?;
    if let AdminOrCaller::Agent(caller) = who {
        state.admit.action(&caller.agent.id, action).await?;
        let decision = decide(state, caller, action, &name, Target::of(secret.as_ref())).await?;
        if !decision.is_allow() {
            return Err(refuse(state, caller, action, kind, &name, &decision, request_id).await);
        }
    }
    let secret = secret.ok_or_else(|| ApiError::NotFound(format!("no secret `{name}`")))?;
    Ok((name, secret))
}

/// The policy actions on `secret:<name>`.
pub(super) const READ: &str = "secret:read";
pub(super) const WRITE: &str = "secret:write";
pub(super) const SHARE: &str = "secret:share";
pub(super) const ROTATE: &str = "secret:rotate";
pub(super) const DELETE: &str = "secret:delete";

/// What a decision is about: a stored secret, one about to be created, or nothing (a missing secret
/// has no attributes, so a deny rule reading them fails closed).
#[derive(Clone, Copy)]
pub(super) enum Target<'a> {
    Existing(&'a SecretRecord),
    New { kind: SecretKind, tags: &'a [String] },
    Missing,
}

impl<'a> Target<'a> {
    pub(super) fn of(secret: Option<&'a SecretRecord>) -> Self {
        secret.map_or(Target::Missing, Target::Existing)
    }
}

/// The policy decision on `action` over `secret:<name>` for `caller`, with its just-in-time grants,
/// its ownership of the secret as a grant for every action, and for reads the secret's grant (so
/// deny rules still win over both). The secret's `type`, `owner` and `tags` are `resource.*`.
pub(super) async fn decide(
    state: &AppState,
    caller: &Caller,
    action: &str,
    name: &SecretName,
    target: Target<'_>,
) -> Result<Decision, ApiError> {
    let now = state.now();
    let resource = format!("secret:{name}");
    let mut grants: Vec<Grant> = state
        .store
        .live_grants(&caller.agent.id, now)
        .await?
        .iter()
        .map(grant_of)
        .collect();
    let mut attributes = Map::new();
    let mut implied = Vec::new();
    match target {
        Target::Existing(secret) => {
            attributes.insert("type".into(), Value::from(secret.kind.as_str()));
            attributes.insert("owner".into(), Value::from(secret.owner.as_str()));
            attributes.insert("tags".into(), Value::from(secret.tags.clone()));
            if secret.owner == caller.agent.id {
                implied.push((format!("secret-owner:{}", secret.name), NEVER));
            }
            if action == READ
                && let Some(shared) = state
                    .store
                    .live_secret_grant(&secret.name, &caller.agent.id, now)
                    .await?
            {
                implied.push((
                    format!("secret-grant:{}", secret.name),
                    shared.expires_at.unwrap_or(NEVER),
                ));
            }
        }
        Target::New { kind, tags } => {
            attributes.insert("type".into(), Value::from(kind.as_str()));
            attributes.insert("owner".into(), Value::from(caller.agent.id.as_str()));
            attributes.insert("tags".into(), Value::from(tags.to_vec()));
        }
        Target::Missing => {}
    }
    grants.extend(implied.into_iter().map(|(id, expires_at)| Grant {
        id,
        agent_id: caller.agent.id.clone(),
        action: action.to_owned(),
        resource: resource.clone(),
        expires_at,
        delegable: false,
        delegated_from: None,
    }));
    let subject = subject_of(&caller.principal, &caller.agent);
    let request = engine_request(
        &subject,
        action.to_owned(),
        resource,
        Map::new(),
        attributes,
        Some(caller.method().as_str()),
        now,
    );
    Ok(state.policy().set.evaluate(&request, &grants))
}

/// Records a refused access as `kind` and returns the 403 to answer with (the audit failure instead,
/// if any).
pub(super) async fn refuse(
    state: &AppState,
    caller: &Caller,
    action: &str,
    kind: &str,
    name: &SecretName,
    decision: &Decision,
    request_id: &RequestId,
) -> ApiError {
    let recorded = audit(
        state,
        kind,
        &caller.agent.id,
        name,
        AuditOutcome::Denied,
        request_id,
        |e| decision_details(e.detail("action", action), decision),
    )
    .await;
    match recorded {
        Ok(()) => ApiError::Forbidden(format!(
            "policy denies `{action}` on `secret:{name}`: {}",
            decision.reasons.join("; ")
        )),
        Err(error) => error,
    }
}

pub(super) fn decision_details(event: AuditEvent, decision: &Decision) -> AuditEvent {
    let (basis, grant_id) = basis_of(&decision.basis);
    event
        .detail("decision", effect_name(decision))
        .detail("deciding_rule", decision.deciding_rule.clone())
        .detail("basis", basis)
        .detail("grant_id", grant_id)
        .detail("policy", decision.policy_set_hash.as_str())
}

pub(super) async fn audit(
    state: &AppState,
    kind: &str,
    actor: &str,
    name: &SecretName,
    outcome: AuditOutcome,
    request_id: &RequestId,
    details: impl FnOnce(AuditEvent) -> AuditEvent,
) -> Result<(), ApiError> {
    let event = AuditEvent::new(state.now(), kind, actor, outcome)
        .resource(format!("secret:{name}"))
        .request_id(Some(&request_id.0));
    state.audit(details(event)).await.map(|_| ())
}
