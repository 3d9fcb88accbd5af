//! The audit log: sign-ins, passphrase verifications, escrows, brokered requests (method, host,
//! path, status, size) and revocations. Never bodies, headers or secrets.

use std::sync::atomic::{AtomicI64, Ordering};

use serde::Serialize;
use serde_json::Value;

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

/// Writes and reads the log.
pub struct Audit {
    db: Db,
    clock: Clock,
    last_seq: AtomicI64,
}

impl Audit {
    pub fn new(db: Db, clock: Clock) -> Audit {
        Audit {
            db,
            clock,
            last_seq: AtomicI64::new(0),
        }
    }

    /// Appends an event. `seq` is the wall clock in microseconds, strictly increasing within
    /// this process, so events sort newest first even within one second.
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
        audit::insert(&self.db.pool, user, &row).await?;
        Ok(())
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
