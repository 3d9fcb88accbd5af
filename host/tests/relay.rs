//! The attestation relay cannot be used to make a client seal to the wrong key: the client
//! verifies what the host relays against its own policy and the binding of the enclave's keys,
//! and sends nothing when that fails. The enclave runs as a real process.

mod common;

use std::sync::{Arc, Mutex};

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_sdk::wire::{AllowRule, Inject, Scope};
use aileron_sdk::{Error, HostClient};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::e2e::Enclave;
use common::{Backend, Options, TestServer};
use secrecy::SecretString;
use serde_json::{Value, json};

fn scope() -> Scope {
    Scope {
        allow: vec![AllowRule {
            methods: vec!["GET".into()],
            url_prefix: "https://api.example.com/".into(),
        }],
        inject: Inject {
            header: "Authorization".into(),
            format: "Bearer {secret}".into(),
        },
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        max_uses: None,
    }
}

fn verifier(enclave: &Enclave) -> Arc<Verifier> {
    let pem = std::fs::read(enclave.ca_dir().join("root.pem")).unwrap();
    Arc::new(Verifier::new(TrustAnchor::from_pem(&pem).unwrap()))
}

async fn server_with(enclave: &Enclave) -> TestServer {
    TestServer::start_with(
        Backend::Sqlite,
        Options {
            extra_env: vec![
                ("AILERON_TEE_PROVIDER".into(), "local".into()),
                ("AILERON_ENCLAVE_URL".into(), enclave.url()),
                ("AILERON_ENCLAVE_IMAGE_DIGEST".into(), enclave.digest()),
                (
                    "AILERON_LOCAL_CA_DIR".into(),
                    enclave.ca_dir().display().to_string(),
                ),
            ],
            ..Options::default()
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_the_enclave_does_not_satisfy_stops_the_client_before_it_seals() {
    let dir = tempfile::tempdir().unwrap();
    let enclave = Enclave::start(dir.path());
    let server = server_with(&enclave).await;
    let session = server
        .verified_account("relay@example.com", "a long password")
        .await;
    let token = SecretString::from(session["access_token"].as_str().unwrap().to_owned());
    let host = HostClient::new(&server.url, token).unwrap();

    // The right policy works.
    let good = Policy::load(&enclave.policy_file()).unwrap();
    let escrow = host
        .escrow("ok", b"secret-1", &scope(), &good, &verifier(&enclave))
        .await
        .unwrap();
    assert_eq!(escrow.status, "active");

    // Another image digest: refused by the client's own verification; nothing registered.
    let other = Policy::local(
        "aileron-enclave",
        vec![format!("sha256:{}", "0".repeat(64))],
    )
    .unwrap();
    let err = host
        .escrow("bad", b"secret-2", &scope(), &other, &verifier(&enclave))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Attestation(_)), "{err}");
    let names: Vec<String> = host
        .escrows()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["ok"]);

    // Google's root: the local chain does not verify.
    let err = host
        .escrow(
            "bad",
            b"secret-2",
            &scope(),
            &good,
            &Arc::new(Verifier::google()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Attestation(_)), "{err}");
    server.stop().await;
}

/// A host that relays the real enclave's attestation but swaps in its own HPKE key, and records
/// whether anything was then sent to it.
#[derive(Clone)]
struct Tampering {
    real: String,
    token: String,
    escrows_received: Arc<Mutex<usize>>,
}

async fn tampered_attestation(State(t): State<Tampering>, Json(body): Json<Value>) -> Json<Value> {
    let mut answer: Value = aileron_host::mail::http_client()
        .unwrap()
        .post(format!("{}/v1/tee/attestation", t.real))
        .bearer_auth(&t.token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, attacker_key) = aileron_sdk::seal::generate();
    answer["hpke_public_key"] = json!(aileron_sdk::wire::b64u(&aileron_sdk::seal::public_bytes(
        &attacker_key
    )));
    Json(answer)
}

async fn record_escrow(State(t): State<Tampering>) -> Json<Value> {
    *t.escrows_received.lock().unwrap() += 1;
    Json(json!({}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_swaps_the_enclave_key_gets_nothing_sealed_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let enclave = Enclave::start(dir.path());
    let server = server_with(&enclave).await;
    let session = server
        .verified_account("mitm@example.com", "a long password")
        .await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    let tampering = Tampering {
        real: server.url.clone(),
        token: token.clone(),
        escrows_received: Arc::new(Mutex::new(0)),
    };
    let app = Router::new()
        .route("/v1/tee/attestation", post(tampered_attestation))
        .route("/v1/escrows", post(record_escrow))
        .with_state(tampering.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let host = HostClient::new(&format!("http://{addr}"), SecretString::from(token)).unwrap();
    let policy = Policy::load(&enclave.policy_file()).unwrap();
    let err = host
        .escrow(
            "x",
            b"never-sealed-to-the-host",
            &scope(),
            &policy,
            &verifier(&enclave),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Attestation(_)),
        "the binding no longer matches: {err}"
    );
    assert_eq!(
        *tampering.escrows_received.lock().unwrap(),
        0,
        "nothing was sent"
    );
    server.stop().await;
}
