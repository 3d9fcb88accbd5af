//! The audit log: sign-ins, passphrase verifications, escrows, brokered requests (method, host,
//! path, status, size) and revocations. Never bodies, headers or secrets.
//!
//! Events are committed in groups by one writer task: `record` queues its event and returns only
//! once the group holding it is committed, so an answered request never loses its event, while
//! concurrent requests share one commit instead of paying one each (the first wall of the
//! brokered path: about 1.6k one-row commits/s here against 13.7k rows/s batched). A group is
//! whatever queued while the previous one committed, at most [`MAX_GROUP`] events; nothing waits
//! for a group to fill.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::db::Db;
use crate::db::audit::{self, AuditRow};
use crate::error::Error;
use crate::ids::UserId;

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The user, signed in.
    User,
    /// One of the user's agent tokens (its id).
    Agent(String),
}

impl Actor {
    fn as_string(&self) -> String {
        match self {
            Actor::User => "user".into(),
            Actor::Agent(id) => format!("agent:{id}"),
        }
    }
}

/// An event as `GET /v1/audit` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: String,
    /// The pagination cursor: pass it as `before` for older events.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// `login`, `passphrase.set`, `passphrase.verify`, `credential.create`, `escrow.create`,
    /// `request`, `escrow.revoke`, `agent_token.create`…
    pub action: String,
    /// `user` or `agent:<token id>`.
    pub actor: String,
    #[schema(value_type = Object)]
    pub detail: Value,
}

/// The most events one commit holds.
pub const MAX_GROUP: usize = 256;
/// Events queued before `record` waits for room (back-pressure on a slow database).
const QUEUE: usize = 4096;

/// An event waiting for its group's commit.
struct Pending {
    user: UserId,
    row: AuditRow,
    committed: oneshot::Sender<Result<(), String>>,
}

/// Counters of the writer, for benchmarks and the logs.
#[derive(Debug, Default)]
pub struct GroupStats {
    /// Groups written (each one commit, unless it fell back to one commit per event).
    pub groups: AtomicU64,
    /// Events written in them.
    pub events: AtomicU64,
    /// The largest group so far.
    pub largest: AtomicU64,
}

/// Writes and reads the log.
pub struct Audit {
    db: Db,
    clock: Clock,
    last_seq: AtomicI64,
    queue: mpsc::Sender<Pending>,
    stats: Arc<GroupStats>,
    /// Events older than this are deleted by [`Audit::expire`]; `None` keeps them.
    retention: Option<std::time::Duration>,
}

/// Events one expiry statement deletes at most.
const EXPIRE_BATCH: i64 = 5_000;
/// Statements one [`Audit::expire`] runs at most (the next upkeep goes on).
const EXPIRE_BATCHES: usize = 20;

impl Audit {
    /// The log, with its writer task started on the current runtime.
    pub fn new(db: Db, clock: Clock) -> Audit {
        let (queue, pending) = mpsc::channel(QUEUE);
        let stats = Arc::new(GroupStats::default());
        tokio::spawn(write_groups(db.clone(), pending, stats.clone()));
        Audit {
            db,
            clock,
            last_seq: AtomicI64::new(0),
            queue,
            stats,
            retention: None,
        }
    }

    /// The log, keeping events for `retention` (`AILERON_AUDIT_RETENTION`), or for ever.
    pub fn retaining(mut self, retention: Option<std::time::Duration>) -> Audit {
        self.retention = retention;
        self
    }

