//! The decision door: `POST /v1/authorize` and `/v1/authorize/batch`. The caller's facts come from its
//! verified token and the registry, never from the body; each decision is recorded before it is
//! answered, so an allow nobody can find in the audit trail never happens.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use warden_core::{AuditEvent, AuditOutcome, Timestamp};
use warden_firewall::{Direction, Finding, ScanOutcome, Verdict};
use warden_identity::{Agent, AgentStatus};
use warden_policy::{Basis, Decision, Effect, Grant, PolicySet, PrincipalStatus, Request, Subject, TraceStep};
use warden_store::GrantRecord;

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Caller, DecisionCaller, RequestId};
use crate::firewall::ScanInput;
use crate::state::AppState;

/// Most requests in one batch.
pub const MAX_BATCH: usize = 100;

/// Context keys Warden sets itself; a caller's value for them is replaced, never trusted.
const WARDEN_CONTEXT_KEYS: &[&str] = &["auth_method"];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    pub action: String,
    pub resource: String,
    /// `context.<key>` for rules: `ip`, `mfa`, `risk_score`, … as the caller states them.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    /// `resource.<key>` for rules.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub resource_attributes: Map<String, Value>,
    /// Text the action would carry (a prompt, tool arguments): scanned by the content firewall in the
    /// `input` direction; its findings become `findings.*` for the rules, and an enforced block denies.
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub requests: Vec<AuthorizeRequest>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplainQuery {
    /// Include the evaluation trace: every rule considered and why it matched or not.
    #[serde(default)]
    pub explain: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    /// `allow` or `deny`.
    pub decision: String,
    pub decision_id: String,
    /// The hash of the policy set that decided.
    pub policy: String,
    pub policy_version: Option<i64>,
    pub reasons: Vec<String>,
    #[schema(value_type = Object)]
    pub obligations: Map<String, Value>,
    /// What the content firewall found in `content`: `{kind, rule, severity, score, start, end}`.
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
    /// `content` with PII masked or tokenized, when the firewall's verdict was `redact`: pass this on
    /// instead of the content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<String>,
    /// The audit event that records this decision.
    pub ledger_index: u64,
    pub deciding_rule: Option<String>,
    /// `rule`, `grant`, `no_match`, `outside_scopes`, `inactive`, or `firewall` (the content firewall
    /// blocked the content, whatever the rules said).
    pub basis: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    pub matching_rules: Vec<String>,
    pub missing_attributes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub trace: Option<Vec<TraceStep>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchView {
    pub results: Vec<DecisionView>,
}

#[utoipa::path(post, path = "/v1/authorize", tag = "policy", request_body = AuthorizeRequest,
    params(("explain" = Option<bool>, Query, description = "include the evaluation trace")),
    responses((status = 200, body = DecisionView), (status = 400), (status = 401)))]
pub async fn authorize(
    State(state): State<AppState>,
    DecisionCaller(caller): DecisionCaller,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<ExplainQuery>,
    ApiJson(body): ApiJson<AuthorizeRequest>,
) -> Result<Json<DecisionView>, ApiError> {
    state.admit.action(&caller.agent.id, &body.action).await?;
    let ask = Ask::of(&state, &caller, query.explain, request_id).await?;
    let view = decide_and_record(&state, &ask, body).await?;
    Ok(Json(view))
}

#[utoipa::path(post, path = "/v1/authorize/batch", tag = "policy", request_body = BatchRequest,
    params(("explain" = Option<bool>, Query, description = "include the evaluation traces")),
    responses((status = 200, body = BatchView), (status = 400), (status = 401)))]
pub async fn authorize_batch(
    State(state): State<AppState>,
    DecisionCaller(caller): DecisionCaller,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<ExplainQuery>,
    ApiJson(body): ApiJson<BatchRequest>,
) -> Result<Json<BatchView>, ApiError> {
    if body.requests.is_empty() {
        return Err(ApiError::bad_request("requests: give at least one request"));
    }
    if body.requests.len() > MAX_BATCH {
        return Err(ApiError::bad_request(format!(
            "requests: at most {MAX_BATCH} per batch, got {}",
            body.requests.len()
        )));
    }
    for (i, request) in body.requests.iter().enumerate() {
        validate(request).map_err(|e| ApiError::bad_request(format!("requests[{i}].{e}")))?;
    }
    for request in &body.requests {
        state.admit.action(&caller.agent.id, &request.action).await?;
    }
    let ask = Ask::of(&state, &caller, query.explain, request_id).await?;
    let mut results = Vec::with_capacity(body.requests.len());
    for request in body.requests {
        results.push(decide_and_record(&state, &ask, request).await?);
    }
    Ok(Json(BatchView { results }))
}

