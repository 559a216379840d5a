//! Two `warden serve` processes, B witnessing A (C2SP `tlog-witness` over real HTTP): A's published
//! checkpoint ends up cosigned by B, and `warden ledger verify --witness` passes with B's key and fails,
//! exit 1, with a key of a witness that never cosigned.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Api, CHEAP_ARGON2, Options, Sandbox, Server, plain_client};

fn text(reply_body: &Value) -> String {
    reply_body.as_str().unwrap_or_default().trim().to_owned()
}

/// Waits until A's latest stored checkpoint carries a cosignature line by `witness_name`.
async fn cosigned(api: &Api, witness_name: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let prefix = format!("\u{2014} {witness_name} ");
    loop {
        let reply = api.get("/v1/ledger/checkpoint", None).await;
        if text(&reply.body).contains(&prefix) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no cosignature by {witness_name} within 60 s: {:?}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_requires_the_named_witnesses_cosignatures() {
    // A first, to learn its ledger key; then B, witnessing A; then A again, sending to B.
    let a = Sandbox::new();
    a.write_config(CHEAP_ARGON2);
    let mut server_a = Server::start(&a, &Options::default()).await;
    let key_a = text(
        &Api::new(plain_client(), &server_a.base)
            .get("/v1/ledger/verifier-key", None)
            .await
            .body,
    );
    server_a.terminate(Duration::from_secs(10)).await;
    drop(server_a);

    let b = Sandbox::new();
    b.write_config(&format!(
        "{CHEAP_ARGON2}witness:\n  name: witness.test/b\n  logs:\n    - verifier_key: \"{key_a}\"\n"
    ));
    let server_b = Server::start(&b, &Options::default()).await;
    let key_b = text(
        &Api::new(plain_client(), &server_b.base)
            .get("/v1/witness/verifier-key", None)
            .await
            .body,
    );
    assert!(key_b.starts_with("witness.test/b+"), "{key_b}");

    a.write_config(&format!(
        "{CHEAP_ARGON2}ledger:\n  checkpoint_interval: 1\n  witnesses:\n    - url: \"{}\"\n      verifier_key: \"{key_b}\"\n",
        server_b.url("/v1/witness")
    ));
    let server_a = Server::start(&a, &Options::default()).await;
    let api = Api::new(plain_client(), &server_a.base);
    api.create_agent(&a.admin_token(), "witnessed", &[], None).await;
    cosigned(&api, "witness.test/b").await;

    let verify = |extra: &[&str]| {
        let mut args = vec!["ledger", "verify", "--public", "--verifier-key", key_a.as_str()];
        args.extend_from_slice(extra);
        let (status, out, err) = a.run_bounded(a.client_command(&server_a, None, &args), Duration::from_secs(60));
        (status.code().unwrap_or(-1), out, err)
    };
    let (code, out, err) = verify(&["--witness", &key_b]);
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains("witness witness.test/b cosigned the checkpoint at size"),
        "{out}"
    );

    // A witness that never saw this log: verification fails and says so.
    let stranger = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
    let (code, out, err) = verify(&["--witness", &key_b, "--witness", stranger]);
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("witness `remora.n621.de` has not cosigned"), "{err}");
    // A malformed key is refused.
    let (code, _, err) = verify(&["--witness", "nope"]);
    assert_ne!(code, 0, "{err}");
}
