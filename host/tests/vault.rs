//! The end-to-end vault without an enclave (server-trust mode: the server brokers with the
//! credential key a client handed it), credentials, agent tokens and the audit log, on
//! PostgreSQL and SQLite. The client side is the SDK's (`aileron_sdk::vault::client`): the
//! passphrase and the vault key never reach the server.

#[macro_use]
mod common;

use aileron_sdk::vault::client::{self as vault, Opened};
use aileron_sdk::vault::{CredentialPolicy, VaultError};
use aileron_sdk::wire::AllowRule;
use aileron_sdk::{Error as SdkError, HostClient};
use common::e2e::Upstream;
use common::{Backend, Options, TestServer, code};
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "sk_test_PLANTED_4f9a1c2e7b";
const PASSPHRASE: &str = "a vault passphrase of several words";

both_backends!(
    server_trust_brokers_only_while_unlocked_and_says_so,
    a_passphrase_change_keeps_every_credential_readable,
    what_is_not_ciphertext_is_refused_and_stores_nothing,
    deleting_the_vault_needs_proof_of_its_key,
);

struct Account {
    token: String,
    host: HostClient,
}

async fn account(server: &TestServer, email: &str) -> Account {
    let session = server.verified_account(email, "an account password").await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    let host = HostClient::new(&server.url, SecretString::from(token.clone())).unwrap();
    Account { token, host }
}

