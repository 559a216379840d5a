//! The store goes away and comes back: while PostgreSQL is unreachable every request that needs it is
//! 503 and nothing is granted; once it is back, Warden serves again without a restart. The outage is
//! real: Warden talks to PostgreSQL through a TCP relay on loopback that the test cuts and restores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use warden_core::{MasterKey, SystemEntropy};
use warden_store::testing::{self, PostgresSchema};

use crate::support::{TestApp, skipped, test_config};

/// Relays loopback connections to PostgreSQL; `cut` drops every live connection and refuses new
/// ones until `restore`.
struct Relay {
    address: SocketAddr,
    up: Arc<AtomicBool>,
    generation: watch::Sender<u64>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Relay {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0").await else {
            unreachable!("bind loopback")
        };
        let Ok(address) = listener.local_addr() else {
            unreachable!("local addr")
        };
        let up = Arc::new(AtomicBool::new(true));
        let (generation, _) = watch::channel(0u64);
        let relay = Relay {
            address,
            up: Arc::clone(&up),
            generation: generation.clone(),
        };
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused as soon as it opens
                }
                let mut cut = generation.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        relay
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn postgres_outage_is_503_and_warden_recovers_without_a_restart() {
    let Some(base) = testing::postgres_url() else {
        skipped("the PostgreSQL outage test");
        return;
    };
    let Ok(schema) = PostgresSchema::create(&base).await else {
        unreachable!("PostgreSQL is usable")
    };
    let target: SocketAddr = ([127, 0, 0, 1], 5432).into();
    assert!(
        schema.url().contains("127.0.0.1:5432"),
        "the relay assumes the server at {target}"
    );
    let relay = Relay::start(target).await;
    let url = schema.url().replace("127.0.0.1:5432", &relay.address.to_string());

    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("tempdir: {e}"));
    let config = test_config(dir.path(), Some(url));
    let app = TestApp::from_config(config, dir, MasterKey::generate(&SystemEntropy)).await;
    app.agent("steady_bot", &["db:read"]).await;
    let (access, _) = app.login("steady_bot").await;
    let rules = json!({"policy": "rules:\n  - name: read\n    effect: allow\n    actions: [\"db:read\"]\n"});
    let put = app
        .call(
            axum::http::Method::PUT,
            "/v1/policies",
            Some(crate::support::ADMIN),
            Some(rules),
        )
        .await;
    put.ok(StatusCode::OK);
    let ask = json!({"action": "db:read", "resource": "db:orders"});
    let allowed = app.post("/v1/authorize", Some(&access), ask.clone()).await;
    assert_eq!(allowed.ok(StatusCode::OK)["decision"], "allow");

    relay.cut();
    let login = app
        .post(
            "/v1/auth/login",
            None,
            json!({"identity": "steady_bot", "secret": crate::support::PASSWORD}),
        )
        .await;
    login.problem(StatusCode::SERVICE_UNAVAILABLE);
    app.passport(&access, json!({}))
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE);
    app.get("/readyz", None).await.problem(StatusCode::SERVICE_UNAVAILABLE);
    // A decision that cannot be recorded (or whose grants cannot be read) is never an allow.
    app.post("/v1/authorize", Some(&access), ask.clone())
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get("/healthz", None).await.status,
        StatusCode::OK,
        "liveness does not depend on the store"
    );

    relay.restore();
    let mut recovered = false;
    for _ in 0..50 {
        if app.get("/readyz", None).await.status == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered, "Warden did not see PostgreSQL come back");
    let (fresh, _) = app.login("steady_bot").await;
    app.passport(&fresh, json!({})).await.ok(StatusCode::OK);
    app.passport(&access, json!({})).await.ok(StatusCode::OK);
    let again = app.post("/v1/authorize", Some(&access), ask).await;
    assert_eq!(again.ok(StatusCode::OK)["decision"], "allow");

    app.state.store.close().await;
    let dropped = schema.drop_schema().await;
    assert!(dropped.is_ok(), "{dropped:?}");
}
