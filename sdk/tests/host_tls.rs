//! `HostClient` over real HTTPS (rustls): a host behind a private CA is reached only when that
//! CA is given (`AILERON_CA_CERT` for the CLI), and refused otherwise.

use std::sync::Arc;

use aileron_sdk::{Error, HostClient};
use secrecy::{ExposeSecret as _, SecretString};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// An HTTPS server for `localhost` with a certificate of its own (its own trust anchor) that
/// answers every request like a successful `POST /auth/login`.
async fn private_host() -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
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
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = vec![0; 8192];
                let _ = tls.read(&mut buf).await;
                let body = r#"{"access_token":"a.b.c"}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, cert.cert.pem())
}

fn password() -> SecretString {
    SecretString::from("a long password".to_owned())
}

#[tokio::test]
async fn a_host_behind_a_private_ca_is_reached_with_that_ca_only() {
    let (url, ca) = private_host().await;
    let token = HostClient::login(&url, "me@example.com", &password(), Some(ca.as_bytes()))
        .await
        .unwrap();
    assert_eq!(token.expose_secret(), "a.b.c");

    let without = HostClient::login(&url, "me@example.com", &password(), None).await;
    assert!(matches!(without, Err(Error::Host(_))), "{without:?}");

    let (_, other_ca) = private_host().await;
    let wrong = HostClient::login(
        &url,
        "me@example.com",
        &password(),
        Some(other_ca.as_bytes()),
    )
    .await;
    assert!(matches!(wrong, Err(Error::Host(_))), "{wrong:?}");
}

#[tokio::test]
async fn a_ca_file_without_a_certificate_is_refused_up_front() {
    let result = HostClient::with_roots(
        "https://localhost:1",
        SecretString::from("t".to_owned()),
        Some(b"not a pem file"),
    );
    assert!(matches!(result, Err(Error::Invalid(m)) if m.contains("no certificate")));
}
