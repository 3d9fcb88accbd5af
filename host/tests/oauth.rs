//! GitHub sign-in against a local server speaking GitHub's OAuth and REST protocol.

#[macro_use]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Backend, Options, TestServer, code};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

/// GitHub stand-in: one user, configurable emails; codes bound to their PKCE challenge.
#[derive(Clone)]
struct FakeGitHub {
    emails: Arc<Mutex<Value>>,
    codes: Arc<Mutex<HashMap<String, String>>>,
}

async fn authorize(
    State(gh): State<FakeGitHub>,
    Query(q): Query<HashMap<String, String>>,
) -> impl IntoResponse {
    assert_eq!(
        q.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    let code = uuid::Uuid::new_v4().simple().to_string();
    gh.codes
        .lock()
        .unwrap()
        .insert(code.clone(), q["code_challenge"].clone());
    let redirect = format!("{}?code={code}&state={}", q["redirect_uri"], q["state"]);
    Redirect::to(&redirect)
}

async fn access_token(
    State(gh): State<FakeGitHub>,
    Form(f): Form<HashMap<String, String>>,
) -> Json<Value> {
    let challenge = gh.codes.lock().unwrap().remove(&f["code"]);
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge.as_deref() != Some(computed.as_str()) {
        return Json(json!({"error": "bad_verification_code"}));
    }
    Json(
        json!({"access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email"}),
    )
}

async fn user() -> Json<Value> {
    Json(json!({"id": 4242, "login": "octo", "name": "Octo Cat"}))
}

async fn emails(State(gh): State<FakeGitHub>) -> Json<Value> {
    Json(gh.emails.lock().unwrap().clone())
}

async fn start_github(emails_json: Value) -> (FakeGitHub, String) {
    let gh = FakeGitHub {
        emails: Arc::new(Mutex::new(emails_json)),
        codes: Arc::default(),
    };
    let app = Router::new()
        .route("/login/oauth/authorize", get(authorize))
        .route("/login/oauth/access_token", post(access_token))
        .route("/api/user", get(user))
        .route("/api/user/emails", get(emails))
        .with_state(gh.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (gh, format!("http://{addr}"))
}

async fn server(b: Backend, primary_verified: bool) -> TestServer {
    let (_, base) = start_github(json!([
        {"email": "octo@users.test", "primary": true, "verified": primary_verified},
        {"email": "other@users.test", "primary": false, "verified": true},
    ]))
    .await;
    let extra_env = vec![
        ("GITHUB_OAUTH_CLIENT_ID".to_owned(), "gh-client".to_owned()),
        (
            "GITHUB_OAUTH_CLIENT_SECRET".to_owned(),
            "gh-secret".to_owned(),
        ),
        ("GITHUB_OAUTH_BASE_URL".to_owned(), base.clone()),
        ("GITHUB_API_URL".to_owned(), format!("{base}/api")),
    ];
    TestServer::start_with(
        b,
        Options {
            extra_env,
            ..Options::default()
        },
    )
    .await
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

fn cookies(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .filter(|c| !c.ends_with('='))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Starts a sign-in; returns (provider authorize URL, flow cookie).
async fn begin(s: &TestServer) -> (String, String) {
    let res = s
        .http
        .get(format!("{}/auth/github/login", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let loc = location(&res);
    assert!(
        loc.contains(&format!(
            "redirect_uri={}",
            urlencode(&format!("{}/auth/github/callback", s.url))
        )),
        "{loc}"
    );
    (loc, cookies(&res))
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The provider's redirect back to our callback.
async fn consent(s: &TestServer, authorize_url: &str) -> String {
    let res = s.http.get(authorize_url).send().await.unwrap();
    location(&res)
}

async fn sign_in(s: &TestServer) -> (u16, String, Value) {
    let (auth_url, flow) = begin(s).await;
    let callback = consent(s, &auth_url).await;
    let res = s
        .http
        .get(callback)
        .header("cookie", flow)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let session = cookies(&res);
    // A failure redirects to the UI with its code; the test reads it as an error body.
    let body = common::callback_body(res).await;
    (status, session, body)
}

async fn me(s: &TestServer, session: &str) -> Value {
    let res = s
        .http
        .get(format!("{}/v1/users/me", s.url))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    res.json().await.unwrap()
}

both_backends!(
    github_sign_in_creates_an_account_from_the_primary_verified_email,
    github_sign_in_links_to_an_existing_account_with_the_same_verified_email,
    an_unverified_github_email_is_never_linked,
    a_state_mismatch_is_refused,
    a_pkce_mismatch_is_refused,
);

async fn github_sign_in_creates_an_account_from_the_primary_verified_email(b: Backend) {
    let s = server(b, true).await;
    let (status, session, _) = sign_in(&s).await;
    assert_eq!(status, 303);
    let me = me(&s, &session).await;
    assert_eq!(me["email"], "octo@users.test");
    assert_eq!(me["auth_providers"], json!(["github"]));
    assert_eq!(me["display_name"], "Octo Cat");
    // Signing in again finds the same user by (provider, subject).
    let (_, again, _) = sign_in(&s).await;
    assert_eq!(self::me(&s, &again).await["id"], me["id"]);
    // The only way in cannot be unlinked.
    let res = s
        .http
        .delete(format!("{}/v1/users/me/auth-providers/github", s.url))
        .header("cookie", &session)
        .header("origin", common::UI_ORIGIN)
        .send()
        .await
        .unwrap();
    let (status, body) = common::json(res).await;
    assert_eq!((status, code(&body)), (409, "last_sign_in_method"));
    s.stop().await;
}

async fn github_sign_in_links_to_an_existing_account_with_the_same_verified_email(b: Backend) {
    let s = server(b, true).await;
    let session = s
        .verified_account("octo@users.test", "correct horse battery")
        .await;
    let (status, cookie_session, _) = sign_in(&s).await;
    assert_eq!(status, 303);
    let linked = me(&s, &cookie_session).await;
    let (_, original) = s
        .get_bearer("/v1/users/me", session["access_token"].as_str().unwrap())
        .await;
    assert_eq!(linked["id"], original["id"]);
    assert_eq!(linked["auth_providers"], json!(["github"]));
    let res = s
        .http
        .delete(format!("{}/v1/users/me/auth-providers/github", s.url))
        .header("cookie", &cookie_session)
        .header("origin", common::UI_ORIGIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    s.stop().await;
}

async fn an_unverified_github_email_is_never_linked(b: Backend) {
    let s = server(b, false).await;
    let session = s
        .verified_account("octo@users.test", "correct horse battery")
        .await;
    let (status, _, body) = sign_in(&s).await;
    assert_eq!((status, code(&body)), (303, "oauth_email_not_verified"));
    let (_, me) = s
        .get_bearer("/v1/users/me", session["access_token"].as_str().unwrap())
        .await;
    assert_eq!(me["auth_providers"], json!([]));
    s.stop().await;
}

async fn a_state_mismatch_is_refused(b: Backend) {
    let s = server(b, true).await;
    let (auth_url, flow) = begin(&s).await;
    let callback = consent(&s, &auth_url).await;
    let tampered = callback.replace("state=", "state=x");
    let res = s
        .http
        .get(&tampered)
        .header("cookie", &flow)
        .send()
        .await
        .unwrap();
    assert_eq!(
        common::oauth_error(&res),
        (303, "oauth_state_mismatch".into())
    );
    assert!(cookies(&res).is_empty(), "no session cookie is set");
    let res = s.http.get(&callback).send().await.unwrap();
    assert_eq!(
        common::oauth_error(&res),
        (303, "oauth_state_mismatch".into()),
        "no flow cookie"
    );
    s.stop().await;
}

async fn a_pkce_mismatch_is_refused(b: Backend) {
    let s = server(b, true).await;
    let (auth_a, _flow_a) = begin(&s).await;
    let (auth_b, flow_b) = begin(&s).await;
    let callback_a = consent(&s, &auth_a).await;
    let callback_b = consent(&s, &auth_b).await;
    // Code of flow A, state and cookie (hence PKCE verifier) of flow B.
    let code_a = url::Url::parse(&callback_a)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let state_b = url::Url::parse(&callback_b)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let mixed = format!(
        "{}/auth/github/callback?code={code_a}&state={}",
        s.url,
        urlencode(&state_b)
    );
    let res = s
        .http
        .get(&mixed)
        .header("cookie", &flow_b)
        .send()
        .await
        .unwrap();
    assert_eq!(common::oauth_error(&res), (303, "oauth_failed".into()));
    s.stop().await;
}

#[tokio::test]
async fn an_unconfigured_provider_is_not_found() {
    let s = TestServer::start(Backend::Sqlite).await;
    let res = s
        .http
        .get(format!("{}/auth/google/login", s.url))
        .send()
        .await
        .unwrap();
    let (status, body) = common::json(res).await;
    assert_eq!((status, code(&body)), (404, "provider_not_configured"));
    s.stop().await;
}