    /// Deletes events older than the retention, oldest first, in bounded batches (at most
    /// 100,000 a call; the server's upkeep calls it every 10 s). Returns how many.
    pub async fn expire(&self) -> Result<u64, Error> {
        let Some(retention) = self.retention else {
            return Ok(0);
        };
        let keep = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX / 2);
        let before = self.clock.now().saturating_sub(keep);
        let mut expired = 0;
        for _ in 0..EXPIRE_BATCHES {
            let n = audit::expire(&self.db.pool, before, EXPIRE_BATCH).await?;
            expired += n;
            if n < EXPIRE_BATCH as u64 {
                break;
            }
        }
        Ok(expired)
    }

    /// How the writer has grouped events so far.
    pub fn stats(&self) -> &GroupStats {
        &self.stats
    }

    /// Appends an event. On PostgreSQL its `seq` (the audit cursor) comes from the database's
    /// sequence, shared by every replica; on SQLite it is the wall clock in microseconds, strictly
    /// increasing within this process. Either way events sort newest first even within a second.
    pub async fn record(
        &self,
        user: &UserId,
        actor: &Actor,
        action: &str,
        detail: Value,
    ) -> Result<(), Error> {
        let micros = self.clock.now_micros();
        let mut prev = self.last_seq.load(Ordering::Relaxed);
        let seq = loop {
            let next = micros.max(prev + 1);
            match self
                .last_seq
                .compare_exchange(prev, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break next,
                Err(current) => prev = current,
            }
        };
        let row = AuditRow {
            id: uuid::Uuid::new_v4().to_string(),
            seq,
            at: self.clock.now(),
            action: action.into(),
            actor: actor.as_string(),
            detail: detail.to_string(),
        };
        let (committed, done) = oneshot::channel();
        let pending = Pending {
            user: user.clone(),
            row,
            committed,
        };
        let gone = || Error::Internal("the audit writer stopped".into());
        self.queue.send(pending).await.map_err(|_| gone())?;
        done.await
            .map_err(|_| gone())?
            .map_err(|e| Error::Internal(format!("audit group commit: {e}")))
    }

    /// A sign-in, by `method` (`password`, `email_verification`, or the OAuth provider).
    pub async fn login(&self, user: &UserId, method: &str) -> Result<(), Error> {
        self.record(
            user,
            &Actor::User,
            "login",
            serde_json::json!({"method": method}),
        )
        .await
    }

    /// The user's events, newest first.
    pub async fn page(
        &self,
        user: &UserId,
        filter: &audit::Filter,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, Error> {
        let rows = audit::page(&self.db.pool, user, filter, limit).await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEvent {
                detail: serde_json::from_str(&r.detail).unwrap_or(Value::Null),
                id: r.id,
                seq: r.seq,
                at: r.at,
                action: r.action,
                actor: r.actor,
            })
            .collect())
    }
}

/// The writer: takes whatever queued (at most [`MAX_GROUP`]), commits it in one statement, tells
/// each waiting `record` the outcome, and repeats. Ends when the log is dropped.
async fn write_groups(db: Db, mut pending: mpsc::Receiver<Pending>, stats: Arc<GroupStats>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while pending.recv_many(&mut group, MAX_GROUP).await > 0 {
        let (rows, waiting): (Vec<_>, Vec<_>) = group
            .drain(..)
            .map(|p| ((p.user, p.row), p.committed))
            .unzip();
        let outcomes = match audit::insert_many(&db.pool, db.backend, &rows).await {
            Ok(()) => {
                stats.groups.fetch_add(1, Ordering::Relaxed);
                stats.events.fetch_add(rows.len() as u64, Ordering::Relaxed);
                stats
                    .largest
                    .fetch_max(rows.len() as u64, Ordering::Relaxed);
                vec![Ok(()); rows.len()]
            }
            // One event that cannot be stored (its user was deleted meanwhile) must not fail the
            // others' requests: the group is written again one event at a time.
            Err(e) if rows.len() > 1 => {
                tracing::warn!(error = %e, events = rows.len(), "an audit group did not commit; writing its events one by one");
                let mut each = Vec::with_capacity(rows.len());
                for (user, row) in &rows {
                    each.push(
                        audit::insert(&db.pool, db.backend, user, row)
                            .await
                            .map_err(|e| e.to_string()),
                    );
                }
                each
            }
            Err(e) => vec![Err(e.to_string())],
        };
        for (committed, outcome) in waiting.into_iter().zip(outcomes) {
            if let Err(e) = &outcome {
                tracing::error!(error = %e, "an audit event did not commit");
            }
            // A caller that went away (its request was cancelled) needs no answer.
            let _ = committed.send(outcome);
        }
    }
}
