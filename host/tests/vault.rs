//! The vault, credentials, agent tokens and the audit log without an enclave (brokered requests
//! run in the host with the enclave's own broker), on PostgreSQL and SQLite.

mod common;

use common::e2e::Upstream;
use common::{Backend, Options, TestServer, code};
use serde_json::{Value, json};

const SECRET: &str = "sk_test_PLANTED_4f9a1c2e7b";
const PASSPHRASE: &str = "a vault passphrase";

async fn call(
    server: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    server.call(method, path, token, body).await
}

async fn user(server: &TestServer, email: &str) -> String {
    let session = server.verified_account(email, "an account password").await;
    session["access_token"].as_str().unwrap().to_owned()
}

async fn unlocked(server: &TestServer, email: &str) -> String {
    let token = user(server, email).await;
    let (status, body) = call(
        server,
        "POST",
        "/v1/users/me/passphrase",
        &token,
        Some(json!({"passphrase": PASSPHRASE})),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = verify(server, &token, PASSPHRASE).await;
    assert_eq!((status, &body["valid"]), (200, &json!(true)), "{body}");
    token
}

async fn verify(server: &TestServer, token: &str, passphrase: &str) -> (u16, Value) {
    call(
        server,
        "POST",
        "/v1/users/me/passphrase/verify",
        token,
        Some(json!({"passphrase": passphrase})),
    )
    .await
}

fn bearer(name: &str, upstream: &Upstream) -> Value {
    json!({
        "name": name,
        "kind": "bearer",
        "allow": [{"methods": ["GET", "POST"], "url_prefix": upstream.url("/api/")}],
        "secret": SECRET,
    })
}

fn get(url: &str) -> Value {
    json!({"method": "GET", "url": url})
}

fn body_text(response: &Value) -> String {
    let bytes = aileron_sdk::wire::from_b64u(response["body"].as_str().unwrap()).unwrap();
    String::from_utf8(bytes).unwrap()
}

async fn both(test: impl AsyncFn(Backend)) {
    test(Backend::Postgres).await;
    test(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_vault_credential_is_injected_in_the_host_and_redacted_from_the_answer() {
    both(async |backend| {
        let server = TestServer::start(backend).await;
        let upstream = Upstream::start().await;
        let token = unlocked(&server, "a@example.com").await;
        let (status, created) = call(
            &server,
            "POST",
            "/v1/credentials",
            &token,
            Some(bearer("gh", &upstream)),
        )
        .await;
        assert_eq!(status, 201, "{created}");
        assert!(!created.to_string().contains(SECRET));

        let (status, answer) = call(
            &server,
            "POST",
            "/v1/credentials/gh/requests",
            &token,
            Some(get(&upstream.url("/api/me"))),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["status"], 200);
        let seen = upstream.seen();
        assert_eq!(seen.len(), 1);
        assert!(
            seen[0]
                .headers
                .contains(&("authorization".into(), format!("Bearer {SECRET}")))
        );
        // The upstream echoed the secret in its body and a header: both come back redacted.
        let text = answer.to_string() + &body_text(&answer);
        assert!(!text.contains(SECRET), "{text}");
        assert!(body_text(&answer).contains("octocat"));

        let (status, list) = call(&server, "GET", "/v1/credentials", &token, None).await;
        assert_eq!(status, 200);
        assert_eq!(list[0]["name"], "gh");
        assert_eq!(list[0]["uses"], 1);
        assert!(!list.to_string().contains(SECRET));
        server.stop().await;
    })
    .await;
}

#[tokio::test]
async fn scope_limits_and_a_locked_vault_are_enforced_in_the_host() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let token = unlocked(&server, "scope@example.com").await;
    let mut limited = bearer("limited", &upstream);
    limited["max_uses"] = json!(1);
    let (status, _) = call(&server, "POST", "/v1/credentials", &token, Some(limited)).await;
    assert_eq!(status, 201);

    // Outside the scope: another path, another method, another host. Never sent.
    for request in [
        get(&upstream.url("/other")),
        json!({"method": "DELETE", "url": upstream.url("/api/x")}),
        get("http://example.com/api/x"),
    ] {
        let (status, body) = call(
            &server,
            "POST",
            "/v1/credentials/limited/requests",
            &token,
            Some(request),
        )
        .await;
        assert_eq!((status, code(&body)), (403, "scope_violation"), "{body}");
    }
    assert!(upstream.seen().is_empty());

    // One use allowed.
    let (status, _) = call(
        &server,
        "POST",
        "/v1/credentials/limited/requests",
        &token,
        Some(get(&upstream.url("/api/a"))),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials/limited/requests",
        &token,
        Some(get(&upstream.url("/api/a"))),
    )
    .await;
    assert_eq!((status, code(&body)), (410, "escrow_used_up"), "{body}");
    assert_eq!(upstream.seen().len(), 1);

    // A request that never reaches its upstream (nobody listens) is not a use.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut unreachable = bearer("unreachable", &upstream);
    unreachable["max_uses"] = json!(1);
    unreachable["allow"] =
        json!([{"methods": ["GET"], "url_prefix": format!("http://127.0.0.1:{closed}/")}]);
    let (status, _) = call(
        &server,
        "POST",
        "/v1/credentials",
        &token,
        Some(unreachable),
    )
    .await;
    assert_eq!(status, 201);
    let far = get(&format!("http://127.0.0.1:{closed}/x"));
    for _ in 0..2 {
        let (status, body) = call(
            &server,
            "POST",
            "/v1/credentials/unreachable/requests",
            &token,
            Some(far.clone()),
        )
        .await;
        assert_eq!((status, code(&body)), (502, "upstream_error"), "{body}");
    }
    let (_, listed) = call(&server, "GET", "/v1/credentials/unreachable", &token, None).await;
    assert_eq!(listed["uses"], 0, "{listed}");

    // Locked: requests and new credentials answer 423.
    let (status, _) = call(
        &server,
        "POST",
        "/v1/users/me/passphrase/lock",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials/limited/requests",
        &token,
        Some(get(&upstream.url("/api/a"))),
    )
    .await;
    assert_eq!((status, code(&body)), (423, "vault_locked"));
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials",
        &token,
        Some(bearer("other", &upstream)),
    )
    .await;
    assert_eq!((status, code(&body)), (423, "vault_locked"));
    server.stop().await;
}

#[tokio::test]
async fn a_passphrase_change_keeps_every_credential_readable() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let token = unlocked(&server, "change@example.com").await;
    for name in ["one", "two"] {
        let (status, _) = call(
            &server,
            "POST",
            "/v1/credentials",
            &token,
            Some(bearer(name, &upstream)),
        )
        .await;
        assert_eq!(status, 201);
    }
    let new = "a brand new passphrase";
    let change = |current: Option<&str>| {
        let mut body = json!({"passphrase": new});
        if let Some(c) = current {
            body["current_passphrase"] = json!(c);
        }
        body
    };
    let (status, body) = call(
        &server,
        "POST",
        "/v1/users/me/passphrase",
        &token,
        Some(change(None)),
    )
    .await;
    assert_eq!((status, code(&body)), (400, "current_passphrase_required"));
    let (status, body) = call(
        &server,
        "POST",
        "/v1/users/me/passphrase",
        &token,
        Some(change(Some("not the passphrase"))),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "wrong_passphrase"));
    let (status, body) = call(
        &server,
        "POST",
        "/v1/users/me/passphrase",
        &token,
        Some(change(Some(PASSPHRASE))),
    )
    .await;
    assert_eq!(status, 204, "{body}");

    call(
        &server,
        "POST",
        "/v1/users/me/passphrase/lock",
        &token,
        None,
    )
    .await;
    let (_, body) = verify(&server, &token, PASSPHRASE).await;
    assert_eq!(
        body["valid"], false,
        "the old passphrase no longer opens the vault"
    );
    let (_, body) = verify(&server, &token, new).await;
    assert_eq!(body["valid"], true);
    for name in ["one", "two"] {
        let path = format!("/v1/credentials/{name}/requests");
        let (status, body) = call(
            &server,
            "POST",
            &path,
            &token,
            Some(get(&upstream.url("/api/x"))),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    assert!(upstream.seen().iter().all(|s| {
        s.headers
            .contains(&("authorization".into(), format!("Bearer {SECRET}")))
    }));
    server.stop().await;
}

#[tokio::test]
async fn wrong_passphrases_are_rate_limited_per_user() {
    let server = TestServer::start(Backend::Postgres).await;
    let token = unlocked(&server, "limit@example.com").await;
    let other = unlocked(&server, "other@example.com").await;
    for _ in 0..5 {
        let (status, body) = verify(&server, &token, "wrong passphrase").await;
        assert_eq!((status, &body["valid"]), (200, &json!(false)));
    }
    let (status, body) = verify(&server, &token, PASSPHRASE).await;
    assert_eq!(
        (status, code(&body)),
        (429, "rate_limited"),
        "even the right one waits"
    );
    let (status, body) = verify(&server, &other, PASSPHRASE).await;
    assert_eq!(
        (status, &body["valid"]),
        (200, &json!(true)),
        "another user is not affected"
    );
    server.stop().await;
}

#[tokio::test]
async fn passphrase_input_is_checked() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = user(&server, "input@example.com").await;
    let (status, body) = verify(&server, &token, PASSPHRASE).await;
    assert_eq!((status, code(&body)), (409, "passphrase_not_set"));
    let (status, body) = call(&server, "GET", "/v1/users/me/passphrase/salt", &token, None).await;
    assert_eq!((status, code(&body)), (409, "passphrase_not_set"));
    let (status, body) = call(
        &server,
        "POST",
        "/v1/users/me/passphrase",
        &token,
        Some(json!({"passphrase": "short"})),
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invalid_passphrase"));
    let (status, body) = call(
        &server,
        "POST",
        "/v1/users/me/passphrase",
        &token,
        Some(json!({"passphrase": PASSPHRASE, "extra": 1})),
    )
    .await;
    assert_eq!((status, code(&body)), (400, "invalid_request"));
    let (status, _) = call(
        &server,
        "POST",
        "/v1/users/me/passphrase",
        &token,
        Some(json!({"passphrase": PASSPHRASE})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, salt) = call(&server, "GET", "/v1/users/me/passphrase/salt", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(salt["algorithm"], "argon2id");
    assert_eq!(salt["m_cost_kib"], 19456);
    assert_eq!(
        aileron_sdk::wire::from_b64u(salt["salt"].as_str().unwrap())
            .unwrap()
            .len(),
        16
    );
    let (_, session) = call(
        &server,
        "GET",
        "/v1/users/me/passphrase/session",
        &token,
        None,
    )
    .await;
    assert_eq!(session, json!({"active": false, "expires_at": null}));
    let (_, body) = verify(&server, &token, PASSPHRASE).await;
    let (_, session) = call(
        &server,
        "GET",
        "/v1/users/me/passphrase/session",
        &token,
        None,
    )
    .await;
    assert_eq!(session["active"], true);
    assert_eq!(session["expires_at"], body["session_expires_at"]);
    server.stop().await;
}

#[tokio::test]
async fn the_vault_session_ends_after_its_ttl() {
    let server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            extra_env: vec![("AILERON_KEK_SESSION_TTL".into(), "1s".into())],
            ..Options::default()
        },
    )
    .await;
    let upstream = Upstream::start().await;
    let token = unlocked(&server, "ttl@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials",
        &token,
        Some(bearer("x", &upstream)),
    )
    .await;
    assert_eq!((status, code(&body)), (423, "vault_locked"));
    server.stop().await;
}

#[tokio::test]
async fn credential_input_is_checked_and_changes_nothing() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let token = unlocked(&server, "bad@example.com").await;
    let with = |patch: Value| {
        let mut body = bearer("good", &upstream);
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (patch, why, expected) in [
        (json!({"name": "has space"}), "name", "invalid_request"),
        (json!({"name": ""}), "empty name", "invalid_request"),
        (json!({"name": "."}), "dot", "invalid_request"),
        (json!({"name": ".."}), "dot dot", "invalid_request"),
        (json!({"kind": "cookie"}), "unknown kind", "invalid_request"),
        (json!({"allow": []}), "no rule", "invalid_scope"),
        (
            json!({"allow": [{"methods": ["GET"], "url_prefix": "ftp://x.example/"}]}),
            "scheme",
            "invalid_scope",
        ),
        (json!({"secret": ""}), "empty secret", "invalid_request"),
        (
            json!({"secret": "a\r\nX-Evil: 1"}),
            "CR LF",
            "invalid_secret",
        ),
        (json!({"secret": "a\nb"}), "LF", "invalid_secret"),
        (
            json!({"kind": "header"}),
            "header kind without header",
            "invalid_request",
        ),
        (
            json!({"kind": "basic"}),
            "basic without username",
            "invalid_request",
        ),
        (json!({"max_uses": 0}), "zero uses", "invalid_scope"),
        (json!({"unknown": true}), "unknown field", "invalid_request"),
    ] {
        let (status, body) = call(
            &server,
            "POST",
            "/v1/credentials",
            &token,
            Some(with(patch)),
        )
        .await;
        assert_eq!(code(&body), expected, "{why}: {body}");
        let want = if expected == "invalid_secret" {
            422
        } else {
            400
        };
        assert_eq!(status, want, "{why}: {body}");
    }
    let (_, list) = call(&server, "GET", "/v1/credentials", &token, None).await;
    assert_eq!(list, json!([]), "nothing was stored");
    let (status, _) = call(
        &server,
        "POST",
        "/v1/credentials",
        &token,
        Some(bearer("dup", &upstream)),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials",
        &token,
        Some(bearer("dup", &upstream)),
    )
    .await;
    assert_eq!((status, code(&body)), (409, "already_exists"));
    server.stop().await;
}

#[tokio::test]
async fn basic_and_custom_header_credentials_are_injected_as_configured() {
    let server = TestServer::start(Backend::Sqlite).await;
    let upstream = Upstream::start().await;
    let token = unlocked(&server, "kinds@example.com").await;
    let allow = json!([{"methods": ["GET"], "url_prefix": upstream.url("/api/")}]);
    let basic = json!({"name": "basic", "kind": "basic", "username": "octo", "allow": allow, "secret": SECRET});
    let header = json!({"name": "key", "kind": "header", "header": "X-Api-Key", "format": "key={secret}", "allow": allow, "secret": SECRET});
    for body in [basic, header] {
        let (status, created) = call(&server, "POST", "/v1/credentials", &token, Some(body)).await;
        assert_eq!(status, 201, "{created}");
    }
    call(
        &server,
        "POST",
        "/v1/credentials/basic/requests",
        &token,
        Some(get(&upstream.url("/api/1"))),
    )
    .await;
    call(
        &server,
        "POST",
        "/v1/credentials/key/requests",
        &token,
        Some(get(&upstream.url("/api/2"))),
    )
    .await;
    let seen = upstream.seen();
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode(format!("octo:{SECRET}"));
    assert!(
        seen[0]
            .headers
            .contains(&("authorization".into(), format!("Basic {expected}"))),
        "{:?}",
        seen[0]
    );
    assert!(
        seen[1]
            .headers
            .contains(&("x-api-key".into(), format!("key={SECRET}"))),
        "{:?}",
        seen[1]
    );
    server.stop().await;
}

#[tokio::test]
async fn another_users_credentials_escrows_and_audit_are_invisible() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let alice = unlocked(&server, "alice@example.com").await;
    let mallory = unlocked(&server, "mallory@example.com").await;
    let (status, _) = call(
        &server,
        "POST",
        "/v1/credentials",
        &alice,
        Some(bearer("gh", &upstream)),
    )
    .await;
    assert_eq!(status, 201);
    for (method, path, body) in [
        ("GET", "/v1/credentials/gh", None),
        ("DELETE", "/v1/credentials/gh", None),
        (
            "POST",
            "/v1/credentials/gh/requests",
            Some(get(&upstream.url("/api/x"))),
        ),
        ("DELETE", "/v1/escrows/gh", None),
        ("GET", "/v1/escrows/gh/status", None),
    ] {
        let (status, body) = call(&server, method, path, &mallory, body).await;
        assert_eq!(
            (status, code(&body)),
            (404, "not_found"),
            "{method} {path}: {body}"
        );
    }
    assert!(upstream.seen().is_empty());
    let (_, list) = call(&server, "GET", "/v1/credentials", &mallory, None).await;
    assert_eq!(list, json!([]));
    let (_, audit) = call(&server, "GET", "/v1/audit", &mallory, None).await;
    assert!(!audit.to_string().contains("\"gh\""), "{audit}");
    let (_, audit) = call(&server, "GET", "/v1/audit", &alice, None).await;
    assert!(audit.to_string().contains("credential.create"));
    // Alice's credential is untouched.
    let (status, _) = call(
        &server,
        "POST",
        "/v1/credentials/gh/requests",
        &alice,
        Some(get(&upstream.url("/api/x"))),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn agent_tokens_broker_only_what_they_are_given_until_they_expire_or_are_revoked() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let token = unlocked(&server, "agents@example.com").await;
    for name in ["gh", "other"] {
        call(
            &server,
            "POST",
            "/v1/credentials",
            &token,
            Some(bearer(name, &upstream)),
        )
        .await;
    }
    let (status, agent) = call(
        &server,
        "POST",
        "/v1/agent-tokens",
        &token,
        Some(json!({"name": "bot", "credentials": ["gh"], "expires_in": 3600})),
    )
    .await;
    assert_eq!(status, 201, "{agent}");
    let secret = agent["token"].as_str().unwrap();
    assert!(secret.starts_with("ail_agent_"));
    let (status, _) = call(
        &server,
        "POST",
        "/v1/credentials/gh/requests",
        secret,
        Some(get(&upstream.url("/api/x"))),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials/other/requests",
        secret,
        Some(get(&upstream.url("/api/x"))),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (404, "not_found"),
        "outside its list"
    );
    for (method, path) in [
        ("GET", "/v1/agent-tokens"),
        ("POST", "/v1/agent-tokens"),
        ("GET", "/v1/audit"),
        ("DELETE", "/v1/credentials/gh"),
        ("POST", "/v1/users/me/passphrase/verify"),
    ] {
        let (status, body) = call(&server, method, path, secret, Some(json!({}))).await;
        assert_eq!(
            (status, code(&body)),
            (403, "agent_token_not_allowed"),
            "{method} {path}"
        );
    }
    // Bad requests create nothing.
    for (body, why) in [
        (json!({"name": "x", "expires_in": 10}), "too short"),
        (
            json!({"name": "x", "expires_in": 400 * 24 * 3600}),
            "too long",
        ),
        (json!({"name": "x", "credentials": []}), "an empty list"),
        (json!({"name": "bad name"}), "name"),
        (json!({"name": "x", "scopes": ["all"]}), "unknown field"),
    ] {
        let (status, body) = call(&server, "POST", "/v1/agent-tokens", &token, Some(body)).await;
        assert_eq!(
            (status, code(&body)),
            (400, "invalid_request"),
            "{why}: {body}"
        );
    }
    // Listed without the token; expires with the clock; a wrong one is refused alike.
    let (_, list) = call(&server, "GET", "/v1/agent-tokens", &token, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["name"], "bot");
    assert!(list[0].get("token").is_none() && !list.to_string().contains(secret));
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials/gh/requests",
        "ail_agent_not-a-real-token",
        Some(get(&upstream.url("/api/x"))),
    )
    .await;
    assert_eq!((status, code(&body)), (401, "invalid_token"));
    server.clock.advance(3601);
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials/gh/requests",
        secret,
        Some(get(&upstream.url("/api/x"))),
    )
    .await;
    assert_eq!((status, code(&body)), (401, "invalid_token"), "expired");
    server.stop().await;
}

