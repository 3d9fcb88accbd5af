//! The product end to end on PostgreSQL, with the local enclave and the `aileron` CLI as real
//! processes, the CLI talking to the server through a recording proxy: sign up, sign in with the
//! CLI (the session, policy and root saved), make the vault, add a credential (encrypted and
//! escrowed by the CLI), lock and unlock, hand an agent a token, broker requests, survive an
//! enclave restart, revoke, change the passphrase, read it all back from the audit log. Then
//! prove the planted passphrase and secret crossed no wire to the server in any common encoding
//! and are nowhere else they must not be; and that a server that widens a policy is caught.

mod common;

use std::sync::Mutex;

use common::e2e::{Enclave, RecordingProxy, Upstream, cli, leaked, pg_dump};
use common::{Backend, Options, TestServer, captured_log, code};
use serde_json::{Value, json};

const SECRET: &str = "ghp_PLANTEDsecret0123456789abcdefXYZ";
const PASSPHRASE: &str = "planted vault passphrase: quiet otter umbrella 7";
const NEW_PASSPHRASE: &str = "an even better planted passphrase: amber kettle 93";
const WRONG_PASSPHRASE: &str = "a wrong planted passphrase: violet canyon 42";
const PASSWORD: &str = "a long account password";

/// Calls the API and keeps every response body, for the hygiene check at the end.
struct Api<'a> {
    server: &'a TestServer,
    bodies: Mutex<Vec<String>>,
}

