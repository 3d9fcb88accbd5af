//! Persistence: one storage interface over PostgreSQL and SQLite.
//!
//! Both backends go through sqlx's `Any` driver, so every query is written once (portable SQL,
//! `$n` placeholders, TEXT ids, BIGINT Unix-second timestamps). Each backend has its own
//! migration directory (`migrations/postgres`, `migrations/sqlite`) so their DDL may diverge.
//! Query functions take an executor so that they compose inside a transaction.

pub mod agents;
pub mod audit;
pub mod codes;
pub mod escrows;
pub mod ratelimit;
pub mod tokens;
pub mod users;
pub mod vault;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool};

use crate::config::Database;

/// An executor for one query: a pool, a connection or a transaction.
pub trait Exec<'c>: sqlx::Executor<'c, Database = Any> {}
impl<'c, T: sqlx::Executor<'c, Database = Any>> Exec<'c> for T {}

static POSTGRES: Migrator = sqlx::migrate!("../migrations/postgres");
static SQLITE: Migrator = sqlx::migrate!("../migrations/sqlite");

/// Storage failures.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database returned an impossible value in {0}")]
    Corrupt(&'static str),
}

/// Which backend a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// How long a health probe's answer is reused, in milliseconds: `/v1/health` under load costs
/// one database round trip per period, not one per request.
const PROBE_TTL_MS: u64 = 250;

/// The connection pool and its backend.
#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    probe: Arc<Probe>,
}

/// The last probe's result; one probe runs at a time, others reuse its answer.
struct Probe {
    ok: AtomicBool,
    at: std::sync::Mutex<Option<Instant>>,
    running: tokio::sync::Mutex<()>,
}

impl Db {
    /// Connects with at most `pool_size` connections (by backend when `None`: 16 for
    /// PostgreSQL, 4 for SQLite); the pool reconnects by itself after the database comes back.
    pub async fn connect(database: &Database, pool_size: Option<u32>) -> Result<Self, DbError> {
        install_default_drivers();
        let (url, backend, max) = match database {
            // One connection that never expires: an in-memory database lives as long as it.
            Database::InMemory => ("sqlite::memory:".to_owned(), Backend::Sqlite, 1),
            Database::Sqlite(url) => (
                sqlite_url(url.expose_secret()),
                Backend::Sqlite,
                pool_size.unwrap_or(4),
            ),
            Database::Postgres(url) => (
                url.expose_secret().to_owned(),
                Backend::Postgres,
                pool_size.unwrap_or(16),
            ),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(3));
        if matches!(database, Database::InMemory) {
            options = options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let pool = options.connect(&url).await?;
        let probe = Arc::new(Probe {
            ok: AtomicBool::new(false),
            at: std::sync::Mutex::new(None),
            running: tokio::sync::Mutex::new(()),
        });
        Ok(Self {
            pool,
            backend,
            probe,
        })
    }

    /// Applies pending migrations. On PostgreSQL sqlx holds `pg_advisory_lock` for the duration,
    /// so replicas starting together apply each migration once.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Postgres => &POSTGRES,
            Backend::Sqlite => &SQLITE,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// True when the database answered a trivial query within the last probe period.
    pub async fn healthy(&self) -> bool {
        let fresh = |p: &Probe| {
            let at = p.at.lock().unwrap_or_else(|e| e.into_inner());
            at.is_some_and(|t| t.elapsed() < Duration::from_millis(PROBE_TTL_MS))
        };
        if fresh(&self.probe) {
            return self.probe.ok.load(Ordering::Relaxed);
        }
        let Ok(_guard) = self.probe.running.try_lock() else {
            // Another request is probing right now: reuse the last answer.
            return self.probe.ok.load(Ordering::Relaxed);
        };
        let ok = self.ping().await;
        self.probe.ok.store(ok, Ordering::Relaxed);
        *self.probe.at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        ok
    }

    /// True when the database answers a trivial query now.
    pub async fn ping(&self) -> bool {
        let probe = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(
            tokio::time::timeout(Duration::from_secs(2), probe).await,
            Ok(Ok(_))
        )
    }
}

/// A file database is created when missing.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Converts a stored 0/1 flag.
pub(crate) fn flag(v: i64) -> bool {
    v != 0
}
