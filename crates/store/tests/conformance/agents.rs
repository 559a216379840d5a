//! The agent registry: round trips, name and id conflicts, paging.

use warden_identity::repo::AgentRepository;
use warden_identity::{Agent, AgentStatus};
use warden_store::Store;

use super::{T0, agent, is_conflict, with_agent};

pub(super) async fn agents_round_trip(store: &Store) {
    assert_eq!(store.count_agents().await.unwrap(), 0);
    let mut alice = agent("ag-1", "alice");
    alice.tier = None;
    store.insert_agent(&alice).await.unwrap();

    assert_eq!(store.agent("ag-1").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.agent_by_name("alice").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.agent("nobody").await.unwrap(), None);
    assert_eq!(store.agent_by_name("nobody").await.unwrap(), None);
    assert_eq!(store.count_agents().await.unwrap(), 1);

    alice.name = "alice-2".into();
    alice.status = AgentStatus::Quarantined;
    alice.roles = vec![];
    alice.tier = Some("silver".into());
    alice.updated_at = T0.plus(60);
    alice.tokens_valid_after = T0.plus(61);
    alice.attributes.clear();
    assert!(store.update_agent(&alice).await.unwrap());
    assert_eq!(store.agent("ag-1").await.unwrap(), Some(alice.clone()));
    assert_eq!(store.agent_by_name("alice").await.unwrap(), None);
    assert_eq!(store.agent_by_name("alice-2").await.unwrap(), Some(alice));

    assert!(!store.update_agent(&agent("ag-missing", "ghost")).await.unwrap());
    assert_eq!(store.count_agents().await.unwrap(), 1);
}

pub(super) async fn agent_name_and_id_conflict(store: &Store) {
    store.insert_agent(&agent("ag-1", "alice")).await.unwrap();
    store.insert_agent(&agent("ag-2", "bob")).await.unwrap();
    assert!(is_conflict(store.insert_agent(&agent("ag-3", "alice")).await));
    assert!(is_conflict(store.insert_agent(&agent("ag-1", "carol")).await));
    // Renaming onto a taken name conflicts too, and changes nothing.
    assert!(is_conflict(store.update_agent(&agent("ag-2", "alice")).await));
    assert_eq!(store.agent("ag-2").await.unwrap().unwrap().name, "bob");
    assert_eq!(store.count_agents().await.unwrap(), 2);
}

pub(super) async fn agents_list_in_pages(store: &Store) {
    for id in ["ag-3", "ag-1", "ag-5", "ag-2", "ag-4", "AG-0"] {
        with_agent(store, id).await;
    }
    let ids = |agents: Vec<Agent>| agents.into_iter().map(|a| a.id).collect::<Vec<_>>();
    // Bytewise order on both backends: upper case sorts before lower case.
    assert_eq!(ids(store.list_agents(None, 3).await.unwrap()), ["AG-0", "ag-1", "ag-2"]);
    assert_eq!(ids(store.list_agents(Some("ag-2"), 2).await.unwrap()), ["ag-3", "ag-4"]);
    assert_eq!(ids(store.list_agents(Some("ag-4"), 2).await.unwrap()), ["ag-5"]);
    assert!(store.list_agents(Some("ag-5"), 2).await.unwrap().is_empty());
    assert!(store.list_agents(None, 0).await.unwrap().is_empty());
    assert_eq!(store.list_agents(None, 100).await.unwrap().len(), 6);
}
