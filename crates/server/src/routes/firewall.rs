//! The content firewall's routes: `POST /v1/scan` for any authenticated caller, `POST /v1/detokenize`
//! for callers the policy lets reveal an entity's originals, and `POST /v1/tokens/erase` for the admin
//! (a data subject's erasure request). All are recorded in the ledger with what was found, revealed or
//! erased, never the text.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use warden_core::{AuditEvent, AuditOutcome};
use warden_firewall::dlp::{Entity, Token};
use warden_firewall::{Direction, Finding, Verdict};

use crate::error::ApiError;
use crate::extract::{Admin, AdminOrCaller, ApiJson, RequestId};
use crate::firewall::{ScanInput, detokenize as reveal, erase as erase_token, scan as run_scan, token_of, tokens_in};
use crate::routes::authorize::{engine_request, evaluate, live_grants, subject_of};
use crate::state::AppState;

/// The policy action that reveals a token's original; the resource is `token:<entity>`.
pub const DETOKENIZE_ACTION: &str = "firewall:detokenize";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    pub text: String,
    /// `input` (prompts, tool arguments), `output` (tool results) or `egress` (outbound bodies).
    #[schema(value_type = String)]
    pub direction: Direction,
    /// The URL an egress request goes to; required for `egress`.
    #[serde(default)]
    pub destination: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScanView {
    /// `allow`, `redact` or `block`.
    #[schema(value_type = String)]
    pub verdict: Verdict,
    /// `{kind, rule, severity, score, start, end}`: byte spans of the text as sent.
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
    /// The text with PII masked or tokenized; present when the verdict is `redact`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
    /// What a policy sees as `findings.*` for this text.
    #[schema(value_type = Object)]
    pub attributes: Value,
    /// The audit event that records this scan.
    pub ledger_index: u64,
}

#[utoipa::path(post, path = "/v1/scan", tag = "firewall", request_body = ScanBody,
    responses((status = 200, body = ScanView), (status = 400), (status = 401)))]
pub async fn scan(
    State(state): State<AppState>,
    caller: AdminOrCaller,
    request_id: RequestId,
    ApiJson(body): ApiJson<ScanBody>,
) -> Result<Json<ScanView>, ApiError> {
    if body.direction == Direction::Egress && body.destination.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request("destination: required when direction is egress"));
    }
    let actor = actor_of(&caller);
    let direction = body.direction;
    let input = ScanInput {
        text: body.text,
        direction,
        destination: body.destination,
    };
    let outcome = run_scan(&state, input, &actor).await?;
    let attributes = outcome.attributes();
    let event = AuditEvent::new(state.now(), "firewall.scan", &actor, outcome_of(outcome.verdict))
        .detail("direction", direction_name(direction))
        .detail("verdict", verdict_name(outcome.verdict))
        .detail("findings", attributes.clone())
        .request_id(Some(&request_id.0));
    let ledger_index = state.audit(event).await?;
    metrics::counter!("warden_firewall_scans_total", "verdict" => verdict_name(outcome.verdict)).increment(1);
    Ok(Json(ScanView {
        verdict: outcome.verdict,
        findings: outcome.findings,
        redacted: outcome.redacted,
        attributes,
        ledger_index,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetokenizeBody {
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DetokenizeView {
    /// The text with every token the caller may reveal replaced by its original.
    pub text: String,
    pub replaced: usize,
    /// Tokens left in place: unknown, or of an entity the caller may not reveal.
    pub kept: usize,
    pub ledger_index: u64,
}

#[utoipa::path(post, path = "/v1/detokenize", tag = "firewall", request_body = DetokenizeBody,
    responses((status = 200, body = DetokenizeView), (status = 400), (status = 401)))]
pub async fn detokenize(
    State(state): State<AppState>,
    caller: AdminOrCaller,
    request_id: RequestId,
    ApiJson(body): ApiJson<DetokenizeBody>,
) -> Result<Json<DetokenizeView>, ApiError> {
    let actor = actor_of(&caller);
    let allowed = allowed_entities(&state, &caller, &body.text).await?;
    let revealed = reveal(&state, &body.text, |entity| allowed.contains(&entity)).await?;
    let entities: Vec<&str> = allowed.iter().map(|e| e.name()).collect();
    let outcome = if revealed.kept > 0 && revealed.replaced == 0 {
        AuditOutcome::Denied
    } else {
        AuditOutcome::Success
    };
    let event = AuditEvent::new(state.now(), "firewall.detokenize", &actor, outcome)
        .detail("replaced", revealed.replaced)
        .detail("kept", revealed.kept)
        .detail("entities_allowed", entities)
        .request_id(Some(&request_id.0));
    let ledger_index = state.audit(event).await?;
    Ok(Json(DetokenizeView {
        text: revealed.text,
        replaced: revealed.replaced,
        kept: revealed.kept,
        ledger_index,
    }))
}

/// Either a token, or an entity and the value a scan found (the token is derived from them).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseBody {
    #[serde(default)]
    pub token: Option<String>,
    /// An entity name (`email`, `card_number`, …), with `value`.
    #[serde(default)]
    pub entity: Option<String>,
    /// The value exactly as it appeared in the scanned text (`4111 1111 1111 1111` and
    /// `4111111111111111` are two values with two tokens).
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EraseView {
    pub token: String,
    /// Whether an original was stored and is now gone; `false` if there was none.
    pub erased: bool,
    pub ledger_index: u64,
}

#[utoipa::path(post, path = "/v1/tokens/erase", tag = "firewall", request_body = EraseBody,
    responses((status = 200, body = EraseView), (status = 400), (status = 401), (status = 403)))]
