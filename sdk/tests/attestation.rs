//! The SDK's attest-verify-bind-pin sequence against a fake enclave that lies in one way at a
//! time: each lie is refused with its own error, before anything is sealed; the honest enclave
//! (the positive control) is accepted. Each test fails if its check is removed.

use std::sync::Arc;

use aileron_attest::{Check, Policy, TrustAnchor, Verifier};
use aileron_sdk::{Client, Error};
use aileron_testkit::{Lie, fake_enclave};

async fn attest(lie: Lie) -> Result<(), Error> {
    let dir = tempfile::tempdir().unwrap();
    let enclave = fake_enclave(lie, &dir.path().join("ca")).await;
    let anchor = TrustAnchor::from_pem(enclave.root_pem.as_bytes()).unwrap();
    let policy = Policy::local("aileron-enclave", vec![enclave.image_digest.clone()]).unwrap();
    let client = Client::new(&enclave.url, policy, Arc::new(Verifier::new(anchor)));
    client.attest().await.map(|_| ())
}

#[tokio::test]
async fn an_honest_enclave_is_attested() {
    attest(Lie::None).await.unwrap();
}

#[tokio::test]
async fn a_tls_key_other_than_the_attested_one_is_refused() {
    assert!(matches!(
        attest(Lie::OtherTlsKey).await,
        Err(Error::TlsKeyMismatch)
    ));
}

#[tokio::test]
async fn an_hpke_key_other_than_the_bound_one_is_refused() {
    assert!(matches!(
        attest(Lie::OtherHpkeKey).await,
        Err(Error::BindingMismatch)
    ));
}

#[tokio::test]
async fn a_binding_for_another_boot_is_refused() {
    assert!(matches!(
        attest(Lie::OtherBoot).await,
        Err(Error::BindingMismatch)
    ));
}

#[tokio::test]
async fn a_token_for_another_nonce_is_refused() {
    match attest(Lie::OtherNonce).await {
        Err(Error::Attestation(rejection)) => assert_eq!(rejection.check, Check::Nonce),
        other => panic!("{other:?}"),
    }
}
