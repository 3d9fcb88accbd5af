//! Vault rows (salt, KDF parameters, wrapped data key) and sealed credentials.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DbError, Exec};

/// The columns every query of this table reads.
macro_rules! credential_columns {
    () => {
        "id, name, kind, scope, ciphertext, version, uses, created_at"
    };
}
use crate::ids::UserId;

/// A user's vault: what the passphrase needs to open the data key.
pub struct VaultRow {
    pub salt: String,
    pub kdf_params: String,
    pub wrapped_key: String,
}

/// The user's vault, if a passphrase was ever set.
pub async fn get<'c>(ex: impl Exec<'c>, user: &UserId) -> Result<Option<VaultRow>, DbError> {
    let row = sqlx::query("SELECT salt, kdf_params, wrapped_key FROM vaults WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_optional(ex)
        .await?;
    row.map(|r| {
        Ok(VaultRow {
            salt: r.try_get("salt")?,
            kdf_params: r.try_get("kdf_params")?,
            wrapped_key: r.try_get("wrapped_key")?,
        })
    })
    .transpose()
}

/// Creates the vault; `false` when it already exists (a concurrent first set).
pub async fn create<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    row: &VaultRow,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO vaults (user_id, salt, kdf_params, wrapped_key, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.as_str())
    .bind(&row.salt)
    .bind(&row.kdf_params)
    .bind(&row.wrapped_key)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Re-wraps the data key (a passphrase change), only if the wrapped key is still `expected`:
/// of two concurrent changes one wins and the other is told the passphrase changed under it.
pub async fn rewrap<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    expected_wrapped: &str,
    row: &VaultRow,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE vaults SET salt = $3, kdf_params = $4, wrapped_key = $5, updated_at = $6 \
         WHERE user_id = $1 AND wrapped_key = $2",
    )
    .bind(user.as_str())
    .bind(expected_wrapped)
    .bind(&row.salt)
    .bind(&row.kdf_params)
    .bind(&row.wrapped_key)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A stored credential (the secret sealed).
#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// JSON of the credential's scope (allow rules, injection, use limit).
    pub scope: String,
    pub ciphertext: String,
    pub version: i64,
    pub uses: i64,
    pub created_at: i64,
}

fn credential(r: AnyRow) -> Result<CredentialRow, DbError> {
    Ok(CredentialRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        scope: r.try_get("scope")?,
        ciphertext: r.try_get("ciphertext")?,
        version: r.try_get("version")?,
        uses: r.try_get("uses")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Stores a credential; `false` when the user already has one of that name.
pub async fn insert_credential<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    c: &CredentialRow,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO credentials (id, user_id, name, kind, scope, ciphertext, version, uses, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8) \
         ON CONFLICT (user_id, name) DO NOTHING",
    )
    .bind(&c.id)
    .bind(user.as_str())
    .bind(&c.name)
    .bind(&c.kind)
    .bind(&c.scope)
    .bind(&c.ciphertext)
    .bind(c.version)
    .bind(c.created_at)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The user's credentials, by name.
pub async fn credentials<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
) -> Result<Vec<CredentialRow>, DbError> {
    let rows = sqlx::query(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM credentials WHERE user_id = $1 ORDER BY name"
    ))
    .bind(user.as_str())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(credential).collect()
}

/// One of the user's credentials by name. Another user's is simply not found.
pub async fn credential_by_name<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    name: &str,
) -> Result<Option<CredentialRow>, DbError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM credentials WHERE user_id = $1 AND name = $2"
    ))
    .bind(user.as_str())
    .bind(name)
    .fetch_optional(ex)
    .await?;
    row.map(credential).transpose()
}

/// Deletes one of the user's credentials (its escrow index rows go with it).
pub async fn delete_credential<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    name: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM credentials WHERE user_id = $1 AND name = $2")
        .bind(user.as_str())
        .bind(name)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts one use of a credential brokered in the host, within its limit, in one statement;
/// `None` when the limit is reached.
pub async fn count_use<'c>(
    ex: impl Exec<'c>,
    id: &str,
    max_uses: Option<i64>,
) -> Result<Option<i64>, DbError> {
    let row = sqlx::query(
        "UPDATE credentials SET uses = uses + 1 WHERE id = $1 AND ($2 < 0 OR uses < $2) \
         RETURNING uses",
    )
    .bind(id)
    .bind(max_uses.unwrap_or(-1))
    .fetch_optional(ex)
    .await?;
    row.map(|r| Ok(r.try_get("uses")?)).transpose()
}

/// Gives back a use counted for a request that never reached the upstream.
pub async fn give_back_use<'c>(ex: impl Exec<'c>, id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE credentials SET uses = uses - 1 WHERE id = $1 AND uses > 0")
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}
