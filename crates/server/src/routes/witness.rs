//! Warden as a witness (C2SP `tlog-witness`): `POST /v1/witness/add-checkpoint` for logs to submit
//! checkpoints — unauthenticated, as the protocol says: the log's signature on the checkpoint is the
//! authentication — and `GET /v1/witness/verifier-key` for the key its cosignatures verify with.
//!
//! The protocol fixes the answers of `add-checkpoint` (status codes, a `text/x.tlog.size` body for 409,
//! signature lines for 200), so its refusals are answered here in that form rather than as problem+json;
//! failures of Warden itself (the store) still go through [`ApiError`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use warden_ledger::Refusal;
use warden_ledger::witness::{TLOG_SIZE_TYPE, encode_size};

use crate::error::ApiError;
use crate::ledger::witnessing::{AddError, add_checkpoint as add};
use crate::state::AppState;

const TEXT: &str = "text/plain; charset=utf-8";

fn refusal(refusal: Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
    match refusal {
        Refusal::Conflict { latest } => {
            (status, [(header::CONTENT_TYPE, TLOG_SIZE_TYPE)], encode_size(latest)).into_response()
        }
        other => (status, [(header::CONTENT_TYPE, TEXT)], format!("{other}\n")).into_response(),
    }
}

/// Cosigns a checkpoint consistent with the one cosigned last for its log.
#[utoipa::path(post, path = "/v1/witness/add-checkpoint", tag = "witness",
    request_body(content = String, content_type = "text/plain",
        description = "`old <size>`, consistency proof lines, an empty line, the signed checkpoint"),
    responses((status = 200, content_type = "text/plain", description = "cosignature lines"),
        (status = 400), (status = 403), (status = 404), (status = 409, content_type = "text/x.tlog.size"),
        (status = 422)))]
pub async fn add_checkpoint(State(state): State<AppState>, body: Bytes) -> Response {
    let outcome = add(
        &state.store,
        state.ledger.witness_key(),
        state.config.witness.as_ref(),
        &body,
        state.now(),
    )
    .await;
    match outcome {
        Ok(line) => ([(header::CONTENT_TYPE, TEXT)], format!("{line}\n")).into_response(),
        Err(AddError::Refused(r)) => refusal(r),
        Err(AddError::NotAWitness) => ApiError::NotFound("this Warden is not a witness".into()).into_response(),
        Err(AddError::Store(e)) => ApiError::from(e).into_response(),
        Err(AddError::Ledger(e)) => ApiError::from(e).into_response(),
    }
}

/// The witness's cosignature verifier key, `name+keyid+base64(0x04 || key)`.
#[utoipa::path(get, path = "/v1/witness/verifier-key", tag = "witness",
    responses((status = 200, content_type = "text/plain"), (status = 404)))]
pub async fn verifier_key(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let config = state
        .config
        .witness
        .as_ref()
        .ok_or_else(|| ApiError::NotFound("this Warden is not a witness".into()))?;
    let cosigner = state.ledger.witness_key().cosigner(&config.name)?;
    Ok(([(header::CONTENT_TYPE, TEXT)], format!("{}\n", cosigner.verifier_key())))
}
