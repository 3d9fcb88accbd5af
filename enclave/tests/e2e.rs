//! End to end: a real `aileron-enclave` process over HTTPS, the SDK as its client, a recording
//! upstream. Local mode and the Confidential Space path through the stand-in launcher.

mod common;

use std::path::Path;
use std::sync::Arc;

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_sdk::wire::{AllowRule, BrokeredRequest, EscrowRequest, Inject, Scope};
use aileron_sdk::{Client, Error, Escrow};
use aileron_testkit::{StandInLauncher, Upstream};
use common::*;
use secrecy::ExposeSecret as _;
use time::{Duration, OffsetDateTime};

fn scope(prefix: &str, methods: &[&str], max_uses: Option<u64>) -> Scope {
    Scope {
        allow: vec![AllowRule {
            methods: methods.iter().map(|m| (*m).to_owned()).collect(),
            url_prefix: prefix.to_owned(),
        }],
        inject: Inject::bearer(),
        expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
        max_uses,
    }
}

/// Escrows [`SECRET`] for GET requests anywhere on `upstream`.
async fn escrow_to(client: &Client, upstream: &Upstream) -> Escrow {
    client
        .escrow(
            SECRET.as_bytes(),
            &scope(&format!("{}/", upstream.url()), &["GET"], None),
            &ticket(),
        )
        .await
        .unwrap()
}

fn get(url: String) -> BrokeredRequest {
    BrokeredRequest {
        method: "GET".into(),
        url,
        headers: vec![],
        body: None,
    }
}

fn code(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Api { code, .. }) => code.as_str().to_owned(),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn body(response: &aileron_sdk::wire::BrokeredResponse) -> String {
    String::from_utf8(aileron_sdk::wire::from_b64u(&response.body).unwrap()).unwrap()
}

#[tokio::test]
async fn a_brokered_request_carries_the_secret_upstream_and_never_back() {
    let upstream = Upstream::start().await;
    let enclave = spawn_local();
    let client = client(&enclave);
    let escrow = client
        .escrow(
            SECRET.as_bytes(),
            &scope(&format!("{}/", upstream.url()), &["GET", "POST"], None),
            &ticket(),
        )
        .await
        .unwrap();

    let response = client
        .request(&escrow, &get(format!("{}/v1/items", upstream.url())))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let seen = upstream.requests();
    let auth = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    assert_eq!(auth.1, format!("Bearer {SECRET}"));

    // An upstream that echoes the credential gets it redacted, in headers and body.
    let echoed = client
        .request(&escrow, &get(format!("{}/echo", upstream.url())))
        .await
        .unwrap();
    let everything = format!("{:?} {}", echoed.headers, body(&echoed));
    assert!(!everything.contains(SECRET), "{everything}");
    assert!(body(&echoed).contains("[REDACTED]"));
    let b64 = echoed
        .headers
        .iter()
        .find(|(k, _)| k == "x-echo-b64")
        .unwrap();
    assert_eq!(
        b64.1, "[REDACTED]",
        "base64 of the whole injected header value reveals the secret too"
    );

    let status = client.status(&escrow).await.unwrap();
    assert_eq!(status.uses, 2);
}

