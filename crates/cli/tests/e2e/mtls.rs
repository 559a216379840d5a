//! TLS 1.3 only, and mTLS with client certificates from Warden's CA: login and agent routes with no
//! bearer token, refusal after the agent is revoked, and refusal of a foreign CA's certificates.

use reqwest::tls::Version;
use serde_json::json;

use crate::harness::{Api, CHEAP_ARGON2, Options, PASSWORD, Sandbox, Server};
use crate::pki::{TestCa, csr, https_client, setup_server_tls};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_13_only_and_client_certificates_from_wardens_ca() {
    let sandbox = Sandbox::new();
    let (server_ca, tls_yaml) = setup_server_tls(&sandbox);
    sandbox.write_config(&format!("{tls_yaml}{CHEAP_ARGON2}"));
    let client = https_client(&server_ca.pem, None, None);
    let server = Server::start(
        &sandbox,
        &Options {
            https: Some(client.clone()),
            ..Options::default()
        },
    )
    .await;
    assert!(server.base.starts_with("https://"));
    assert!(
        server.stderr_text().contains("TLS 1.3"),
        "the server should say it speaks TLS 1.3"
    );
    let api = Api::new(client, &server.base);
    let health = api.get("/healthz", None).await;
    assert_eq!(health.status, 200);

    // TLS 1.2 is refused, and so is plain HTTP on the TLS port.
    let old = https_client(&server_ca.pem, None, Some(Version::TLS_1_2));
    let refused = old.get(server.url("/healthz")).send().await;
    assert!(refused.is_err(), "a TLS 1.2-only client was served: {refused:?}");
    let plain = crate::harness::plain_client()
        .get(format!("http://127.0.0.1:{}/healthz", server.port))
        .send()
        .await;
    assert!(
        plain.is_err() || plain.is_ok_and(|r| !r.status().is_success()),
        "plain HTTP was served on the TLS port"
    );

    // A client certificate from Warden's CA for a new agent.
    let admin = sandbox.admin_token();
    let agent = api
        .create_agent(&admin, "mtls_bot", &["agent:execute", "context:read"], Some(PASSWORD))
        .await;
    let (request, key) = csr("whatever the CSR says");
    let issued = api
        .post(
            &format!("/v1/agents/{agent}/certificate"),
            Some(&admin),
            &json!({ "csr": request }),
        )
        .await;
    assert_eq!(issued.status, 201, "{:?}", issued.body);
    let certificate = issued.str("certificate");
    assert!(certificate.starts_with("-----BEGIN CERTIFICATE-----"), "{certificate}");
    assert!(
        issued.str("ca").starts_with("-----BEGIN CERTIFICATE-----"),
        "{:?}",
        issued.body
    );
    let not_admin = api
        .post(
            &format!("/v1/agents/{agent}/certificate"),
            None,
            &json!({ "csr": csr("x").0 }),
        )
        .await;
    assert_eq!(not_admin.status, 401, "issuing a certificate needs the admin token");

    // Without a certificate, an empty login is a bad request.
    let anonymous = api.post("/v1/auth/login", None, &json!({})).await;
    assert_eq!(anonymous.status, 400, "{:?}", anonymous.body);

    // With it: login, and a passport with no bearer token at all.
    let mtls = Api::new(
        https_client(&server_ca.pem, Some(&format!("{certificate}{key}")), None),
        &server.base,
    );
    let login = mtls.post("/v1/auth/login", None, &json!({})).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.str("provider"), "certificate");
    assert_eq!(login.str("agent_id"), agent);
    assert_eq!(login.str("identity"), "mtls_bot");
    assert!(!login.str("access_token").is_empty());
    let passport = mtls
        .post("/v1/auth/passport", None, &json!({ "scopes": ["context:read"] }))
        .await;
    assert_eq!(passport.status, 200, "{:?}", passport.body);
    assert!(!passport.str("passport").is_empty());
    let access = login.str("access_token");
    let by_token = api.post("/v1/auth/passport", Some(&access), &json!({})).await;
    assert_eq!(
        by_token.status, 200,
        "the access token from the mTLS login works without the certificate"
    );

    // Revoking the agent rejects its certificate (and its tokens).
    let revoked = api
        .post(&format!("/v1/agents/{agent}/revoke"), Some(&admin), &json!({}))
        .await;
    assert_eq!(revoked.status, 200, "{:?}", revoked.body);
    let login = mtls.post("/v1/auth/login", None, &json!({})).await;
    assert!(
        login.status == 401 || login.status == 403,
        "a revoked agent's certificate logged in: {:?}",
        login.body
    );
    let passport = mtls.post("/v1/auth/passport", None, &json!({})).await;
    assert!(
        passport.status == 401 || passport.status == 403,
        "a revoked agent's certificate got a passport: {:?}",
        passport.body
    );
    let by_token = api.post("/v1/auth/passport", Some(&access), &json!({})).await;
    assert!(
        by_token.status == 401 || by_token.status == 403,
        "a revoked agent's token still works: {:?}",
        by_token.body
    );

    // A client certificate from a CA Warden does not know fails the handshake or is refused.
    let foreign = TestCa::new("someone else's CA");
    let (foreign_cert, foreign_key) = foreign.client_certificate("mtls_bot");
    let stranger = Api::new(
        https_client(&server_ca.pem, Some(&format!("{foreign_cert}{foreign_key}")), None),
        &server.base,
    );
    let attempt = stranger
        .try_call(reqwest::Method::POST, "/v1/auth/login", None, Some(&json!({})))
        .await;
    match attempt {
        Err(_) => {}
        Ok(reply) => assert!(
            reply.status == 401 || reply.status == 403,
            "a foreign certificate was accepted: {reply:?}"
        ),
    }
    // The server is still fine afterwards.
    assert_eq!(api.get("/healthz", None).await.status, 200);
}
