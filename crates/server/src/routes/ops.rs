//! Operational routes: health, readiness, metrics, the JWKS, key rotation and the audit trail.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use warden_core::AuditEvent;

use crate::error::ApiError;
use crate::extract::{Admin, ApiQuery, RequestId};
use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200)))]
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the store answers and a signing key is loaded; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200), (status = 503)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.ping().await?;
    crate::vault::check_canary(&state.store, &state.master_keys()).await?;
    // The ledger is reachable and its stored entries form a tree without holes.
    let size = state.ledger.synced(&state.store).await?.size();
    Ok(Json(
        json!({ "status": "ready", "store": state.store.backend().as_str(), "kid": state.keyring().current().kid(), "ledger_size": size }),
    ))
}

#[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, content_type = "text/plain")))]
pub async fn metrics() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(),
    )
}

#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "ops", responses((status = 200)))]
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(state.keyring().jwks(state.now())),
    )
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rotated {
    pub kid: String,
}

#[utoipa::path(post, path = "/v1/keys/rotate", tag = "ops", responses((status = 200, body = Rotated)))]
pub async fn rotate_keys(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
) -> Result<Json<Rotated>, ApiError> {
    let kid = crate::keys::rotate(&state, "admin", Some(&request_id.0)).await?;
    Ok(Json(Rotated { kid }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Events with an index above this one.
    pub after: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub index: u64,
    #[schema(value_type = Object)]
    pub event: AuditEvent,
}

#[utoipa::path(get, path = "/v1/events", tag = "ops", params(EventQuery), responses((status = 200, body = [EventView])))]
pub async fn events(
    State(state): State<AppState>,
    _: Admin,
    ApiQuery(query): ApiQuery<EventQuery>,
) -> Result<Json<Vec<EventView>>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` must be between 1 and 1000"));
    }
    // `after` is the last index the caller has seen; without it the log is read from its first entry.
    let start = query
        .after
        .map_or(0, |after| u64::try_from(after).map_or(0, |a| a.saturating_add(1)));
    let events = state.store.audit_events(start, limit).await?;
    Ok(Json(
        events
            .into_iter()
            .map(|(index, event)| EventView { index, event })
            .collect(),
    ))
}

pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such route".into())
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("method not allowed on this route".into())
}