#[tokio::test]
async fn each_scope_escape_is_refused_and_nothing_reaches_the_upstream() {
    let upstream = Upstream::start().await;
    let other = Upstream::start().await;
    let enclave = spawn_local();
    let client = client(&enclave);
    let base = upstream.url();
    let escrow = client
        .escrow(
            SECRET.as_bytes(),
            &scope(&format!("{base}/v1"), &["GET"], None),
            &ticket(),
        )
        .await
        .unwrap();
    let host_port = base.trim_start_matches("http://");
    for (method, url) in [
        ("POST", format!("{base}/v1/x")),
        ("GET", format!("{}/v1/x", other.url())),
        ("GET", format!("http://{host_port}.evil.example/v1/x")),
        ("GET", format!("http://{host_port}@evil.example/v1/x")),
        ("GET", format!("{base}/v1/../admin")),
        ("GET", format!("{base}/v10")),
        (
            "GET",
            format!("http://127.0.0.1:{}/v1/x", other.addr.port()),
        ),
        ("GET", format!("https://{host_port}/v1/x")),
    ] {
        let request = BrokeredRequest {
            method: method.into(),
            url: url.clone(),
            headers: vec![],
            body: None,
        };
        assert_eq!(
            code(client.request(&escrow, &request).await),
            "scope_violation",
            "{method} {url}"
        );
    }
    // A reserved header and a body that is not base64url are refused before they count.
    let inside = format!("{base}/v1/x");
    for (headers, body) in [
        (
            vec![("Accept-Encoding".to_owned(), "gzip".to_owned())],
            None,
        ),
        (
            vec![("Authorization".to_owned(), "Bearer mine".to_owned())],
            None,
        ),
        (vec![], Some("not base64!".to_owned())),
    ] {
        let request = BrokeredRequest {
            method: "GET".into(),
            url: inside.clone(),
            headers: headers.clone(),
            body,
        };
        assert_eq!(
            code(client.request(&escrow, &request).await),
            "invalid_request",
            "{headers:?}"
        );
    }
    assert!(upstream.requests().is_empty() && other.requests().is_empty());
    assert_eq!(
        client.status(&escrow).await.unwrap().uses,
        0,
        "refused requests count no use"
    );
}

#[tokio::test]
async fn an_http_rule_does_not_allow_an_https_downgrade_target_and_vice_versa() {
    let enclave = spawn_local();
    let client = client(&enclave);
    let escrow = client
        .escrow(
            SECRET.as_bytes(),
            &scope("https://api.example.com/", &["GET"], None),
            &ticket(),
        )
        .await
        .unwrap();
    assert_eq!(
        code(
            client
                .request(&escrow, &get("http://api.example.com/x".into()))
                .await
        ),
        "scope_violation"
    );
}

#[tokio::test]
async fn a_redirect_is_returned_not_followed() {
    let upstream = Upstream::start().await;
    let elsewhere = Upstream::start().await;
    let enclave = spawn_local();
    let client = client(&enclave);
    let escrow = escrow_to(&client, &upstream).await;
    let response = client
        .request(
            &escrow,
            &get(format!(
                "{}/redirect?to={}/steal",
                upstream.url(),
                elsewhere.url()
            )),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 302);
    assert!(elsewhere.requests().is_empty(), "the redirect was followed");
}

#[tokio::test]
async fn used_up_expired_revoked_and_wrong_handle_escrows_are_refused() {
    let upstream = Upstream::start().await;
    let enclave = spawn_local();
    let client = client(&enclave);
    let prefix = format!("{}/", upstream.url());

    let once = client
        .escrow(
            SECRET.as_bytes(),
            &scope(&prefix, &["GET"], Some(1)),
            &ticket(),
        )
        .await
        .unwrap();
    client
        .request(&once, &get(format!("{prefix}a")))
        .await
        .unwrap();
    assert_eq!(
        code(client.request(&once, &get(format!("{prefix}a"))).await),
        "escrow_used_up"
    );

    let mut short = scope(&prefix, &["GET"], None);
    short.expires_at = OffsetDateTime::now_utc() + Duration::seconds(2);
    let expiring = client
        .escrow(SECRET.as_bytes(), &short, &ticket())
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        code(client.request(&expiring, &get(format!("{prefix}a"))).await),
        "escrow_expired"
    );

    let revoked = client
        .escrow(
            SECRET.as_bytes(),
            &scope(&prefix, &["GET"], None),
            &ticket(),
        )
        .await
        .unwrap();
    client.revoke(&revoked).await.unwrap();
    assert_eq!(
        code(client.request(&revoked, &get(format!("{prefix}a"))).await),
        "escrow_not_found"
    );

    let good = client
        .escrow(
            SECRET.as_bytes(),
            &scope(&prefix, &["GET"], None),
            &ticket(),
        )
        .await
        .unwrap();
    let forged = Escrow {
        escrow_id: good.escrow_id.clone(),
        handle: aileron_sdk::wire::b64u(&[7; 32]).into(),
        boot_id: good.boot_id.clone(),
        expires_at: good.expires_at,
    };
    assert_eq!(
        code(client.request(&forged, &get(format!("{prefix}a"))).await),
        "escrow_not_found"
    );
    let unknown = Escrow {
        escrow_id: "00".repeat(16),
        handle: good.handle.expose_secret().to_owned().into(),
        boot_id: good.boot_id.clone(),
        expires_at: good.expires_at,
    };
    assert_eq!(code(client.status(&unknown).await), "escrow_not_found");
}

