//! TLS 1.3 with rustls, and mTLS: client certificates from Warden's CA (and an optional extra CA) are
//! verified in the handshake and handed to the handlers, which map them to exactly one agent.
//!
//! axum's own `serve` does not expose the peer certificate, hence this small accept loop.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::{ClientAuth, TlsConfig};
use crate::extract::PeerCertificate;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read `{path}`: {reason}")]
    Pem { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem_error = |reason: String| TlsError::Pem {
        path: path.display().to_string(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem_error("no certificate in the file".into()));
    }
    Ok(certs)
}

/// The rustls server configuration: TLS 1.3 only, client certificates verified against Warden's CA.
pub fn server_config(tls: &TlsConfig, warden_ca_der: &[u8]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = certificates(&tls.cert)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| TlsError::Pem {
        path: tls.key.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(warden_ca_der.to_vec()))
        .map_err(|e| TlsError::Config(format!("Warden's CA certificate: {e}")))?;
    if let Some(extra) = &tls.client_ca {
        for cert in certificates(extra)? {
            roots
                .add(cert)
                .map_err(|e| TlsError::Config(format!("client CA: {e}")))?;
        }
    }
    let builder = WebPkiClientVerifier::builder(Arc::new(roots));
    let verifier = match tls.client_auth {
        ClientAuth::Optional => builder.allow_unauthenticated().build(),
        ClientAuth::Required => builder.build(),
    }
    .map_err(|e| TlsError::Config(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_protocol_versions(&[&rustls::version::TLS13])
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `app` over TLS until `shutdown` resolves, then lets open connections finish.
pub async fn serve(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(config);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match acceptor.accept(stream).await {
                Ok(tls) => tls,
                Err(error) => {
                    tracing::debug!(%peer, %error, "TLS handshake failed");
                    return;
                }
            };
            let peer_certificate = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|cert| PeerCertificate(Arc::new(cert.as_ref().to_vec())));
            let service = app.map_request(move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                if let Some(cert) = &peer_certificate {
                    request.extensions_mut().insert(cert.clone());
                }
                request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                request.map(axum::body::Body::new)
            });
            let connection = Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), TowerToHyperService::new(service))
                .into_owned();
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}
