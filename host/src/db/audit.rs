//! The audit log: what happened to a user's account, never bodies or secrets.

use sqlx::Row;

use super::{DbError, Exec};
use crate::ids::UserId;

/// One event.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: String,
    /// Orders events of the same second; also the pagination cursor.
    pub seq: i64,
    pub at: i64,
    pub action: String,
    /// `user`, or `agent:<token id>`.
    pub actor: String,
    /// JSON object with the event's details.
    pub detail: String,
}

/// Appends an event.
pub async fn insert<'c>(ex: impl Exec<'c>, user: &UserId, e: &AuditRow) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO audit_events (id, seq, user_id, at, action, actor, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&e.id)
    .bind(e.seq)
    .bind(user.as_str())
    .bind(e.at)
    .bind(&e.action)
    .bind(&e.actor)
    .bind(&e.detail)
    .execute(ex)
    .await?;
    Ok(())
}

/// The user's events, newest first, at most `limit`, older than the cursor `before` (a `seq`).
pub async fn page<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    let rows = sqlx::query(
        "SELECT id, seq, at, action, actor, detail FROM audit_events \
         WHERE user_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
    )
    .bind(user.as_str())
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditRow {
                id: r.try_get("id")?,
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                action: r.try_get("action")?,
                actor: r.try_get("actor")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