/// The policy subject for an authenticated caller: registry facts, the passport's scopes when it
/// presented one, and its status (an inactive agent is denied before any rule).
pub fn subject_of(principal: &warden_core::Principal, agent: &Agent) -> Subject {
    Subject::from_principal(principal, status_of(agent.status), agent.attributes.clone())
}

pub fn status_of(status: AgentStatus) -> PrincipalStatus {
    match status {
        AgentStatus::Active => PrincipalStatus::Active,
        AgentStatus::Suspended => PrincipalStatus::Suspended,
        AgentStatus::Quarantined => PrincipalStatus::Quarantined,
        AgentStatus::Revoked => PrincipalStatus::Revoked,
    }
}

/// The agent's live grants, as the engine judges them.
pub async fn live_grants(state: &AppState, agent_id: &str) -> Result<Vec<Grant>, ApiError> {
    let records = state.store.live_grants(agent_id, state.now()).await?;
    Ok(records.iter().map(grant_of).collect())
}

pub fn grant_of(record: &GrantRecord) -> Grant {
    Grant {
        id: record.id.clone(),
        agent_id: record.agent_id.clone(),
        action: record.action.clone(),
        resource: record.resource.clone(),
        expires_at: record.expires_at,
        delegable: record.delegable,
        delegated_from: record.delegated_from.clone(),
    }
}

fn validate(request: &AuthorizeRequest) -> Result<(), String> {
    if request.action.trim().is_empty() {
        return Err("action: must not be empty".into());
    }
    if request.resource.trim().is_empty() {
        return Err("resource: must not be empty".into());
    }
    Ok(())
}

/// The engine's request for `body`, asked by `subject` at `now`.
pub fn engine_request(
    subject: &Subject,
    action: String,
    resource: String,
    mut context: Map<String, Value>,
    resource_attributes: Map<String, Value>,
    auth_method: Option<&str>,
    now: Timestamp,
) -> Request {
    for key in WARDEN_CONTEXT_KEYS {
        context.remove(*key);
    }
    if let Some(method) = auth_method {
        context.insert("auth_method".into(), Value::from(method));
    }
    Request {
        principal: subject.clone(),
        action,
        resource,
        resource_attributes,
        context,
        findings: Map::new(),
        now,
    }
}

/// Evaluates; with `explain`, also returns the trace.
pub fn evaluate(set: &PolicySet, request: &Request, grants: &[Grant], explain: bool) -> Decision {
    if explain {
        set.explain(request, grants)
    } else {
        set.evaluate(request, grants)
    }
}

/// Who asks, and how: the same for every request of a batch.
struct Ask {
    subject: Subject,
    auth_method: &'static str,
    grants: Vec<Grant>,
    explain: bool,
    request_id: String,
}

impl Ask {
    /// The caller's facts and live grants, read once per request (once per batch).
    async fn of(state: &AppState, caller: &Caller, explain: bool, request_id: RequestId) -> Result<Ask, ApiError> {
        Ok(Ask {
            subject: subject_of(&caller.principal, &caller.agent),
            auth_method: caller.method().as_str(),
            grants: live_grants(state, &caller.agent.id).await?,
            explain,
            request_id: request_id.0,
        })
    }
}

