//! Test certificates made with rcgen: a CA for the server certificate, the server certificate for
//! 127.0.0.1 and localhost, CSRs for agents, and a foreign CA whose client certificates Warden must
//! refuse.

#![allow(dead_code)]

use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

use crate::harness::{Sandbox, write};

/// A self-made certificate authority.
#[derive(Debug)]
pub struct TestCa {
    params: CertificateParams,
    key: KeyPair,
    pub pem: String,
}

fn key_pair() -> KeyPair {
    let generated = KeyPair::generate();
    let Ok(key) = generated else {
        unreachable!("generate a key pair: {generated:?}")
    };
    key
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = key_pair();
        let signed = params.self_signed(&key);
        let Ok(cert) = signed else {
            unreachable!("self-sign the CA: {signed:?}")
        };
        TestCa {
            params,
            key,
            pem: cert.pem(),
        }
    }

    /// A leaf certificate signed by this CA: `(certificate PEM, private key PEM)`.
    fn issue(&self, params: &CertificateParams) -> (String, String) {
        let key = key_pair();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let signed = params.signed_by(&key, &issuer);
        let Ok(cert) = signed else {
            unreachable!("sign a leaf: {signed:?}")
        };
        (cert.pem(), key.serialize_pem())
    }

    /// A TLS server certificate for 127.0.0.1 and localhost.
    pub fn server_certificate(&self) -> (String, String) {
        let made = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]);
        let Ok(mut params) = made else {
            unreachable!("server certificate params: {made:?}")
        };
        params.distinguished_name.push(DnType::CommonName, "warden test server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.issue(&params)
    }

    /// A client certificate naming `name`.
    pub fn client_certificate(&self, name: &str) -> (String, String) {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.issue(&params)
    }
}

/// A fresh key and a CSR for it: `(CSR PEM, private key PEM)`.
pub fn csr(common_name: &str) -> (String, String) {
    let key = key_pair();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, common_name);
    let request = params.serialize_request(&key).and_then(|r| r.pem());
    let Ok(pem) = request else {
        unreachable!("serialize the CSR: {request:?}")
    };
    (pem, key.serialize_pem())
}

/// Writes a server certificate into `<data>/tls/` and returns the CA that signed it, plus the
/// `server:` section of `warden.yaml` that points at it.
pub fn setup_server_tls(sandbox: &Sandbox) -> (TestCa, String) {
    let ca = TestCa::new("warden test server CA");
    let (cert, key) = ca.server_certificate();
    let dir = sandbox.data.join("tls");
    let created = std::fs::create_dir_all(&dir);
    assert!(created.is_ok(), "create {}: {created:?}", dir.display());
    write(&dir.join("server.crt"), cert.as_bytes());
    write(&dir.join("server.key"), key.as_bytes());
    let yaml = "server:\n  tls:\n    cert: \"tls/server.crt\"\n    key: \"tls/server.key\"\n".to_owned();
    (ca, yaml)
}

/// An HTTPS client that trusts only `server_ca_pem`, optionally presenting `identity_pem`
/// (certificate and private key), and speaking at most `max_version` when given.
pub fn https_client(
    server_ca_pem: &str,
    identity_pem: Option<&str>,
    max_version: Option<reqwest::tls::Version>,
) -> reqwest::Client {
    let parsed = reqwest::Certificate::from_pem(server_ca_pem.as_bytes());
    let Ok(root) = parsed else {
        unreachable!("parse the server CA: {parsed:?}")
    };
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .tls_certs_only([root]);
    if let Some(pem) = identity_pem {
        let identity = reqwest::Identity::from_pem(pem.as_bytes());
        let Ok(identity) = identity else {
            unreachable!("parse the client identity: {identity:?}")
        };
        builder = builder.identity(identity);
    }
    if let Some(version) = max_version {
        builder = builder.tls_version_max(version);
    }
    let built = builder.build();
    let Ok(client) = built else {
        unreachable!("build the HTTPS client: {built:?}")
    };
    client
}
