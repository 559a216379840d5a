//! The admit step through the real router: 429 problem+json with `Retry-After` after the burst, budgets
//! per agent, per client IP, per API key and per action, exact counting under concurrency, the
//! fail-closed answer when Redis is unreachable, and two replicas sharing one budget in a real Redis
//! (`WARDEN_TEST_REDIS_URL`; skipped, loudly, when it is unset).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use warden_server::config::rate_limits::RateLimits;
use warden_server::config::{Config, Overrides, parse};

use crate::credentials::create_api_key;
use crate::support::{ADMIN, Reply, TestApp, json_request};

const REDIS_URL_VAR: &str = "WARDEN_TEST_REDIS_URL";

fn limits(yaml: &str) -> RateLimits {
    let raw = parse("test.yaml", yaml);
    let Ok(raw) = raw else {
        unreachable!("test config parses: {raw:?}")
    };
    match Config::resolve(raw, Overrides::default(), Path::new("/unused")) {
        Ok(config) => config.rate_limits,
        Err(e) => unreachable!("test config resolves: {e}"),
    }
}

async fn app_with(yaml: &str) -> TestApp {
    let limits = limits(yaml);
    TestApp::start_with(move |config| config.rate_limits = limits).await
}

/// An agent and its access token.
async fn agent(app: &TestApp, name: &str) -> (String, String) {
    let id = app.agent(name, &[]).await;
    let (access, _) = app.login(name).await;
    (id, access)
}

async fn decide(app: &TestApp, token: &str, action: &str) -> Reply {
    app.post(
        "/v1/authorize",
        Some(token),
        json!({"action": action, "resource": "tool:search"}),
    )
    .await
}