async fn decide_and_record(state: &AppState, ask: &Ask, body: AuthorizeRequest) -> Result<DecisionView, ApiError> {
    validate(&body).map_err(ApiError::BadRequest)?;
    let (subject, explain) = (&ask.subject, ask.explain);
    let scan = match body.content {
        Some(text) => {
            let input = ScanInput {
                text,
                direction: Direction::Input,
                destination: None,
            };
            Some(crate::firewall::scan(state, input, &subject.agent_id).await?)
        }
        None => None,
    };
    let active = state.policy();
    let mut request = engine_request(
        subject,
        body.action,
        body.resource,
        body.context,
        body.resource_attributes,
        Some(ask.auth_method),
        state.now(),
    );
    request.findings = findings_attributes(scan.as_ref());
    let mut decision = evaluate(&active.set, &request, &ask.grants, explain);
    let blocked = scan.as_ref().filter(|s| s.is_blocked());
    if let Some(scan) = blocked {
        block_by_firewall(&mut decision, scan);
    }
    let decision_id = uuid::Uuid::new_v4().to_string();
    let outcome = if decision.is_allow() {
        AuditOutcome::Success
    } else {
        AuditOutcome::Denied
    };
    let (basis, grant_id) = if blocked.is_some() {
        ("firewall", None)
    } else {
        basis_of(&decision.basis)
    };
    let event = AuditEvent::new(request.now, "authz.decision", &subject.agent_id, outcome)
        .resource(request.resource.as_str())
        .detail("decision_id", decision_id.as_str())
        .detail("action", request.action.as_str())
        .detail("decision", effect_name(&decision))
        .detail("deciding_rule", decision.deciding_rule.clone())
        .detail("basis", basis)
        .detail("grant_id", grant_id.clone())
        .detail("matching_rules", decision.matching_rules.clone())
        .detail("missing_attributes", decision.missing_attributes.clone())
        .detail("policy", decision.policy_set_hash.as_str())
        .detail("policy_version", active.version)
        // The decision's inputs as stated (dropped by `audit.include_payloads: false`).
        .detail("context", Value::Object(request.context.clone()))
        // What the firewall found, as rule ids and counts; the content itself is never recorded.
        .detail(
            "findings",
            scan.as_ref().map(|_| Value::Object(request.findings.clone())),
        )
        .request_id(Some(&ask.request_id));
    let ledger_index = state.audit(event).await?;
    metrics::counter!("warden_authz_decisions_total", "decision" => effect_name(&decision), "basis" => basis)
        .increment(1);
    Ok(DecisionView {
        decision: effect_name(&decision).to_owned(),
        decision_id,
        policy: decision.policy_set_hash.as_str().to_owned(),
        policy_version: active.version,
        reasons: decision.reasons,
        obligations: decision.obligations,
        redacted: scan.as_ref().and_then(|s| s.redacted.clone()),
        findings: scan.map(|s| s.findings).unwrap_or_default(),
        ledger_index,
        deciding_rule: decision.deciding_rule,
        basis: basis.to_owned(),
        grant_id,
        matching_rules: decision.matching_rules,
        missing_attributes: decision.missing_attributes,
        errors: decision.errors,
        trace: explain.then_some(decision.trace),
    })
}

/// `findings.*` for the rules: the scan's summary, or that of an empty scan when there was no content
/// (so `findings.injection.score > 0.8` reads 0 rather than a missing attribute, which a deny rule would
/// treat as a match).
fn findings_attributes(scan: Option<&ScanOutcome>) -> Map<String, Value> {
    let empty;
    let outcome = match scan {
        Some(outcome) => outcome,
        None => {
            empty = ScanOutcome {
                verdict: Verdict::Allow,
                findings: Vec::new(),
                redacted: None,
            };
            &empty
        }
    };
    match outcome.attributes() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// An enforced firewall block denies whatever the rules said, and says which rules of the firewall fired.
fn block_by_firewall(decision: &mut Decision, scan: &ScanOutcome) {
    let mut rules: Vec<&str> = scan.findings.iter().map(|f| f.rule.as_str()).collect();
    rules.sort_unstable();
    rules.dedup();
    decision.decision = Effect::Deny;
    decision.reasons.insert(
        0,
        format!("the content firewall blocked the content ({})", rules.join(", ")),
    );
}

pub fn effect_name(decision: &Decision) -> &'static str {
    if decision.is_allow() { "allow" } else { "deny" }
}

pub fn basis_of(basis: &Basis) -> (&'static str, Option<String>) {
    match basis {
        Basis::Inactive { .. } => ("inactive", None),
        Basis::Rule => ("rule", None),
        Basis::Grant { grant_id } => ("grant", Some(grant_id.clone())),
        Basis::NoMatch => ("no_match", None),
        Basis::OutsideScopes => ("outside_scopes", None),
    }
}
