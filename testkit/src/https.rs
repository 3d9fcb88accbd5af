//! A minimal HTTPS server for tests of clients: real TLS (rustls, a certificate of its own for
//! `localhost`, which is also its trust anchor) and just enough HTTP/1.1 for one JSON answer per
//! connection.

use std::sync::Arc;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A running server.
pub struct HttpsServer {
    /// `https://localhost:<port>`.
    pub url: String,
    /// Its certificate (PEM): the root a client must trust to reach it.
    pub root_pem: String,
}

/// Starts a server; `answer(base_url, request_text)` gives each request's status and JSON body.
pub async fn https_server<F>(answer: F) -> HttpsServer
where
    F: Fn(&str, &str) -> (u16, String) + Send + Sync + 'static,
{
    https_server_with(
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap(),
        answer,
    )
    .await
}

/// As [`https_server`], with a certificate and key the caller made (and so knows).
pub async fn https_server_with<F>(
    cert: rcgen::CertifiedKey<rcgen::KeyPair>,
    answer: F,
) -> HttpsServer
where
    F: Fn(&str, &str) -> (u16, String) + Send + Sync + 'static,
{
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    let (answer, base) = (Arc::new(answer), url.clone());
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, answer, base) = (acceptor.clone(), answer.clone(), base.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0; 8192];
                let n = tls.read(&mut buf).await.unwrap_or(0);
                let (status, body) = answer(&base, &String::from_utf8_lossy(&buf[..n]));
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    HttpsServer {
        url,
        root_pem: cert.cert.pem(),
    }
}
