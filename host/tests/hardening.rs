//! Findings of the hardening review, each as the regression test that failed before its fix:
//! logout ends access tokens, suspension holds for every token kind, a stranger cannot lock the
//! owner out, a SQLite refresh race cannot keep a successor alive, errors keep their JSON body,
//! and connections are bounded.

#[macro_use]
mod common;

use std::io::{Read as _, Write as _};
use std::time::{Duration, Instant};

use common::{Backend, Options, TestServer, code, json};
use serde_json::{Value, json};

both_backends!(
    logout_ends_the_access_token_too,
    a_suspended_account_is_refused_with_every_token_kind_until_restored,
    a_stranger_cannot_lock_the_owner_out,
    a_refresh_race_never_leaves_a_successor_alive,
);

async fn session(s: &TestServer, email: &str) -> (String, String) {
    let session = s.verified_account(email, "correct horse battery").await;
    (
        session["access_token"].as_str().unwrap().to_owned(),
        session["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn logout_ends_the_access_token_too(b: Backend) {
    let s = TestServer::start(b).await;
    let (access, refresh) = session(&s, "bye@acme.test").await;
    assert_eq!(s.get_bearer("/v1/users/me", &access).await.0, 200);
    let (status, _) = s
        .call(
            "POST",
            "/auth/logout",
            &access,
            Some(json!({"refresh_token": refresh})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, body) = s.get_bearer("/v1/users/me", &access).await;
    assert_eq!((status, code(&body)), (401, "invalid_token"), "{body}");
    s.stop().await;
}

/// Runs `aileron-server admin …` against the test server's database.
fn admin(s: &TestServer, args: &[&str]) -> std::process::Output {
    let url = s.db.as_ref().map(|d| d.url.clone()).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_aileron-server"))
        .arg("admin")
        .args(args)
        .env_clear()
        .env("AILERON_DATABASE_URL", url)
        .env("AILERON_JWT_SIGNING_KEY", common::SIGNING_KEY)
        .output()
        .unwrap()
}

async fn a_suspended_account_is_refused_with_every_token_kind_until_restored(b: Backend) {
    let s = TestServer::start(b).await;
    let (access, refresh) = session(&s, "sus@acme.test").await;
    let (status, created) = s
        .call(
            "POST",
            "/v1/agent-tokens",
            &access,
            Some(json!({"name": "bot"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let agent = created["token"].as_str().unwrap().to_owned();

    let out = admin(&s, &["suspend", "--email", "sus@acme.test"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let suspended = |(status, body): (u16, Value)| {
        assert_eq!((status, code(&body)), (403, "account_suspended"), "{body}");
    };
    suspended(s.get_bearer("/v1/users/me", &access).await);
    suspended(
        s.call(
            "POST",
            "/v1/agent-tokens",
            &access,
            Some(json!({"name": "another"})),
        )
        .await,
    );
    suspended(
        s.call(
            "POST",
            "/v1/credentials/any/requests",
            &agent,
            Some(json!({"method": "GET", "url": "https://api.example.com/"})),
        )
        .await,
    );
    suspended(
        s.post("/auth/refresh", json!({"refresh_token": refresh}))
            .await,
    );
    let (status, body) = s
        .post(
            "/auth/login",
            json!({"email": "sus@acme.test", "password": "correct horse battery", "delivery": "body"}),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "account_suspended"));

    let out = admin(&s, &["restore", "--email", "sus@acme.test"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, body) = s
        .post(
            "/auth/login",
            json!({"email": "sus@acme.test", "password": "correct horse battery", "delivery": "body"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["access_token"].as_str().unwrap();
    assert_eq!(s.get_bearer("/v1/users/me", fresh).await.0, 200);
    let out = admin(&s, &["suspend", "--email", "nobody@acme.test"]);
    assert_eq!(out.status.code(), Some(1), "an unknown account is an error");
    s.stop().await;
}

/// A client whose requests come from `addr` (a loopback address of its own).
fn client_from(addr: &str) -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .local_address(addr.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn a_stranger_cannot_lock_the_owner_out(b: Backend) {
    let s = TestServer::start_with(
        b,
        Options {
            per_account: 3,
            ..Options::default()
        },
    )
    .await;
    session(&s, "owner@acme.test").await;
    let login = |client: reqwest::Client, password: &'static str| {
        let url = format!("{}/auth/login", s.url);
        async move {
            let res = client
                .post(url)
                .json(&json!({"email": "owner@acme.test", "password": password}))
                .send()
                .await
                .unwrap();
            json(res).await
        }
    };
    let stranger = client_from("127.0.0.2");
    let mut last = (0, Value::Null);
    for _ in 0..6 {
        last = login(stranger.clone(), "guess guess guess").await;
    }
    assert_eq!((last.0, code(&last.1)), (429, "rate_limited"));
    let (status, body) = login(client_from("127.0.0.1"), "correct horse battery").await;
    assert_eq!(status, 200, "the owner is locked out: {body}");
    s.stop().await;
}

async fn a_refresh_race_never_leaves_a_successor_alive(b: Backend) {
    let s = TestServer::start(b).await;
    let (_, mut refresh) = session(&s, "race@acme.test").await;
    for round in 0..10 {
        let body = json!({"refresh_token": refresh.clone(), "delivery": "body"});
        let (a, b2) = tokio::join!(
            s.post("/auth/refresh", body.clone()),
            s.post("/auth/refresh", body.clone()),
        );
        let winner = [&a, &b2]
            .into_iter()
            .find(|(status, _)| *status == 200)
            .map(|(_, body)| body["refresh_token"].as_str().unwrap().to_owned());
        let Some(successor) = winner else {
            // Both saw reuse: the family is revoked; nothing to check in this round.
            break;
        };
        // The loser presented a rotated token: reuse, which revokes the family, successor too.
        let (status, body) = s
            .post(
                "/auth/refresh",
                json!({"refresh_token": successor, "delivery": "body"}),
            )
            .await;
        assert_eq!(status, 401, "round {round}: the successor survived: {body}");
        let (_, again) = session(&s, &format!("race{round}@acme.test")).await;
        refresh = again;
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_keep_their_json_body_and_status() {
    let limits = aileron_host::config::Limits {
        request_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            limits: Some(limits),
            ..Options::default()
        },
    )
    .await;
    let (status, body) = s.call("PUT", "/v1/health", "", None).await;
    assert_eq!((status, code(&body)), (405, "method_not_allowed"), "{body}");
    for path in ["/v1/credentials/a%00b", "/v1/escrows/x%00/status"] {
        let (status, body) = s.call("GET", path, "", None).await;
        assert_eq!(
            (status, code(&body)),
            (400, "invalid_request"),
            "{path}: {body}"
        );
    }
    // A body that never arrives: the request times out with our 408 body.
    let addr = s.url.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.write_all(
            b"POST /auth/login HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 64\r\n\r\n{",
        )
        .unwrap();
        let mut text = String::new();
        let _ = tcp.read_to_string(&mut text);
        text
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"request_timeout\""), "{answer}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_extra_connections_are_cut_off() {
    let limits = aileron_host::config::Limits {
        max_connections: 2,
        header_read_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            database: false,
            limits: Some(limits),
            ..Options::default()
        },
    )
    .await;
    let addr = s.url.trim_start_matches("http://").to_owned();
    let closed_within = |mut tcp: std::net::TcpStream, limit: Duration| {
        tcp.set_read_timeout(Some(limit)).unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 256];
        // EOF (or a reset) before the limit: the server closed the connection.
        let closed = match tcp.read(&mut buf) {
            Ok(_) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        };
        closed && started.elapsed() < limit
    };
    let verdicts = tokio::task::spawn_blocking(move || {
        // Two connections that start a request and never finish its headers.
        let slow: Vec<std::net::TcpStream> = (0..2)
            .map(|_| {
                let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
                tcp.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
                tcp
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        // A third is over the limit: closed at once.
        let extra = std::net::TcpStream::connect(&addr).unwrap();
        let extra_closed = closed_within(extra, Duration::from_millis(300));
        // The slow ones are cut off by the header deadline.
        let slow_closed = slow
            .into_iter()
            .all(|tcp| closed_within(tcp, Duration::from_secs(3)));
        (extra_closed, slow_closed)
    })
    .await
    .unwrap();
    assert_eq!(verdicts, (true, true));
    // And the server serves again.
    let (status, _) = s.call("GET", "/v1/health", "", None).await;
    assert_eq!(status, 200);
    s.stop().await;
}
