//! The attestation relay cannot be used to make a client seal to the wrong key: the client
//! verifies what the host relays against its own policy and the binding of the enclave's keys,
//! and sends nothing when that fails. The enclave runs as a real process.

mod common;

use std::sync::{Arc, Mutex};

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_sdk::vault::CredentialPolicy;
use aileron_sdk::vault::client as vault;
use aileron_sdk::wire::{AllowRule, Inject, Scope};
use aileron_sdk::{Error, HostClient};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use common::e2e::Enclave;
use common::{Backend, Options, ROTATED_SIGNING_KEY, TestServer};
use secrecy::SecretString;
use serde_json::{Value, json};

fn scope() -> Scope {
    Scope {
        allow: vec![AllowRule {
            methods: vec!["GET".into()],
            url_prefix: "https://api.example.com/".into(),
        }],
        inject: Inject::bearer(),
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
            extra_env: enclave.host_env(),
            ..Options::default()
        },
    )
    .await
}

/// An enclave process, a host using it, and the access token of a signed-up user.
async fn setup(email: &str) -> (tempfile::TempDir, Enclave, TestServer, String) {
    let dir = tempfile::tempdir().unwrap();
    let enclave = Enclave::start(dir.path());
    let server = server_with(&enclave).await;
    let session = server.verified_account(email, "a long password").await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    (dir, enclave, server, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_the_enclave_does_not_satisfy_stops_the_client_before_it_seals() {
    let (_dir, enclave, server, token) = setup("relay@example.com").await;
    let host = HostClient::new(&server.url, SecretString::from(token.clone())).unwrap();

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
    // The default local policy refuses an enclave started with private upstreams allowed: its
    // token shows the setting.
    let default = Policy::local("aileron-enclave", vec![enclave.digest()]).unwrap();
    let err = host
        .escrow("dev", b"secret-3", &scope(), &default, &verifier(&enclave))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Attestation(r) if r.check == aileron_attest::Check::Environment),
        "{err}"
    );
    let names: Vec<String> = host
        .escrows()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["ok"]);

    // A scope changed after sealing (here: widened to every host) no longer opens in the enclave,
    // and bytes that are not a seal at all are refused: nothing is registered either way.
    let post = |path: &str, body: Value| {
        server
            .http
            .post(format!("{}{path}", server.url))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let (status, attestation) = common::json(
        post("/v1/tee/attestation", json!({"nonce": "a-fresh-nonce-123"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{attestation}");
    let key =
        aileron_sdk::wire::from_b64u(attestation["hpke_public_key"].as_str().unwrap()).unwrap();
    let scope_bytes = serde_json::to_vec(&scope()).unwrap();
    let (enc, ciphertext) = aileron_sdk::seal::seal(&key, b"secret-3", &scope_bytes).unwrap();
    let mut wider = scope();
    wider.allow[0].url_prefix = "https://".into();
    let b64 = aileron_sdk::wire::b64u;
    for (name, scope_bytes, enc) in [
        ("widened", serde_json::to_vec(&wider).unwrap(), enc.clone()),
        ("garbage", scope_bytes.clone(), vec![7u8; 32]),
    ] {
        let body = json!({"name": name, "scope": b64(&scope_bytes), "enc": b64(&enc), "ciphertext": b64(&ciphertext)});
        let (status, body) = common::json(post("/v1/escrows", body).await.unwrap()).await;
        assert_eq!(
            (status, common::code(&body)),
            (400, "sealed_payload_invalid"),
            "{name}: {body}"
        );
    }
    let body = json!({"name": "intact", "scope": b64(&scope_bytes), "enc": b64(&enc), "ciphertext": b64(&ciphertext)});
    let (status, body) = common::json(post("/v1/escrows", body).await.unwrap()).await;
    assert_eq!(
        status, 201,
        "the same seal with its own scope opens: {body}"
    );
    let names: Vec<String> = host
        .escrows()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["intact", "ok"]);

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
    let (_dir, enclave, server, token) = setup("mitm@example.com").await;
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
        matches!(err, Error::BindingMismatch),
        "the binding no longer matches: {err}"
    );
    assert_eq!(
        *tampering.escrows_received.lock().unwrap(),
        0,
        "nothing was sent"
    );
    server.stop().await;
}

/// The vault of `token`'s user, made and opened with the SDK's client side, with one credential
/// for `upstream`, unlocked (escrowed into the enclave).
async fn unlocked_vault(
    server: &TestServer,
    token: &str,
    enclave: &Enclave,
    upstream: &common::e2e::Upstream,
) -> (HostClient, vault::Opened) {
    let host = HostClient::new(&server.url, SecretString::from(token.to_owned())).unwrap();
    vault::create(&host, SecretString::from(PASSPHRASE))
        .await
        .unwrap();
    let opened = vault::open(&host, SecretString::from(PASSPHRASE))
        .await
        .unwrap();
    let rules = vec![AllowRule {
        methods: vec!["GET".into()],
        url_prefix: upstream.url("/api/"),
    }];
    opened
        .add_credential(
            &host,
            "gh",
            &CredentialPolicy::bearer(rules, None),
            b"s3cret-value",
        )
        .await
        .unwrap();
    let policy = Policy::load(&enclave.policy_file()).unwrap();
    let unlocked = opened
        .unlock(&host, &policy, &verifier(enclave))
        .await
        .unwrap();
    assert_eq!((unlocked.trust.as_str(), unlocked.escrowed), ("enclave", 1));
    (host, opened)
}

const PASSPHRASE: &str = "the vault passphrase of several words";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_signing_key_changes_escrows_are_lost_with_a_way_back_not_a_500() {
    let dir = tempfile::tempdir().unwrap();
    let enclave = Enclave::start(dir.path());
    let upstream = common::e2e::Upstream::start().await;
    let first = TestServer::start_with(
        Backend::Postgres,
        Options {
            extra_env: enclave.host_env(),
            ..Options::default()
        },
    )
    .await;
    let password = "a long password";
    let session = first.verified_account("rotate@example.com", password).await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    unlocked_vault(&first, &token, &enclave, &upstream).await;
    let get = json!({"method": "GET", "url": upstream.url("/api/x")});
    let (status, _) = first
        .call(
            "POST",
            "/v1/credentials/gh/requests",
            &token,
            Some(get.clone()),
        )
        .await;
    assert_eq!(status, 200);

    // The same database, a new signing key: the sealed handles no longer open.
    let second = TestServer::start_with(
        Backend::Postgres,
        Options {
            database: false,
            database_url: Some(first.db.as_ref().unwrap().url.clone()),
            extra_env: [
                enclave.host_env(),
                vec![("AILERON_JWT_SIGNING_KEY".into(), ROTATED_SIGNING_KEY.into())],
            ]
            .concat(),
            ..Options::default()
        },
    )
    .await;
    let (status, session) = second
        .call(
            "POST",
            "/auth/login",
            "",
            Some(json!({"email": "rotate@example.com", "password": password, "delivery": "body"})),
        )
        .await;
    assert_eq!(status, 200, "{session}");
    let token = session["access_token"].as_str().unwrap().to_owned();
    let (status, body) = second
        .call(
            "POST",
            "/v1/credentials/gh/requests",
            &token,
            Some(get.clone()),
        )
        .await;
    assert_eq!(
        (status, common::code(&body)),
        (409, "escrow_lost"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unlock the vault again")
    );
    // The way back: unlock again; the credential is escrowed anew and works.
    let host = HostClient::new(&second.url, SecretString::from(token.clone())).unwrap();
    let opened = vault::open(&host, SecretString::from(PASSPHRASE))
        .await
        .unwrap();
    let policy = Policy::load(&enclave.policy_file()).unwrap();
    opened
        .unlock(&host, &policy, &verifier(&enclave))
        .await
        .unwrap();
    let (status, body) = second
        .call("POST", "/v1/credentials/gh/requests", &token, Some(get))
        .await;
    assert_eq!(status, 200, "{body}");
    second.stop().await;
    first.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_enclave_is_reported_and_refused_clearly_then_recovered() {
    let (_dir, mut enclave, server, token) = setup("down@example.com").await;
    let upstream = common::e2e::Upstream::start().await;
    let (host, opened) = unlocked_vault(&server, &token, &enclave, &upstream).await;
    let get = json!({"method": "GET", "url": upstream.url("/api/x")});
    let call = |method: &str, path: &str, body: Value| {
        let (server, token) = (&server, &token);
        let (method, path) = (method.to_owned(), path.to_owned());
        async move { server.call(&method, &path, token, Some(body)).await }
    };

    enclave.stop();
    let (_, status) = call("GET", "/v1/tee/status", json!(null)).await;
    assert_eq!(status["attested"], false, "{status}");
    assert!(
        status["reason"].as_str().unwrap().contains("enclave"),
        "{status}"
    );
    let (status, body) = call("POST", "/v1/credentials/gh/requests", get.clone()).await;
    assert_eq!(
        (status, common::code(&body)),
        (503, "enclave_unavailable"),
        "{body}"
    );
    assert!(upstream.seen().is_empty());
    // Unlocking says why nothing could be escrowed.
    let policy = Policy::load(&enclave.policy_file()).unwrap();
    match opened.unlock(&host, &policy, &verifier(&enclave)).await {
        Err(Error::Api { code, .. }) => assert_eq!(code.as_str(), "enclave_unavailable"),
        other => panic!("{other:?}"),
    }

    // Back (a new boot): lost escrows are reported; unlocking again restores the service.
    enclave.restart();
    let (_, status) = call("GET", "/v1/tee/status", json!(null)).await;
    assert_eq!(status["attested"], true, "{status}");
    assert_eq!(status["escrows_lost"], 1, "{status}");
    opened
        .unlock(&host, &policy, &verifier(&enclave))
        .await
        .unwrap();
    let (status, body) = call("POST", "/v1/credentials/gh/requests", get).await;
    assert_eq!(status, 200, "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_enclave_the_server_takes_no_key_and_escrows_only_the_stored_policy() {
    let (_dir, enclave, server, token) = setup("nokey@example.com").await;
    let upstream = common::e2e::Upstream::start().await;
    let (host, opened) = unlocked_vault(&server, &token, &enclave, &upstream).await;
    // No server-trust session with an enclave: the server never holds a key.
    let body = json!({"verifier": aileron_sdk::wire::b64u(&[1; 32]), "credential_key": aileron_sdk::wire::b64u(&[2; 32])});
    let (status, answer) = server
        .call("POST", "/v1/vault/session", &token, Some(body))
        .await;
    assert_eq!(
        (status, common::code(&answer)),
        (409, "server_trust_disabled"),
        "{answer}"
    );
    assert!(matches!(
        opened.unlock_server_trust(&host).await,
        Err(Error::Api {
            code: aileron_sdk::wire::ErrorCode::ServerTrustDisabled,
            ..
        })
    ));
    // A sealed scope wider than the stored policy is refused, and the live escrow is kept.
    let policy = Policy::load(&enclave.policy_file()).unwrap();
    let attested = host.attest(&policy, &verifier(&enclave)).await.unwrap();
    let mut wider = scope();
    wider.allow[0].url_prefix = upstream.url("/");
    let sealed = attested.seal(b"s3cret-value", &wider).unwrap();
    let (status, answer) = server
        .call(
            "POST",
            "/v1/credentials/gh/escrow",
            &token,
            Some(serde_json::to_value(&sealed).unwrap()),
        )
        .await;
    assert_eq!(
        (status, common::code(&answer)),
        (400, "invalid_scope"),
        "{answer}"
    );
    let listed = host.credentials().await.unwrap();
    assert_eq!(listed[0].escrow.as_ref().unwrap().status, "active");
    server.stop().await;
}

/// An agent token's credential is read while the token is checked (one round trip): the rows
/// read ahead are used only for a live token, and only its owner's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_tokens_read_ahead_serves_only_a_live_token_and_only_its_owner() {
    let (_dir, enclave, server, token) = setup("ahead@example.com").await;
    let upstream = common::e2e::Upstream::start().await;
    let _vault = unlocked_vault(&server, &token, &enclave, &upstream).await;
    let create = |owner: String, body: Value| {
        let server = &server;
        async move {
            let (status, agent) = server
                .call("POST", "/v1/agent-tokens", &owner, Some(body))
                .await;
            assert_eq!(status, 201, "{agent}");
            (
                agent["token"].as_str().unwrap().to_owned(),
                agent["id"].as_str().unwrap().to_owned(),
            )
        }
    };
    let request = |agent: String| {
        let server = &server;
        let body = json!({"method": "GET", "url": upstream.url("/api/ahead")});
        async move {
            server
                .call("POST", "/v1/credentials/gh/requests", &agent, Some(body))
                .await
        }
    };
    let (agent, agent_id) = create(token.clone(), json!({"name": "bot"})).await;
    let (status, answer) = request(agent.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let seen = upstream.seen();
    let auth = seen
        .last()
        .unwrap()
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Bearer s3cret-value"));

    // Another user's token naming the same credential reaches nothing of the first user's.
    let stranger = server
        .verified_account("stranger@example.com", "a long password")
        .await;
    let stranger = stranger["access_token"].as_str().unwrap().to_owned();
    let (theirs, _) = create(stranger, json!({"name": "bot"})).await;
    let (status, answer) = request(theirs).await;
    assert_eq!((status, common::code(&answer)), (404, "not_found"));

    // A token restricted to other names does not see it.
    let (narrow, _) = create(
        token.clone(),
        json!({"name": "narrow", "credentials": ["other"]}),
    )
    .await;
    let (status, answer) = request(narrow).await;
    assert_eq!((status, common::code(&answer)), (404, "not_found"));

    // A suspended owner's token is refused, though its rows were read.
    let db = server.db.as_ref().unwrap().url.clone();
    common::execute(
        &db,
        "UPDATE users SET status = 'suspended' WHERE email = 'ahead@example.com'".into(),
    )
    .await;
    let (status, answer) = request(agent.clone()).await;
    assert_eq!((status, common::code(&answer)), (403, "account_suspended"));
    common::execute(
        &db,
        "UPDATE users SET status = 'active' WHERE email = 'ahead@example.com'".into(),
    )
    .await;
    assert_eq!(request(agent.clone()).await.0, 200, "restored");

    // A revoked token, and an expired one, are refused.
    let (status, _) = server
        .call(
            "DELETE",
            &format!("/v1/agent-tokens/{agent_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, answer) = request(agent).await;
    assert_eq!((status, common::code(&answer)), (401, "invalid_token"));
    let (short, _) = create(token.clone(), json!({"name": "short", "expires_in": 3600})).await;
    assert_eq!(request(short.clone()).await.0, 200);
    server.clock.advance(3601);
    let (status, answer) = request(short).await;
    assert_eq!(
        (status, common::code(&answer)),
        (401, "invalid_token"),
        "expired"
    );
    server.stop().await;
}
