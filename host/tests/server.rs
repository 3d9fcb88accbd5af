//! The shared suite: every storage-backed behaviour runs against PostgreSQL and SQLite.

#[macro_use]
mod common;

use common::{Backend, Options, TestServer, UI_ORIGIN, code};
use serde_json::json;

both_backends!(
    health_reports_the_database_ok,
    signup_answer_is_identical_for_new_and_registered_addresses,
    login_answer_is_identical_for_unknown_email_and_wrong_password,
    verified_account_reaches_its_profile_and_enterprise,
    login_refuses_an_unverified_account_with_its_own_code,
    five_wrong_codes_void_the_code,
    an_expired_code_is_refused,
    resend_answers_uniformly_and_mails_only_unverified_accounts,
    refresh_rotates_and_reuse_revokes_the_family,
    of_two_concurrent_refreshes_exactly_one_succeeds,
    logout_revokes_the_family,
    cookie_state_change_from_a_foreign_origin_is_refused,
    sql_looking_input_is_stored_literally,
    a_planted_password_never_appears_in_logs_or_responses,
    auto_verify_skips_the_code,
    login_is_rate_limited_per_account,
    the_last_way_in_cannot_be_unlinked,
);

async fn health_reports_the_database_ok(b: Backend) {
    let s = TestServer::start(b).await;
    let res = s
        .http
        .get(format!("{}/v1/health", s.url))
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("x-request-id"));
    let (status, body) = common::json(res).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    s.stop().await;
}

async fn signup_answer_is_identical_for_new_and_registered_addresses(b: Backend) {
    let s = TestServer::start(b).await;
    s.verified_account("taken@acme.test", "correct horse battery")
        .await;
    let first = s
        .post(
            "/auth/signup",
            json!({"email": "TAKEN@acme.test ", "password": "other password"}),
        )
        .await;
    let fresh = s
        .post(
            "/auth/signup",
            json!({"email": "fresh@acme.test", "password": "other password"}),
        )
        .await;
    assert_eq!(first, fresh);
    assert_eq!(first.0, 202);
    s.stop().await;
}

async fn login_answer_is_identical_for_unknown_email_and_wrong_password(b: Backend) {
    let s = TestServer::start(b).await;
    s.verified_account("ada@acme.test", "correct horse battery")
        .await;
    let (st1, wrong) = s
        .post(
            "/auth/login",
            json!({"email": "ada@acme.test", "password": "wrong password"}),
        )
        .await;
    let (st2, unknown) = s
        .post(
            "/auth/login",
            json!({"email": "nobody@acme.test", "password": "wrong password"}),
        )
        .await;
    assert_eq!((st1, st2), (401, 401));
    assert_eq!(code(&wrong), "invalid_credentials");
    assert_eq!(wrong["error"]["message"], unknown["error"]["message"]);
    assert_eq!(code(&unknown), "invalid_credentials");
    s.stop().await;
}

async fn verified_account_reaches_its_profile_and_enterprise(b: Backend) {
    let s = TestServer::start(b).await;
    let session = s
        .verified_account("grace@navy.test", "correct horse battery")
        .await;
    let access = session["access_token"].as_str().unwrap();
    let (status, me) = s.get_bearer("/v1/users/me", access).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "grace@navy.test");
    assert_eq!(me["role"], "owner");
    assert_eq!(me["email_verified"], true);
    let (status, ent) = s.get_bearer("/v1/enterprises/me", access).await;
    assert_eq!(status, 200);
    assert_eq!(ent["kind"], "organization");
    assert_eq!(ent["domain"], "navy.test");
    let (status, body) = s.post("/auth/login", json!({"email": "grace@navy.test", "password": "correct horse battery", "delivery": "body"})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_string());
    s.stop().await;
}

async fn login_refuses_an_unverified_account_with_its_own_code(b: Backend) {
    let s = TestServer::start(b).await;
    s.post(
        "/auth/signup",
        json!({"email": "new@acme.test", "password": "correct horse battery"}),
    )
    .await;
    let (status, body) = s
        .post(
            "/auth/login",
            json!({"email": "new@acme.test", "password": "correct horse battery"}),
        )
        .await;
    assert_eq!((status, code(&body)), (403, "email_not_verified"));
    s.stop().await;
}

