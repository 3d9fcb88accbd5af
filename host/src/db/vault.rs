//! Vault rows (what the client produced: KDF, wrapped vault key, verifier hash) and credentials
//! (client ciphertext and the policy it is bound to, verbatim).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DbError, Exec};
use crate::ids::UserId;

/// The columns every credential query reads.
macro_rules! credential_columns {
    () => {
        "id, name, kind, policy, ciphertext, version, uses, created_at, updated_at"
    };
}

/// A user's vault.
#[derive(Debug, Clone)]
pub struct VaultRow {
    pub format: i64,
    /// The KDF as JSON (algorithm, version, salt, parameters).
    pub kdf: String,
    /// base64url of the wrapped vault key.
    pub wrapped_key: String,
    /// hex SHA-256 of the verifier.
    pub verifier_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

fn vault(r: AnyRow) -> Result<VaultRow, DbError> {
    Ok(VaultRow {
        format: r.try_get("format")?,
        kdf: r.try_get("kdf")?,
        wrapped_key: r.try_get("wrapped_key")?,
        verifier_hash: r.try_get("verifier_hash")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The user's vault, if one was made.
pub async fn get<'c>(ex: impl Exec<'c>, user: &UserId) -> Result<Option<VaultRow>, DbError> {
    sqlx::query(
        "SELECT format, kdf, wrapped_key, verifier_hash, created_at, updated_at FROM vaults \
         WHERE user_id = $1",
    )
    .bind(user.as_str())
    .fetch_optional(ex)
    .await?
    .map(vault)
    .transpose()
}

/// Creates the vault; `false` when it already exists.
pub async fn create<'c>(ex: impl Exec<'c>, user: &UserId, row: &VaultRow) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO vaults (user_id, format, kdf, wrapped_key, verifier_hash, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.as_str())
    .bind(row.format)
    .bind(&row.kdf)
    .bind(&row.wrapped_key)
    .bind(&row.verifier_hash)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the KDF and wrapped key (a passphrase change) if the verifier hash matches; `false`
/// when it does not (or there is no vault).
pub async fn rewrap<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    verifier_hash: &str,
    kdf: &str,
    wrapped_key: &str,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE vaults SET kdf = $3, wrapped_key = $4, updated_at = $5 \
         WHERE user_id = $1 AND verifier_hash = $2",
    )
    .bind(user.as_str())
    .bind(verifier_hash)
    .bind(kdf)
    .bind(wrapped_key)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the vault and every credential of the user if the verifier hash matches (call it in
/// a transaction).
pub async fn delete(
    ex: &mut sqlx::AnyConnection,
    user: &UserId,
    verifier_hash: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM vaults WHERE user_id = $1 AND verifier_hash = $2")
        .bind(user.as_str())
        .bind(verifier_hash)
        .execute(&mut *ex)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM credentials WHERE user_id = $1")
        .bind(user.as_str())
        .execute(&mut *ex)
        .await?;
    Ok(true)
}

/// How many vaults an earlier build left (removed by migration 0003), read once and cleared.
pub async fn take_legacy_count(pool: &sqlx::AnyPool) -> Result<i64, DbError> {
    let mut tx = pool.begin().await?;
    let count: Option<i64> = sqlx::query("SELECT count FROM legacy_vaults_removed")
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("count"))
        .transpose()?;
    sqlx::query("DELETE FROM legacy_vaults_removed")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(count.unwrap_or(0))
}

/// A stored credential.
#[derive(Debug, Clone)]
pub struct CredentialRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// The policy JSON exactly as the client sent it.
    pub policy: String,
    /// base64url of the client's ciphertext.
    pub ciphertext: String,
    pub version: i64,
    pub uses: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn credential(r: AnyRow) -> Result<CredentialRow, DbError> {
    Ok(CredentialRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        policy: r.try_get("policy")?,
        ciphertext: r.try_get("ciphertext")?,
        version: r.try_get("version")?,
        uses: r.try_get("uses")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Stores a credential; `false` when the name or id is taken.
pub async fn insert_credential<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    row: &CredentialRow,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO credentials (id, user_id, name, kind, policy, ciphertext, version, uses, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) ON CONFLICT DO NOTHING",
    )
    .bind(&row.id)
    .bind(user.as_str())
    .bind(&row.name)
    .bind(&row.kind)
    .bind(&row.policy)
    .bind(&row.ciphertext)
    .bind(row.version)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a credential's policy and ciphertext if its version is `previous` (of two
/// concurrent updates one wins); `false` otherwise.
pub async fn update_credential<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    row: &CredentialRow,
    previous: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE credentials SET kind = $4, policy = $5, ciphertext = $6, version = $7, \
         updated_at = $8, uses = 0 WHERE user_id = $1 AND name = $2 AND version = $3",
    )
    .bind(user.as_str())
    .bind(&row.name)
    .bind(previous)
    .bind(&row.kind)
    .bind(&row.policy)
    .bind(&row.ciphertext)
    .bind(row.version)
    .bind(row.updated_at)
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

/// How many credentials the user holds.
pub async fn count_credentials<'c>(ex: impl Exec<'c>, user: &UserId) -> Result<i64, DbError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM credentials WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_one(ex)
        .await?;
    Ok(row.try_get("n")?)
}

/// One of the user's credentials.
pub async fn credential_by_name<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    name: &str,
) -> Result<Option<CredentialRow>, DbError> {
    sqlx::query(concat!(
        "SELECT ",
        credential_columns!(),
        " FROM credentials WHERE user_id = $1 AND name = $2"
    ))
    .bind(user.as_str())
    .bind(name)
    .fetch_optional(ex)
    .await?
    .map(credential)
    .transpose()
}

/// Deletes one of the user's credentials.
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

/// Counts one use (server-trust mode), atomically against `max`; `None` when used up.
pub async fn count_use<'c>(
    ex: impl Exec<'c>,
    id: &str,
    max: Option<i64>,
) -> Result<Option<i64>, DbError> {
    let row = sqlx::query(
        "UPDATE credentials SET uses = uses + 1 WHERE id = $1 AND ($2 < 0 OR uses < $2) \
         RETURNING uses",
    )
    .bind(id)
    .bind(max.unwrap_or(-1))
    .fetch_optional(ex)
    .await?;
    row.map(|r| r.try_get("uses").map_err(DbError::from))
        .transpose()
}

/// Gives back a use counted for a request that never left.
pub async fn give_back_use<'c>(ex: impl Exec<'c>, id: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE credentials SET uses = uses - 1 WHERE id = $1 AND uses > 0")
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}