/// A request from the client address `ip`, as the server's connection info gives it.
fn from_ip(mut request: Request<Body>, ip: &str) -> Request<Body> {
    let Ok(addr) = format!("{ip}:50000").parse::<SocketAddr>() else {
        unreachable!("{ip} is an address")
    };
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

fn get(path: &str) -> Request<Body> {
    let request = Request::builder().method(Method::GET).uri(path).body(Body::empty());
    request.unwrap_or_else(|e| unreachable!("request builds: {e}"))
}

/// Asserts a 429 problem whose `Retry-After` lies in `range`; returns it.
#[track_caller]
fn assert_limited(reply: &Reply, range: std::ops::RangeInclusive<u64>) -> u64 {
    let detail = reply.problem(StatusCode::TOO_MANY_REQUESTS);
    assert!(detail.contains("rate limit exceeded"), "{detail}");
    assert_eq!(reply.body["type"], "https://warden.dev/problems/rate-limited");
    let retry_after: u64 = reply.header("retry-after").parse().unwrap_or(0);
    assert!(
        range.contains(&retry_after),
        "Retry-After {retry_after} not in {range:?}"
    );
    retry_after
}

#[tokio::test]
async fn after_the_burst_429_with_retry_after_and_other_agents_go_on() {
    let app = app_with(
        "rate_limits:\n  rules:\n    - {name: decisions, per: agent, routes: ['/v1/authorize'], rate: 3/hour}\n",
    )
    .await;
    let (_, alice) = agent(&app, "alice_bot").await;
    let (_, bob) = agent(&app, "bob_bot").await;
    for _ in 0..3 {
        decide(&app, &alice, "tool:run").await.ok(StatusCode::OK);
    }
    let refused = decide(&app, &alice, "tool:run").await;
    // 3/hour: one every 20 minutes. The whole exchange takes well under a second of real time.
    assert_limited(&refused, 1199..=1200);
    assert!(
        refused
            .str("detail")
            .contains("`decisions` allows 3/hour (burst 3) per agent")
    );
    decide(&app, &bob, "tool:run").await.ok(StatusCode::OK);
    // A passport of the same agent spends the same budget: the key is the agent, not the token.
    let passport = app.passport_token(&alice, json!({})).await;
    assert_limited(&decide(&app, &passport, "tool:run").await, 1..=1200);
    // Routes the rule does not name are not limited by it, and bad tokens are left to authentication.
    app.get("/v1/agents", Some(ADMIN)).await.ok(StatusCode::OK);
    decide(&app, "not-a-token", "tool:run")
        .await
        .problem(StatusCode::UNAUTHORIZED);
    let metrics = app.get("/metrics", None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        text.lines()
            .any(|l| l.starts_with("warden_rate_limited_total") && l.contains("rule=\"decisions\"")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_concurrency_exactly_the_budget_passes() {
    let app = app_with(
        "rate_limits:\n  rules:\n    - {name: decisions, per: agent, routes: ['/v1/authorize'], rate: 10/hour}\n",
    )
    .await;
    let (_, token) = agent(&app, "eager_bot").await;
    let body = json!({"action": "tool:run", "resource": "tool:search"});
    let requests = (0..40)
        .map(|_| json_request(Method::POST, "/v1/authorize", Some(&token), &body))
        .collect();
    let replies = app.concurrently(requests).await;
    let passed = replies.iter().filter(|r| r.status == StatusCode::OK).count();
    let limited = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (passed, limited),
        (10, 30),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn client_ips_have_their_own_budgets() {
    let app = app_with(
        "rate_limits:\n  rules:\n    - {name: logins, per: ip, routes: ['POST /v1/auth/login'], rate: 2/hour}\n",
    )
    .await;
    let login = || {
        json_request(
            Method::POST,
            "/v1/auth/login",
            None,
            &json!({"identity": "x", "secret": "y"}),
        )
    };
    for _ in 0..2 {
        app.send(from_ip(login(), "192.0.2.1"))
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    assert_limited(&app.send(from_ip(login(), "192.0.2.1")).await, 1799..=1800);
    app.send(from_ip(login(), "192.0.2.2"))
        .await
        .problem(StatusCode::UNAUTHORIZED);
    // One IPv6 subscriber is one /64.
    for _ in 0..2 {
        app.send(from_ip(login(), "[2001:db8:5:6::1]"))
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    assert_limited(&app.send(from_ip(login(), "[2001:db8:5:6::beef]")).await, 1..=1800);
    // Other routes from the limited address are not this rule's business.
    app.send(from_ip(get("/healthz"), "192.0.2.1")).await.ok(StatusCode::OK);
}

#[tokio::test]
async fn per_action_limits_apply_to_decisions_and_secret_reads() {
    let app =
        app_with("rate_limits:\n  rules:\n    - {name: reads, per: agent, actions: ['secret:read'], rate: 2/hour}\n")
            .await;
    let (_, token) = agent(&app, "reader_bot").await;
    decide(&app, &token, "secret:read").await.ok(StatusCode::OK);
    decide(&app, &token, "secret:read").await.ok(StatusCode::OK);
    assert_limited(&decide(&app, &token, "secret:read").await, 1799..=1800);
    decide(&app, &token, "tool:run").await.ok(StatusCode::OK);
    // The vault's own read spends the same budget (the secret need not exist: the limit comes first).
    assert_limited(&app.get("/v1/secrets/anything", Some(&token)).await, 1..=1800);
    // A batch spends one per request of the matching action.
    let (_, other) = agent(&app, "batch_bot").await;
    let batch = json!({"requests": [
        {"action": "secret:read", "resource": "secret:a"},
        {"action": "tool:run", "resource": "tool:b"},
        {"action": "secret:read", "resource": "secret:c"},
    ]});
    app.post("/v1/authorize/batch", Some(&other), batch.clone())
        .await
        .ok(StatusCode::OK);
    assert_limited(&app.post("/v1/authorize/batch", Some(&other), batch).await, 1..=1800);
}

#[tokio::test]
async fn api_key_logins_count_per_key_and_only_real_keys_spend() {
    let app = app_with("rate_limits:\n  rules:\n    - {name: keys, per: api_key, rate: 2/hour}\n").await;
    let id = app.agent("keyed_bot", &[]).await;
    let (_, key) = create_api_key(&app, &id).await;
    let (_, other_key) = create_api_key(&app, &id).await;
    // Somebody who knows the key's id but not its secret cannot spend its budget.
    let forged = format!("{}AAAA", &key[..key.len() - 4]);
    for _ in 0..5 {
        app.post("/v1/auth/login", None, json!({"api_key": forged}))
            .await
            .problem(StatusCode::UNAUTHORIZED);
    }
    for _ in 0..2 {
        app.post("/v1/auth/login", None, json!({"api_key": key}))
            .await
            .ok(StatusCode::OK);
    }
    assert_limited(
        &app.post("/v1/auth/login", None, json!({"api_key": key})).await,
        1799..=1800,
    );
    app.post("/v1/auth/login", None, json!({"api_key": other_key}))
        .await
        .ok(StatusCode::OK);
}

/// The rule every backend test uses: GET /healthz, per client IP.
const HEALTHZ_PER_IP: &str = "  rules:\n    - {name: probe, per: ip, routes: ['GET /healthz'], rate: 5/hour}\n";

#[tokio::test]
async fn an_unreachable_redis_denies_with_503_unless_told_otherwise() {
    // Nothing listens on port 1: every call fails at once.
    let base = format!("rate_limits:\n  backend: redis\n  redis_url: redis://127.0.0.1:1\n{HEALTHZ_PER_IP}");
    let app = app_with(&base).await;
    let detail = app
        .send(from_ip(get("/healthz"), "192.0.2.9"))
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE);
    assert!(detail.contains("nothing was granted"), "{detail}");
    // Every route, not only the limited one: the DDoS ceiling applies everywhere and cannot be counted.
    app.get("/v1/agents", Some(ADMIN))
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE);

    let app = app_with(&base.replace("  rules:", "  on_backend_error: allow_and_alert\n  rules:")).await;
    for _ in 0..7 {
        app.send(from_ip(get("/healthz"), "192.0.2.9")).await.ok(StatusCode::OK);
    }

    let app = app_with(&base.replace("  rules:", "  on_backend_error: local_and_alert\n  rules:")).await;
    for _ in 0..5 {
        app.send(from_ip(get("/healthz"), "192.0.2.9")).await.ok(StatusCode::OK);
    }
    // Each failed Redis call waits up to redis_timeout_ms, so some real seconds have passed here.
    assert_limited(&app.send(from_ip(get("/healthz"), "192.0.2.9")).await, 690..=720);
}

/// Two replicas (two applications, two stores) counting in one Redis share one budget per key.
#[tokio::test]
async fn two_replicas_share_one_budget_in_redis() {
    let Some(url) = std::env::var(REDIS_URL_VAR).ok().filter(|u| !u.is_empty()) else {
        redis_skipped("two_replicas_share_one_budget_in_redis");
        return;
    };
    let run = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let prefix = format!("warden-test:{}:{run}:", std::process::id());
    let yaml = format!(
        "rate_limits:\n  backend: redis\n  redis_url: '{url}'\n  key_prefix: '{prefix}'\n  redis_timeout_ms: 2000\n\
         {HEALTHZ_PER_IP}    - {{name: blocking, per: ip, routes: ['GET /readyz'], rate: 1/hour, block_for: 2h}}\n"
    );
    let (a, b) = (app_with(&yaml).await, app_with(&yaml).await);
    for _ in 0..3 {
        probe(&a, "/healthz", "198.51.100.20").await.ok(StatusCode::OK);
    }
    for _ in 0..2 {
        probe(&b, "/healthz", "198.51.100.20").await.ok(StatusCode::OK);
    }
    // 5/hour: one every 12 minutes; the whole budget is spent across the two replicas.
    assert_limited(&probe(&a, "/healthz", "198.51.100.20").await, 710..=720);
    assert_limited(&probe(&b, "/healthz", "198.51.100.20").await, 710..=720);
    probe(&b, "/healthz", "198.51.100.21").await.ok(StatusCode::OK);
    // A block set through one replica holds on the other.
    probe(&a, "/readyz", "198.51.100.30").await.ok(StatusCode::OK);
    assert_limited(&probe(&b, "/readyz", "198.51.100.30").await, 7200..=7200);
    assert_limited(&probe(&a, "/readyz", "198.51.100.30").await, 7200..=7200);
}

/// Under concurrency on two replicas at once, Redis admits exactly the budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_counts_exactly_under_concurrency() {
    let Some(url) = std::env::var(REDIS_URL_VAR).ok().filter(|u| !u.is_empty()) else {
        redis_skipped("redis_counts_exactly_under_concurrency");
        return;
    };
    let run = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let prefix = format!("warden-test:{}:{run}:", std::process::id());
    let yaml = format!(
        "rate_limits:\n  backend: redis\n  redis_url: '{url}'\n  key_prefix: '{prefix}'\n  redis_timeout_ms: 2000\n\
         {HEALTHZ_PER_IP}"
    );
    let (a, b) = (app_with(&yaml).await, app_with(&yaml).await);
    let requests = || {
        (0..20)
            .map(|_| from_ip(get("/healthz"), "203.0.113.50"))
            .collect::<Vec<_>>()
    };
    let (from_a, from_b) = tokio::join!(a.concurrently(requests()), b.concurrently(requests()));
    let passed = from_a
        .iter()
        .chain(&from_b)
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(passed, 5);
}

async fn probe(app: &TestApp, path: &str, ip: &str) -> Reply {
    app.send(from_ip(get(path), ip)).await
}

fn redis_skipped(test: &str) {
    use std::io::Write as _;
    let line = format!("SKIPPED: `{test}` needs a Redis server ({REDIS_URL_VAR} is unset)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}
