//! The ledger through its routes, as an auditor uses them: a decision's `ledger_index` is proven to be
//! in a signed checkpoint with nothing but public routes and the pure verifiers; checkpoints are proven
//! consistent; entries are admin-only; bad proof requests are 400s; and a ledger that cannot append turns
//! decisions into 503s (fail closed).

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sqlx::Connection;
use warden_ledger::{Checkpoint, Hash, leaf_hash, parse_leaf, verify_consistency, verify_inclusion};

use crate::policy::{authorize, with_policy};
use crate::support::{ADMIN, TestApp, on_each_store};

fn hash(text: &str) -> Hash {
    let bytes = STANDARD.decode(text).unwrap_or_default();
    <Hash>::try_from(bytes.as_slice()).unwrap_or_else(|_| unreachable!("a 32-byte hash: {text}"))
}

fn proof(body: &Value) -> Vec<Hash> {
    body["proof"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| hash(h.as_str().unwrap_or_default()))
        .collect()
}

async fn text(app: &TestApp, path: &str) -> String {
    let reply = app.get(path, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
    reply
        .body
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| unreachable!("{path} answers text"))
}

async fn signed_checkpoint(app: &TestApp, key: &str) -> Checkpoint {
    let reply = app.post("/v1/ledger/checkpoint", Some(ADMIN), json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let note = reply.body.as_str().unwrap_or_default().to_owned();
    Checkpoint::parse_and_verify(&note, key).unwrap_or_else(|e| unreachable!("the checkpoint verifies: {e}"))
}

#[tokio::test]
async fn a_decision_is_proven_in_a_signed_checkpoint_with_public_routes() {
    on_each_store(async |app: &TestApp| {
        let (_, access) = with_policy(app).await;
        let decision = authorize(app, &access, json!({"action": "doc:read", "resource": "doc:public/a"})).await;
        let index = decision["ledger_index"]
            .as_u64()
            .unwrap_or_else(|| unreachable!("{decision}"));

        let key = text(app, "/v1/ledger/verifier-key").await;
        let key = key.trim();
        let first = signed_checkpoint(app, key).await;
        assert!(first.size > index);
        // The public checkpoint route serves the newest stored checkpoint.
        let published = Checkpoint::parse_and_verify(&text(app, "/v1/ledger/checkpoint").await, key)
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(published, first);

        // The admin reads the entry; its leaf bytes are the decision event and hash to the leaf hash.
        let (entry, leaf) = app.ledger_leaf(index).await;
        assert_eq!(leaf_hash(&leaf), hash(entry["leaf_hash"].as_str().unwrap_or_default()));
        let (stated, event) = parse_leaf(&leaf).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(stated, index);
        assert_eq!(event.kind, "authz.decision");
        assert_eq!(event.details["decision_id"], decision["decision_id"]);

        // Anyone proves inclusion against the checkpoint with the pure verifier.
        let path = format!("/v1/ledger/proof/inclusion?index={index}&size={}", first.size);
        let inclusion = app.get(&path, None).await.ok(StatusCode::OK).clone();
        verify_inclusion(&leaf_hash(&leaf), index, first.size, &proof(&inclusion), &first.root)
            .unwrap_or_else(|e| unreachable!("inclusion verifies: {e}"));
        // A forged leaf does not verify against the same proof.
        let forged = leaf_hash(&[leaf.as_slice(), b" "].concat());
        assert!(verify_inclusion(&forged, index, first.size, &proof(&inclusion), &first.root).is_err());

        // More events, a second checkpoint, and a consistency proof between them.
        authorize(app, &access, json!({"action": "doc:write", "resource": "doc:public/a"})).await;
        let second = signed_checkpoint(app, key).await;
        assert!(second.size > first.size);
        let path = format!(
            "/v1/ledger/proof/consistency?first={}&second={}",
            first.size, second.size
        );
        let consistency = app.get(&path, None).await.ok(StatusCode::OK).clone();
        verify_consistency(first.size, second.size, &first.root, &second.root, &proof(&consistency))
            .unwrap_or_else(|e| unreachable!("consistency verifies: {e}"));

        // Every stored checkpoint is listed publicly, smallest first.
        let listed = app.get("/v1/ledger/checkpoints", None).await.ok(StatusCode::OK).clone();
        let sizes: Vec<u64> = listed
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["size"].as_u64())
            .collect();
        assert!(sizes.windows(2).all(|w| w[0] < w[1]) && sizes.contains(&first.size) && sizes.contains(&second.size));
    })
    .await;
}

