//! HTTPS with a self-signed certificate made here and pinned in the client.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::{config, data, id, server_config};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use pishkhan_tus::Metadata;
use pishkhan_tus::client::{Client, Error, NetworkKind, Trust, Url};
use pishkhan_tus::fault::{At, Fault, Mode, Proxy, Rule};
use pishkhan_tus::server::{self, MemoryStore};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Serves the tus router over TLS for `localhost`; returns the address and
/// the certificate's PEM.
async fn serve_tls(store: Arc<MemoryStore>) -> (SocketAddr, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = server::router(store, server_config());
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // Handshakes fail on purpose in some tests.
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, made.cert.pem())
}

fn https(port: u16) -> Url {
    Url::parse(&format!("https://localhost:{port}/files/")).unwrap()
}

fn client(port: u16, trust: Trust, attempts: u32) -> Client {
    let mut config = config(https(port), attempts);
    config.trust = trust;
    Client::new(config).unwrap()
}

#[tokio::test]
async fn pinned_self_signed_certificate() {
    let store = Arc::new(MemoryStore::new());
    let (addr, pem) = serve_tls(Arc::clone(&store)).await;
    let client = client(addr.port(), Trust::pinned_pem(pem.as_bytes()).unwrap(), 0);
    let payload = data(50_000);
    let outcome = client
        .upload(&payload, &Metadata::new(), None, 16 * 1024, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(outcome.url.scheme(), "https");
    assert_eq!(store.data(&id(&outcome.url)).unwrap(), payload);
    // The same pinned certificate plus the system roots works too.
    let both = Trust::pinned_pem(pem.as_bytes())
        .unwrap()
        .with_system_roots();
    let status = client_with(addr.port(), both)
        .status(&outcome.url)
        .await
        .unwrap();
    assert_eq!(status.offset, 50_000);
}

fn client_with(port: u16, trust: Trust) -> Client {
    client(port, trust, 0)
}

#[tokio::test]
async fn untrusted_certificate_is_a_tls_error() {
    let (addr, _) = serve_tls(Arc::new(MemoryStore::new())).await;
    for trust in [Trust::default(), Trust::system()] {
        let err = client_with(addr.port(), trust)
            .create(10, &Metadata::new())
            .await
            .unwrap_err();
        let Error::Network { kind, detail } = &err else {
            panic!("{err}");
        };
        assert_eq!(*kind, NetworkKind::Tls, "{err}");
        assert!(detail.to_lowercase().contains("certificate"), "{detail}");
        assert!(!err.is_transient());
    }
    // Another certificate pinned: refused as well.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let trust = Trust::pinned_pem(other.cert.pem().as_bytes()).unwrap();
    let err = client_with(addr.port(), trust)
        .create(10, &Metadata::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Network {
                kind: NetworkKind::Tls,
                ..
            }
        ),
        "{err}"
    );
}

/// TLS through the proxy in raw mode: rate-limited, with a reset after
/// 60 000 bytes from the client on the first connection (mid-upload).
#[tokio::test]
async fn tls_through_the_raw_proxy() {
    let store = Arc::new(MemoryStore::new());
    let (addr, pem) = serve_tls(Arc::clone(&store)).await;
    let proxy = Proxy::start(addr, Mode::Raw).await.unwrap();
    proxy.set_rate_limit(Some(2_000_000));
    proxy.add(Rule::new(Fault::Reset(At::RequestBody(60_000))));
    let client = client(
        proxy.addr().port(),
        Trust::pinned_pem(pem.as_bytes()).unwrap(),
        3,
    );
    let payload = data(100_000);
    let outcome = client
        .upload(&payload, &Metadata::new(), None, 16 * 1024, |_, _, _| {})
        .await
        .unwrap();
    assert_eq!(store.data(&id(&outcome.url)).unwrap(), payload);
    let counts = proxy.counts();
    assert_eq!((counts.connections, counts.faults), (2, 1), "{counts:?}");
    assert!(outcome.sent > payload.len() as u64, "a chunk was resent");
    assert!(counts.to_server > payload.len() as u64, "{counts:?}");
    assert_eq!(counts.requests, 0, "raw mode does not parse requests");
}
