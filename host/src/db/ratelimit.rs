//! Rate windows shared by every replica: one row per (endpoint, subject), counted in the same
//! statement that reads it, so concurrent attempts on any replicas each get their own count.

use sqlx::Row;

use super::{DbError, Exec};

/// Counts one hit on each `(subject, limit)` of `endpoint` in the window starting at `window`,
/// in one statement; returns the counts after this hit, in the order given. A row of an older
/// window starts again at one.
pub async fn hit<'c>(
    ex: impl Exec<'c>,
    endpoint: &str,
    subjects: &[String],
    window: i64,
) -> Result<Vec<i64>, DbError> {
    if subjects.is_empty() {
        return Ok(Vec::new());
    }
    // Audited: built only from numbered placeholders; every value is bound.
    let mut sql =
        String::from("INSERT INTO rate_windows (endpoint, subject, window_start, hits) VALUES ");
    for i in 0..subjects.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("($1, ${}, $2, 1)", i + 3));
    }
    sql.push_str(
        " ON CONFLICT (endpoint, subject) DO UPDATE SET \
         hits = CASE WHEN rate_windows.window_start = excluded.window_start \
           THEN rate_windows.hits + 1 ELSE 1 END, \
         window_start = excluded.window_start \
         RETURNING subject, hits",
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(endpoint)
        .bind(window);
    for subject in subjects {
        query = query.bind(subject.as_str());
    }
    let rows = query.fetch_all(ex).await?;
    let mut counts = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let row = rows
            .iter()
            .find(|r| {
                r.try_get::<String, _>("subject")
                    .is_ok_and(|s| &s == subject)
            })
            .ok_or(DbError::Corrupt("rate_windows returned no count"))?;
        counts.push(row.try_get("hits")?);
    }
    Ok(counts)
}

/// Drops windows that ended before `before`. Returns how many.
pub async fn sweep<'c>(ex: impl Exec<'c>, before: i64) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM rate_windows WHERE window_start < $1")
        .bind(before)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}
