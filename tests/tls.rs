//! TLS on the wire: a test CA and a certificate for `127.0.0.1` / `localhost` made here with
//! rcgen, served by tokio-rustls and hyper with ALPN `h2` and `http/1.1`. The server counts
//! the TCP connections it accepts (each one is a handshake attempt), the handshakes that
//! complete, and the requests with their HTTP version and `Authorization` header.
//!
//! Every test runs for each TLS backend compiled in: rustls always (the default feature),
//! native-tls with `--features native-tls`.
#![cfg(all(feature = "novaconnect", any(feature = "rustls", feature = "native-tls")))]

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use userapi::{Certificate, ClientBuilder, Error, ErrorKind, TlsBackend, TransportKind};

use crate::support::client_builder;

const TOKEN: &str = "t0ken-for-tls";

/// A CA and a leaf certificate it signed for `localhost` and `127.0.0.1`.
struct Pki {
    ca_pem: String,
    ca_der: Vec<u8>,
    leaf_der: CertificateDer<'static>,
    leaf_key: Vec<u8>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "userapi test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "localhost");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().to_vec(),
        leaf_der: leaf_cert.der().clone(),
        leaf_key: leaf_key.serialize_der(),
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    version: Version,
    path: String,
    authorization: Option<String>,
}

struct TlsServer {
    port: u16,
    /// TCP connections accepted: each is one TLS handshake attempt.
    connections: Arc<AtomicUsize>,
    /// Handshakes that completed.
    handshakes: Arc<AtomicUsize>,
    /// The ALPN protocol of each completed handshake.
    alpn: Arc<Mutex<Vec<Option<Vec<u8>>>>>,
    requests: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsServer {
    async fn start(pki: &Pki) -> TlsServer {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![pki.leaf_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.leaf_key.clone())),
            )
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let alpn = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (c, h, a, r) = (
            Arc::clone(&connections),
            Arc::clone(&handshakes),
            Arc::clone(&alpn),
            Arc::clone(&requests),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let (acceptor, h, a, r) = (acceptor.clone(), Arc::clone(&h), Arc::clone(&a), Arc::clone(&r));
                tokio::spawn(async move {
                    // A refused handshake ends here: the client said no to the certificate.
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    h.fetch_add(1, Ordering::SeqCst);
                    a.lock()
                        .unwrap()
                        .push(tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec));
                    let service = service_fn(move |req: Request<Incoming>| {
                        let r = Arc::clone(&r);
                        async move { Ok::<_, Infallible>(answer(req, &r).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        TlsServer {
            port,
            connections,
            handshakes,
            alpn,
            requests,
            task,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/api/", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    fn requests(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }
}

/// NovaConnect's `user/get`: the bearer is checked, the answer is the envelope.
async fn answer(req: Request<Incoming>, log: &Mutex<Vec<Seen>>) -> Response<Full<Bytes>> {
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    log.lock().unwrap().push(Seen {
        version: req.version(),
        path: req.uri().path().to_owned(),
        authorization: authorization.clone(),
    });
    let _ = req.into_body().collect().await;
    let (status, body) = if authorization.as_deref() == Some(&format!("Bearer {TOKEN}")) {
        (
            200,
            r#"{"code":200,"message":"OK","result":{"item":{"first_name":"A"}}}"#,
        )
    } else {
        (401, r#"{"code":401,"message":"Unauthorized"}"#)
    };
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

/// Sets a client up for one TLS backend.
type Backend = fn(ClientBuilder) -> ClientBuilder;

/// The TLS backends compiled in, each with a builder that uses it.
fn backends() -> Vec<(&'static str, Backend)> {
    vec![
        #[cfg(feature = "rustls")]
        ("rustls", |b| b.tls_backend(TlsBackend::Rustls)),
        #[cfg(feature = "native-tls")]
        ("native-tls", |b| b.tls_backend(TlsBackend::NativeTls)),
    ]
}

fn builder(server: &TlsServer) -> ClientBuilder {
    client_builder(server.url()).bearer(TOKEN)
}

/// Each cause's text appears once in `text`.
fn each_once(text: &str, err: &Error) {
    let ErrorKind::Transport(t) = err.kind() else {
        panic!("not a transport error: {err:?}");
    };
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(t.cause());
    while let Some(c) = cause {
        let part = c.to_string();
        if !part.is_empty() {
            assert!(text.contains(&part), "{text:?} lacks the cause {part:?}");
            assert_eq!(text.matches(&part).count(), 1, "{part:?} repeats in {text:?}");
        }
        cause = c.source();
    }
}

#[tokio::test]
async fn an_untrusted_certificate_fails_once_as_tls() {
    let pki = pki();
    for (name, backend) in backends() {
        let server = TlsServer::start(&pki).await;
        let client = backend(builder(&server)).build().unwrap();
        let err = client.novaconnect().get_me().await.unwrap_err();
        let ErrorKind::Transport(t) = err.kind() else {
            panic!("{name}: not a transport error: {err:?}");
        };
        assert_eq!(t.kind(), TransportKind::Tls, "{name}: {err}");
        assert!(!err.is_retryable(), "{name}: {err}");
        // The default policy retries connection failures: a TLS failure is not one.
        assert_eq!(server.connections(), 1, "{name}: handshake attempts");
        assert_eq!(server.handshakes(), 0, "{name}");
        assert!(server.requests().is_empty(), "{name}");
        let text = err.to_string();
        assert!(text.contains("certificate"), "{name}: {text}");
        assert!(text.starts_with("POST /api/user/get: "), "{name}: {text}");
        each_once(&text, &err);
        // As anyhow's `{:#}` prints it: the error, then each `source()` in turn.
        let mut chain = text.clone();
        let mut cause = std::error::Error::source(&err);
        while let Some(c) = cause {
            chain.push_str(": ");
            chain.push_str(&c.to_string());
            cause = c.source();
        }
        each_once(&chain, &err);
    }
}

/// A call that succeeds went over one handshake, negotiated h2 by ALPN, and carried the bearer.
fn assert_one_h2_call(name: &str, server: &TlsServer) {
    assert_eq!(server.connections(), 1, "{name}");
    assert_eq!(server.handshakes(), 1, "{name}");
    assert_eq!(
        server.alpn.lock().unwrap().as_slice(),
        &[Some(b"h2".to_vec())],
        "{name}: ALPN"
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 1, "{name}: {seen:?}");
    assert_eq!(seen[0].version, Version::HTTP_2, "{name}");
    assert_eq!(seen[0].path, "/api/user/get", "{name}");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str()),
        "{name}"
    );
}

#[tokio::test]
async fn a_pem_root_makes_the_call_succeed_over_h2() {
    let pki = pki();
    for (name, backend) in backends() {
        let server = TlsServer::start(&pki).await;
        let client = backend(builder(&server))
            .add_root_certificate(Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
            .build()
            .unwrap();
        let me = client.novaconnect().get_me().await.unwrap();
        assert_eq!(me.first_name.as_deref(), Some("A"), "{name}");
        assert_one_h2_call(name, &server);
    }
}

#[tokio::test]
async fn a_der_root_makes_the_call_succeed_over_h2() {
    let pki = pki();
    for (name, backend) in backends() {
        let server = TlsServer::start(&pki).await;
        let client = backend(builder(&server))
            .add_root_certificate(Certificate::from_der(&pki.ca_der).unwrap())
            .build()
            .unwrap();
        let me = client.novaconnect().get_me().await.unwrap();
        assert_eq!(me.first_name.as_deref(), Some("A"), "{name}");
        assert_one_h2_call(name, &server);
    }
}

#[tokio::test]
async fn without_built_in_roots_only_the_added_ones_are_trusted() {
    let pki = pki();
    for (name, backend) in backends() {
        let server = TlsServer::start(&pki).await;
        let client = backend(builder(&server))
            .tls_built_in_root_certs(false)
            .add_root_certificate(Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
            .build()
            .unwrap();
        let me = client.novaconnect().get_me().await.unwrap();
        assert_eq!(me.first_name.as_deref(), Some("A"), "{name}");
        assert_one_h2_call(name, &server);

        // With no root at all, nothing is trusted: one refused handshake, not retried.
        let server = TlsServer::start(&pki).await;
        let client = backend(builder(&server))
            .tls_built_in_root_certs(false)
            .build()
            .unwrap();
        let err = client.novaconnect().get_me().await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Transport(t) if t.kind() == TransportKind::Tls),
            "{name}: {err}"
        );
        assert_eq!(server.connections(), 1, "{name}");
        assert!(server.requests().is_empty(), "{name}");
    }
}

/// Another CA's root does not make the server's certificate trusted.
#[tokio::test]
async fn another_ca_does_not_help() {
    let (pki, other) = (pki(), pki());
    for (name, backend) in backends() {
        let server = TlsServer::start(&pki).await;
        let client = backend(builder(&server))
            .add_root_certificate(Certificate::from_pem(other.ca_pem.as_bytes()).unwrap())
            .build()
            .unwrap();
        let err = client.novaconnect().get_me().await.unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Transport(t) if t.kind() == TransportKind::Tls),
            "{name}: {err}"
        );
        assert!(err.to_string().contains("certificate"), "{name}: {err}");
        assert_eq!(server.connections(), 1, "{name}");
    }
}

/// A builder made with the re-exported reqwest is accepted by `http_client` (a reqwest of
/// another version would be another type); its own TLS settings and the crate's compose.
#[tokio::test]
async fn a_users_builder_from_the_reexported_reqwest() {
    let pki = pki();
    let server = TlsServer::start(&pki).await;
    let ca = || userapi::reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    // The root on the user's builder.
    let own = userapi::reqwest::Client::builder().tls_certs_only([ca()]);
    let client = builder(&server).http_client(own).build().unwrap();
    let me = client.novaconnect().get_me().await.unwrap();
    assert_eq!(me.first_name.as_deref(), Some("A"));
    assert_one_h2_call("the builder's root", &server);
    // The root through `add_root_certificate` on a plain builder of the user's.
    let server = TlsServer::start(&pki).await;
    let client = builder(&server)
        .http_client(userapi::reqwest::Client::builder())
        .add_root_certificate(Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    client.novaconnect().get_me().await.unwrap();
    assert_one_h2_call("add_root_certificate", &server);
}
