//! The ledger's routes: the latest signed checkpoint and the verifier key for anyone, RFC 9162 inclusion
//! and consistency proofs for anyone, the stored checkpoints (with anchors and witness cosignatures) for
//! anyone, and the entries themselves (leaf bytes, leaf hash, event) for the admin.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use warden_core::{AuditEvent, AuditOutcome};
use warden_ledger::{ProofError, parse_leaf};
use warden_store::{CheckpointRecord, LedgerEntry};

use crate::error::ApiError;
use crate::extract::{Admin, ApiQuery, RequestId};
use crate::state::AppState;

/// Most entries one `GET /v1/ledger/entries` returns.
const MAX_ENTRIES: u64 = 1000;
const NOTE_TYPE: &str = "text/plain; charset=utf-8";

fn proof_error(error: ProofError) -> ApiError {
    ApiError::bad_request(error.to_string())
}

/// The latest stored checkpoint with the witnesses' cosignature lines after the log's signature (C2SP
/// style: one signed note); the first checkpoint is signed on demand if none exists yet.
#[utoipa::path(get, path = "/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, content_type = "text/plain", description = "C2SP signed note with cosignatures")))]
pub async fn checkpoint(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let record = match state.store.latest_checkpoint().await? {
        Some(record) => record,
        None => state.ledger.checkpoint(&state.store, state.now()).await?,
    };
    Ok((
        [(header::CONTENT_TYPE, NOTE_TYPE), (header::CACHE_CONTROL, "no-cache")],
        cosigned_note(&record),
    ))
}

/// The stored note with every stored cosignature line appended (each was verified before it was stored).
pub fn cosigned_note(record: &CheckpointRecord) -> String {
    let mut note = record.note.clone();
    for line in &record.cosignatures {
        note.push_str(line);
        note.push('\n');
    }
    note
}

/// Signs and publishes a checkpoint of the log as it is now.
#[utoipa::path(post, path = "/v1/ledger/checkpoint", tag = "ledger",
    responses((status = 200, content_type = "text/plain")))]
pub async fn sign_checkpoint(
    State(state): State<AppState>,
    _: Admin,
    request_id: RequestId,
) -> Result<impl IntoResponse, ApiError> {
    let record = state.ledger.checkpoint(&state.store, state.now()).await?;
    let event = AuditEvent::new(state.now(), "ledger.checkpoint", "admin", AuditOutcome::Success)
        .detail("size", record.size)
        .request_id(Some(&request_id.0));
    state.audit(event).await?;
    Ok(([(header::CONTENT_TYPE, NOTE_TYPE)], record.note))
}

#[utoipa::path(get, path = "/v1/ledger/verifier-key", tag = "ledger",
    responses((status = 200, content_type = "text/plain")))]
pub async fn verifier_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, NOTE_TYPE)],
        format!("{}\n", state.ledger.verifier_key()),
    )
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    pub index: u64,
    /// The tree size the proof is for; the latest checkpoint's when absent.
    pub size: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    pub size: u64,
    /// Base64 hashes, leaf side first (RFC 9162 §2.1.3.1).
    pub proof: Vec<String>,
}

async fn checkpoint_size(state: &AppState) -> Result<u64, ApiError> {
    match state.store.latest_checkpoint().await? {
        Some(record) => Ok(record.size),
        None => Ok(state.ledger.checkpoint(&state.store, state.now()).await?.size),
    }
}

#[utoipa::path(get, path = "/v1/ledger/proof/inclusion", tag = "ledger", params(InclusionQuery),
    responses((status = 200, body = InclusionProof), (status = 400)))]