#[tokio::test]
async fn without_an_enclave_sealed_escrows_are_refused_clearly() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = user(&server, "noenclave@example.com").await;
    let (status, body) = call(
        &server,
        "POST",
        "/v1/tee/attestation",
        &token,
        Some(json!({"nonce": "0123456789abcdef"})),
    )
    .await;
    assert_eq!((status, code(&body)), (409, "tee_disabled"));
    let (status, body) = call(
        &server,
        "POST",
        "/v1/escrows",
        &token,
        Some(json!({"name": "x", "scope": "e30", "enc": "AA", "ciphertext": "AA"})),
    )
    .await;
    assert_eq!((status, code(&body)), (409, "tee_disabled"));
    let (status, tee) = call(&server, "GET", "/v1/tee/status", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(tee["provider"], "disabled");
    assert_eq!(tee["escrows_lost"], 0);
    server.stop().await;
}

#[tokio::test]
async fn the_audit_log_pages_newest_first() {
    let server = TestServer::start(Backend::Postgres).await;
    let token = unlocked(&server, "audit@example.com").await;
    for _ in 0..3 {
        verify(&server, &token, PASSPHRASE).await;
    }
    let (status, first) = call(&server, "GET", "/v1/audit?limit=2", &token, None).await;
    assert_eq!(status, 200);
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0]["seq"].as_i64() > events[1]["seq"].as_i64());
    let cursor = first["next_before"].as_i64().unwrap();
    let (_, rest) = call(
        &server,
        "GET",
        &format!("/v1/audit?limit=200&before={cursor}"),
        &token,
        None,
    )
    .await;
    let rest = rest["events"].as_array().unwrap().clone();
    // The sign-in (email verification), passphrase.set and 4 verifications: 6 events in all,
    // no overlap between pages.
    assert_eq!(events.len() + rest.len(), 6, "{rest:?}");
    assert!(rest.iter().all(|e| e["seq"].as_i64().unwrap() < cursor));
    assert_eq!(rest.last().unwrap()["action"], "login");
    assert_eq!(rest[rest.len() - 2]["action"], "passphrase.set");
    let (status, body) = call(&server, "GET", "/v1/audit?limit=0", &token, None).await;
    assert_eq!((status, code(&body)), (400, "invalid_request"));
    let (status, body) = call(&server, "GET", "/v1/audit?before=abc", &token, None).await;
    assert_eq!((status, code(&body)), (400, "invalid_request"));
    server.stop().await;
}

