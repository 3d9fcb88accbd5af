//! Test harness: a server on a loopback port over a fresh PostgreSQL database or SQLite file, a
//! local Resend stand-in recording every email, and a captured log.

#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use aileron_host::clock::Clock;
use aileron_host::config::{Config, RawConfig};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub mod e2e;

/// Runs each named async test (`async fn name(b: Backend)`) against PostgreSQL and SQLite.
#[allow(unused_macros)]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Postgres).await })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Sqlite).await })*
        }
    };
}

pub const SIGNING_KEY: &str = "test-signing-key-0123456789abcdef-0123456789";
/// A second signing key, for the tests that rotate it.
pub const ROTATED_SIGNING_KEY: &str = "a-rotated-signing-key-0123456789abcdef-987654";
/// The development setting every test server starts with: the upstreams of these tests listen
/// on loopback over plain http. Tests of the refusal turn it off.
pub const DANGEROUS: &str = "AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS";

/// The public admission key a host with this signing key signs tickets with.
pub fn admission_key(signing_key: &str) -> String {
    let quotas = aileron_host::config::Quotas {
        credentials: 1,
        escrows: 1,
    };
    aileron_host::admission::HostAdmission::derive(
        signing_key.as_bytes(),
        "aileron-enclave",
        quotas,
    )
    .unwrap()
    .public_key()
}
pub const UI_ORIGIN: &str = "http://app.test.localhost";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// The admin URL of the test PostgreSQL.
pub fn pg_admin_url() -> String {
    std::env::var("AILERON_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh database, dropped by `cleanup`.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        sqlx::any::install_default_drivers();
        match backend {
            Backend::Postgres => {
                let name = format!("aileron_t_{}", uuid::Uuid::new_v4().simple());
                let mut admin = sqlx::AnyConnection::connect(&pg_admin_url())
                    .await
                    .expect("connect to test PostgreSQL");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .expect("create database");
                let base = pg_admin_url();
                let url = match base.rsplit_once('/') {
                    Some((head, _)) => format!("{head}/{name}"),
                    None => panic!("bad AILERON_TEST_DATABASE_URL"),
                };
                TestDb {
                    url,
                    pg_name: Some(name),
                    _dir: None,
                }
            }
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite:{}", dir.path().join("aileron.db").display());
                TestDb {
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
        }
    }

    /// A pool on this database with the migrations applied (as a server's).
    #[allow(dead_code)]
    pub async fn open(&self, backend: Backend) -> aileron_host::db::Db {
        use secrecy::SecretString;
        let database = match backend {
            Backend::Postgres => {
                aileron_host::config::Database::Postgres(SecretString::from(self.url.clone()))
            }
            Backend::Sqlite => {
                aileron_host::config::Database::Sqlite(SecretString::from(self.url.clone()))
            }
        };
        let db = aileron_host::db::Db::connect(&database, None)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    }

    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut admin) = sqlx::AnyConnection::connect(&pg_admin_url()).await
        {
            {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await;
            }
        }
    }
}

/// `n` users of one new enterprise, straight in the database (for storage-level tests).
#[allow(dead_code)]
pub async fn users(db: &aileron_host::db::Db, n: usize) -> Vec<aileron_host::ids::UserId> {
    let enterprise = aileron_host::ids::UserId::random();
    sqlx::query(
        "INSERT INTO enterprises (id, name, kind, domain, created_at) VALUES ($1, 'acme', 'personal', NULL, 0)",
    )
    .bind(enterprise.as_str())
    .execute(&db.pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let user = aileron_host::ids::UserId::random();
        sqlx::query("INSERT INTO users (id, enterprise_id, email, role, created_at) VALUES ($1, $2, $3, 'owner', 0)")
            .bind(user.as_str())
            .bind(enterprise.as_str())
            .bind(format!("{user}@acme.test"))
            .execute(&db.pool)
            .await
            .unwrap();
        out.push(user);
    }
    out
}

/// Records the JSON bodies of `POST /emails`, like Resend's API.
#[derive(Clone, Default)]
pub struct MailBox(pub Arc<Mutex<Vec<Mail>>>);

/// (Authorization header, JSON body) of one recorded call.
pub type Mail = (Option<String>, Value);