pub async fn inclusion(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    let size = match query.size {
        Some(size) => size,
        None => checkpoint_size(&state).await?,
    };
    let tree = state.ledger.synced(&state.store).await?;
    if size > tree.size() {
        return Err(ApiError::bad_request(format!(
            "`size` {size} is larger than the log ({})",
            tree.size()
        )));
    }
    let proof = tree.inclusion_proof(query.index, size).map_err(proof_error)?;
    Ok(Json(InclusionProof {
        index: query.index,
        size,
        proof: proof.iter().map(|h| STANDARD.encode(h)).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub first: u64,
    /// The newer size; the latest checkpoint's when absent.
    pub second: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub first: u64,
    pub second: u64,
    pub proof: Vec<String>,
}

#[utoipa::path(get, path = "/v1/ledger/proof/consistency", tag = "ledger", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), (status = 400)))]
pub async fn consistency(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let second = match query.second {
        Some(second) => second,
        None => checkpoint_size(&state).await?,
    };
    let tree = state.ledger.synced(&state.store).await?;
    if second > tree.size() {
        return Err(ApiError::bad_request(format!(
            "`second` {second} is larger than the log ({})",
            tree.size()
        )));
    }
    let proof = tree.consistency_proof(query.first, second).map_err(proof_error)?;
    Ok(Json(ConsistencyProof {
        first: query.first,
        second,
        proof: proof.iter().map(|h| STANDARD.encode(h)).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CheckpointsQuery {
    /// Only checkpoints larger than this size.
    pub after: Option<u64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointView {
    pub size: u64,
    pub root_hash: String,
    pub note: String,
    pub created_at: String,
    #[schema(value_type = Option<Object>)]
    pub anchor: Option<Value>,
    pub cosignatures: Vec<String>,
}

impl From<CheckpointRecord> for CheckpointView {
    fn from(record: CheckpointRecord) -> Self {
        CheckpointView {
            size: record.size,
            root_hash: STANDARD.encode(record.root_hash),
            note: record.note,
            created_at: record.created_at.to_string(),
            anchor: record.anchor,
            cosignatures: record.cosignatures,
        }
    }
}

/// Every stored checkpoint, smallest first, with where it was anchored.
#[utoipa::path(get, path = "/v1/ledger/checkpoints", tag = "ledger", params(CheckpointsQuery),
    responses((status = 200, body = [CheckpointView])))]
pub async fn checkpoints(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CheckpointsQuery>,
) -> Result<Json<Vec<CheckpointView>>, ApiError> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("`limit` must be between 1 and 1000"));
    }
    let records = state.store.checkpoints(query.after, limit).await?;
    Ok(Json(records.into_iter().map(CheckpointView::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub index: u64,
    /// The exact leaf bytes that were hashed, base64; null once retention dropped them.
    pub leaf: Option<String>,
    pub leaf_hash: String,
    #[schema(value_type = Option<Object>)]
    pub event: Option<AuditEvent>,
}

fn entry_view(entry: LedgerEntry) -> Result<EntryView, ApiError> {
    let event = match &entry.leaf {
        Some(leaf) => Some(
            parse_leaf(leaf)
                .map_err(|e| ApiError::Internal(format!("ledger entry {}: {e}", entry.index)))?
                .1,
        ),
        None => None,
    };
    Ok(EntryView {
        index: entry.index,
        leaf: entry.leaf.as_ref().map(|l| STANDARD.encode(l)),
        leaf_hash: STANDARD.encode(entry.leaf_hash),
        event,
    })
}

#[utoipa::path(get, path = "/v1/ledger/entries/{index}", tag = "ledger",
    responses((status = 200, body = EntryView), (status = 404)))]
pub async fn entry(
    State(state): State<AppState>,
    _: Admin,
    Path(index): Path<u64>,
) -> Result<Json<EntryView>, ApiError> {
    let entries = state.store.ledger_entries(index, index.saturating_add(1)).await?;
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("no ledger entry {index}")))?;
    Ok(Json(entry_view(entry)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    pub start: u64,
    /// Exclusive; at most 1000 past `start`.
    pub end: u64,
}

#[utoipa::path(get, path = "/v1/ledger/entries", tag = "ledger", params(EntriesQuery),
    responses((status = 200, body = [EntryView]), (status = 400)))]
pub async fn entries(
    State(state): State<AppState>,
    _: Admin,
    ApiQuery(query): ApiQuery<EntriesQuery>,
) -> Result<Json<Vec<EntryView>>, ApiError> {
    if query.end <= query.start || query.end - query.start > MAX_ENTRIES {
        return Err(ApiError::bad_request(format!(
            "`end` must be above `start` and at most {MAX_ENTRIES} past it"
        )));
    }
    let entries = state.store.ledger_entries(query.start, query.end).await?;
    Ok(Json(entries.into_iter().map(entry_view).collect::<Result<_, _>>()?))
}