#[tokio::test]
async fn a_scope_altered_in_transit_or_a_secret_sealed_to_another_key_does_not_open() {
    let enclave = spawn_local();
    let client = client(&enclave);
    let attested = client.attest().await.unwrap();
    let http = aileron_sdk::tls_pin::client_with(
        aileron_sdk::tls_pin::SpkiVerifier::pin(
            aileron_sdk::wire::from_hex::<32>(&hex::encode(enclave_spki(&enclave).await)).unwrap(),
        ),
        false,
    )
    .unwrap();
    let scope_bytes =
        serde_json::to_vec(&scope("https://api.example.com/", &["GET"], None)).unwrap();
    let wider = serde_json::to_vec(&scope("https://", &["GET"], None)).unwrap();
    let hpke = aileron_sdk::wire::from_b64u(&answer_hpke(&enclave).await).unwrap();
    let (enc, ct) = aileron_sdk::seal::seal(&hpke, SECRET.as_bytes(), &scope_bytes).unwrap();
    let (_, other_pk) = aileron_sdk::seal::generate();
    let (enc2, ct2) = aileron_sdk::seal::seal(
        &aileron_sdk::seal::public_bytes(&other_pk),
        SECRET.as_bytes(),
        &scope_bytes,
    )
    .unwrap();
    for (name, body) in [
        (
            "altered scope",
            EscrowRequest {
                scope: aileron_sdk::wire::b64u(&wider),
                enc: aileron_sdk::wire::b64u(&enc),
                ciphertext: aileron_sdk::wire::b64u(&ct),
            },
        ),
        (
            "another key",
            EscrowRequest {
                scope: aileron_sdk::wire::b64u(&scope_bytes),
                enc: aileron_sdk::wire::b64u(&enc2),
                ciphertext: aileron_sdk::wire::b64u(&ct2),
            },
        ),
    ] {
        let response = http
            .post(format!("{}/v1/escrows", enclave.url))
            .header(aileron_sdk::admission::HEADER, ticket())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{name}");
        let error: aileron_sdk::wire::ErrorBody = response.json().await.unwrap();
        assert_eq!(
            error.error.code.as_str(),
            "sealed_payload_invalid",
            "{name}"
        );
    }
    drop(attested);
}

