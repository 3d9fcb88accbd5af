//! `HostClient` over real HTTPS (rustls): a host behind a private CA is reached only when that
//! CA is given (`AILERON_CA_CERT` for the CLI), and refused otherwise.

use aileron_sdk::{Error, HostClient};
use aileron_testkit::https_server;
use secrecy::{ExposeSecret as _, SecretString};

/// A host behind a CA of its own that answers every request like a successful login.
async fn private_host() -> (String, String) {
    let server = https_server(|_, _| {
        (
            200,
            r#"{"access_token":"a.b.c","refresh_token":"r","expires_in":900}"#.to_owned(),
        )
    })
    .await;
    (server.url, server.root_pem)
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
    assert_eq!(token.access_token.expose_secret(), "a.b.c");
    assert_eq!(token.refresh_token.expose_secret(), "r");

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

#[tokio::test]
async fn a_hostile_host_cannot_make_the_client_read_an_unbounded_answer() {
    // 40 MiB of JSON, over the client's 32 MiB cap; the server declares its length.
    let huge = format!("[\"{}\"]", "x".repeat(40 * 1024 * 1024));
    let server = https_server(move |_, _| (200, huge.clone())).await;
    let host = HostClient::with_roots(
        &server.url,
        SecretString::from("t".to_owned()),
        Some(server.root_pem.as_bytes()),
    )
    .unwrap();
    match host.escrows().await {
        Err(Error::Host(message)) => assert!(message.contains("larger than"), "{message}"),
        other => panic!("{other:?}"),
    }
}