fn pass(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

/// An account with a vault, opened.
async fn with_vault(server: &TestServer, email: &str) -> (Account, Opened) {
    let account = account(server, email).await;
    vault::create(&account.host, pass(PASSPHRASE))
        .await
        .unwrap();
    let opened = vault::open(&account.host, pass(PASSPHRASE)).await.unwrap();
    (account, opened)
}

fn rules(upstream: &Upstream) -> Vec<AllowRule> {
    vec![AllowRule {
        methods: vec!["GET".into(), "POST".into()],
        url_prefix: upstream.url("/api/"),
    }]
}

/// Adds a bearer credential for the upstream's `/api/`.
async fn add_bearer(
    opened: &Opened,
    host: &HostClient,
    upstream: &Upstream,
    name: &str,
    secret: &str,
) {
    opened
        .add_credential(
            host,
            name,
            &CredentialPolicy::bearer(rules(upstream), None),
            secret.as_bytes(),
        )
        .await
        .unwrap();
}

fn get(url: &str) -> Value {
    json!({"method": "GET", "url": url})
}

fn body_text(response: &Value) -> String {
    let bytes = aileron_sdk::wire::from_b64u(response["body"].as_str().unwrap()).unwrap();
    String::from_utf8(bytes).unwrap()
}

async fn call(
    server: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    server.call(method, path, token, body).await
}

async fn server_trust_brokers_only_while_unlocked_and_says_so(b: Backend) {
    let server = TestServer::start_with(
        b,
        Options {
            extra_env: vec![("AILERON_KEK_SESSION_TTL".into(), "2s".into())],
            ..Options::default()
        },
    )
    .await;
    let upstream = Upstream::start().await;
    let (me, opened) = with_vault(&server, "trust@example.com").await;
    assert_eq!(opened.info().trust, "server");
    add_bearer(&opened, &me.host, &upstream, "gh", SECRET).await;
    let request = |path: &str| {
        let body = Some(get(&upstream.url(path)));
        let token = me.token.clone();
        let server = &server;
        async move { call(server, "POST", "/v1/credentials/gh/requests", &token, body).await }
    };
    let (status, body) = request("/api/user").await;
    assert_eq!((status, code(&body)), (423, "vault_locked"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("aileron vault unlock")
    );

    let unlocked = opened.unlock_server_trust(&me.host).await.unwrap();
    assert_eq!(unlocked.trust, "server");
    assert!(
        unlocked.statement.contains("CAN READ"),
        "{}",
        unlocked.statement
    );
    let (status, tee) = call(&server, "GET", "/v1/tee/status", &me.token, None).await;
    assert_eq!(status, 200);
    assert_eq!(tee["trust"], "server");
    assert!(
        tee["trust_statement"]
            .as_str()
            .unwrap()
            .contains("CAN READ")
    );

    let (status, answer) = request("/api/user").await;
    assert_eq!(status, 200, "{answer}");
    let seen = upstream.seen();
    let auth = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    assert_eq!(auth.1, format!("Bearer {SECRET}"));
    assert!(body_text(&answer).contains("[REDACTED]"));
    assert!(!answer.to_string().contains(SECRET), "{answer}");
    let (status, body) = request("/elsewhere").await;
    assert_eq!((status, code(&body)), (403, "scope_violation"));

    let (status, _) = call(&server, "POST", "/v1/vault/lock", &me.token, None).await;
    assert_eq!(status, 200);
    assert_eq!(request("/api/user").await.0, 423, "locked now");
    opened.unlock_server_trust(&me.host).await.unwrap();
    assert_eq!(request("/api/user").await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert_eq!(
        request("/api/user").await.0,
        423,
        "the session ended with its ttl"
    );
    server.stop().await;
}

async fn a_passphrase_change_keeps_every_credential_readable(b: Backend) {
    let server = TestServer::start(b).await;
    let upstream = Upstream::start().await;
    let (me, opened) = with_vault(&server, "change@example.com").await;
    for (name, secret) in [("one", "secret-one-1234"), ("two", "secret-two-5678")] {
        add_bearer(&opened, &me.host, &upstream, name, secret).await;
    }
    opened
        .change_passphrase(&me.host, pass("a brand new vault passphrase"))
        .await
        .unwrap();
    match vault::open(&me.host, pass(PASSPHRASE)).await {
        Err(SdkError::Vault(VaultError::WrongPassphrase)) => {}
        other => panic!("the old passphrase still opens: {other:?}"),
    }
    let reopened = vault::open(&me.host, pass("a brand new vault passphrase"))
        .await
        .unwrap();
    let secrets: Vec<String> = reopened
        .read_credentials(&me.host)
        .await
        .unwrap()
        .iter()
        .map(|c| String::from_utf8(c.secret.to_vec()).unwrap())
        .collect();
    assert_eq!(secrets, ["secret-one-1234", "secret-two-5678"]);
    // Without proof of the vault key, nothing changes.
    let (_, info) = call(&server, "GET", "/v1/vault", &me.token, None).await;
    let forged = json!({"verifier": aileron_sdk::wire::b64u(&[7; 32]), "kdf": info["kdf"], "wrapped_key": info["wrapped_key"]});
    let (status, body) = call(
        &server,
        "POST",
        "/v1/vault/passphrase",
        &me.token,
        Some(forged),
    )
    .await;
    assert_eq!((status, code(&body)), (403, "invalid_verifier"));
    let (_, after) = call(&server, "GET", "/v1/vault", &me.token, None).await;
    assert_eq!(after, info);
    server.stop().await;
}

async fn what_is_not_ciphertext_is_refused_and_stores_nothing(b: Backend) {
    let server = TestServer::start(b).await;
    let upstream = Upstream::start().await;
    let me = account(&server, "input@example.com").await;
    let b64 = aileron_sdk::wire::b64u;
    let noise = |n: usize| {
        b64(&(0..n)
            .map(|i| (i as u8).wrapping_mul(151).wrapping_add(7))
            .collect::<Vec<u8>>())
    };
    let kdf = json!({"algorithm": "argon2id", "version": 19, "salt": b64(&[1; 16]), "m_cost_kib": 65536, "t_cost": 3, "p_cost": 1});
    let vault_body = |patch: Value| {
        let mut body =
            json!({"format": 1, "kdf": kdf, "wrapped_key": noise(60), "verifier": b64(&[9; 32])});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (patch, why) in [
        (json!({"passphrase": PASSPHRASE}), "a passphrase field"),
        (
            json!({"wrapped_key": b64(b"this is a passphrase, not a wrapped key at all!!!!!!!!!!!!!")}),
            "plaintext key",
        ),
        (json!({"wrapped_key": noise(32)}), "a raw key"),
        (
            json!({"kdf": {"algorithm": "argon2id", "version": 19, "salt": b64(&[1; 16]), "m_cost_kib": 1024, "t_cost": 1, "p_cost": 1}}),
            "kdf below the floor",
        ),
        (
            json!({"kdf": {"algorithm": "argon2id", "version": 19, "salt": b64(&[1; 16]), "m_cost_kib": 4194304, "t_cost": 3, "p_cost": 1}}),
            "kdf above the ceiling",
        ),
        (json!({"verifier": "short"}), "verifier"),
        (json!({"format": 2}), "format"),
    ] {
        let (status, body) = call(
            &server,
            "PUT",
            "/v1/vault",
            &me.token,
            Some(vault_body(patch)),
        )
        .await;
        assert_eq!(
            (status, code(&body)),
            (400, "invalid_request"),
            "{why}: {body}"
        );
    }
    let (status, body) = call(&server, "GET", "/v1/vault", &me.token, None).await;
    assert_eq!(
        (status, code(&body)),
        (409, "vault_not_set"),
        "nothing was stored"
    );
    vault::create(&me.host, pass(PASSPHRASE)).await.unwrap();

    let policy =
        String::from_utf8(CredentialPolicy::bearer(rules(&upstream), None).to_bytes()).unwrap();
    let credential = |patch: Value| {
        let mut body = json!({"id": "0f1e2d3c-4b5a-4968-8776-655443322110", "name": "gh", "policy": policy, "ciphertext": noise(60)});
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let wider = policy.replace("/api/", "/");
    for (patch, why, expected) in [
        (
            json!({"ciphertext": b64(SECRET.as_bytes())}),
            "a secret in the clear",
            "invalid_request",
        ),
        (
            json!({"ciphertext": b64(format!("{SECRET} padded to look long enough").as_bytes())}),
            "plaintext",
            "invalid_request",
        ),
        (
            json!({"secret": SECRET}),
            "a secret field",
            "invalid_request",
        ),
        (json!({"id": "1"}), "id", "invalid_request"),
        (json!({"name": ".."}), "name", "invalid_request"),
        (
            json!({"policy": "{}"}),
            "an empty policy",
            "invalid_request",
        ),
        (
            json!({"policy": wider.replace("Bearer {secret}", "{secret}")}),
            "inconsistent kind",
            "invalid_request",
        ),
    ] {
        let (status, body) = call(
            &server,
            "POST",
            "/v1/credentials",
            &me.token,
            Some(credential(patch)),
        )
        .await;
        assert_eq!(code(&body), expected, "{why}: {body}");
        assert_eq!(status, 400, "{why}");
    }
    let (_, list) = call(&server, "GET", "/v1/credentials", &me.token, None).await;
    assert_eq!(list, json!([]), "nothing was stored");
    assert!(!list.to_string().contains(SECRET));
    server.stop().await;
}

async fn deleting_the_vault_needs_proof_of_its_key(b: Backend) {
    let server = TestServer::start(b).await;
    let upstream = Upstream::start().await;
    let (me, opened) = with_vault(&server, "delete@example.com").await;
    add_bearer(&opened, &me.host, &upstream, "gh", SECRET).await;
    let forged = json!({"verifier": aileron_sdk::wire::b64u(&[3; 32])});
    let (status, body) = call(&server, "DELETE", "/v1/vault", &me.token, Some(forged)).await;
    assert_eq!((status, code(&body)), (403, "invalid_verifier"));
    assert_eq!(
        me.host.credentials().await.unwrap().len(),
        1,
        "nothing changed"
    );
    me.host.delete_vault(&opened.verifier()).await.unwrap();
    let (status, body) = call(&server, "GET", "/v1/vault", &me.token, None).await;
    assert_eq!((status, code(&body)), (409, "vault_not_set"));
    assert!(me.host.credentials().await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_alters_what_it_stores_is_caught_by_the_client() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let (alice, opened) = with_vault(&server, "victim@example.com").await;
    let policy = CredentialPolicy::bearer(rules(&upstream), None);
    for (name, secret) in [("gh", "secret-gh-0001"), ("stripe", "secret-stripe-0002")] {
        opened
            .add_credential(&alice.host, name, &policy, secret.as_bytes())
            .await
            .unwrap();
    }
    // Another user with the very same passphrase.
    let (bob, _) = with_vault(&server, "bystander@example.com").await;
    let db = server.db.as_ref().unwrap().url.clone();
    let sql = |statement: String| common::execute(&db, statement);
    let tampered = |result: Result<Vec<vault::OpenCredential>, SdkError>| match result {
        Err(SdkError::Vault(VaultError::Tampered(name))) => name,
        other => panic!(
            "the client trusted an altered credential: {:?}",
            other.map(|c| c.len())
        ),
    };
    assert_eq!(
        opened.read_credentials(&alice.host).await.unwrap().len(),
        2,
        "a clean read"
    );

    // 1. A widened policy (every path of the host instead of /api/).
    sql("UPDATE credentials SET policy = replace(policy, '/api/', '/') WHERE name = 'gh'".into())
        .await;
    assert_eq!(tampered(opened.read_credentials(&alice.host).await), "gh");
    sql(format!(
        "UPDATE credentials SET policy = '{}' WHERE name = 'gh'",
        String::from_utf8(policy.to_bytes()).unwrap()
    ))
    .await;
    opened.read_credentials(&alice.host).await.unwrap();

    // 2. Two credentials' ciphertexts swapped.
    sql("UPDATE credentials SET ciphertext = CASE name WHEN 'gh' THEN (SELECT ciphertext FROM credentials WHERE name = 'stripe') ELSE (SELECT ciphertext FROM credentials WHERE name = 'gh') END WHERE name IN ('gh', 'stripe')".into()).await;
    tampered(opened.read_credentials(&alice.host).await);
    // The unlock refuses as well, and escrows nothing.
    assert!(matches!(
        opened.unlock_server_trust(&alice.host).await,
        Err(SdkError::Vault(VaultError::Tampered(_)))
    ));

    // 3. Another user's wrapped key (and salt), even under the same passphrase, does not open.
    sql("UPDATE vaults SET kdf = (SELECT kdf FROM vaults v JOIN users u ON u.id = v.user_id WHERE u.email = 'bystander@example.com'), wrapped_key = (SELECT wrapped_key FROM vaults v JOIN users u ON u.id = v.user_id WHERE u.email = 'bystander@example.com') WHERE user_id = (SELECT id FROM users WHERE email = 'victim@example.com')".into()).await;
    assert!(matches!(
        vault::open(&alice.host, pass(PASSPHRASE)).await,
        Err(SdkError::Vault(VaultError::WrongPassphrase))
    ));
    assert!(
        vault::open(&bob.host, pass(PASSPHRASE)).await.is_ok(),
        "the bystander's own vault opens"
    );

    // 4. Parameters below the floor or above the ceiling are refused before any work.
    for (m, t) in [(1024, 1), (4194304, 3)] {
        sql(format!("UPDATE vaults SET kdf = replace(replace(kdf, '\"m_cost_kib\":65536', '\"m_cost_kib\":{m}'), '\"t_cost\":3', '\"t_cost\":{t}') WHERE user_id = (SELECT id FROM users WHERE email = 'bystander@example.com')")).await;
        assert!(
            matches!(
                vault::open(&bob.host, pass(PASSPHRASE)).await,
                Err(SdkError::Vault(VaultError::Parameters(_)))
            ),
            "m {m} t {t}"
        );
        sql(format!("UPDATE vaults SET kdf = replace(replace(kdf, '\"m_cost_kib\":{m}', '\"m_cost_kib\":65536'), '\"t_cost\":{t}', '\"t_cost\":3') WHERE user_id = (SELECT id FROM users WHERE email = 'bystander@example.com')")).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_and_custom_header_credentials_are_injected_as_configured() {
    let server = TestServer::start(Backend::Sqlite).await;
    let upstream = Upstream::start().await;
    let (me, opened) = with_vault(&server, "kinds@example.com").await;
    let mut header = CredentialPolicy::header(
        rules(&upstream),
        "X-Api-Key".into(),
        Some("key={secret}".into()),
    );
    header.max_uses = Some(1);
    opened
        .add_credential(&me.host, "h", &header, b"header-secret-1")
        .await
        .unwrap();
    opened
        .add_credential(
            &me.host,
            "b",
            &CredentialPolicy::basic(rules(&upstream), "alice".into()),
            b"pa55word-basic",
        )
        .await
        .unwrap();
    opened.unlock_server_trust(&me.host).await.unwrap();
    for name in ["h", "b"] {
        let (status, answer) = call(
            &server,
            "POST",
            &format!("/v1/credentials/{name}/requests"),
            &me.token,
            Some(get(&upstream.url("/api/x"))),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        assert!(!answer.to_string().contains("pa55word-basic"));
    }
    let seen = upstream.seen();
    let header_of = |i: usize, name: &str| {
        seen[i]
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header_of(0, "x-api-key").as_deref(),
        Some("key=header-secret-1")
    );
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode("alice:pa55word-basic");
    assert_eq!(
        header_of(1, "authorization"),
        Some(format!("Basic {basic}"))
    );
    let (status, body) = call(
        &server,
        "POST",
        "/v1/credentials/h/requests",
        &me.token,
        Some(get(&upstream.url("/api/x"))),
    )
    .await;
    assert_eq!((status, code(&body)), (410, "escrow_used_up"), "max_uses 1");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_credentials_escrows_and_audit_are_invisible() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let (alice, opened) = with_vault(&server, "alice@example.com").await;
    let mallory = account(&server, "mallory@example.com").await;
    add_bearer(&opened, &alice.host, &upstream, "gh", SECRET).await;
    opened.unlock_server_trust(&alice.host).await.unwrap();
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
        let (status, body) = call(&server, method, path, &mallory.token, body).await;
        assert_eq!(
            (status, code(&body)),
            (404, "not_found"),
            "{method} {path}: {body}"
        );
    }
    let (status, body) = call(&server, "GET", "/v1/vault", &mallory.token, None).await;
    assert_eq!((status, code(&body)), (409, "vault_not_set"));
    assert!(upstream.seen().is_empty());
    assert!(mallory.host.credentials().await.unwrap().is_empty());
    let (_, audit) = call(&server, "GET", "/v1/audit", &mallory.token, None).await;
    assert!(!audit.to_string().contains("\"gh\""), "{audit}");
    let (_, audit) = call(&server, "GET", "/v1/audit", &alice.token, None).await;
    assert!(audit.to_string().contains("credential.create"));
    let (status, _) = call(
        &server,
        "POST",
        "/v1/credentials/gh/requests",
        &alice.token,
        Some(get(&upstream.url("/api/x"))),
    )
    .await;
    assert_eq!(status, 200, "alice's credential is untouched");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_tokens_broker_only_what_they_are_given_until_they_expire_or_are_revoked() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let (me, opened) = with_vault(&server, "agents@example.com").await;
    for name in ["gh", "other"] {
        add_bearer(&opened, &me.host, &upstream, name, SECRET).await;
    }
    opened.unlock_server_trust(&me.host).await.unwrap();
    let (status, agent) = call(
        &server,
        "POST",
        "/v1/agent-tokens",
        &me.token,
        Some(json!({"name": "bot", "credentials": ["gh"], "expires_in": 3600})),
    )
    .await;
    assert_eq!(status, 201, "{agent}");
    let secret = agent["token"].as_str().unwrap();
    assert!(secret.starts_with("ail_agent_"));
    let request = |name: &str, token: &str| {
        let (path, token, body) = (
            format!("/v1/credentials/{name}/requests"),
            token.to_owned(),
            get(&upstream.url("/api/x")),
        );
        let server = &server;
        async move { call(server, "POST", &path, &token, Some(body)).await }
    };
    assert_eq!(request("gh", secret).await.0, 200);
    // What it may use, with the rules in the clear, and nothing it may not use.
    let (status, usable) = call(&server, "GET", "/v1/agent/credentials", secret, None).await;
    assert_eq!(status, 200, "{usable}");
    assert_eq!(
        usable,
        json!([{
            "name": "gh",
            "source": "credential",
            "kind": "bearer",
            "allow": [{"methods": ["GET", "POST"], "url_prefix": upstream.url("/api/")}],
            "max_uses": null,
            "expires_at": null,
            "status": "server",
        }])
    );
    assert!(!usable.to_string().contains(SECRET));
    let (_, everything) = call(&server, "GET", "/v1/agent/credentials", &me.token, None).await;
    let names: Vec<&str> = everything
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["gh", "other"], "the user sees all of theirs");
    // It may check a request against its credential's stored scope, by name, without making it.
    let check = |name: &str, url: String| {
        let body = json!({"credential": name, "method": "GET", "url": url});
        let server = &server;
        async move { call(server, "POST", "/v1/scope/check", secret, Some(body)).await }
    };
    let (status, verdict) = check("gh", upstream.url("/api/x")).await;
    assert_eq!(
        (status, verdict["allowed"].clone()),
        (200, json!(true)),
        "{verdict}"
    );
    let (_, verdict) = check("gh", upstream.url("/admin")).await;
    assert_eq!(verdict["allowed"], false, "{verdict}");
    let (status, body) = check("other", upstream.url("/api/x")).await;
    assert_eq!(
        (status, code(&body)),
        (404, "not_found"),
        "not its credential"
    );
    let both =
        json!({"credential": "gh", "policy": "{}", "method": "GET", "url": "https://x.test/"});
    let (status, body) = call(&server, "POST", "/v1/scope/check", secret, Some(both)).await;
    assert_eq!((status, code(&body)), (400, "invalid_request"));
    let (status, body) = request("other", secret).await;
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
        ("GET", "/v1/vault"),
        ("POST", "/v1/vault/session"),
        ("GET", "/v1/credentials"),
    ] {
        let (status, body) = call(&server, method, path, secret, Some(json!({}))).await;
        assert_eq!(
            (status, code(&body)),
            (403, "agent_token_not_allowed"),
            "{method} {path}"
        );
    }
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
        let (status, body) = call(&server, "POST", "/v1/agent-tokens", &me.token, Some(body)).await;
        assert_eq!(
            (status, code(&body)),
            (400, "invalid_request"),
            "{why}: {body}"
        );
    }
    let (_, list) = call(&server, "GET", "/v1/agent-tokens", &me.token, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert!(list[0].get("token").is_none() && !list.to_string().contains(secret));
    let (status, body) = request("gh", "ail_agent_not-a-real-token").await;
    assert_eq!((status, code(&body)), (401, "invalid_token"));
    server.clock.advance(3601);
    let (status, body) = request("gh", secret).await;
    assert_eq!((status, code(&body)), (401, "invalid_token"), "expired");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_enclave_sealed_escrows_are_refused_clearly() {
    let server = TestServer::start(Backend::Sqlite).await;
    let me = account(&server, "noenclave@example.com").await;
    for (path, body) in [
        ("/v1/tee/attestation", json!({"nonce": "0123456789abcdef"})),
        (
            "/v1/escrows",
            json!({"name": "x", "scope": "e30", "enc": "AA", "ciphertext": "AA"}),
        ),
        ("/v1/escrows/admission", json!({})),
    ] {
        let (status, body) = call(&server, "POST", path, &me.token, Some(body)).await;
        assert_eq!((status, code(&body)), (409, "tee_disabled"), "{path}");
    }
    let (status, tee) = call(&server, "GET", "/v1/tee/status", &me.token, None).await;
    assert_eq!(status, 200);
    assert_eq!(tee["provider"], "disabled");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_pages_newest_first() {
    let server = TestServer::start(Backend::Postgres).await;
    let upstream = Upstream::start().await;
    let (me, opened) = with_vault(&server, "audit@example.com").await;
    for name in ["a", "b", "c"] {
        add_bearer(&opened, &me.host, &upstream, name, SECRET).await;
    }
    let (status, first) = call(&server, "GET", "/v1/audit?limit=2", &me.token, None).await;
    assert_eq!(status, 200);
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events[0]["seq"].as_i64() > events[1]["seq"].as_i64());
    let cursor = first["next_before"].as_i64().unwrap();
    let (_, rest) = call(
        &server,
        "GET",
        &format!("/v1/audit?limit=200&before={cursor}"),
        &me.token,
        None,
    )
    .await;
    let rest = rest["events"].as_array().unwrap().clone();
    // The sign-in, vault.create and three credential.create: 5 events, no overlap.
    assert_eq!(events.len() + rest.len(), 5, "{rest:?}");
    assert!(rest.iter().all(|e| e["seq"].as_i64().unwrap() < cursor));
    assert_eq!(rest.last().unwrap()["action"], "login");
    assert_eq!(rest[rest.len() - 2]["action"], "vault.create");
    for bad in ["/v1/audit?limit=0", "/v1/audit?before=abc"] {
        let (status, body) = call(&server, "GET", bad, &me.token, None).await;
        assert_eq!((status, code(&body)), (400, "invalid_request"));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_beyond_the_quota_are_refused() {
    let server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            extra_env: vec![("AILERON_MAX_CREDENTIALS_PER_USER".into(), "1".into())],
            ..Options::default()
        },
    )
    .await;
    let upstream = Upstream::start().await;
    let (me, opened) = with_vault(&server, "quota@example.com").await;
    let policy = CredentialPolicy::bearer(rules(&upstream), None);
    opened
        .add_credential(&me.host, "one", &policy, SECRET.as_bytes())
        .await
        .unwrap();
    match opened
        .add_credential(&me.host, "two", &policy, SECRET.as_bytes())
        .await
    {
        Err(SdkError::Api { code, .. }) => assert_eq!(code.as_str(), "quota_exceeded"),
        other => panic!("{other:?}"),
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    let (me, opened) = with_vault(&server, "private@example.com").await;
    for prefix in [
        metadata.url("/"),
        format!("https://{}/", metadata.addr.unwrap()),
        "https://169.254.169.254/computeMetadata/".to_owned(),
        "https://metadata.google.internal/".to_owned(),
        "https://[::ffff:127.0.0.1]/".to_owned(),
    ] {
        let rules = vec![AllowRule {
            methods: vec!["GET".into()],
            url_prefix: prefix.clone(),
        }];
        match opened
            .add_credential(
                &me.host,
                "meta",
                &CredentialPolicy::bearer(rules, None),
                SECRET.as_bytes(),
            )
            .await
        {
            Err(SdkError::Api { code, .. }) => {
                assert_eq!(code.as_str(), "invalid_scope", "{prefix}")
            }
            other => panic!("{prefix}: {other:?}"),
        }
    }
    assert!(me.host.credentials().await.unwrap().is_empty());
    assert!(metadata.seen.lock().unwrap().is_empty());
    server.stop().await;
}
