//! Email verification codes (stored as keyed hashes).

use sqlx::Row;

use super::{DbError, Exec};
use crate::ids::UserId;

/// Replaces the user's pending code. Wrong attempts are kept across a resend until `window`
/// seconds have passed since the first code of the window: asking for a new code does not buy
/// new guesses.
pub async fn put<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    code_hash: &str,
    expires_at: i64,
    now: i64,
    window: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO email_verifications (user_id, code_hash, attempts, expires_at, created_at) \
         VALUES ($1, $2, 0, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
         code_hash = excluded.code_hash, expires_at = excluded.expires_at, \
         attempts = CASE WHEN email_verifications.created_at > $5 \
           THEN email_verifications.attempts ELSE 0 END, \
         created_at = CASE WHEN email_verifications.created_at > $5 \
           THEN email_verifications.created_at ELSE excluded.created_at END",
    )
    .bind(user.as_str())
    .bind(code_hash)
    .bind(expires_at)
    .bind(now)
    .bind(now - window)
    .execute(ex)
    .await?;
    Ok(())
}

/// Counts one attempt at the user's pending code before it is compared, atomically: returns the
/// code's hash when the code was still usable (fewer than `max_attempts` attempts so far, not
/// expired), `None` otherwise. Concurrent guesses on any replicas each use up one attempt, so no
/// more than `max_attempts` comparisons can ever happen.
pub async fn take_attempt<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    max_attempts: i64,
    now: i64,
) -> Result<Option<String>, DbError> {
    let row = sqlx::query(
        "UPDATE email_verifications SET attempts = attempts + 1 \
         WHERE user_id = $1 AND attempts < $2 AND expires_at > $3 RETURNING code_hash",
    )
    .bind(user.as_str())
    .bind(max_attempts)
    .bind(now)
    .fetch_optional(ex)
    .await?;
    row.map(|r| r.try_get("code_hash").map_err(DbError::from))
        .transpose()
}

/// Consumes the code that matched; true when this call consumed it (a resend meanwhile replaced
/// it, or a concurrent attempt consumed it, otherwise).
pub async fn consume<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    code_hash: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM email_verifications WHERE user_id = $1 AND code_hash = $2")
        .bind(user.as_str())
        .bind(code_hash)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}