async fn attestation_answer(enclave: &Enclave) -> aileron_sdk::wire::AttestationResponse {
    let slot = Arc::new(std::sync::Mutex::new(None));
    let http =
        aileron_sdk::tls_pin::client_with(aileron_sdk::tls_pin::SpkiVerifier::capture(slot), false)
            .unwrap();
    http.post(format!("{}/v1/attestation", enclave.url))
        .json(&serde_json::json!({"nonce": "test-nonce-0123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn enclave_spki(enclave: &Enclave) -> [u8; 32] {
    aileron_sdk::wire::from_hex::<32>(&attestation_answer(enclave).await.tls_spki_sha256).unwrap()
}

async fn answer_hpke(enclave: &Enclave) -> String {
    attestation_answer(enclave).await.hpke_public_key
}

#[tokio::test]
async fn the_sdk_reports_an_enclave_restart_as_such() {
    let upstream = Upstream::start().await;
    let first = spawn_local();
    let (port, dir) = (first.port, tempfile::tempdir().unwrap());
    // Keep the CA across the restart (as a persistent volume would), only the process restarts.
    copy_dir(&first.dir.path().join("ca"), &dir.path().join("ca"));
    let client = client(&first);
    let escrow = escrow_to(&client, &upstream).await;
    drop(first);
    let _second = spawn_in(dir, port, &[]);
    match client
        .request(&escrow, &get(format!("{}/x", upstream.url())))
        .await
    {
        Err(Error::EnclaveRestarted { old, new }) => {
            assert_eq!(old, escrow.boot_id);
            assert_ne!(old, new);
        }
        other => panic!("expected EnclaveRestarted, got {other:?}"),
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test]
async fn a_client_with_another_policy_refuses_the_enclave_before_sending_anything() {
    let upstream = Upstream::start().await;
    let enclave = spawn_local();
    let root = std::fs::read(enclave.dir.path().join("ca/root.pem")).unwrap();
    let verifier = Arc::new(Verifier::new(TrustAnchor::from_pem(&root).unwrap()));
    let wrong = Client::new(
        &enclave.url,
        Policy::local(
            "aileron-enclave",
            vec![format!("sha256:{}", "0".repeat(64))],
        )
        .unwrap(),
        verifier,
    );
    match wrong
        .escrow(
            SECRET.as_bytes(),
            &scope(&format!("{}/", upstream.url()), &["GET"], None),
            &ticket(),
        )
        .await
    {
        Err(Error::Attestation(rejection)) => {
            assert_eq!(rejection.check, aileron_attest::Check::ImageDigest)
        }
        other => panic!("expected an attestation rejection, got {other:?}"),
    }
    let production = Client::new(
        &enclave.url,
        Policy::production("aileron-enclave", vec![binary_digest()], None).unwrap(),
        Arc::new(Verifier::google()),
    );
    assert!(matches!(
        production.attest().await,
        Err(Error::Attestation(_))
    ));
}

#[tokio::test]
async fn the_confidential_space_path_works_through_the_stand_in_launcher() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("teeserver.sock");
    let launcher_ca = dir.path().join("launcher-ca");
    let launcher = StandInLauncher::start(&socket, &launcher_ca, &binary_digest()).await;
    let upstream = Upstream::start().await;
    // The development setting is refused outright in this mode.
    let refused = std::process::Command::new(binary())
        .env_clear()
        .env("AILERON_TEE_PROVIDER", "confidential-space")
        .env(
            "AILERON_ENCLAVE_ADMISSION_KEYS",
            admission_signer().public_key(),
        )
        .env(DANGEROUS, "true")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains(DANGEROUS));
    let socket_str = socket.to_str().unwrap().to_owned();
    let enclave = spawn_in(
        dir,
        0,
        &[
            ("AILERON_TEE_PROVIDER", "confidential-space"),
            ("AILERON_LAUNCHER_SOCKET", &socket_str),
        ],
    );
    let client = client_for(&launcher_ca, &enclave.url);
    // In confidential-space mode the broker reaches public https destinations only: a scope
    // naming the loopback upstream is refused at creation, a public one is accepted.
    match client
        .escrow(
            SECRET.as_bytes(),
            &scope(&format!("{}/", upstream.url()), &["GET"], None),
            &ticket(),
        )
        .await
    {
        Err(Error::Api { code, .. }) => assert_eq!(code.as_str(), "invalid_scope"),
        other => panic!("expected invalid_scope, got {other:?}"),
    }
    client
        .escrow(
            SECRET.as_bytes(),
            &scope("https://api.example.com/", &["GET"], None),
            &ticket(),
        )
        .await
        .unwrap();
    assert!(upstream.requests().is_empty());
    let seen = launcher.requests.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].audience, "aileron-enclave");
    assert_eq!(seen[0].token_type, "PKI");
    assert_eq!(seen[0].nonces.len(), 2, "nonce and binding");
}

