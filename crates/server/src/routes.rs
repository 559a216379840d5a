//! The HTTP surface: every route of API.md that exists so far, and the middleware around them.

pub mod agents;
pub mod auth;
pub mod authorize;
pub mod credentials;
pub mod firewall;
pub mod grants;
pub mod ledger;
pub mod ops;
pub mod policies;
pub mod secrets;
pub mod witness;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, get, post, put};

use crate::extract::RequestId;
use crate::state::AppState;

/// The whole application, ready to serve.
pub fn app(state: AppState) -> Router {
    crate::metrics::install();
    let max_body = state.config.max_body_bytes;
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(crate::openapi::serve))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/v1/agents", post(agents::create).get(agents::list))
        .route("/v1/agents/{id}", get(agents::read).patch(agents::patch))
        .route("/v1/agents/{id}/suspend", post(agents::suspend))
        .route("/v1/agents/{id}/quarantine", post(agents::quarantine))
        .route("/v1/agents/{id}/release", post(agents::release))
        .route("/v1/agents/{id}/revoke", post(agents::revoke))
        .route("/v1/agents/{id}/tokens/revoke", post(agents::revoke_tokens))
        .route("/v1/agents/{id}/password", post(agents::set_password))
        .route("/v1/agents/{id}/api-keys", post(credentials::create_api_key))
        .route("/v1/api-keys/{id}", delete(credentials::revoke_api_key))
        .route("/v1/agents/{id}/public-keys", post(credentials::register_public_key))
        .route("/v1/agents/{id}/certificate", post(credentials::issue_certificate))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/challenge", post(auth::challenge))
        .route("/v1/auth/key-login", post(auth::key_login))
        .route("/v1/auth/refresh", post(auth::refresh))
        .route("/v1/auth/revoke", post(auth::revoke))
        .route("/v1/auth/password", post(auth::change_password))
        .route("/v1/auth/passport", post(auth::issue_passport))
        .route("/v1/auth/token-exchange", post(auth::token_exchange))
        .route("/v1/authorize", post(authorize::authorize))
        .route("/v1/authorize/batch", post(authorize::authorize_batch))
        .route("/v1/policies", get(policies::read).merge(put(policies::replace)))
        .route("/v1/policies/validate", post(policies::validate))
        .route("/v1/policies/simulate", post(policies::simulate))
        .route("/v1/grants", post(grants::create).get(grants::list))
        .route("/v1/grants/{id}", delete(grants::revoke))
        .route("/v1/grants/{id}/delegate", post(grants::delegate))
        .route("/v1/secrets", get(secrets::list))
        .route(
            "/v1/secrets/{name}",
            put(secrets::put).get(secrets::read).delete(secrets::delete),
        )
        .route("/v1/secrets/{name}/grants", post(secrets::share))
        .route("/v1/secrets/{name}/grants/{agent_id}", delete(secrets::unshare))
        .route("/v1/secrets/{name}/rotate", post(secrets::rotate))
        .route("/v1/secrets-expiring", get(secrets::expiring))
        .route("/v1/vault/stats", get(secrets::stats))
        .route("/v1/vault/rotate-master-key", post(crate::master_key::rotate))
        .route("/v1/keys/rotate", post(ops::rotate_keys))
        .route(
            "/v1/ledger/checkpoint",
            get(ledger::checkpoint).post(ledger::sign_checkpoint),
        )
        .route("/v1/ledger/checkpoints", get(ledger::checkpoints))
        .route("/v1/ledger/verifier-key", get(ledger::verifier_key))
        .route("/v1/ledger/proof/inclusion", get(ledger::inclusion))
        .route("/v1/ledger/proof/consistency", get(ledger::consistency))
        .route("/v1/ledger/entries", get(ledger::entries))
        .route("/v1/ledger/entries/{index}", get(ledger::entry))
        .route("/v1/witness/add-checkpoint", post(witness::add_checkpoint))
        .route("/v1/witness/verifier-key", get(witness::verifier_key))
        .route("/v1/scan", post(firewall::scan))
        .route("/v1/detokenize", post(firewall::detokenize))
        .route("/v1/tokens/erase", post(firewall::erase))
        .route("/v1/events", get(ops::events))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), crate::admit::middleware))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(middleware::from_fn(request_id))
        .with_state(state)
}

/// Gives every request an id, sent back as `x-request-id` and written into its audit events.
async fn request_id(mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    tracing::debug!(request_id = %id, %method, %path, status = response.status().as_u16(), "request");
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}