#[tokio::test]
async fn without_the_development_setting_a_credential_cannot_name_a_private_destination() {
    let server = TestServer::start_with(
        Backend::Postgres,
        Options {
            extra_env: vec![(common::DANGEROUS.into(), "false".into())],
            ..Options::default()
        },
    )
    .await;
    let metadata = Upstream::start().await;
    let token = unlocked(&server, "private@example.com").await;
    for prefix in [
        metadata.url("/"),
        format!("https://{}/", metadata.addr.unwrap()),
        "https://169.254.169.254/computeMetadata/".to_owned(),
        "https://metadata.google.internal/".to_owned(),
        "https://[::ffff:127.0.0.1]/".to_owned(),
    ] {
        let mut body = bearer("meta", &metadata);
        body["allow"] = json!([{"methods": ["GET"], "url_prefix": prefix}]);
        let (status, answer) = call(&server, "POST", "/v1/credentials", &token, Some(body)).await;
        assert_eq!(
            (status, code(&answer)),
            (400, "invalid_scope"),
            "{prefix}: {answer}"
        );
    }
    let (_, list) = call(&server, "GET", "/v1/credentials", &token, None).await;
    assert_eq!(list, json!([]));
    assert!(metadata.seen.lock().unwrap().is_empty());
    server.stop().await;
}
