//! The escrow index: which enclave escrow holds what, with its handle sealed under the host key.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DbError, Exec};

/// The columns every query of this table reads.
macro_rules! escrow_columns {
    () => {
        "id, name, credential_id, escrow_id, handle, boot_id, enclave, expires_at, lost_at, created_at"
    };
}
use crate::ids::UserId;

/// What an index row stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Sealed end to end by the SDK and registered under a name.
    Sealed,
    /// Auto-escrowed from a vault credential (named after it).
    Credential,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Sealed => "sealed",
            Kind::Credential => "credential",
        }
    }
}

/// One index row.
#[derive(Debug, Clone)]
pub struct EscrowRow {
    pub id: String,
    pub name: String,
    pub credential_id: Option<String>,
    pub escrow_id: String,
    /// The handle sealed with the host key (base64url).
    pub handle: String,
    pub boot_id: String,
    /// The configured URL of the enclave of the fleet that holds it.
    pub enclave: String,
    pub expires_at: i64,
    pub lost_at: Option<i64>,
    pub created_at: i64,
}

fn escrow(r: AnyRow) -> Result<EscrowRow, DbError> {
    Ok(EscrowRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        credential_id: r.try_get("credential_id")?,
        escrow_id: r.try_get("escrow_id")?,
        handle: r.try_get("handle")?,
        boot_id: r.try_get("boot_id")?,
        enclave: r.try_get("enclave")?,
        expires_at: r.try_get("expires_at")?,
        lost_at: r.try_get("lost_at")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Stores a row, replacing the user's previous one of the same kind and name.
pub async fn upsert<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    kind: Kind,
    row: &EscrowRow,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO escrows (id, user_id, kind, name, credential_id, escrow_id, handle, boot_id, \
         expires_at, lost_at, created_at, enclave) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11) \
         ON CONFLICT (user_id, kind, name) DO UPDATE SET id = $1, credential_id = $5, \
         escrow_id = $6, handle = $7, boot_id = $8, expires_at = $9, lost_at = NULL, \
         created_at = $10, enclave = $11",
    )
    .bind(&row.id)
    .bind(user.as_str())
    .bind(kind.as_str())
    .bind(&row.name)
    .bind(row.credential_id.as_deref())
    .bind(&row.escrow_id)
    .bind(&row.handle)
    .bind(&row.boot_id)
    .bind(row.expires_at)
    .bind(row.created_at)
    .bind(&row.enclave)
    .execute(ex)
    .await?;
    Ok(())
}

/// The user's rows of one kind, by name.
pub async fn list<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    kind: Kind,
) -> Result<Vec<EscrowRow>, DbError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        escrow_columns!(),
        " FROM escrows WHERE user_id = $1 AND kind = $2 ORDER BY name"
    ))
    .bind(user.as_str())
    .bind(kind.as_str())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(escrow).collect()
}

/// One of the user's rows.
pub async fn get<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    kind: Kind,
    name: &str,
) -> Result<Option<EscrowRow>, DbError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        escrow_columns!(),
        " FROM escrows WHERE user_id = $1 AND kind = $2 AND name = $3"
    ))
    .bind(user.as_str())
    .bind(kind.as_str())
    .bind(name)
    .fetch_optional(ex)
    .await?;
    row.map(escrow).transpose()
}

/// The credential and its escrow's index row, for [`for_credential`] and [`for_agent_credential`].
macro_rules! credential_escrow_select {
    () => {
        "SELECT c.id AS credential_row_id, e.id, e.name, e.credential_id, e.escrow_id, e.handle, \
         e.boot_id, e.enclave, e.expires_at, e.lost_at, e.created_at \
         FROM credentials c LEFT JOIN escrows e \
           ON e.user_id = c.user_id AND e.kind = 'credential' AND e.name = c.name "
    };
}

/// A vault credential's id and its escrow's row (if any): what a brokered request through the
/// enclave needs. `None` when there is no such credential.
pub type CredentialEscrow = Option<(String, Option<EscrowRow>)>;