impl Api<'_> {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .server
            .http
            .request(method, format!("{}{path}", self.server.url))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = format!("{:?}", res.headers());
        let text = res.text().await.unwrap_or_default();
        self.bodies
            .lock()
            .unwrap()
            .push(format!("{headers}\n{text}"));
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_journey_with_an_enclave_and_secret_hygiene() {
    let dir = tempfile::tempdir().unwrap();
    let mut enclave = Enclave::start(dir.path());
    let upstream = Upstream::start().await;
    let server = TestServer::start_with(
        Backend::Postgres,
        Options {
            extra_env: enclave.host_env(),
            ..Options::default()
        },
    )
    .await;
    let proxy = RecordingProxy::start(server.url.trim_start_matches("http://")).await;
    let api = Api {
        server: &server,
        bodies: Mutex::new(Vec::new()),
    };
    let email = "journey@example.com";
    let config = dir.path().join("config");
    let config_str = config.to_str().unwrap().to_owned();
    let env = [("AILERON_CONFIG_DIR", config_str.as_str())];
    let run = |args: &[&str], stdin: &str| {
        let (exit, out, err) = cli(args, &env, stdin);
        api.bodies.lock().unwrap().push(format!("{out}\n{err}"));
        (exit, out, err)
    };

    // Sign up and verify the email (the code is mailed), then sign in with the CLI, which saves
    // the session and the attestation policy and root it will verify the enclave against.
    server.verified_account(email, PASSWORD).await;
    let policy = enclave.policy_file();
    let root = enclave.ca_dir().join("root.pem");
    let (exit, _, err) = run(
        &[
            "login",
            "--server",
            &proxy.url,
            "--email",
            email,
            "--policy",
            policy.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
        ],
        PASSWORD,
    );
    assert_eq!(exit, 0, "{err}");
    let session_file = config.join("session.json");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&session_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let saved: Value = serde_json::from_slice(&std::fs::read(&session_file).unwrap()).unwrap();
    let user = saved["access_token"].as_str().unwrap().to_owned();

    // The TEE is attested and says who brokers.
    let (status, tee) = api.call("GET", "/v1/tee/status", &user, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (tee["attested"].clone(), tee["trust"].clone()),
        (json!(true), json!("enclave")),
        "{tee}"
    );
    let first_boot = tee["boot_id"].as_str().unwrap().to_owned();

    // The vault, made by the CLI. A weak passphrase is refused before anything is sent.
    let (exit, _, err) = run(&["vault", "set"], "password123");
    assert_eq!(exit, 2, "{err}");
    assert!(err.contains("too"), "{err}");
    let (exit, _, err) = run(&["vault", "set"], PASSPHRASE);
    assert_eq!(exit, 0, "{err}");

    // A credential: encrypted here, stored, escrowed at once into the attested enclave.
    let allow = format!("GET {}", upstream.url("/api/"));
    let add = [
        "credential",
        "add",
        "--name",
        "github",
        "--allow",
        allow.as_str(),
    ];
    let (exit, out, err) = run(&add, &format!("{PASSPHRASE}\n{SECRET}\n"));
    assert_eq!(exit, 0, "{err}");
    assert!(err.contains("escrowed"), "{err}");
    assert_eq!(json_of(&out)["name"], "github");
    let (_, listed, _) = run(&["credential", "ls"], "");
    assert_eq!(
        json_of(&listed)[0]["escrow"]["status"],
        "active",
        "{listed}"
    );

    // A wrong passphrase is known here: nothing but the vault's public material is fetched.
    let before = proxy.sent().len();
    let (exit, out, _) = run(&["vault", "unlock"], WRONG_PASSPHRASE);
    assert_eq!(exit, 1);
    assert!(out.contains("does not open this vault"), "{out}");
    let sent = String::from_utf8_lossy(&proxy.sent()[before..]).into_owned();
    let requests: Vec<&str> = sent.lines().filter(|l| l.contains(" HTTP/1.1")).collect();
    assert_eq!(
        requests,
        ["GET /v1/users/me HTTP/1.1", "GET /v1/vault HTTP/1.1"],
        "{sent}"
    );

    // An agent token, restricted to this credential. It cannot read or change the vault.
    let (exit, out, err) = run(
        &[
            "agent-token",
            "create",
            "--name",
            "ci-bot",
            "--ttl",
            "7d",
            "--credential",
            "github",
        ],
        "",
    );
    assert_eq!(exit, 0, "{err}");
    let agent = json_of(&out);
    assert_eq!(agent["credentials"], json!(["github"]));
    let agent_token = agent["token"].as_str().unwrap().to_owned();
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    for (method, path) in [
        ("GET", "/v1/credentials"),
        ("POST", "/v1/vault/lock"),
        ("GET", "/v1/vault"),
    ] {
        let (status, body) = api.call(method, path, &agent_token, None).await;
        assert_eq!(
            (status, code(&body)),
            (403, "agent_token_not_allowed"),
            "{method} {path}"
        );
    }

    // The agent's brokered request through the CLI: the upstream gets the secret, the agent
    // the answer with the secret redacted.
    let agent_env = [
        ("AILERON_TOKEN", agent_token.as_str()),
        ("AILERON_CONFIG_DIR", config_str.as_str()),
    ];
    let url = upstream.url("/api/user");
    let agent_request = |method: &str| {
        let args = [
            "request",
            method,
            &url,
            "--server",
            &proxy.url,
            "--credential",
            "github",
        ];
        let (exit, out, err) = cli(&args, &agent_env, "");
        api.bodies.lock().unwrap().push(format!("{out}\n{err}"));
        (exit, out, err)
    };
    let (exit, out, err) = agent_request("GET");
    assert_eq!(exit, 0, "{err}");
    assert!(
        err.contains("HTTP 200") && out.contains("octocat"),
        "{out}{err}"
    );
    assert!(!out.contains(SECRET), "the secret came back: {out}");
    let seen = upstream.seen();
    let auth = seen[0]
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap();
    assert_eq!(auth.1, format!("Bearer {SECRET}"));
    let (exit, out, _) = agent_request("DELETE");
    assert_eq!(exit, 1);
    assert!(out.contains("scope_violation"), "{out}");
    assert_eq!(
        upstream.seen().len(),
        1,
        "refused by the enclave, never sent"
    );

    // Locked: every escrow revoked; the agent is told the owner must unlock. Unlock again.
    let (exit, _, err) = run(&["vault", "lock"], "");
    assert_eq!(exit, 0, "{err}");
    let (exit, out, _) = agent_request("GET");
    assert_eq!(exit, 1);
    assert!(
        out.contains("vault_locked") && out.contains("aileron vault unlock"),
        "{out}"
    );
    let (exit, out, err) = run(&["vault", "unlock"], PASSPHRASE);
    assert_eq!(exit, 0, "{err}");
    assert_eq!(json_of(&out)["escrowed"], 1, "{out}");
    assert!(err.contains("attested enclave"), "{err}");
    assert_eq!(agent_request("GET").0, 0);

    // An escrow sealed end to end by the CLI through the relay, with the saved policy.
    let (exit, out, err) = run(
        &[
            "escrow",
            "put",
            "--name",
            "sealed-gh",
            "--allow",
            &allow,
            "--ttl",
            "1h",
        ],
        SECRET,
    );
    assert_eq!(exit, 0, "{out}{err}");
    assert!(out.contains("\"active\""), "{out}");
    let (exit, out, err) = run(
        &[
            "request",
            "GET",
            &upstream.url("/api/sealed"),
            "--name",
            "sealed-gh",
        ],
        "",
    );
    assert_eq!(exit, 0, "{out}{err}");
    assert!(!out.contains(SECRET));

    // Straight to the enclave: the server only signs the admission ticket; the escrow is a file.
    let file = dir.path().join("direct.json");
    let (exit, out, err) = run(
        &[
            "escrow",
            "put",
            "--direct",
            "--enclave",
            &enclave.url(),
            "--policy",
            policy.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
            "--allow",
            &allow,
            "--ttl",
            "1h",
            "--out",
            file.to_str().unwrap(),
        ],
        SECRET,
    );
    assert_eq!(exit, 0, "{out}{err}");
    let (exit, out, err) = run(
        &[
            "request",
            "GET",
            &upstream.url("/api/direct"),
            "--enclave",
            &enclave.url(),
            "--policy",
            policy.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
            "--escrow",
            file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(exit, 0, "{out}{err}");
    assert!(!out.contains(SECRET));

    // Another user sees none of it: 404, not 403, and only their own audit.
    let other = server.verified_account("other@example.com", PASSWORD).await;
    let other = other["access_token"].as_str().unwrap().to_owned();
    let probe = json!({"method": "GET", "url": upstream.url("/api/user")});
    for (method, path, body) in [
        ("GET", "/v1/escrows/sealed-gh/status", None),
        (
            "POST",
            "/v1/escrows/sealed-gh/requests",
            Some(probe.clone()),
        ),
        ("DELETE", "/v1/escrows/sealed-gh", None),
        ("GET", "/v1/credentials/github", None),
        (
            "POST",
            "/v1/credentials/github/requests",
            Some(probe.clone()),
        ),
        (
            "POST",
            "/v1/credentials/github/escrow",
            Some(json!({"scope": "e30", "enc": "AA", "ciphertext": "AA"})),
        ),
        ("DELETE", "/v1/credentials/github", None),
    ] {
        let (status, body) = api.call(method, path, &other, body).await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{method} {path}");
    }
    let (_, audit) = api.call("GET", "/v1/audit", &other, None).await;
    assert_eq!(audit["events"].as_array().unwrap().len(), 1, "{audit}");

    // The enclave restarts: status and the next request say to unlock again.
    let seen_before_restart = upstream.seen().len();
    enclave.restart();
    let (_, tee) = api.call("GET", "/v1/tee/status", &user, None).await;
    assert_eq!(tee["attested"], true, "{tee}");
    assert_ne!(tee["boot_id"].as_str().unwrap(), first_boot);
    assert_eq!(tee["escrows_lost"], 2, "{tee}");
    assert!(
        tee["action"]
            .as_str()
            .unwrap()
            .contains("aileron vault unlock")
    );
    let (exit, out, _) = agent_request("GET");
    assert_eq!(exit, 1);
    assert!(
        out.contains("escrow_lost") && out.contains("unlock the vault again"),
        "{out}"
    );
    let (exit, out, err) = run(&["vault", "unlock"], PASSPHRASE);
    assert_eq!(exit, 0, "{err}");
    assert_eq!(json_of(&out)["escrowed"], 1);
    assert_eq!(agent_request("GET").0, 0, "the agent works again");
    assert_eq!(upstream.seen().len(), seen_before_restart + 1);

    // A server that widens a stored policy is caught: the unlock names the credential and
    // escrows nothing.
    let db = server.db.as_ref().unwrap().url.clone();
    let sql = |statement: String| common::execute(&db, statement);
    let original = {
        use sqlx::{Connection as _, Row as _};
        let mut conn = sqlx::AnyConnection::connect(&db).await.unwrap();
        let row = sqlx::query("SELECT policy FROM credentials WHERE name = 'github'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        row.get::<String, _>("policy")
    };
    sql("UPDATE credentials SET policy = replace(policy, '/api/', '/')".into()).await;
    let (exit, out, _) = run(&["vault", "unlock"], PASSPHRASE);
    assert_eq!(exit, 1);
    assert!(
        out.contains("\"github\" was altered by the server"),
        "{out}"
    );
    sql(format!("UPDATE credentials SET policy = '{original}'")).await;

    // Revoke: the agent token, then the sealed escrow.
    let (_, listed, _) = run(&["agent-token", "ls"], "");
    assert!(
        listed.contains(&agent_id) && !listed.contains(&agent_token),
        "{listed}"
    );
    let (exit, _, err) = run(&["agent-token", "rm", "--id", &agent_id], "");
    assert_eq!(exit, 0, "{err}");
    let (exit, out, _) = agent_request("GET");
    assert_eq!(exit, 1);
    assert!(out.contains("invalid_token"), "{out}");
    let (exit, _, err) = run(&["escrow", "rm", "--name", "sealed-gh"], "");
    assert_eq!(exit, 0, "{err}");

    // A passphrase change keeps the credential; the old passphrase no longer opens the vault.
    let (exit, _, err) = run(
        &["vault", "change"],
        &format!("{PASSPHRASE}\n{NEW_PASSPHRASE}\n"),
    );
    assert_eq!(exit, 0, "{err}");
    let (exit, out, _) = run(&["vault", "unlock"], PASSPHRASE);
    assert_eq!(exit, 1, "{out}");
    let (exit, _, err) = run(&["vault", "unlock"], NEW_PASSPHRASE);
    assert_eq!(exit, 0, "{err}");
    let (_, listed, _) = run(&["credential", "ls"], "");
    assert!(
        listed.contains("\"github\"") && !listed.contains(SECRET),
        "{listed}"
    );

    // The audit log shows every step, newest first.
    let (status, audit) = api.call("GET", "/v1/audit?limit=200", &user, None).await;
    assert_eq!(status, 200);
    let events = audit["events"].as_array().unwrap();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "login",
        "vault.create",
        "credential.create",
        "escrow.create",
        "vault.lock",
        "agent_token.create",
        "request",
        "agent_token.revoke",
        "escrow.revoke",
        "vault.passphrase",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert_eq!(
        actions[..2],
        ["escrow.create", "vault.passphrase"],
        "{actions:?}"
    );
    assert_eq!(actions.last(), Some(&"login"));
    let lost = events
        .iter()
        .find(|e| e["action"] == "request" && e["detail"]["error"] == "escrow_lost")
        .expect("the refused request is audited");
    assert_eq!(lost["actor"], format!("agent:{agent_id}"));

    // The enclave held the secret once at a time: E1 (add) was revoked by the lock, E2 (unlock)
    // died with the first boot, E3 (unlock after the restart) was revoked by E4 (last unlock).
    let created: Vec<&str> = events
        .iter()
        .filter(|e| e["action"] == "escrow.create" && e["detail"]["credential"] == "github")
        .map(|e| e["detail"]["escrow_id"].as_str().unwrap())
        .collect();
    assert_eq!(created.len(), 4, "{created:?}");
    let enclave_log = enclave.logs();
    let revoked = |id: &str| {
        enclave_log
            .lines()
            .any(|l| l.contains(id) && l.contains("escrow revoked"))
    };
    let [e4, e3, e2, e1] = created[..] else {
        unreachable!()
    };
    assert!(revoked(e1) && revoked(e3), "replaced escrows are revoked");
    assert!(
        !revoked(e2) && !revoked(e4),
        "a lost one cannot be, the live one is not"
    );

    // Hygiene. Every byte the CLI sent the server (the positive control: it holds the requests
    // and the ciphertext it carried) has no passphrase and no secret, in no encoding.
    let wire = proxy.sent();
    let wire_text = String::from_utf8_lossy(&wire);
    assert!(
        wire_text.contains("POST /v1/credentials HTTP/1.1") && wire_text.contains("\"ciphertext\"")
    );
    for (what, value) in [
        ("the passphrase", PASSPHRASE),
        ("the new passphrase", NEW_PASSPHRASE),
        ("the wrong passphrase", WRONG_PASSPHRASE),
        ("the secret", SECRET),
    ] {
        assert_eq!(
            leaked(&wire, value),
            None,
            "{what} crossed the wire to the server"
        );
    }
    let bodies = api.bodies.lock().unwrap().join("\n");
    assert_eq!(
        leaked(bodies.as_bytes(), SECRET),
        None,
        "a response carried the secret"
    );
    let host_log = captured_log();
    assert!(
        host_log.contains("/v1/credentials") && host_log.contains("DEBUG"),
        "the host log was captured at debug"
    );
    for value in [SECRET, PASSPHRASE, NEW_PASSPHRASE, agent_token.as_str()] {
        assert_eq!(
            leaked(host_log.as_bytes(), value),
            None,
            "the host logged a planted value"
        );
    }
    assert!(
        enclave_log.contains("listening"),
        "the enclave log was captured"
    );
    assert_eq!(
        leaked(enclave_log.as_bytes(), SECRET),
        None,
        "the enclave logged the secret"
    );
    let dump = pg_dump(&db);
    assert!(
        dump.contains("credentials") && dump.contains("wrapped_key"),
        "the dump holds the tables"
    );
    for value in [SECRET, PASSPHRASE, NEW_PASSPHRASE, agent_token.as_str()] {
        assert_eq!(
            leaked(dump.as_bytes(), value),
            None,
            "the database holds a planted value"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refreshes_its_saved_session_before_it_expires() {
    // Access tokens that live 30 s are always within the CLI's refresh margin (60 s).
    let server = TestServer::start_with(
        Backend::Sqlite,
        Options {
            extra_env: vec![("AILERON_ACCESS_TOKEN_TTL".into(), "30s".into())],
            ..Options::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().to_str().unwrap().to_owned();
    let env = [("AILERON_CONFIG_DIR", config.as_str())];
    server
        .verified_account("refresh@example.com", PASSWORD)
        .await;
    let (exit, _, err) = cli(
        &[
            "login",
            "--server",
            &server.url,
            "--email",
            "refresh@example.com",
        ],
        &env,
        PASSWORD,
    );
    assert_eq!(exit, 0, "{err}");
    let saved = || -> Value {
        serde_json::from_slice(&std::fs::read(dir.path().join("session.json")).unwrap()).unwrap()
    };
    let before = saved();
    let (exit, out, err) = cli(&["agent-token", "ls"], &env, "");
    assert_eq!(exit, 0, "{out}{err}");
    let after = saved();
    assert_ne!(
        before["refresh_token"], after["refresh_token"],
        "the refresh token was rotated"
    );
    assert_ne!(before["access_token"], after["access_token"]);
    // The rotated-out token is dead: the saved session is the only live one.
    let (status, body) = server
        .post(
            "/auth/refresh",
            json!({"refresh_token": before["refresh_token"], "delivery": "body"}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (401, "refresh_token_reused"),
        "{body}"
    );
    server.stop().await;
}
