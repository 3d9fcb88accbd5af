//! Agent tokens: stored as SHA-256 hashes, optionally restricted to named credentials.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DbError, Exec};

/// The columns every query of this table reads.
macro_rules! agent_columns {
    () => {
        "id, user_id, name, credentials, expires_at, last_used_at, created_at"
    };
}
use crate::ids::UserId;

/// One agent token (never the token itself).
#[derive(Debug, Clone)]
pub struct AgentTokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// JSON array of credential and escrow names this token may use; `None` for all.
    pub credentials: Option<String>,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
}

fn agent(r: AnyRow) -> Result<AgentTokenRow, DbError> {
    Ok(AgentTokenRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        credentials: r.try_get("credentials")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Stores a token.
pub async fn insert<'c>(
    ex: impl Exec<'c>,
    row: &AgentTokenRow,
    token_hash: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO agent_tokens (id, user_id, name, token_hash, credentials, expires_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.user_id)
    .bind(&row.name)
    .bind(token_hash)
    .bind(row.credentials.as_deref())
    .bind(row.expires_at)
    .bind(row.created_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// The live token with this hash and whether its owner is suspended (a read: most requests
/// write nothing here).
pub async fn live<'c>(
    ex: impl Exec<'c>,
    token_hash: &str,
    now: i64,
) -> Result<Option<(AgentTokenRow, bool)>, DbError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        agent_columns!(),
        ", (SELECT status FROM users WHERE users.id = agent_tokens.user_id) AS owner_status",
        " FROM agent_tokens WHERE token_hash = $1 AND expires_at > $2"
    ))
    .bind(token_hash)
    .bind(now)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        let status: String = r.try_get("owner_status")?;
        Ok((agent(r)?, status == "suspended"))
    })
    .transpose()
}

/// Records a use (the caller throttles how often).
pub async fn touch<'c>(ex: impl Exec<'c>, id: &str, now: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE agent_tokens SET last_used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(())
}

/// The user's tokens, newest first.
pub async fn list<'c>(ex: impl Exec<'c>, user: &UserId) -> Result<Vec<AgentTokenRow>, DbError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        agent_columns!(),
        " FROM agent_tokens WHERE user_id = $1 ORDER BY created_at DESC, id"
    ))
    .bind(user.as_str())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(agent).collect()
}

/// Revokes (deletes) one of the user's tokens.
pub async fn delete<'c>(ex: impl Exec<'c>, user: &UserId, id: &str) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM agent_tokens WHERE user_id = $1 AND id = $2")
        .bind(user.as_str())
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}