#[tokio::test]
async fn entries_are_for_the_admin_and_bad_proof_requests_are_400() {
    on_each_store(async |app: &TestApp| {
        let (_, access) = with_policy(app).await;
        assert_eq!(
            app.get("/v1/ledger/entries/0", None).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.get("/v1/ledger/entries/0", Some(&access)).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.get("/v1/ledger/entries?start=0&end=5000", Some(ADMIN)).await.status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            app.get("/v1/ledger/entries/99999", Some(ADMIN)).await.status,
            StatusCode::NOT_FOUND
        );
        let size = app.state.store.ledger_size().await.unwrap_or_default();
        for path in [
            format!("/v1/ledger/proof/inclusion?index={size}&size={size}"),
            format!("/v1/ledger/proof/inclusion?index=0&size={}", size + 10),
            format!("/v1/ledger/proof/consistency?first={}&second={size}", size + 1),
            format!("/v1/ledger/proof/consistency?first=1&second={}", size + 10),
            "/v1/ledger/proof/inclusion?index=-1&size=2".to_owned(),
            "/v1/ledger/proof/inclusion?index=0&size=2&extra=1".to_owned(),
        ] {
            let reply = app.get(&path, None).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {:?}", reply.body);
        }
    })
    .await;
}

/// A trigger that refuses every insert into the ledger is a writer that cannot write (as a full disk
/// or a read-only file would be): decisions that would have been allowed are 503s, never allows.
#[tokio::test]
async fn a_ledger_that_cannot_append_refuses_decisions() {
    on_each_store(async |app: &TestApp| {
        let (_, access) = with_policy(app).await;
        let ddl: &[&str] = if app.backend() == "sqlite" {
            &["CREATE TRIGGER ledger_full BEFORE INSERT ON ledger_entries BEGIN SELECT RAISE(ABORT, 'disk full'); END"]
        } else {
            &[
                "CREATE FUNCTION ledger_full() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql",
                "CREATE TRIGGER ledger_full BEFORE INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_full()",
            ]
        };
        let mut conn = sqlx::AnyConnection::connect(&app.state.config.store_url).await.unwrap_or_else(|e| unreachable!("{e}"));
        for statement in ddl {
            sqlx::raw_sql(*statement).execute(&mut conn).await.unwrap_or_else(|e| unreachable!("{e}"));
        }
        let size = app.state.store.ledger_size().await.unwrap_or_default();
        let reply = app.post("/v1/authorize", Some(&access), json!({"action": "doc:read", "resource": "doc:public/a"})).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", reply.body);
        assert!(reply.body.get("decision").is_none(), "no decision leaks out: {:?}", reply.body);
        assert_eq!(app.state.store.ledger_size().await.unwrap_or_default(), size);

        let drop = if app.backend() == "sqlite" { "DROP TRIGGER ledger_full" } else { "DROP TRIGGER ledger_full ON ledger_entries" };
        sqlx::raw_sql(drop)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        let allowed = authorize(app, &access, json!({"action": "doc:read", "resource": "doc:public/a"})).await;
        assert_eq!(allowed["decision"], "allow");
        assert_eq!(allowed["ledger_index"], size);
    })
    .await;
}

#[tokio::test]
async fn api_key_ids_enter_the_ledger_as_keyed_hashes() {
    let app = TestApp::start().await;
    let id = app.agent("keyed", &[]).await;
    let created = app
        .post(&format!("/v1/agents/{id}/api-keys"), Some(ADMIN), json!({}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let key_id = created.str("id");
    assert!(!key_id.is_empty());
    let events = app.events().await;
    let event = events
        .iter()
        .find(|e| e["details"].get("api_key_id").is_some())
        .unwrap_or_else(|| unreachable!("an event names the api key: {events:?}"));
    let stored = event["details"]["api_key_id"].as_str().unwrap_or_default();
    assert!(stored.starts_with("hmac-sha256:"), "{stored}");
    assert_eq!(
        stored,
        app.state.ledger.keyed_id(&key_id),
        "matchable by whoever holds the ledger key"
    );
    assert!(
        !serde_json::to_string(&events).unwrap_or_default().contains(&key_id),
        "the raw id is nowhere in the ledger"
    );
    app.finish().await;
}

#[tokio::test]
async fn decision_context_enters_the_ledger_unless_payloads_are_excluded() {
    for include in [true, false] {
        let app = TestApp::start_with(|config| config.audit.include_payloads = include).await;
        let (_, access) = with_policy(&app).await;
        let body = json!({"action": "doc:read", "resource": "doc:public/a", "context": {"ticket": "T-1"}});
        authorize(&app, &access, body).await;
        let events = app.events().await;
        let decision = events
            .iter()
            .find(|e| e["kind"] == "authz.decision")
            .unwrap_or_else(|| unreachable!("a decision event"));
        if include {
            assert_eq!(decision["details"]["context"]["ticket"], "T-1", "{decision}");
        } else {
            assert!(decision["details"].get("context").is_none(), "{decision}");
            assert_eq!(decision["details"]["decision"], "allow", "the decision itself is kept");
        }
        app.finish().await;
    }
}
