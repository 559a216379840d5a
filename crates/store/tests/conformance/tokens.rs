//! Refresh spending (also under race) and the revocation lists.

use warden_core::Timestamp;
use warden_identity::repo::{RefreshRecord, SpendOutcome, TokenRepository};
use warden_store::Store;

use super::{T0, is_conflict, race, refresh, with_agent};

pub(super) async fn refresh_spend_outcomes(store: &Store) {
    with_agent(store, "ag-1").await;
    let record = refresh("r1", "ag-1", T0.plus(3600));
    store.insert_refresh(&record).await.unwrap();
    assert!(is_conflict(store.insert_refresh(&record).await));

    let spent = RefreshRecord {
        spent_at: Some(T0.plus(10)),
        ..record
    };
    assert_eq!(
        store.spend_refresh("r1", T0.plus(10)).await.unwrap(),
        SpendOutcome::Spent(spent.clone())
    );
    assert_eq!(
        store.spend_refresh("r1", T0.plus(20)).await.unwrap(),
        SpendOutcome::AlreadySpent(spent),
        "reuse reports the first spend"
    );
    assert_eq!(
        store.spend_refresh("r-unknown", T0).await.unwrap(),
        SpendOutcome::Unknown
    );
}

pub(super) async fn refresh_spend_race_has_one_winner(store: &Store) {
    with_agent(store, "ag-1").await;
    store
        .insert_refresh(&refresh("r1", "ag-1", T0.plus(3600)))
        .await
        .unwrap();
    let outcomes = race(store, 10, |store, i| async move {
        store.spend_refresh("r1", T0.plus(i as u64)).await.unwrap()
    })
    .await;
    let (mut spent, mut reused) = (0, 0);
    for outcome in outcomes {
        match outcome {
            SpendOutcome::Spent(_) => spent += 1,
            SpendOutcome::AlreadySpent(_) => reused += 1,
            SpendOutcome::Unknown => panic!("a known token was reported unknown"),
        }
    }
    assert_eq!((spent, reused), (1, 9));
}

pub(super) async fn revocations_filter_and_purge(store: &Store) {
    with_agent(store, "ag-1").await;
    store.revoke_token("jti-old", T0.minus(10)).await.unwrap();
    store.revoke_token("jti-live", T0.plus(10)).await.unwrap();
    store.revoke_token("jti-edge", T0).await.unwrap();
    store.revoke_family("fam-live", T0.plus(20)).await.unwrap();
    store.revoke_family("fam-old", T0.minus(20)).await.unwrap();
    // Revoking again never shortens a revocation, but may lengthen it.
    store.revoke_family("fam-live", T0.plus(5)).await.unwrap();
    store.revoke_token("jti-old", T0.minus(5)).await.unwrap();

    let live = store.revocations(T0).await.unwrap();
    assert_eq!(live.tokens, [("jti-live".to_owned(), T0.plus(10))]);
    assert_eq!(live.families, [("fam-live".to_owned(), T0.plus(20))]);

    store
        .insert_refresh(&refresh("r-old", "ag-1", T0.minus(1)))
        .await
        .unwrap();
    store
        .insert_refresh(&refresh("r-live", "ag-1", T0.plus(1)))
        .await
        .unwrap();
    // Expired before now: jti-old, fam-old, r-old. jti-edge expires exactly now and stays.
    assert_eq!(store.purge_expired(T0).await.unwrap(), 3);
    assert_eq!(store.spend_refresh("r-old", T0).await.unwrap(), SpendOutcome::Unknown);
    assert!(matches!(
        store.spend_refresh("r-live", T0).await.unwrap(),
        SpendOutcome::Spent(_)
    ));
    let all = store.revocations(Timestamp::EPOCH).await.unwrap();
    assert_eq!(all.tokens.len(), 2);
    assert_eq!(all.families.len(), 1);
}
