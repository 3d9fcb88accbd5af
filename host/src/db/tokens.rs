//! Refresh tokens: stored as SHA-256 hashes, grouped in families, rotated atomically.

use sqlx::Row;

use super::{DbError, Exec};
use crate::ids::{FamilyId, UserId};

/// Stores a new token of a family.
pub async fn insert<'c>(
    ex: impl Exec<'c>,
    token_hash: &str,
    family: &FamilyId,
    user: &UserId,
    expires_at: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(family.as_str())
    .bind(user.as_str())
    .bind(expires_at)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Marks a live token rotated, in one statement, so of two concurrent callers exactly one gets
/// the row back.
pub async fn take_live<'c>(
    ex: impl Exec<'c>,
    token_hash: &str,
    now: i64,
) -> Result<Option<(FamilyId, UserId)>, DbError> {
    let row = sqlx::query(
        "UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 AND rotated_at IS NULL \
         AND revoked_at IS NULL AND expires_at > $2 RETURNING family_id, user_id",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok((
            FamilyId(r.try_get("family_id")?),
            UserId(r.try_get("user_id")?),
        ))
    })
    .transpose()
}

/// PostgreSQL only: rotates a live token, stores its successor and reads the owner in one
/// statement (one round trip instead of three). As [`take_live`], of two concurrent callers
/// exactly one gets the row; `None` when the token is not live.
pub async fn rotate_with_user<'c>(
    ex: impl Exec<'c>,
    token_hash: &str,
    successor_hash: &str,
    now: i64,
    successor_expires_at: i64,
) -> Result<Option<(FamilyId, crate::db::users::User)>, DbError> {
    let row = sqlx::query(
        "WITH t AS (UPDATE refresh_tokens SET rotated_at = $2 WHERE token_hash = $1 \
           AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > $2 \
           RETURNING family_id, user_id), \
         n AS (INSERT INTO refresh_tokens (token_hash, family_id, user_id, expires_at, created_at) \
           SELECT $3, family_id, user_id, $4, $2 FROM t) \
         SELECT t.family_id, u.id, u.enterprise_id, u.email, u.email_verified, u.password_hash, \
           u.display_name, u.role, u.status FROM t JOIN users u ON u.id = t.user_id",
    )
    .bind(token_hash)
    .bind(now)
    .bind(successor_hash)
    .bind(successor_expires_at)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok((
            FamilyId(r.try_get("family_id")?),
            crate::db::users::user_from(&r)?,
        ))
    })
    .transpose()
}

/// What is known about a token that could not be taken.
#[derive(Debug, PartialEq, Eq)]
pub enum DeadToken {
    Unknown,
    /// Already rotated out: presenting it again is reuse.
    Rotated(FamilyId),
    Revoked,
    Expired,
}

/// Why a token is not live.
pub async fn why_dead<'c>(ex: impl Exec<'c>, token_hash: &str) -> Result<DeadToken, DbError> {
    let row = sqlx::query(
        "SELECT family_id, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(ex)
    .await?;
    let Some(r) = row else {
        return Ok(DeadToken::Unknown);
    };
    let rotated: Option<i64> = r.try_get("rotated_at")?;
    let revoked: Option<i64> = r.try_get("revoked_at")?;
    Ok(match (revoked, rotated) {
        (Some(_), _) => DeadToken::Revoked,
        (None, Some(_)) => DeadToken::Rotated(FamilyId(r.try_get("family_id")?)),
        (None, None) => DeadToken::Expired,
    })
}

/// Revokes every token of a family.
pub async fn revoke_family<'c>(
    ex: impl Exec<'c>,
    family: &FamilyId,
    now: i64,
) -> Result<u64, DbError> {
    let done = sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family.as_str())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// The family a token belongs to (for logout).
pub async fn family_of<'c>(
    ex: impl Exec<'c>,
    token_hash: &str,
) -> Result<Option<FamilyId>, DbError> {
    let row = sqlx::query("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(ex)
        .await?;
    row.map(|r| r.try_get("family_id").map(FamilyId).map_err(DbError::from))
        .transpose()
}
