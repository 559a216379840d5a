//! The OpenAPI document, generated from the handlers' annotations so it cannot drift from the code.

use axum::Json;
use utoipa::OpenApi;

use crate::routes::{agents, auth, authorize, credentials, firewall, grants, ledger, ops, policies, secrets};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "Warden", description = "Zero-trust control plane and gateway for AI agents"),
    paths(
        ops::healthz, ops::readyz, ops::metrics, ops::jwks, ops::rotate_keys, ops::events,
        agents::create, agents::list, agents::read, agents::patch, agents::suspend, agents::quarantine,
        agents::release, agents::revoke, agents::revoke_tokens, agents::set_password,
        credentials::create_api_key, credentials::revoke_api_key, credentials::register_public_key,
        credentials::issue_certificate,
        auth::login, auth::challenge, auth::key_login, auth::refresh, auth::revoke, auth::change_password,
        auth::issue_passport, auth::token_exchange,
        authorize::authorize, authorize::authorize_batch,
        policies::read, policies::replace, policies::validate, policies::simulate,
        grants::create, grants::list, grants::revoke, grants::delegate,
        secrets::put, secrets::read, secrets::list, secrets::share, secrets::unshare, secrets::rotate,
        secrets::delete, secrets::expiring, secrets::stats, crate::master_key::rotate,
        ledger::checkpoint, ledger::sign_checkpoint, ledger::checkpoints, ledger::verifier_key, ledger::inclusion,
        ledger::consistency, ledger::entries, ledger::entry,
        crate::routes::witness::add_checkpoint, crate::routes::witness::verifier_key,
        firewall::scan, firewall::detokenize, firewall::erase,
    ),
    tags((name = "agents"), (name = "credentials"), (name = "auth"), (name = "policy"), (name = "vault"), (name = "ledger"), (name = "firewall"), (name = "ops"))
)]
pub struct ApiDoc;

pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
