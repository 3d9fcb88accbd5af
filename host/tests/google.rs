//! Google sign-in against a real OpenID provider (npm `oidc-provider`) configured as the
//! "Google" issuer. Needs `npm ci --prefix host/tests/oidc` (scripts/test.d/40-host.sh does it).

mod common;

use std::collections::HashMap;
use std::process::Stdio;

use common::{Backend, Options, TestServer, code};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CLIENT_ID: &str = "aileron-test-client";
const CLIENT_SECRET: &str = "aileron-test-secret-0123456789";

struct Idp {
    issuer: String,
    _child: Child,
}

/// Starts the provider for a server that will listen at `public_url`.
async fn start_idp(public_url: &str, email: &str, verified: bool) -> Idp {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
    assert!(
        std::path::Path::new(dir)
            .join("node_modules/oidc-provider")
            .exists(),
        "run: npm ci --prefix host/tests/oidc"
    );
    let mut child = Command::new("node")
        .arg(format!("{dir}/provider.mjs"))
        .args([
            CLIENT_ID,
            CLIENT_SECRET,
            &format!("{public_url}/auth/google/callback"),
            email,
            &verified.to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next_line()
        .await
        .unwrap()
        .expect("provider printed its issuer");
    let v: Value = serde_json::from_str(&line).unwrap();
    // Keep draining: a closed pipe would kill the provider on its next write.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Idp {
        issuer: v["issuer"].as_str().unwrap().to_owned(),
        _child: child,
    }
}

/// A server whose Google issuer is a fresh provider. The provider registers our callback URL,
/// so the server's loopback port is chosen first and the provider started for it.
async fn setup(b: Backend, email: &str, verified: bool) -> (TestServer, Idp) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let idp = start_idp(&public, email, verified).await;
    let extra_env = vec![
        ("GOOGLE_CLIENT_ID".to_owned(), CLIENT_ID.to_owned()),
        ("GOOGLE_CLIENT_SECRET".to_owned(), CLIENT_SECRET.to_owned()),
        ("GOOGLE_OIDC_ISSUER".to_owned(), idp.issuer.clone()),
    ];
    let s = TestServer::start_with(
        b,
        Options {
            extra_env,
            port: Some(port),
            ..Options::default()
        },
    )
    .await;
    (s, idp)
}

fn set_cookies(res: &reqwest::Response, jar: &mut HashMap<String, String>) {
    for v in res.headers().get_all("set-cookie") {
        if let Some((k, v)) = v
            .to_str()
            .ok()
            .and_then(|c| c.split(';').next())
            .and_then(|kv| kv.split_once('='))
        {
            jar.insert(k.to_owned(), v.to_owned());
        }
    }
}

fn header(jar: &HashMap<String, String>) -> String {
    jar.iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Plays the browser: our login → the provider (its own cookies) → our callback.
async fn sign_in(s: &TestServer, idp: &Idp) -> (u16, HashMap<String, String>, Value) {
    let mut ours = HashMap::new();
    let mut theirs = HashMap::new();
    let res = s
        .http
        .get(format!("{}/auth/google/login", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    set_cookies(&res, &mut ours);
    let mut next = res.headers()["location"].to_str().unwrap().to_owned();
    for _ in 0..10 {
        if next.starts_with('/') {
            next = format!("{}{next}", idp.issuer);
        }
        if !next.starts_with(&idp.issuer) {
            break;
        }
        let res = s
            .http
            .get(&next)
            .header("cookie", header(&theirs))
            .send()
            .await
            .unwrap();
        set_cookies(&res, &mut theirs);
        next = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("provider stopped at {next}: {}", res.status()));
    }
    assert!(
        next.starts_with(&format!("{}/auth/google/callback", s.url)),
        "{next}"
    );
    let res = s
        .http
        .get(&next)
        .header("cookie", header(&ours))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    set_cookies(&res, &mut ours);
    // A failure redirects to the UI with its code; the test reads it as an error body.
    let body = common::callback_body(res).await;
    (status, ours, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_sign_in_through_a_real_openid_provider_creates_the_account() {
    for b in [Backend::Postgres, Backend::Sqlite] {
        let (s, idp) = setup(b, "ada@gmail.com", true).await;
        let (status, jar, body) = sign_in(&s, &idp).await;
        assert_eq!(status, 303, "{body}");
        let res = s
            .http
            .get(format!("{}/v1/users/me", s.url))
            .header("cookie", header(&jar))
            .send()
            .await
            .unwrap();
        let (_, me) = common::json(res).await;
        assert_eq!(me["email"], "ada@gmail.com");
        assert_eq!(me["auth_providers"], json!(["google"]));
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_google_email_is_never_linked_to_an_existing_account() {
    for b in [Backend::Postgres, Backend::Sqlite] {
        let (s, idp) = setup(b, "victim@acme.test", false).await;
        let session = s
            .verified_account("victim@acme.test", "correct horse battery")
            .await;
        let (status, _, body) = sign_in(&s, &idp).await;
        assert_eq!((status, code(&body)), (303, "oauth_email_not_verified"));
        let (_, me) = s
            .get_bearer("/v1/users/me", session["access_token"].as_str().unwrap())
            .await;
        assert_eq!(me["auth_providers"], json!([]));
        s.stop().await;
    }
}