#[tokio::test]
async fn the_enclave_reports_a_launcher_that_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let enclave = spawn_in(
        dir,
        0,
        &[
            ("AILERON_TEE_PROVIDER", "confidential-space"),
            ("AILERON_LAUNCHER_SOCKET", "/nonexistent/teeserver.sock"),
        ],
    );
    let slot = Arc::new(std::sync::Mutex::new(None));
    let http =
        aileron_sdk::tls_pin::client_with(aileron_sdk::tls_pin::SpkiVerifier::capture(slot), false)
            .unwrap();
    let response = http
        .post(format!("{}/v1/attestation", enclave.url))
        .json(&serde_json::json!({"nonce": "test-nonce-0123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let error: aileron_sdk::wire::ErrorBody = response.json().await.unwrap();
    assert_eq!(error.error.code.as_str(), "attestation_unavailable");
}

#[tokio::test]
async fn bad_requests_get_stable_codes() {
    let enclave = spawn_local();
    let slot = Arc::new(std::sync::Mutex::new(None));
    let http =
        aileron_sdk::tls_pin::client_with(aileron_sdk::tls_pin::SpkiVerifier::capture(slot), false)
            .unwrap();
    for (path, body, status, expected) in [
        (
            "/v1/attestation",
            r#"{"nonce":"short"}"#,
            400,
            "invalid_nonce",
        ),
        (
            "/v1/attestation",
            r#"{"nonce":"0123456789","extra":1}"#,
            400,
            "invalid_request",
        ),
        (
            "/v1/escrows",
            r#"{"scope":"!!","enc":"","ciphertext":""}"#,
            400,
            "invalid_request",
        ),
        ("/v1/escrows", "not json", 400, "invalid_request"),
        (
            "/v1/escrows",
            r#"{"scope":"","enc":"","ciphertext":""}"#,
            401,
            "admission_required",
        ),
        ("/v1/nothing", "{}", 404, "not_found"),
        ("/v1/health", "{}", 405, "method_not_allowed"),
    ] {
        let mut request = http
            .post(format!("{}{path}", enclave.url))
            .header("content-type", "application/json")
            .body(body);
        if expected != "admission_required" {
            request = request.header(aileron_sdk::admission::HEADER, ticket());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "{path} {body}");
        let error: aileron_sdk::wire::ErrorBody = response.json().await.unwrap();
        assert_eq!(error.error.code.as_str(), expected, "{path} {body}");
    }
    let response = http
        .get(format!("{}/v1/escrows/abc", enclave.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn the_planted_secret_never_reaches_the_enclave_log() {
    let upstream = Upstream::start().await;
    let enclave = spawn_local();
    let client = client(&enclave);
    let escrow = escrow_to(&client, &upstream).await;
    client
        .request(&escrow, &get(format!("{}/echo", upstream.url())))
        .await
        .unwrap();
    let _ = client
        .request(&escrow, &get("https://evil.example/".into()))
        .await;
    client.revoke(&escrow).await.unwrap();
    let log = std::fs::read_to_string(&enclave.log).unwrap();
    assert!(
        log.contains("DEBUG") || log.contains("\"level\":\"DEBUG\""),
        "the log was not captured at debug level"
    );
    assert!(log.contains("escrow created"));
    assert!(!log.contains(SECRET), "secret in the enclave log");
    assert!(
        !log.contains(escrow.handle.expose_secret()),
        "handle in the enclave log"
    );
}

#[tokio::test]
async fn a_request_that_never_reached_the_upstream_is_not_a_use() {
    let enclave = spawn_local();
    let client = client(&enclave);
    // A port nobody listens on: the connection is refused, nothing leaves the enclave.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let prefix = format!("http://127.0.0.1:{closed}/");
    let once = client
        .escrow(
            SECRET.as_bytes(),
            &scope(&prefix, &["GET"], Some(1)),
            &ticket(),
        )
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            code(client.request(&once, &get(format!("{prefix}a"))).await),
            "upstream_error",
            "refused, and not used up"
        );
    }
    assert_eq!(client.status(&once).await.unwrap().uses, 0);
}
