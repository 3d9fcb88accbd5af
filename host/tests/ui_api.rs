//! What the management UI needs from the server: the public sign-in methods, `Retry-After` on
//! 429, audit filters, the scope check, the Origin check when authentication is off, and CORS
//! for the UI's origin.

#[macro_use]
mod common;

use common::{Backend, Options, TestServer, UI_ORIGIN, code};
use serde_json::{Value, json};

both_backends!(
    the_audit_log_filters_by_action_actor_and_time,
    the_scope_check_answers_with_the_brokers_rules,
);

#[tokio::test]
async fn sign_in_methods_name_only_what_is_configured() {
    let s = TestServer::start(Backend::Sqlite).await;
    let (status, methods) = get(&s, "/auth/methods").await;
    assert_eq!(status, 200);
    assert_eq!(
        methods,
        json!({"auth_enabled": true, "password": true, "providers": []})
    );
    s.stop().await;

    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            extra_env: vec![
                ("GITHUB_OAUTH_CLIENT_ID".into(), "gh-client".into()),
                ("GITHUB_OAUTH_CLIENT_SECRET".into(), "gh-secret".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let (_, methods) = get(&s, "/auth/methods").await;
    assert_eq!(
        methods["providers"],
        json!([{"id": "github", "name": "GitHub"}])
    );
    s.stop().await;

    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            database: false,
            ..Options::default()
        },
    )
    .await;
    let (_, methods) = get(&s, "/auth/methods").await;
    assert_eq!(
        methods,
        json!({"auth_enabled": false, "password": false, "providers": []})
    );
    s.stop().await;
}

#[tokio::test]
async fn a_rate_limited_answer_says_when_to_retry() {
    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            per_account: 1,
            ..Options::default()
        },
    )
    .await;
    let resend = || {
        s.http
            .post(format!("{}/auth/resend-verification", s.url))
            .json(&json!({"email": "slow@acme.test"}))
            .send()
    };
    let first = resend().await.unwrap();
    assert_eq!(first.status().as_u16(), 202);
    assert!(first.headers().get("retry-after").is_none());
    let refused = resend().await.unwrap();
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let (status, body) = common::json(refused).await;
    assert_eq!((status, code(&body)), (429, "rate_limited"));
    s.stop().await;
}

async fn the_audit_log_filters_by_action_actor_and_time(b: Backend) {
    let s = TestServer::start(b).await;
    let session = s
        .verified_account("audit@acme.test", "correct horse battery")
        .await;
    let token = session["access_token"].as_str().unwrap();
    for name in ["one", "two", "three"] {
        let (status, _) = s
            .call(
                "POST",
                "/v1/agent-tokens",
                token,
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, 201);
    }
    let actions = |page: &Value| -> Vec<String> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, all) = s.get_bearer("/v1/audit", token).await;
    assert_eq!(
        actions(&all),
        [
            "agent_token.create",
            "agent_token.create",
            "agent_token.create",
            "login"
        ]
    );

    let (_, logins) = s.get_bearer("/v1/audit?action=login", token).await;
    assert_eq!(actions(&logins), ["login"]);
    let (_, created) = s
        .get_bearer(
            "/v1/audit?action=agent_token.create&actor=user&limit=2",
            token,
        )
        .await;
    assert_eq!(actions(&created), ["agent_token.create"; 2]);
    // The cursor keeps the filter: the next page holds the third creation and no login.
    let before = created["next_before"].as_i64().unwrap();
    let (_, rest) = s
        .get_bearer(
            &format!("/v1/audit?action=agent_token.create&actor=user&limit=2&before={before}"),
            token,
        )
        .await;
    assert_eq!(actions(&rest), ["agent_token.create"]);
    assert!(rest["next_before"].is_null());
    let (_, by_agent) = s.get_bearer("/v1/audit?actor=agent:nope", token).await;
    assert_eq!(actions(&by_agent), Vec::<String>::new());

    let at = all["events"][0]["at"].as_i64().unwrap();
    let (_, until_then) = s
        .get_bearer(&format!("/v1/audit?until={}", at - 3600), token)
        .await;
    assert_eq!(actions(&until_then), Vec::<String>::new());
    let (_, since_then) = s
        .get_bearer(
            &format!("/v1/audit?since={}&until={}", at - 60, at + 60),
            token,
        )
        .await;
    assert_eq!(actions(&since_then).len(), 4);

    // Bad filters are refused, and say which.
    for (query, field) in [
        ("since=10&until=10", "since"),
        ("action=", "action"),
        ("actor=a%20b", "actor"),
        ("since=yesterday", "since"),
    ] {
        let (status, body) = s.get_bearer(&format!("/v1/audit?{query}"), token).await;
        assert_eq!((status, code(&body)), (400, "invalid_request"), "{query}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{query}: {message}");
    }
    s.stop().await;
}

fn policy(allow: Value) -> String {
    json!({
        "kind": "bearer",
        "inject": {"header": "Authorization", "format": "Bearer {secret}"},
        "allow": allow,
    })
    .to_string()
}

