//! Replicas announce themselves in the database (`server_instances`), so a server can tell when
//! another one shares its database. That matters in one mode only: without an enclave
//! (server-trust), vault sessions live in one process's memory, so that mode is single-replica by
//! design and says so in the log when it sees another replica's activity.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::db::{Db, DbError};
use crate::vault::Trust;

/// Seconds after its last announcement that a replica still counts as running: three of the
/// server's 10 s upkeep periods.
pub const FRESH_SECS: i64 = 30;
/// Rows of replicas not seen for this long are dropped.
const FORGET_SECS: i64 = 3600;

/// This process, as the other replicas see it.
pub struct Instance {
    id: String,
    trust: Trust,
    warned: AtomicBool,
}

impl Instance {
    /// A new instance with a random id.
    pub fn new(trust: Trust) -> Instance {
        Instance {
            id: uuid::Uuid::new_v4().to_string(),
            trust,
            warned: AtomicBool::new(false),
        }
    }

    /// This replica's id (in the logs and the `server_instances` table).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Records that this replica is running at `now`, forgets long-gone ones, and returns how
    /// many other replicas were seen within [`FRESH_SECS`]. In server-trust mode, seeing one is
    /// logged as a warning (once, until none is seen again).
    pub async fn announce(&self, db: &Db, now: i64) -> Result<i64, DbError> {
        let trust = match self.trust {
            Trust::Enclave => "enclave",
            Trust::Server => "server",
        };
        sqlx::query(
            "INSERT INTO server_instances (id, trust, started_at, seen_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        )
        .bind(&self.id)
        .bind(trust)
        .bind(now)
        .execute(&db.pool)
        .await?;
        sqlx::query("DELETE FROM server_instances WHERE seen_at < $1")
            .bind(now - FORGET_SECS)
            .execute(&db.pool)
            .await?;
        let (others,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM server_instances WHERE id <> $1 AND seen_at >= $2",
        )
        .bind(&self.id)
        .bind(now - FRESH_SECS)
        .fetch_one(&db.pool)
        .await?;
        if self.trust == Trust::Server {
            if others > 0 && !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    replicas = others + 1,
                    "another server uses this database: server-trust mode (no enclave) is single-replica by design. Vault sessions live in one process's memory, so a request that reaches another replica finds the vault locked. Run one replica, or configure an enclave (AILERON_TEE_PROVIDER)"
                );
            } else if others == 0 {
                self.warned.store(false, Ordering::Relaxed);
            }
        }
        Ok(others)
    }

    /// Removes this replica's row at a clean shutdown.
    pub async fn leave(&self, db: &Db) -> Result<(), DbError> {
        sqlx::query("DELETE FROM server_instances WHERE id = $1")
            .bind(&self.id)
            .execute(&db.pool)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> Db {
        let db = Db::connect(&crate::config::Database::InMemory, None)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    }

    #[tokio::test]
    async fn a_replica_sees_others_only_while_they_announce_themselves() {
        let db = db().await;
        let (a, b) = (Instance::new(Trust::Enclave), Instance::new(Trust::Enclave));
        assert_eq!(a.announce(&db, 1000).await.unwrap(), 0);
        assert_eq!(b.announce(&db, 1005).await.unwrap(), 1);
        assert_eq!(a.announce(&db, 1010).await.unwrap(), 1);
        // b went quiet: after FRESH_SECS it no longer counts, and after an hour its row is gone.
        assert_eq!(a.announce(&db, 1005 + FRESH_SECS + 1).await.unwrap(), 0);
        a.announce(&db, 1005 + FORGET_SECS + 1).await.unwrap();
        let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM server_instances")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(rows, 1);
        a.leave(&db).await.unwrap();
        assert_eq!(b.announce(&db, 5000).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn server_trust_warns_once_per_sighting() {
        let db = db().await;
        let (a, b) = (Instance::new(Trust::Server), Instance::new(Trust::Server));
        a.announce(&db, 1000).await.unwrap();
        assert!(!a.warned.load(Ordering::Relaxed));
        b.announce(&db, 1000).await.unwrap();
        assert!(b.warned.load(Ordering::Relaxed), "b saw a");
        a.announce(&db, 1001).await.unwrap();
        assert!(a.warned.load(Ordering::Relaxed), "a saw b");
        // b stops: a's warning is re-armed for the next sighting.
        b.leave(&db).await.unwrap();
        a.announce(&db, 1002).await.unwrap();
        assert!(!a.warned.load(Ordering::Relaxed));
        // An enclave-mode replica never warns.
        let c = Instance::new(Trust::Enclave);
        c.announce(&db, 1003).await.unwrap();
        a.announce(&db, 1003).await.unwrap();
        assert!(!c.warned.load(Ordering::Relaxed));
    }
}