/// The user's credential `name` and its escrow's row, in one round trip.
pub async fn for_credential<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    name: &str,
) -> Result<CredentialEscrow, DbError> {
    let row = sqlx::query(concat!(
        credential_escrow_select!(),
        "WHERE c.user_id = $1 AND c.name = $2"
    ))
    .bind(user.as_str())
    .bind(name)
    .fetch_optional(ex)
    .await?;
    row.map(credential_escrow).transpose().map(Option::flatten)
}

/// The same, keyed by an agent token's stored hash, so that it can run while the token is
/// checked: the caller uses the answer only once the token proved live (its owner is this row's
/// owner by construction).
pub async fn for_agent_credential<'c>(
    ex: impl Exec<'c>,
    token_hash: &str,
    name: &str,
) -> Result<CredentialEscrow, DbError> {
    let row = sqlx::query(concat!(
        credential_escrow_select!(),
        "WHERE c.user_id = (SELECT user_id FROM agent_tokens WHERE token_hash = $1) AND c.name = $2"
    ))
    .bind(token_hash)
    .bind(name)
    .fetch_optional(ex)
    .await?;
    row.map(credential_escrow).transpose().map(Option::flatten)
}

fn credential_escrow(row: AnyRow) -> Result<CredentialEscrow, DbError> {
    let credential: String = row.try_get("credential_row_id")?;
    let escrowed: Option<String> = row.try_get("id")?;
    let escrow = match escrowed {
        Some(_) => Some(escrow(row)?),
        None => None,
    };
    Ok(Some((credential, escrow)))
}

/// Removes one of the user's rows; returns it.
pub async fn remove<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    kind: Kind,
    name: &str,
) -> Result<Option<EscrowRow>, DbError> {
    let row = sqlx::query(concat!(
        "DELETE FROM escrows WHERE user_id = $1 AND kind = $2 AND name = $3 RETURNING ",
        escrow_columns!()
    ))
    .bind(user.as_str())
    .bind(kind.as_str())
    .bind(name)
    .fetch_optional(ex)
    .await?;
    row.map(escrow).transpose()
}

/// Marks lost every row `enclave` holds from a boot other than `current_boot` (it restarted and
/// forgot them). Other enclaves' rows are untouched.
pub async fn mark_lost<'c>(
    ex: impl Exec<'c>,
    enclave: &str,
    current_boot: &str,
    now: i64,
) -> Result<u64, DbError> {
    let done = sqlx::query(
        "UPDATE escrows SET lost_at = $3 WHERE enclave = $1 AND boot_id <> $2 AND lost_at IS NULL",
    )
    .bind(enclave)
    .bind(current_boot)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// Rows written before the fleet (no enclave recorded) belong to the one enclave configured then:
/// they are given `enclaves[0]`. Rows of an enclave no longer in `enclaves` are marked lost at
/// `now` (no request can reach them). Returns `(adopted, lost)`.
pub async fn reconcile(
    ex: &sqlx::AnyPool,
    enclaves: &[&str],
    now: i64,
) -> Result<(u64, u64), DbError> {
    let Some(first) = enclaves.first() else {
        return Ok((0, 0));
    };
    let adopted = sqlx::query("UPDATE escrows SET enclave = $1 WHERE enclave = ''")
        .bind(*first)
        .execute(ex)
        .await?
        .rows_affected();
    // Audited: built only from numbered placeholders; every URL is bound.
    let list: Vec<String> = (0..enclaves.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "UPDATE escrows SET lost_at = $1 WHERE lost_at IS NULL AND enclave NOT IN ({})",
        list.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for url in enclaves {
        query = query.bind(*url);
    }
    let lost = query.execute(ex).await?.rows_affected();
    Ok((adopted, lost))
}

/// The user's live and lost rows of both kinds: `(live, lost)`.
pub async fn counts<'c>(ex: impl Exec<'c>, user: &UserId, now: i64) -> Result<(i64, i64), DbError> {
    let row = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN lost_at IS NULL AND expires_at > $2 THEN 1 ELSE 0 END), 0) \
         AS live, COALESCE(SUM(CASE WHEN lost_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS lost \
         FROM escrows WHERE user_id = $1",
    )
    .bind(user.as_str())
    .bind(now)
    .fetch_one(ex)
    .await?;
    Ok((row.try_get("live")?, row.try_get("lost")?))
}
