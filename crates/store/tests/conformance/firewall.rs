//! The firewall's reversible tokens: stored once per token, re-issued with a new time, erased one by one
//! and purged by issue time.

use warden_store::{Store, TokenRecord};

use super::T0;

fn record(token: &str, sealed: &[u8], at: u64, by: &str) -> TokenRecord {
    TokenRecord {
        token: token.into(),
        entity: "email".into(),
        sealed: sealed.to_vec(),
        created_at: T0.plus(at),
        created_by: by.into(),
    }
}

pub(super) async fn firewall_tokens_reissue_erase_and_purge(store: &Store) {
    let (a, b, c) = ("tok_email_aaaa", "tok_email_bbbb", "tok_email_cccc");
    store
        .put_tokens(&[
            record(a, b"sealed-a", 0, "agent-1"),
            record(b, b"sealed-b", 10, "agent-1"),
        ])
        .await
        .unwrap();
    assert_eq!(store.token_count().await.unwrap(), 2);
    assert_eq!(
        store.token(a).await.unwrap(),
        Some(record(a, b"sealed-a", 0, "agent-1"))
    );

    // Issued again: the sealed original stays, the time and issuer move.
    store.put_tokens(&[record(a, b"other", 100, "agent-2")]).await.unwrap();
    assert_eq!(
        store.token(a).await.unwrap(),
        Some(record(a, b"sealed-a", 100, "agent-2"))
    );
    assert_eq!(store.token_count().await.unwrap(), 2);

    // Erased: gone, and a second erasure says there was nothing.
    assert!(store.delete_token(b).await.unwrap());
    assert!(!store.delete_token(b).await.unwrap());
    assert_eq!(store.token(b).await.unwrap(), None);

    // The purge takes what was last issued before the cutoff, nothing else.
    store
        .put_tokens(&[record(c, b"sealed-c", 50, "agent-1")])
        .await
        .unwrap();
    assert_eq!(store.delete_tokens_issued_before(T0.plus(50)).await.unwrap(), 0);
    assert_eq!(store.delete_tokens_issued_before(T0.plus(51)).await.unwrap(), 1);
    assert_eq!(store.token(c).await.unwrap(), None);
    assert!(store.token(a).await.unwrap().is_some());
}
