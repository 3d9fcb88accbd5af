//! The product end to end on PostgreSQL, with the local enclave and the `aileron` CLI as real
//! processes: sign up, verify the email, set a passphrase, add a credential (423 while locked),
//! unlock (auto-escrow), hand an agent a token, broker a request through the CLI to a recording
//! upstream, survive an enclave restart, revoke, and read it all back from the audit log. Then
//! prove a planted secret is nowhere it must not be.

mod common;

use std::sync::Mutex;

use common::e2e::{Enclave, Upstream, cli, pg_dump};
use common::{Backend, Options, TestServer, captured_log, code};
use serde_json::{Value, json};

const SECRET: &str = "ghp_PLANTEDsecret0123456789abcdefXYZ";
const PASSPHRASE: &str = "correct horse battery staple";
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
    let api = Api {
        server: &server,
        bodies: Mutex::new(Vec::new()),
    };
    let email = "journey@example.com";

    // Sign up and verify the email (the code is mailed), then sign in with the CLI.
    server.verified_account(email, PASSWORD).await;
    let (exit, token, err) = cli(
        &["login", "--server", &server.url, "--email", email],
        &[],
        PASSWORD,
    );
    assert_eq!(exit, 0, "{err}");
    let user = token.trim().to_owned();
    assert!(user.split('.').count() == 3, "an access token: {user}");

    // The TEE is attested.
    let (status, tee) = api.call("GET", "/v1/tee/status", &user, None).await;
    assert_eq!(status, 200);
    assert_eq!(tee["attested"], true, "{tee}");
    let first_boot = tee["boot_id"].as_str().unwrap().to_owned();

    // The vault through the CLI. Passphrase; a credential cannot be added while locked.
    let user_env = [
        ("AILERON_TOKEN", user.as_str()),
        ("AILERON_SERVER", server.url.as_str()),
    ];
    let run = |args: &[&str], stdin: &str| {
        let (exit, out, err) = cli(args, &user_env, stdin);
        api.bodies.lock().unwrap().push(format!("{out}\n{err}"));
        (exit, out, err)
    };
    let (exit, _, err) = run(&["vault", "set"], PASSPHRASE);
    assert_eq!(exit, 0, "{err}");
    let allow = format!("GET {}", upstream.url("/api/"));
    let add = [
        "credential",
        "add",
        "--name",
        "github",
        "--allow",
        allow.as_str(),
    ];
    let (exit, out, _) = run(&add, SECRET);
    assert_eq!(exit, 1);
    assert!(out.contains("vault_locked"), "{out}");

    // Unlock: nothing to escrow yet. Then add the credential (escrowed at once).
    let (exit, out, err) = run(&["vault", "unlock"], PASSPHRASE);
    assert_eq!(exit, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["valid"], true);
    let (exit, out, err) = run(&add, SECRET);
    assert_eq!(exit, 0, "{err}");
    let created: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(created["name"], "github");
    assert!(created.get("secret").is_none());
    let (exit, out, _) = run(&["vault", "unlock"], "not the passphrase");
    assert_eq!(exit, 1);
    assert!(out.contains("wrong_passphrase"), "{out}");

    // Lock and verify again: auto-escrow escrows every credential.
    let (exit, _, _) = run(&["vault", "lock"], "");
    assert_eq!(exit, 0);
    let (_, out, _) = run(&["vault", "status"], "");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["active"],
        false
    );
    let (exit, out, err) = run(&["vault", "unlock"], PASSPHRASE);
    assert_eq!(exit, 0, "{err}");
    let body: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["escrowed_count"], 1, "{body}");
    assert!(body["session_expires_at"].as_i64().unwrap() > 0);

    // An agent token, restricted to this credential.
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
    let agent: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(agent["credentials"], json!(["github"]));
    let agent_token = agent["token"].as_str().unwrap().to_owned();
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    // It cannot read or change the vault.
    let (status, body) = api.call("GET", "/v1/credentials", &agent_token, None).await;
    assert_eq!((status, code(&body)), (403, "agent_token_not_allowed"));
    let (status, _) = api
        .call("POST", "/v1/users/me/passphrase/lock", &agent_token, None)
        .await;
    assert_eq!(status, 403);

    // The agent's brokered request through the CLI: the upstream gets the secret, the agent
    // gets the answer with the secret redacted.
    let agent_env = [("AILERON_TOKEN", agent_token.as_str())];
    let url = upstream.url("/api/user");
    // The agent's brokered request with the vault credential, through the CLI.
    let agent_request = |method: &str| {
        let args = [
            "request",
            method,
            &url,
            "--server",
            &server.url,
            "--credential",
            "github",
        ];
        let (exit, out, err) = cli(&args, &agent_env, "");
        api.bodies.lock().unwrap().push(format!("{out}\n{err}"));
        (exit, out, err)
    };
    let (exit, out, err) = agent_request("GET");
    assert_eq!(exit, 0, "{err}");
    assert!(err.contains("HTTP 200"), "{err}");
    assert!(out.contains("octocat"), "{out}");
    assert!(!out.contains(SECRET), "the secret came back: {out}");
    let seen = upstream.seen();
    assert_eq!(seen.len(), 1);
    let auth = seen[0]
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap();
    assert_eq!(auth.1, format!("Bearer {SECRET}"));
    // Outside the scope: refused by the enclave, the upstream never called.
    let (exit, out, _) = agent_request("DELETE");
    assert_eq!(exit, 1);
    assert!(out.contains("scope_violation"), "{out}");
    assert_eq!(upstream.seen().len(), 1);

    // An escrow sealed end to end by the CLI through the host's relay, used by name.
    let policy = enclave.policy_file();
    let root = enclave.ca_dir().join("root.pem");
    let (exit, out, err) = cli(
        &[
            "escrow",
            "put",
            "--server",
            &server.url,
            "--name",
            "sealed-gh",
            "--policy",
            policy.to_str().unwrap(),
            "--root",
            root.to_str().unwrap(),
            "--allow",
            &format!("GET {}", upstream.url("/api/")),
            "--ttl",
            "1h",
        ],
        &user_env,
        SECRET,
    );
    assert_eq!(exit, 0, "{out}{err}");
    assert!(out.contains("\"active\""), "{out}");
    let (exit, out, _) = cli(&["escrow", "ls", "--server", &server.url], &user_env, "");
    assert_eq!(exit, 0);
    assert!(out.contains("sealed-gh"), "{out}");
    let (exit, out, err) = cli(
        &[
            "request",
            "GET",
            &upstream.url("/api/sealed"),
            "--server",
            &server.url,
            "--name",
            "sealed-gh",
        ],
        &user_env,
        "",
    );
    assert_eq!(exit, 0, "{out}{err}");
    assert!(!out.contains(SECRET));
    assert_eq!(upstream.seen().len(), 2);

    // Another user sees none of it: 404, not 403, for escrows, credentials and audit alike.
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
        ("DELETE", "/v1/credentials/github", None),
    ] {
        let (status, body) = api.call(method, path, &other, body).await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{method} {path}");
    }
    let (_, listed) = api.call("GET", "/v1/escrows", &other, None).await;
    assert_eq!(listed, json!([]));
    let (_, audit) = api.call("GET", "/v1/audit", &other, None).await;
    let actions: Vec<&str> = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["login"],
        "only the other user's own sign-in: {audit}"
    );
    assert_eq!(
        upstream.seen().len(),
        2,
        "nothing was sent for the other user"
    );
    let (_, listed) = api.call("GET", "/v1/escrows", &user, None).await;
    assert_eq!(
        listed[0]["status"], "active",
        "the owner's escrow is untouched"
    );

    // The enclave restarts: status and the next request say to verify the passphrase again.
    enclave.restart();
    let (_, tee) = api.call("GET", "/v1/tee/status", &user, None).await;
    assert_eq!(tee["attested"], true, "{tee}");
    assert_ne!(tee["boot_id"].as_str().unwrap(), first_boot);
    assert_eq!(tee["escrows_lost"], 2, "{tee}");
    assert!(
        tee["action"]
            .as_str()
            .unwrap()
            .contains("verify your passphrase again")
    );
    let (exit, out, _) = agent_request("GET");
    assert_eq!(exit, 1);
    assert!(
        out.contains("escrow_lost") && out.contains("verify your passphrase again"),
        "{out}"
    );
    let (_, escrows) = api.call("GET", "/v1/escrows", &user, None).await;
    assert_eq!(escrows[0]["status"], "lost", "{escrows}");

    // Verify again: escrowed into the new boot, the agent works again.
    let (_, body) = api
        .call(
            "POST",
            "/v1/users/me/passphrase/verify",
            &user,
            Some(json!({"passphrase": PASSPHRASE})),
        )
        .await;
    assert_eq!(body["escrowed_count"], 1, "{body}");
    let (exit, _, err) = agent_request("GET");
    assert_eq!(exit, 0, "{err}");

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
    let (exit, _, err) = cli(
        &[
            "escrow",
            "rm",
            "--server",
            &server.url,
            "--name",
            "sealed-gh",
        ],
        &user_env,
        "",
    );
    assert_eq!(exit, 0, "{err}");

    // A passphrase change through the CLI keeps the credential; the old passphrase is refused.
    let new_passphrase = "an even better passphrase";
    let (exit, _, err) = run(
        &["vault", "change"],
        &format!("{PASSPHRASE}\n{new_passphrase}\n"),
    );
    assert_eq!(exit, 0, "{err}");
    let (exit, out, _) = run(&["vault", "unlock"], PASSPHRASE);
    assert_eq!(exit, 1, "{out}");
    let (exit, _, err) = run(&["vault", "unlock"], new_passphrase);
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
        "passphrase.set",
        "passphrase.verify",
        "credential.create",
        "escrow.create",
        "agent_token.create",
        "request",
        "agent_token.revoke",
        "escrow.revoke",
        "passphrase.change",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    // Newest first: the last unlock (its auto-escrow, then the verification itself), the
    // refused one, the change.
    assert_eq!(
        actions[..4],
        [
            "passphrase.verify",
            "escrow.create",
            "passphrase.verify",
            "passphrase.change"
        ],
        "{actions:?}"
    );
    assert_eq!(actions.last(), Some(&"login"));
    let lost = events
        .iter()
        .find(|e| e["action"] == "request" && e["detail"]["error"] == "escrow_lost")
        .expect("the refused request is audited");
    assert_eq!(lost["actor"], format!("agent:{agent_id}"));
    let ok = events
        .iter()
        .find(|e| e["action"] == "request" && e["detail"]["status"] == 200)
        .unwrap();
    assert_eq!(ok["detail"]["host"], "127.0.0.1");
    assert_eq!(ok["detail"]["method"], "GET");
    assert!(ok["detail"]["size"].as_u64().unwrap() > 0);

    // Each unlock replaced the credential's escrow and revoked the one before, so the enclave
    // holds the secret once, not once per verification: E1 (add) was revoked by E2 (unlock), E2
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

    // Secret hygiene: not in any response, the host's log, the enclave's logs or the database.
    let bodies = api.bodies.lock().unwrap().join("\n");
    assert!(!bodies.contains(SECRET), "a response carried the secret");
    let host_log = captured_log();
    assert!(host_log.contains("request"), "the host log was captured");
    assert!(!host_log.contains(SECRET), "the host logged the secret");
    assert!(
        !host_log.contains(PASSPHRASE),
        "the host logged the passphrase"
    );
    assert!(
        !host_log.contains(&agent_token),
        "the host logged the agent token"
    );
    let enclave_log = enclave.logs();
    assert!(
        enclave_log.contains("listening"),
        "the enclave log was captured"
    );
    assert!(
        !enclave_log.contains(SECRET),
        "the enclave logged the secret"
    );
    let dump = pg_dump(&server.db.as_ref().unwrap().url);
    assert!(dump.contains("credentials"), "the dump holds the tables");
    assert!(
        !dump.contains(SECRET),
        "the database holds the secret in the clear"
    );
    assert!(
        !dump.contains(PASSPHRASE),
        "the database holds the passphrase"
    );
    assert!(
        !dump.contains(&agent_token),
        "the database holds the agent token"
    );

    server.stop().await;
}
