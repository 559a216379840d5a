//! kill -9 in the middle of a burst of logins: every login the server acknowledged with a 200 must
//! have its audit events (`auth.login`, `token.issued`) after a restart on the same data directory.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server, plain_client};

const AGENTS: usize = 5;
const TASKS: usize = 8;
const BURST: Duration = Duration::from_millis(1500);
const KILL_AFTER: Duration = Duration::from_millis(800);

/// What one task of the burst saw.
#[derive(Debug, Default)]
struct Seen {
    /// (request id, agent id) of every login answered 200.
    acknowledged: Vec<(String, String)>,
    /// HTTP answers other than 200 (status, body).
    other: Vec<(u16, Value)>,
    /// Requests that got no answer (the server was gone).
    unanswered: usize,
}

async fn hammer(api: Api, names: Vec<String>, offset: usize, until: Instant) -> Seen {
    let mut seen = Seen::default();
    let mut turn = offset;
    while Instant::now() < until {
        let name = &names[turn % names.len()];
        turn += 1;
        let body = json!({ "identity": name, "secret": PASSWORD });
        match api.try_call(Method::POST, "/v1/auth/login", None, Some(&body)).await {
            Ok(reply) if reply.status == 200 => {
                let agent = reply.str("agent_id");
                let Some(id) = reply.request_id else {
                    unreachable!("a 200 without x-request-id")
                };
                seen.acknowledged.push((id, agent));
            }
            Ok(reply) => seen.other.push((reply.status, reply.body)),
            Err(_) => {
                seen.unanswered += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    seen
}

/// Request ids of the events of `kind` with outcome success, with their actor.
fn successes(events: &[Value], kind: &str) -> HashMap<String, String> {
    events
        .iter()
        .map(|e| &e["event"])
        .filter(|e| e["kind"] == json!(kind) && e["outcome"] == json!("success"))
        .filter_map(|e| {
            Some((
                e["request_id"].as_str()?.to_owned(),
                e["actor"].as_str().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_login_survives_kill_9() {
    let sandbox = Sandbox::new();
    sandbox.write_config(CHEAP_ARGON2);
    let mut server = Server::start(&sandbox, &Options::default()).await;
    let admin = sandbox.admin_token();
    let api = Api::new(plain_client(), &server.base);
    let mut names = Vec::new();
    let mut ids = HashSet::new();
    for n in 0..AGENTS {
        let name = format!("burst_bot_{n}");
        ids.insert(api.create_agent(&admin, &name, &["context:read"], Some(PASSWORD)).await);
        names.push(name);
    }

    let started = Instant::now();
    let until = started + BURST;
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| tokio::spawn(hammer(api.clone(), names.clone(), t, until)))
        .collect();
    tokio::time::sleep(KILL_AFTER).await;
    server.kill();
    let killed_after = started.elapsed();

    let mut acknowledged = Vec::new();
    let mut unanswered = 0;
    for task in tasks {
        let joined = tokio::time::timeout(BURST + Duration::from_secs(15), task).await;
        let Ok(Ok(seen)) = joined else {
            unreachable!("a burst task did not finish: {joined:?}")
        };
        assert!(
            seen.other.is_empty(),
            "logins answered with something other than 200: {:?}",
            seen.other
        );
        acknowledged.extend(seen.acknowledged);
        unanswered += seen.unanswered;
    }
    eprintln!(
        "burst: {} logins acknowledged, {unanswered} unanswered, killed after {killed_after:?}",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > 20,
        "the burst acknowledged only {} logins before the kill",
        acknowledged.len()
    );
    assert!(unanswered > 0, "the kill did not land mid-burst");
    for (_, agent) in &acknowledged {
        assert!(ids.contains(agent), "a login answered for an unknown agent {agent:?}");
    }

    let restarted = Server::start(&sandbox, &Options::default()).await;
    let api = Api::new(plain_client(), &restarted.base);
    let events = api.all_events(&admin).await;
    let logins = successes(&events, "auth.login");
    let issued = successes(&events, "token.issued");
    let mut missing = Vec::new();
    for (request_id, agent) in &acknowledged {
        match (logins.get(request_id), issued.get(request_id)) {
            (Some(login_actor), Some(issue_actor)) => {
                assert_eq!(
                    login_actor, agent,
                    "auth.login of request {request_id} names another agent"
                );
                assert_eq!(
                    issue_actor, agent,
                    "token.issued of request {request_id} names another agent"
                );
            }
            (login, issue) => missing.push((request_id.clone(), login.is_some(), issue.is_some())),
        }
    }
    assert!(
        missing.is_empty(),
        "acknowledged logins without their events after kill -9 (id, auth.login, token.issued): {missing:?}"
    );

    // The restarted server works.
    let again = api.password_login(&names[0], PASSWORD).await;
    assert!(again["access_token"].as_str().is_some_and(|t| !t.is_empty()));
}