impl MailBox {
    pub async fn start() -> (Self, String) {
        let mailbox = MailBox::default();
        let app = Router::new()
            .route("/emails", post(record))
            .with_state(mailbox.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (mailbox, format!("http://{addr}"))
    }

    /// The last code sent to `to`, waiting briefly for the background send.
    pub async fn code_for(&self, to: &str) -> String {
        for _ in 0..100 {
            let found = self.0.lock().unwrap().iter().rev().find_map(|(_, m)| {
                (m["to"][0] == to).then(|| {
                    let text = m["text"].as_str().unwrap_or_default();
                    text.split_whitespace()
                        .find(|w| {
                            w.trim_end_matches('.').len() == 6
                                && w.trim_end_matches('.').bytes().all(|b| b.is_ascii_digit())
                        })
                        .map(|w| w.trim_end_matches('.').to_owned())
                })
            });
            if let Some(Some(code)) = found {
                return code;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no code mailed to {to}");
    }

    pub fn count_for(&self, to: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, m)| m["to"][0] == to)
            .count()
    }
}

async fn record(
    State(mb): State<MailBox>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    mb.0.lock().unwrap().push((auth, body));
    Json(serde_json::json!({"id": uuid::Uuid::new_v4().to_string()}))
}

/// Everything the server logs in this test binary.
pub fn captured_log() -> String {
    String::from_utf8_lossy(&LOG.get_or_init(init_log).lock().unwrap()).into_owned()
}

static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_log() -> Arc<Mutex<Vec<u8>>> {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let writer = LogWriter(buf.clone());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .try_init();
    buf
}

/// A running server.
pub struct TestServer {
    pub url: String,
    pub clock: Clock,
    pub mail: MailBox,
    pub http: reqwest::Client,
    pub db: Option<TestDb>,
    stop: Option<oneshot::Sender<()>>,
}

pub struct Options {
    pub database: bool,
    pub auto_verify: bool,
    pub per_addr: u32,
    pub per_account: u32,
    pub database_url: Option<String>,
    pub extra_env: Vec<(String, String)>,
    /// Listen on this loopback port instead of a fresh one.
    pub port: Option<u16>,
    /// Overrides of the fixed limits (timeouts, connections).
    pub limits: Option<aileron_host::config::Limits>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            database: true,
            auto_verify: false,
            per_addr: 10_000,
            per_account: 10_000,
            database_url: None,
            extra_env: Vec::new(),
            port: None,
            limits: None,
        }
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, Options::default()).await
    }

    pub async fn start_with(backend: Backend, opts: Options) -> Self {
        LOG.get_or_init(init_log);
        let (mail, mail_url) = MailBox::start().await;
        let db = match opts.database {
            true => Some(TestDb::new(backend).await),
            false => None,
        };
        let listener = TcpListener::bind(("127.0.0.1", opts.port.unwrap_or(0)))
            .await
            .unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut vars = vec![
            ("AILERON_PUBLIC_URL".to_owned(), format!("http://{addr}")),
            ("AILERON_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
            ("AILERON_JWT_SIGNING_KEY".to_owned(), SIGNING_KEY.to_owned()),
            (
                "AILERON_UI_REDIRECT_URL".to_owned(),
                format!("{UI_ORIGIN}/welcome"),
            ),
            ("RESEND_API_KEY".to_owned(), "re_test_key".to_owned()),
            ("RESEND_API_URL".to_owned(), mail_url),
            (
                "AILERON_AUTO_VERIFY_EMAIL".to_owned(),
                opts.auto_verify.to_string(),
            ),
            (DANGEROUS.to_owned(), "true".to_owned()),
        ];
        if let Some(url) = opts
            .database_url
            .clone()
            .or_else(|| db.as_ref().map(|d| d.url.clone()))
        {
            vars.push(("AILERON_DATABASE_URL".to_owned(), url));
        }
        vars.extend(opts.extra_env.iter().cloned());
        let mut config = Config::try_from(RawConfig::from_pairs(vars)).expect("config");
        if let Some(limits) = opts.limits.clone() {
            config.limits = limits;
        }
        config.limits.auth_per_addr_per_minute = opts.per_addr;
        config.limits.auth_per_account_per_minute = opts.per_account;
        let clock = Clock::default();
        let state = aileron_host::build_state(&config, clock.clone())
            .await
            .expect("state");
        let app = aileron_host::router(state, &config);
        let (stop, stopped) = oneshot::channel::<()>();
        let limits = config.limits.clone();
        tokio::spawn(async move {
            aileron_host::serve(listener, app, &limits, async move {
                let _ = stopped.await;
            })
            .await
        });
        TestServer {
            url: format!("http://{addr}"),
            clock,
            mail,
            http: aileron_host::mail::http_client().unwrap(),
            db,
            stop: Some(stop),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        json(res).await
    }

    /// Any method, a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        json(req.send().await.unwrap()).await
    }

    pub async fn get_bearer(&self, path: &str, token: &str) -> (u16, Value) {
        let res = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        json(res).await
    }

    /// Signs up and verifies through the mailed code; returns the session (tokens in the body).
    pub async fn verified_account(&self, email: &str, password: &str) -> Value {
        let (status, _) = self
            .post(
                "/auth/signup",
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, 202);
        let code = self.mail.code_for(email).await;
        let (status, session) = self
            .post(
                "/auth/verify-email",
                serde_json::json!({"email": email, "code": code, "delivery": "body"}),
            )
            .await;
        assert_eq!(status, 200, "{session}");
        session
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }
}

pub async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Runs SQL straight against a test database, as a server (or whoever holds its database) could.
pub async fn execute(db_url: &str, statement: String) {
    let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// The error code of an error body.
/// A failed OAuth callback's answer: `(303, code)` when it redirected to the UI with
/// `oauth_error=<code>`; panics on any other redirect target.
pub fn oauth_error(res: &reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default();
    assert!(
        location.starts_with(&format!("{UI_ORIGIN}/welcome?oauth_error=")),
        "{status} {location}"
    );
    let code = location.rsplit('=').next().unwrap_or_default().to_owned();
    (status, code)
}

/// An OAuth callback's answer as a body: a failure's redirect to the UI read as
/// `{"error": {"code": …}}`, anything else as its JSON (or null).
pub async fn callback_body(res: reqwest::Response) -> Value {
    let failed = res
        .headers()
        .get("location")
        .is_some_and(|l| l.to_str().unwrap_or_default().contains("oauth_error="));
    if failed {
        serde_json::json!({"error": {"code": oauth_error(&res).1}})
    } else {
        res.json().await.unwrap_or(Value::Null)
    }
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}