async fn the_scope_check_answers_with_the_brokers_rules(b: Backend) {
    let s = TestServer::start(b).await;
    let session = s
        .verified_account("scope@acme.test", "correct horse battery")
        .await;
    let token = session["access_token"].as_str().unwrap();
    let github = policy(json!([
        {"methods": ["GET", "POST"], "url_prefix": "https://api.github.com/repos/acme/"}
    ]));
    let check = |method: &str, url: &str| {
        s.call(
            "POST",
            "/v1/scope/check",
            token,
            Some(json!({"policy": github, "method": method, "url": url})),
        )
    };
    let (status, verdict) = check("GET", "https://API.github.com:443/repos/acme/x/../y").await;
    assert_eq!(status, 200);
    assert_eq!(
        verdict,
        json!({"allowed": true, "url": "https://api.github.com/repos/acme/y"})
    );
    for (method, url, because) in [
        (
            "DELETE",
            "https://api.github.com/repos/acme/y",
            "matches no allow rule",
        ),
        (
            "GET",
            "https://api.github.com/repos/acmecorp/y",
            "matches no allow rule",
        ),
        (
            "GET",
            "https://api.github.com/repos/acme/..%2f..%2fuser",
            "..%2f",
        ),
        (
            "GET",
            "https://user:pw@api.github.com/repos/acme/y",
            "userinfo",
        ),
        ("GET", "not a url", "invalid URL"),
    ] {
        let (status, verdict) = check(method, url).await;
        assert_eq!(status, 200);
        assert_eq!(verdict["allowed"], false, "{method} {url}");
        let reason = verdict["reason"].as_str().unwrap();
        assert!(reason.contains(because), "{method} {url}: {reason}");
        assert!(verdict["url"].is_null());
    }

    // A policy the credential routes would refuse is refused here with the same code.
    for (bad, expected) in [
        ("{", "invalid_request"),
        (&policy(json!([])) as &str, "invalid_scope"),
        (
            &policy(json!([{"methods": ["GET"], "url_prefix": "ftp://example.com/"}])),
            "invalid_scope",
        ),
    ] {
        let (status, body) = s
            .call(
                "POST",
                "/v1/scope/check",
                token,
                Some(json!({"policy": bad, "method": "GET", "url": "https://example.com/"})),
            )
            .await;
        assert_eq!((status, code(&body)), (400, expected), "{bad}");
    }
    // Not public: it is a signed-in user's tool.
    let (status, body) = s
        .post(
            "/v1/scope/check",
            json!({"policy": github, "method": "GET", "url": "https://api.github.com/"}),
        )
        .await;
    assert_eq!((status, code(&body)), (401, "unauthenticated"));
    s.stop().await;
}

#[tokio::test]
async fn without_authentication_a_foreign_page_cannot_drive_the_server() {
    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            database: false,
            ..Options::default()
        },
    )
    .await;
    let lock = |origin: Option<&str>| {
        let mut req = s.http.post(format!("{}/v1/vault/lock", s.url));
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        req.send()
    };
    for foreign in ["https://evil.example", "null"] {
        let (status, body) = common::json(lock(Some(foreign)).await.unwrap()).await;
        assert_eq!(
            (status, code(&body)),
            (403, "origin_not_allowed"),
            "{foreign}"
        );
    }
    // The UI's own origin, and a client that is not a browser (no Origin), may.
    for origin in [Some(UI_ORIGIN), None] {
        let (status, body) = common::json(lock(origin).await.unwrap()).await;
        assert_eq!(status, 200, "{origin:?}: {body}");
    }
    // Reading needs no Origin check: a foreign page cannot read the answer (CORS).
    let res = s
        .http
        .get(format!("{}/v1/users/me", s.url))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());
    s.stop().await;
}

async fn get(s: &TestServer, path: &str) -> (u16, Value) {
    common::json(s.http.get(format!("{}{path}", s.url)).send().await.unwrap()).await
}

#[tokio::test]
async fn the_ui_origin_may_call_every_method_and_read_the_request_id_and_retry_after() {
    let s = TestServer::start(Backend::Sqlite).await;
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        let res = s
            .http
            .request(reqwest::Method::OPTIONS, format!("{}/v1/vault", s.url))
            .header("origin", UI_ORIGIN)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        let h = res.headers();
        assert_eq!(h["access-control-allow-origin"], UI_ORIGIN, "{method}");
        assert_eq!(h["access-control-allow-credentials"], "true");
        let allowed = h["access-control-allow-methods"].to_str().unwrap();
        assert!(allowed.contains(method), "{method}: {allowed}");
    }
    let res = s
        .http
        .get(format!("{}/v1/health", s.url))
        .header("origin", UI_ORIGIN)
        .send()
        .await
        .unwrap();
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        exposed.contains("x-request-id") && exposed.contains("retry-after"),
        "{exposed}"
    );
    // Another origin gets no CORS grant.
    let res = s
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/vault", s.url))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    s.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_budget() {
    let s = TestServer::start_with(
        Backend::Sqlite,
        Options {
            per_addr: 2,
            extra_env: vec![("AILERON_TRUSTED_PROXY_HOPS".into(), "1".into())],
            ..Options::default()
        },
    )
    .await;
    let resend = |forwarded: &'static str| {
        s.http
            .post(format!("{}/auth/resend-verification", s.url))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"email": format!("{}@acme.test", mailbox_for(forwarded))}))
            .send()
    };
    // Two clients behind the same proxy (one TCP peer): each gets the per-address budget.
    for client in ["203.0.113.1", "203.0.113.2"] {
        for _ in 0..2 {
            assert_eq!(
                resend(client).await.unwrap().status().as_u16(),
                202,
                "{client}"
            );
        }
    }
    assert_eq!(resend("203.0.113.1").await.unwrap().status().as_u16(), 429);
    // A client cannot buy a new budget by writing its own entries left of the proxy's.
    assert_eq!(
        resend("198.51.100.9, 203.0.113.1")
            .await
            .unwrap()
            .status()
            .as_u16(),
        429
    );
    s.stop().await;
}

/// A distinct mailbox per forwarded value (the per-account budget must not be what refuses).
fn mailbox_for(text: &str) -> String {
    text.chars().filter(char::is_ascii_alphanumeric).collect()
}
