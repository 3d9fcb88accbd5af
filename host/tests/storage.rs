//! Migrations and database outages.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aileron_host::config::Database;
use aileron_host::db::Db;
use common::{Backend, Options, TestDb, TestServer};
use secrecy::SecretString;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};

fn database(b: Backend, url: &str) -> Database {
    match b {
        Backend::Postgres => Database::Postgres(SecretString::from(url.to_owned())),
        Backend::Sqlite => Database::Sqlite(SecretString::from(url.to_owned())),
    }
}

async fn migrations_run_twice_without_change(b: Backend) {
    let tdb = TestDb::new(b).await;
    let db = Db::connect(&database(b, &tdb.url), None).await.unwrap();
    db.migrate().await.unwrap();
    let count = || async {
        let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        row.0
    };
    let before = count().await;
    db.migrate().await.unwrap();
    assert_eq!(count().await, before);
    assert!(before >= 1);
    db.pool.close().await;
    tdb.cleanup().await;
}

#[tokio::test]
async fn postgres_migrations_run_twice_without_change() {
    migrations_run_twice_without_change(Backend::Postgres).await;
}

#[tokio::test]
async fn sqlite_migrations_run_twice_without_change() {
    migrations_run_twice_without_change(Backend::Sqlite).await;
}

/// Two pools stand for two replicas: each migrates over its own sessions, so only the advisory
/// lock keeps them from racing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_run_concurrently_from_two_replicas() {
    let tdb = TestDb::new(Backend::Postgres).await;
    let cfg = database(Backend::Postgres, &tdb.url);
    let (a, b) = tokio::join!(Db::connect(&cfg, None), Db::connect(&cfg, None));
    let (a, b) = (a.unwrap(), b.unwrap());
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    ra.unwrap();
    rb.unwrap();
    a.pool.close().await;
    b.pool.close().await;
    tdb.cleanup().await;
}

/// A TCP relay to PostgreSQL that can be cut and restored.
async fn relay(target: String, up: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            if !up.load(Ordering::SeqCst) {
                continue; // dropped: connection refused in effect
            }
            let target = target.clone();
            let up = up.clone();
            tokio::spawn(async move {
                let Ok(mut outbound) = TcpStream::connect(&target).await else {
                    return;
                };
                let watch = async {
                    while up.load(Ordering::SeqCst) {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                };
                tokio::select! {
                    _ = copy_bidirectional(&mut inbound, &mut outbound) => {},
                    () = watch => {},
                }
            });
        }
    });
    addr.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_while_the_database_is_unreachable_and_recovers() {
    let tdb = TestDb::new(Backend::Postgres).await;
    let url = url::Url::parse(&tdb.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let up = Arc::new(AtomicBool::new(true));
    let relay_addr = relay(target.clone(), up.clone()).await;
    let via_relay = tdb.url.replacen(&target, &relay_addr, 1);
    let s = TestServer::start_with(
        Backend::Postgres,
        Options {
            database: false,
            database_url: Some(via_relay),
            ..Options::default()
        },
    )
    .await;
    let health = || async {
        common::json(
            s.http
                .get(format!("{}/v1/health", s.url))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    assert_eq!(health().await.0, 200);
    let session = s
        .verified_account("outage@acme.test", "correct horse battery")
        .await;
    let access = session["access_token"].as_str().unwrap().to_owned();
    up.store(false, Ordering::SeqCst);
    // The answer is cached for a fraction of a second; poll until the outage shows.
    let mut seen = (0, serde_json::Value::Null);
    for _ in 0..50 {
        seen = health().await;
        if seen.0 == 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (status, body) = seen;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["database"], "unreachable");
    // An API request during the outage says so (503), not 500 `internal`.
    let (status, body) = s.get_bearer("/v1/users/me", &access).await;
    assert_eq!(
        (status, common::code(&body)),
        (503, "database_unavailable"),
        "{body}"
    );
    up.store(true, Ordering::SeqCst);
    let mut recovered = false;
    for _ in 0..50 {
        if health().await.0 == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(recovered, "health did not recover");
    s.stop().await;
    tdb.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vaults_of_an_earlier_build_are_removed_and_reported_once() {
    let tdb = TestDb::new(Backend::Sqlite).await;
    // The database as the previous build left it: migrations 0001 and 0002 only.
    let old = tempfile::tempdir().unwrap();
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite");
    for entry in std::fs::read_dir(source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with("0001") || name.starts_with("0002") {
            std::fs::copy(&path, old.path().join(name)).unwrap();
        }
    }
    let url = format!("{}?mode=rwc", tdb.url);
    let pool = sqlx::any::AnyPoolOptions::new()
        .connect(&url)
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    for i in 0..3 {
        let statements = format!(
            "INSERT INTO enterprises (id, name, kind, created_at) VALUES ('e{i}', 'E', 'personal', 1); \
             INSERT INTO users (id, enterprise_id, email, role, created_at) VALUES ('u{i}', 'e{i}', 'old{i}@example.com', 'owner', 1); \
             INSERT INTO vaults (user_id, salt, kdf_params, wrapped_key, created_at, updated_at) VALUES ('u{i}', 's', '{{}}', 'w', 1, 1);"
        );
        sqlx::raw_sql(sqlx::AssertSqlSafe(statements))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    let warning = "3 vaults made by an earlier build";
    let start = || async {
        TestServer::start_with(
            Backend::Sqlite,
            Options {
                database: false,
                database_url: Some(tdb.url.clone()),
                ..Options::default()
            },
        )
        .await
    };
    let first = start().await;
    assert_eq!(
        common::captured_log().matches(warning).count(),
        1,
        "told once"
    );
    first.stop().await;
    let second = start().await;
    assert_eq!(
        common::captured_log().matches(warning).count(),
        1,
        "and only once"
    );
    second.stop().await;
}
