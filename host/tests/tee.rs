//! `/v1/tee/status` with an in-process local enclave, with none, and without a session.

mod common;

use common::{Backend, Options, TestServer, json};

async fn status(server: &TestServer) -> (u16, serde_json::Value) {
    json(
        server
            .http
            .get(format!("{}/v1/tee/status", server.url))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_local_enclave_started_by_the_host_is_attested_and_its_claims_reported() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca").to_str().unwrap().to_owned();
    let opts = Options {
        database: false,
        extra_env: vec![
            ("AILERON_TEE_PROVIDER".into(), "local".into()),
            ("AILERON_LOCAL_CA_DIR".into(), ca),
        ],
        ..Options::default()
    };
    let server = TestServer::start_with(Backend::Sqlite, opts).await;
    let (code, body) = status(&server).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["provider"], "local");
    assert_eq!(body["attested"], true, "{body}");
    assert_eq!(body["claims"]["hwmodel"], "LOCAL_INSECURE");
    assert_eq!(body["boot_id"].as_str().unwrap().len(), 32);
    server.stop().await;
}

#[tokio::test]
async fn without_a_tee_the_status_says_so() {
    let server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            database: false,
            ..Options::default()
        },
    )
    .await;
    let (code, body) = status(&server).await;
    assert_eq!(code, 200);
    assert_eq!(body["provider"], "disabled");
    assert_eq!(body["attested"], false);
    server.stop().await;
}

#[tokio::test]
async fn the_status_needs_a_session_when_auth_is_on() {
    let server = TestServer::start(Backend::Sqlite).await;
    let (code, _) = status(&server).await;
    assert_eq!(code, 401);
    server.stop().await;
}
