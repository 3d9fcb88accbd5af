//! The audit log: what happened to a user's account, never bodies or secrets.

use sqlx::Row;

use super::{Backend, DbError, Exec};
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
pub async fn insert<'c>(
    ex: impl Exec<'c>,
    backend: Backend,
    user: &UserId,
    e: &AuditRow,
) -> Result<(), DbError> {
    insert_many(ex, backend, &[(user.clone(), e.clone())]).await
}

/// Appends several users' events in one statement (one commit): the audit writer's group. The
/// `seq` of each row is PostgreSQL's shared sequence, so replicas writing in the same microsecond
/// never share a cursor value; on SQLite (one process owns the file) it is the row's own, the
/// process's strictly increasing clock.
pub async fn insert_many<'c>(
    ex: impl Exec<'c>,
    backend: Backend,
    rows: &[(UserId, AuditRow)],
) -> Result<(), DbError> {
    if rows.is_empty() {
        return Ok(());
    }
    // Audited: built only from the fixed column list, numbered placeholders and the sequence's
    // fixed name; every value is bound. At most 7 values a row; the writer's groups stay far below
    // both backends' parameter limits.
    let mut sql = String::from(
        "INSERT INTO audit_events (id, seq, user_id, at, action, actor, detail) VALUES ",
    );
    let mut next = 0;
    let mut placeholder = || {
        next += 1;
        format!("${next}")
    };
    for i in 0..rows.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        let id = placeholder();
        let seq = match backend {
            Backend::Postgres => "nextval('audit_events_seq')".to_owned(),
            Backend::Sqlite => placeholder(),
        };
        let rest: Vec<String> = (0..5).map(|_| placeholder()).collect();
        sql.push_str(&format!("({id}, {seq}, {})", rest.join(", ")));
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (user, e) in rows {
        query = query.bind(&e.id);
        if backend == Backend::Sqlite {
            query = query.bind(e.seq);
        }
        query = query
            .bind(user.as_str())
            .bind(e.at)
            .bind(&e.action)
            .bind(&e.actor)
            .bind(&e.detail);
    }
    query.execute(ex).await?;
    Ok(())
}

/// Deletes at most `batch` events older than `before` (Unix seconds), oldest first; returns how
/// many. Small batches keep each statement short under write load.
pub async fn expire<'c>(ex: impl Exec<'c>, before: i64, batch: i64) -> Result<u64, DbError> {
    let done = sqlx::query(
        "DELETE FROM audit_events WHERE id IN \
         (SELECT id FROM audit_events WHERE at < $1 ORDER BY at LIMIT $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// A filter's value, bound in the order its condition was written.
enum Bound<'a> {
    Text(&'a str),
    Int(i64),
}

/// Which of a user's events a page holds. Every field narrows; none is the whole log.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only events older than this cursor (a `seq`).
    pub before: Option<i64>,
    /// Only this action (exact).
    pub action: Option<String>,
    /// Only this actor (exact: `user` or `agent:<token id>`).
    pub actor: Option<String>,
    /// Only events at or after this Unix second.
    pub since: Option<i64>,
    /// Only events before this Unix second.
    pub until: Option<i64>,
}

/// The user's events, newest first, at most `limit`, narrowed by `filter`.
pub async fn page<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<AuditRow>, DbError> {
    // Audited: the statement is built only from the fixed text below (column names, operators and
    // placeholder numbers); every value is bound. QueryBuilder would write `?` placeholders
    // through the Any driver, which PostgreSQL does not take.
    let conditions: Vec<(&str, &str, Bound)> = [
        filter
            .action
            .as_deref()
            .map(|v| ("action", "=", Bound::Text(v))),
        filter
            .actor
            .as_deref()
            .map(|v| ("actor", "=", Bound::Text(v))),
        filter.since.map(|v| ("at", ">=", Bound::Int(v))),
        filter.until.map(|v| ("at", "<", Bound::Int(v))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut sql = String::from(
        "SELECT id, seq, at, action, actor, detail FROM audit_events WHERE user_id = $1 AND seq < $2",
    );
    for (i, (column, op, _)) in conditions.iter().enumerate() {
        sql.push_str(&format!(" AND {column} {op} ${}", i + 3));
    }
    sql.push_str(&format!(
        " ORDER BY seq DESC LIMIT ${}",
        conditions.len() + 3
    ));
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user.as_str())
        .bind(filter.before.unwrap_or(i64::MAX));
    for (_, _, value) in conditions {
        query = match value {
            Bound::Text(text) => query.bind(text),
            Bound::Int(n) => query.bind(n),
        };
    }
    let rows = query.bind(limit).fetch_all(ex).await?;
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