pub async fn erase(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
    ApiJson(body): ApiJson<EraseBody>,
) -> Result<Json<EraseView>, ApiError> {
    let (token, by) = match (body.token, body.entity, body.value) {
        (Some(token), None, None) => match Token::parse(&token) {
            Some((parsed, len)) if len == token.len() => (parsed, "token"),
            _ => {
                return Err(ApiError::bad_request(
                    "token: not a Warden token (`tok_<entity>_<24 hex digits>`)",
                ));
            }
        },
        (None, Some(entity), Some(value)) => {
            // The value is the personal data being erased: wiped from memory when done.
            let value = zeroize::Zeroizing::new(value);
            let entity = Entity::from_name(&entity)
                .ok_or_else(|| ApiError::bad_request(format!("entity: `{entity}` is not a DLP entity")))?;
            if value.is_empty() {
                return Err(ApiError::bad_request("value: empty"));
            }
            (token_of(&state, entity, &value), "value")
        }
        _ => return Err(ApiError::bad_request("give either `token`, or `entity` and `value`")),
    };
    let erased = erase_token(&state, &token).await?;
    let event = AuditEvent::new(state.now(), "firewall.token.erase", "admin", AuditOutcome::Success)
        .detail("token", token.as_str())
        .detail("entity", token.entity().name())
        .detail("by", by)
        .detail("erased", erased)
        .request_id(Some(&request_id.0));
    let ledger_index = state.audit(event).await?;
    Ok(Json(EraseView {
        token: token.as_str().to_owned(),
        erased,
        ledger_index,
    }))
}

/// The entities of the tokens in `text` that the caller may reveal: every one for the admin; for an
/// agent, those for which the policy allows `firewall:detokenize` on `token:<entity>`.
async fn allowed_entities(state: &AppState, caller: &AdminOrCaller, text: &str) -> Result<Vec<Entity>, ApiError> {
    let mut entities: Vec<Entity> = tokens_in(text).iter().map(|t| t.entity()).collect();
    entities.sort_by_key(|e| e.name());
    entities.dedup();
    let AdminOrCaller::Agent(caller) = caller else {
        return Ok(entities);
    };
    let subject = subject_of(&caller.principal, &caller.agent);
    let grants = live_grants(state, &caller.agent.id).await?;
    let active = state.policy();
    let mut allowed = Vec::new();
    for entity in entities {
        let request = engine_request(
            &subject,
            DETOKENIZE_ACTION.to_owned(),
            format!("token:{}", entity.name()),
            serde_json::Map::new(),
            serde_json::Map::new(),
            Some(caller.method().as_str()),
            state.now(),
        );
        if evaluate(&active.set, &request, &grants, false).is_allow() {
            allowed.push(entity);
        }
    }
    Ok(allowed)
}

fn actor_of(caller: &AdminOrCaller) -> String {
    match caller {
        AdminOrCaller::Admin => "admin".to_owned(),
        AdminOrCaller::Agent(caller) => caller.agent.id.clone(),
    }
}

fn outcome_of(verdict: Verdict) -> AuditOutcome {
    match verdict {
        Verdict::Block => AuditOutcome::Denied,
        Verdict::Allow | Verdict::Redact => AuditOutcome::Success,
    }
}

pub fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Allow => "allow",
        Verdict::Redact => "redact",
        Verdict::Block => "block",
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Input => "input",
        Direction::Output => "output",
        Direction::Egress => "egress",
    }
}