async fn five_wrong_codes_void_the_code(b: Backend) {
    let s = TestServer::start(b).await;
    s.post(
        "/auth/signup",
        json!({"email": "v@acme.test", "password": "correct horse battery"}),
    )
    .await;
    let good = s.mail.code_for("v@acme.test").await;
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let mut codes = Vec::new();
    for _ in 0..5 {
        let (_, body) = s
            .post(
                "/auth/verify-email",
                json!({"email": "v@acme.test", "code": wrong}),
            )
            .await;
        codes.push(code(&body).to_owned());
    }
    assert_eq!(codes, ["invalid_code"; 5]);
    let (status, body) = s
        .post(
            "/auth/verify-email",
            json!({"email": "v@acme.test", "code": good}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (400, "invalid_code"),
        "the code is void"
    );
    // A resend does not buy new guesses: the new code is void too, until the window passes.
    s.post("/auth/resend-verification", json!({"email": "v@acme.test"}))
        .await;
    for _ in 0..200 {
        if s.mail.count_for("v@acme.test") == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let fresh = s.mail.code_for("v@acme.test").await;
    assert_ne!(fresh, good, "a new code was mailed");
    let (status, body) = s
        .post(
            "/auth/verify-email",
            json!({"email": "v@acme.test", "code": fresh}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_code"), "{body}");
    // An address with no account answers exactly alike.
    let (status, body) = s
        .post(
            "/auth/verify-email",
            json!({"email": "nobody@acme.test", "code": wrong}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_code"));
    s.stop().await;
}

async fn an_expired_code_is_refused(b: Backend) {
    let s = TestServer::start(b).await;
    s.post(
        "/auth/signup",
        json!({"email": "late@acme.test", "password": "correct horse battery"}),
    )
    .await;
    let good = s.mail.code_for("late@acme.test").await;
    s.clock.advance(15 * 60 + 1);
    let (status, body) = s
        .post(
            "/auth/verify-email",
            json!({"email": "late@acme.test", "code": good}),
        )
        .await;
    assert_eq!((status, code(&body)), (400, "invalid_code"));
    s.stop().await;
}

async fn resend_answers_uniformly_and_mails_only_unverified_accounts(b: Backend) {
    let s = TestServer::start(b).await;
    s.verified_account("done@acme.test", "correct horse battery")
        .await;
    s.post(
        "/auth/signup",
        json!({"email": "wait@acme.test", "password": "correct horse battery"}),
    )
    .await;
    s.mail.code_for("wait@acme.test").await;
    let a = s
        .post(
            "/auth/resend-verification",
            json!({"email": "done@acme.test"}),
        )
        .await;
    let b2 = s
        .post(
            "/auth/resend-verification",
            json!({"email": "wait@acme.test"}),
        )
        .await;
    let c = s
        .post(
            "/auth/resend-verification",
            json!({"email": "ghost@acme.test"}),
        )
        .await;
    assert_eq!(a, b2);
    assert_eq!(a, c);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(s.mail.count_for("wait@acme.test"), 2);
    assert_eq!(s.mail.count_for("done@acme.test"), 1);
    assert_eq!(s.mail.count_for("ghost@acme.test"), 0);
    let (auth, _) = s.mail.0.lock().unwrap()[0].clone();
    assert_eq!(auth.as_deref(), Some("Bearer re_test_key"));
    s.stop().await;
}

async fn refresh_rotates_and_reuse_revokes_the_family(b: Backend) {
    let s = TestServer::start(b).await;
    let session = s
        .verified_account("r@acme.test", "correct horse battery")
        .await;
    let first = session["refresh_token"].as_str().unwrap().to_owned();
    let (status, second) = s
        .post(
            "/auth/refresh",
            json!({"refresh_token": first, "delivery": "body"}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    let second = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (status, body) = s
        .post(
            "/auth/refresh",
            json!({"refresh_token": first, "delivery": "body"}),
        )
        .await;
    assert_eq!((status, code(&body)), (401, "refresh_token_reused"));
    let (status, body) = s
        .post(
            "/auth/refresh",
            json!({"refresh_token": second, "delivery": "body"}),
        )
        .await;
    assert_eq!((status, code(&body)), (401, "invalid_refresh_token"));
    s.stop().await;
}

async fn of_two_concurrent_refreshes_exactly_one_succeeds(b: Backend) {
    let s = TestServer::start(b).await;
    let session = s
        .verified_account("c@acme.test", "correct horse battery")
        .await;
    let token = session["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        let body = json!({"refresh_token": token, "delivery": "body"});
        let (a, b2) = tokio::join!(
            s.post("/auth/refresh", body.clone()),
            s.post("/auth/refresh", body.clone())
        );
        let wins = [a.0, b2.0].iter().filter(|st| **st == 200).count();
        assert!(wins <= 1, "{a:?} {b2:?}");
        if wins == 1 {
            s.stop().await;
            return;
        }
    }
    panic!("no refresh succeeded");
}

async fn logout_revokes_the_family(b: Backend) {
    let s = TestServer::start(b).await;
    let session = s
        .verified_account("out@acme.test", "correct horse battery")
        .await;
    let token = session["refresh_token"].as_str().unwrap();
    let res = s
        .http
        .post(format!("{}/auth/logout", s.url))
        .json(&json!({"refresh_token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let (status, body) = s
        .post("/auth/refresh", json!({"refresh_token": token}))
        .await;
    assert_eq!((status, code(&body)), (401, "invalid_refresh_token"));
    s.stop().await;
}

async fn cookie_state_change_from_a_foreign_origin_is_refused(b: Backend) {
    let s = TestServer::start(b).await;
    s.verified_account("cookie@acme.test", "correct horse battery")
        .await;
    let res = s
        .http
        .post(format!("{}/auth/login", s.url))
        .json(&json!({"email": "cookie@acme.test", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies.iter().all(|c| c.contains("HttpOnly")),
        "{cookies:?}"
    );
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("aileron_refresh=") && c.contains("Path=/auth"))
    );
    let jar: Vec<&str> = cookies.iter().filter_map(|c| c.split(';').next()).collect();
    let cookie_header = jar.join("; ");
    let patch = |origin: Option<&str>| {
        let mut req = s
            .http
            .patch(format!("{}/v1/users/me", s.url))
            .header("cookie", &cookie_header)
            .json(&json!({"display_name": "Changed"}));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let (status, body) = common::json(patch(Some("https://evil.test")).await.unwrap()).await;
    assert_eq!((status, code(&body)), (403, "origin_not_allowed"));
    let (status, body) = common::json(patch(None).await.unwrap()).await;
    assert_eq!((status, code(&body)), (403, "origin_not_allowed"));
    let (status, body) = common::json(patch(Some(UI_ORIGIN)).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["display_name"], "Changed");
    // Cookie-based refresh is Origin-checked too.
    let res = s
        .http
        .post(format!("{}/auth/refresh", s.url))
        .header("cookie", &cookie_header)
        .header("origin", "https://evil.test")
        .send()
        .await
        .unwrap();
    let (status, body) = common::json(res).await;
    assert_eq!((status, code(&body)), (403, "origin_not_allowed"));
    s.stop().await;
}

async fn sql_looking_input_is_stored_literally(b: Backend) {
    let s = TestServer::start(b).await;
    let session = s
        .verified_account("o'brien@acme.test", "correct horse battery")
        .await;
    let access = session["access_token"].as_str().unwrap();
    let evil = "Robert'); DROP TABLE users; --";
    let res = s
        .http
        .patch(format!("{}/v1/users/me", s.url))
        .bearer_auth(access)
        .json(&json!({"display_name": evil}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (_, me) = s.get_bearer("/v1/users/me", access).await;
    assert_eq!(me["display_name"], evil);
    assert_eq!(me["email"], "o'brien@acme.test");
    let (status, _) = s.get_bearer("/v1/enterprises/me", access).await;
    assert_eq!(status, 200);
    s.stop().await;
}

async fn a_planted_password_never_appears_in_logs_or_responses(b: Backend) {
    let s = TestServer::start(b).await;
    let planted = format!("planted-{}", uuid::Uuid::new_v4().simple());
    let mut bodies = Vec::new();
    bodies.push(
        s.post(
            "/auth/signup",
            json!({"email": "p@acme.test", "password": planted}),
        )
        .await,
    );
    let code = s.mail.code_for("p@acme.test").await;
    bodies.push(
        s.post(
            "/auth/verify-email",
            json!({"email": "p@acme.test", "code": code, "delivery": "body"}),
        )
        .await,
    );
    bodies.push(
        s.post(
            "/auth/login",
            json!({"email": "p@acme.test", "password": planted, "delivery": "body"}),
        )
        .await,
    );
    bodies.push(
        s.post(
            "/auth/login",
            json!({"email": "p@acme.test", "password": format!("{planted}x")}),
        )
        .await,
    );
    bodies.push(
        s.post(
            "/auth/login",
            json!({"email": "p@acme.test", "password": planted, "extra": ["not", 1]}),
        )
        .await,
    );
    bodies.push(
        s.post(
            "/auth/signup",
            json!({"email": "p@acme.test", "password": 5}),
        )
        .await,
    );
    for (_, body) in &bodies {
        assert!(!body.to_string().contains(&planted), "{body}");
    }
    // Positive control: the log holds these very requests (by their ids) at debug level…
    let log = common::captured_log();
    let ids: Vec<&str> = bodies
        .iter()
        .filter_map(|(_, body)| body["error"]["request_id"].as_str())
        .collect();
    assert!(ids.len() >= 2, "{bodies:?}");
    for id in &ids {
        assert!(log.contains(id), "request {id} was not logged");
    }
    // …and never the password.
    assert!(!log.contains(&planted));
    s.stop().await;
}

async fn auto_verify_skips_the_code(b: Backend) {
    let s = TestServer::start_with(
        b,
        Options {
            auto_verify: true,
            ..Options::default()
        },
    )
    .await;
    s.post(
        "/auth/signup",
        json!({"email": "auto@gmail.com", "password": "correct horse battery"}),
    )
    .await;
    let (status, body) = s.post("/auth/login", json!({"email": "auto@gmail.com", "password": "correct horse battery", "delivery": "body"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, ent) = s
        .get_bearer("/v1/enterprises/me", body["access_token"].as_str().unwrap())
        .await;
    assert_eq!(ent["kind"], "personal");
    assert_eq!(s.mail.count_for("auto@gmail.com"), 0);
    s.stop().await;
}

async fn login_is_rate_limited_per_account(b: Backend) {
    let s = TestServer::start_with(
        b,
        Options {
            per_account: 3,
            ..Options::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, body) = s
            .post(
                "/auth/login",
                json!({"email": "x@acme.test", "password": "wrong password"}),
            )
            .await;
        statuses.push((status, code(&body).to_owned()));
    }
    assert_eq!(statuses[3], (429, "rate_limited".to_owned()));
    assert_eq!(statuses[2], (401, "invalid_credentials".to_owned()));
    s.stop().await;
}

async fn the_last_way_in_cannot_be_unlinked(b: Backend) {
    let s = TestServer::start(b).await;
    let session = s
        .verified_account("l@acme.test", "correct horse battery")
        .await;
    let access = session["access_token"].as_str().unwrap();
    let res = s
        .http
        .delete(format!("{}/v1/users/me/auth-providers/google", s.url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let (status, body) = common::json(res).await;
    assert_eq!((status, code(&body)), (404, "not_found"));
    s.stop().await;
}

#[tokio::test]
async fn without_a_database_every_v1_route_acts_as_the_local_user() {
    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            database: false,
            ..Options::default()
        },
    )
    .await;
    let (status, me) = common::json(
        s.http
            .get(format!("{}/v1/users/me", s.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "local@aileron.localhost");
    let (status, body) = s
        .post(
            "/auth/login",
            json!({"email": "a@b.test", "password": "whatever1"}),
        )
        .await;
    assert_eq!((status, code(&body)), (404, "auth_disabled"));
    s.stop().await;
}

#[tokio::test]
async fn bad_bearer_tokens_are_refused_with_their_own_code() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (status, body) = s.get_bearer("/v1/users/me", "not.a.jwt").await;
    assert_eq!((status, code(&body)), (401, "invalid_token"));
    assert!(body["error"]["request_id"].is_string());
    let (status, body) = common::json(
        s.http
            .get(format!("{}/v1/users/me", s.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
    s.stop().await;
}

#[tokio::test]
async fn an_oversized_body_is_refused() {
    let s = TestServer::start(Backend::Sqlite).await;
    let big = "x".repeat(100 * 1024);
    let (status, body) = s
        .post("/auth/login", json!({"email": "a@b.test", "password": big}))
        .await;
    assert_eq!((status, code(&body)), (413, "payload_too_large"));
    s.stop().await;
}

#[tokio::test]
async fn openapi_and_docs_are_public() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (status, doc) = common::json(
        s.http
            .get(format!("{}/openapi.json", s.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(doc["paths"]["/auth/login"].is_object());
    assert!(doc["paths"]["/v1/health"].is_object());
    for path in [
        "/v1/vault",
        "/v1/vault/passphrase",
        "/v1/vault/session",
        "/v1/vault/lock",
        "/v1/credentials",
        "/v1/credentials/{name}",
        "/v1/credentials/{name}/escrow",
        "/v1/credentials/{name}/requests",
        "/v1/escrows/admission",
        "/v1/agent-tokens",
        "/v1/agent-tokens/{id}",
        "/v1/tee/status",
        "/v1/tee/attestation",
        "/v1/escrows",
        "/v1/escrows/{name}",
        "/v1/escrows/{name}/status",
        "/v1/escrows/{name}/requests",
        "/v1/audit",
        "/auth/methods",
        "/v1/scope/check",
        "/v1/agent/credentials",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    // No route takes or gives a secret, a passphrase or a key: credentials are ciphertext.
    for schema in ["NewCredential", "CredentialView", "NewVault", "VaultInfo"] {
        let properties = &doc["components"]["schemas"][schema]["properties"];
        assert!(properties.is_object(), "{schema}");
        for field in ["secret", "passphrase", "vault_key", "kek"] {
            assert!(properties[field].is_null(), "{schema}.{field}");
        }
    }
    assert!(doc["components"]["schemas"]["NewCredential"]["properties"]["ciphertext"].is_object());
    // What an agent may use carries typed rules, so generated clients know their shape.
    let rule = &doc["components"]["schemas"]["AllowRuleDoc"]["properties"];
    assert!(
        rule["methods"].is_object() && rule["url_prefix"].is_object(),
        "{rule}"
    );
    // Operation ids are unique (generated clients name their functions after them).
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationId");
    // Every operation but the public ones documents its errors.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let public = ["/v1/health", "/auth/oauth"]
                .iter()
                .any(|p| path.starts_with(p))
                || path.ends_with("/lock")
                // Answers the UI's sign-in page; failures of the callback redirect to the UI.
                || path == "/auth/methods"
                || path == "/auth/{provider}/callback"
                || path == "/v1/escrows"
                || path == "/v1/credentials" && method == "get"
                || path == "/v1/agent-tokens" && method == "get";
            assert!(
                public
                    || responses
                        .keys()
                        .any(|code| code.starts_with('4') || code.starts_with('5')),
                "{method} {path} documents no error"
            );
        }
    }
    // No script on the API's origin (it holds the session cookies), and a policy that says so.
    let res = s.http.get(format!("{}/docs", s.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    );
    let page = res.text().await.unwrap();
    assert!(page.contains("/openapi.json"));
    assert!(!page.to_ascii_lowercase().contains("<script"), "{page}");
    s.stop().await;

    // With a docs service, /docs sends the browser to its API reference.
    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            extra_env: vec![("AILERON_DOCS_URL".into(), "https://docs.example.com".into())],
            ..Options::default()
        },
    )
    .await;
    let res = s.http.get(format!("{}/docs", s.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "https://docs.example.com/api/");
    s.stop().await;
}
