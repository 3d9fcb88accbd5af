//! Who may fill the enclave: escrows need an admission ticket from a configured key, each
//! subject is held to its quota, and attestation tokens are rate limited without starving the
//! host. An in-process enclave, so the tests can count what it holds.

mod common;

use std::sync::Arc;

use aileron_attest::{TrustAnchor, Verifier};
use aileron_sdk::admission::AdmissionSigner;
use aileron_sdk::wire::{AllowRule, Inject, Scope};
use aileron_sdk::{Client, Error};
use common::*;
use time::{Duration, OffsetDateTime};

struct InProcess {
    running: aileron_enclave::Running,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    dir: tempfile::TempDir,
}

async fn start(extra: &[(&str, &str)]) -> InProcess {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca").display().to_string();
    let key = admission_signer().public_key();
    let mut vars: Vec<(String, String)> = vec![
        ("AILERON_ENCLAVE_BIND".into(), "127.0.0.1".into()),
        ("AILERON_ENCLAVE_PORT".into(), "0".into()),
        ("AILERON_LOCAL_CA_DIR".into(), ca),
        ("AILERON_ENCLAVE_ADMISSION_KEYS".into(), key),
    ];
    vars.extend(extra.iter().map(|(k, v)| ((*k).into(), (*v).into())));
    let config = aileron_enclave::config::Config::from_lookup(|name| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = aileron_enclave::start(config, async move {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    InProcess {
        running,
        stop: Some(stop),
        dir,
    }
}

impl InProcess {
    fn client(&self) -> Client {
        let root = std::fs::read(self.dir.path().join("ca/root.pem")).unwrap();
        let verifier = Arc::new(Verifier::new(TrustAnchor::from_pem(&root).unwrap()));
        // The test binary is the executable here: its digest is what the enclave claims.
        let digest = aileron_enclave::attester::executable_digest().unwrap();
        let policy = aileron_attest::Policy::local("aileron-enclave", vec![digest]).unwrap();
        Client::new(&format!("https://{}", self.running.addr), policy, verifier)
    }
}

fn scope() -> Scope {
    Scope {
        allow: vec![AllowRule {
            methods: vec!["GET".into()],
            url_prefix: "https://api.example.com/".into(),
        }],
        inject: Inject::bearer(),
        expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
        max_uses: None,
    }
}

fn code<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::Api { code, .. }) => code.as_str().to_owned(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test]
async fn a_stranger_without_an_admission_cannot_create_one_escrow() {
    let enclave = start(&[]).await;
    let client = enclave.client();
    let stranger = AdmissionSigner::from_seed(&[99; 32]).unwrap();
    let signer = admission_signer();
    for (ticket, expected) in [
        ("".to_owned(), "admission_invalid"),
        ("not-a-ticket".to_owned(), "admission_invalid"),
        (
            stranger.sign("aileron-enclave", "me", 100, now()).unwrap(),
            "admission_invalid",
        ),
        (
            signer.sign("another-enclave", "me", 100, now()).unwrap(),
            "admission_invalid",
        ),
        (
            signer
                .sign("aileron-enclave", "me", 100, now() - 7200)
                .unwrap(),
            "admission_invalid",
        ),
    ] {
        assert_eq!(
            code(client.escrow(b"secret", &scope(), &ticket).await),
            expected,
            "{ticket}"
        );
    }
    assert_eq!(enclave.running.enclave.escrow_count(), 0);
    client.escrow(b"secret", &scope(), &ticket()).await.unwrap();
    assert_eq!(
        enclave.running.enclave.escrow_count(),
        1,
        "a valid ticket admits"
    );
}

#[tokio::test]
async fn one_subject_cannot_exhaust_another_subjects_capacity() {
    let enclave = start(&[("AILERON_ENCLAVE_MAX_ESCROWS_PER_SUBJECT", "3")]).await;
    let client = enclave.client();
    let greedy = ticket_for("greedy", 1_000_000);
    for _ in 0..3 {
        client.escrow(b"secret", &scope(), &greedy).await.unwrap();
    }
    assert_eq!(
        code(client.escrow(b"secret", &scope(), &greedy).await),
        "quota_exceeded",
        "the enclave's own cap bounds what a ticket grants"
    );
    let modest = ticket_for("modest", 1);
    client.escrow(b"secret", &scope(), &modest).await.unwrap();
    assert_eq!(
        code(client.escrow(b"secret", &scope(), &modest).await),
        "quota_exceeded",
        "the ticket's own quota"
    );
    assert_eq!(enclave.running.enclave.escrow_count(), 4);
}

#[tokio::test]
async fn attestation_floods_are_limited_without_starving_admitted_callers() {
    let enclave = start(&[("AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE", "2")]).await;
    let stranger = enclave.client();
    stranger.attest().await.unwrap();
    stranger.attest().await.unwrap();
    assert_eq!(code(stranger.attest().await), "rate_limited");
    let signer = Arc::new(admission_signer());
    let host = enclave.client().with_attestation_tickets(Arc::new(move || {
        signer.sign("aileron-enclave", "host", 0, now()).ok()
    }));
    host.attest().await.unwrap();
    // A relayed nonce already answered is served again without a new token.
    let nonce = "repeated-nonce-0123";
    let first = host.relay_attestation(nonce).await.unwrap();
    let again = stranger.relay_attestation(nonce).await.unwrap();
    assert_eq!(first.token, again.token);
}

#[tokio::test]
async fn a_stopped_enclave_keeps_nothing_alive() {
    let mut enclave = start(&[]).await;
    let client = enclave.client();
    client.escrow(b"secret", &scope(), &ticket()).await.unwrap();
    let boot = Arc::downgrade(&enclave.running.enclave);
    let _ = enclave.stop.take().unwrap().send(());
    let InProcess { running, dir, .. } = enclave;
    let aileron_enclave::Running { task, enclave, .. } = running;
    task.await.unwrap();
    drop(enclave);
    drop(client);
    drop(dir);
    assert!(
        boot.upgrade().is_none(),
        "the boot (and its HPKE private key) outlived the stop"
    );
}
