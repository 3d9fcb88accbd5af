//! Users, enterprises and sign-in identities.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{DbError, Exec, flag};
use crate::ids::{EnterpriseId, Role, UserId};

/// A stored user. Its `Debug` never prints the password hash.
#[derive(Clone)]
pub struct User {
    pub id: UserId,
    pub enterprise_id: EnterpriseId,
    pub email: String,
    pub email_verified: bool,
    /// The Argon2id PHC string; a hash, never the password.
    pub password_hash: Option<String>,
    pub display_name: Option<String>,
    pub role: Role,
    pub suspended: bool,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("enterprise_id", &self.enterprise_id)
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .field("has_password", &self.password_hash.is_some())
            .field("role", &self.role)
            .field("suspended", &self.suspended)
            .finish_non_exhaustive()
    }
}

/// A stored enterprise.
#[derive(Debug, Clone)]
pub struct Enterprise {
    pub id: EnterpriseId,
    pub name: String,
    pub kind: String,
    pub domain: Option<String>,
}

/// What a new user starts with.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub email_verified: bool,
    pub password_hash: Option<&'a str>,
    pub display_name: Option<&'a str>,
}

macro_rules! user_select {
    ($rest:literal) => {
        concat!(
            "SELECT u.id, u.enterprise_id, u.email, u.email_verified, u.password_hash, ",
            "u.display_name, u.role, u.status FROM users u ",
            $rest
        )
    };
}

pub(crate) fn user_from(row: &AnyRow) -> Result<User, DbError> {
    let role: String = row.try_get("role")?;
    let status: String = row.try_get("status")?;
    Ok(User {
        id: UserId(row.try_get("id")?),
        enterprise_id: EnterpriseId(row.try_get("enterprise_id")?),
        email: row.try_get("email")?,
        email_verified: flag(row.try_get("email_verified")?),
        password_hash: row.try_get("password_hash")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role).ok_or(DbError::Corrupt("users.role"))?,
        suspended: status == "suspended",
    })
}

/// The user with this (normalised) email.
pub async fn by_email<'c>(ex: impl Exec<'c>, email: &str) -> Result<Option<User>, DbError> {
    let row = sqlx::query(user_select!("WHERE u.email = $1"))
        .bind(email)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(user_from).transpose()
}

/// What an access token's use needs to know now: whether its user is suspended, and whether
/// its session (refresh-token family) is still live. `None` when the user no longer exists.
pub async fn session_state<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    session: &str,
) -> Result<Option<SessionState>, DbError> {
    let row = sqlx::query(
        "SELECT u.status, (SELECT COUNT(*) FROM refresh_tokens r WHERE r.family_id = $2 \
         AND r.user_id = u.id AND r.revoked_at IS NULL) AS live FROM users u WHERE u.id = $1",
    )
    .bind(user.as_str())
    .bind(session)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        let status: String = r.try_get("status")?;
        let live: i64 = r.try_get("live")?;
        Ok(SessionState {
            suspended: status == "suspended",
            live: live > 0,
        })
    })
    .transpose()
}

/// See [`session_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionState {
    pub suspended: bool,
    pub live: bool,
}

/// Suspends (`true`) or restores an account by email; false when no such account.
pub async fn set_suspended<'c>(
    ex: impl Exec<'c>,
    email: &str,
    suspended: bool,
) -> Result<bool, DbError> {
    let status = if suspended { "suspended" } else { "active" };
    let done = sqlx::query("UPDATE users SET status = $2 WHERE email = $1")
        .bind(email)
        .bind(status)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The user with this id.
pub async fn by_id<'c>(ex: impl Exec<'c>, id: &UserId) -> Result<Option<User>, DbError> {
    let row = sqlx::query(user_select!("WHERE u.id = $1"))
        .bind(id.as_str())
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(user_from).transpose()
}

/// The user signed in through `provider` as `subject`.
pub async fn by_identity<'c>(
    ex: impl Exec<'c>,
    provider: &str,
    subject: &str,
) -> Result<Option<User>, DbError> {
    let row = sqlx::query(user_select!(
        "JOIN auth_identities i ON i.user_id = u.id WHERE i.provider = $1 AND i.subject = $2"
    ))
    .bind(provider)
    .bind(subject)
    .fetch_optional(ex)
    .await?;
    row.as_ref().map(user_from).transpose()
}

/// Inserts an enterprise.
pub async fn insert_enterprise<'c>(
    ex: impl Exec<'c>,
    enterprise: &Enterprise,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO enterprises (id, name, kind, domain, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(enterprise.id.as_str())
    .bind(&enterprise.name)
    .bind(&enterprise.kind)
    .bind(enterprise.domain.as_deref())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Inserts a user; `None` when the email is already taken.
pub async fn insert_user<'c>(
    ex: impl Exec<'c>,
    id: &UserId,
    enterprise_id: &EnterpriseId,
    role: Role,
    new: &NewUser<'_>,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO users (id, enterprise_id, email, email_verified, password_hash, display_name, \
         role, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8) \
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(enterprise_id.as_str())
    .bind(new.email)
    .bind(i64::from(new.email_verified))
    .bind(new.password_hash)
    .bind(new.display_name)
    .bind(role.as_str())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the email verified.
pub async fn mark_verified<'c>(ex: impl Exec<'c>, id: &UserId) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET email_verified = 1 WHERE id = $1")
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// Sets or clears the display name.
pub async fn set_display_name<'c>(
    ex: impl Exec<'c>,
    id: &UserId,
    name: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
        .bind(name)
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// The enterprise with this id.
pub async fn enterprise<'c>(
    ex: impl Exec<'c>,
    id: &EnterpriseId,
) -> Result<Option<Enterprise>, DbError> {
    let row = sqlx::query("SELECT id, name, kind, domain FROM enterprises WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(ex)
        .await?;
    row.map(|r| {
        Ok(Enterprise {
            id: EnterpriseId(r.try_get("id")?),
            name: r.try_get("name")?,
            kind: r.try_get("kind")?,
            domain: r.try_get("domain")?,
        })
    })
    .transpose()
}

/// Renames an enterprise.
pub async fn rename_enterprise<'c>(
    ex: impl Exec<'c>,
    id: &EnterpriseId,
    name: &str,
) -> Result<(), DbError> {
    sqlx::query("UPDATE enterprises SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// Links a provider identity to a user.
pub async fn link_identity<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    provider: &str,
    subject: &str,
    email: Option<&str>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO auth_identities (provider, subject, user_id, email, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(provider)
    .bind(subject)
    .bind(user.as_str())
    .bind(email)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// The providers a user can sign in with (not counting a password).
pub async fn providers<'c>(ex: impl Exec<'c>, user: &UserId) -> Result<Vec<String>, DbError> {
    let rows =
        sqlx::query("SELECT provider FROM auth_identities WHERE user_id = $1 ORDER BY provider")
            .bind(user.as_str())
            .fetch_all(ex)
            .await?;
    rows.iter()
        .map(|r| r.try_get("provider").map_err(DbError::from))
        .collect()
}

/// Removes a provider identity; returns how many were removed.
pub async fn unlink_provider<'c>(
    ex: impl Exec<'c>,
    user: &UserId,
    provider: &str,
) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM auth_identities WHERE user_id = $1 AND provider = $2")
        .bind(user.as_str())
        .bind(provider)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

/// Marks an unverified account verified by an identity provider and drops its password.
pub async fn claim_unverified<'c>(ex: impl Exec<'c>, id: &UserId) -> Result<(), DbError> {
    sqlx::query("UPDATE users SET email_verified = 1, password_hash = NULL WHERE id = $1 AND email_verified = 0")
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_never_prints_its_password_hash() {
        let user = User {
            id: UserId("u1".into()),
            enterprise_id: EnterpriseId("e1".into()),
            email: "a@example.com".into(),
            email_verified: true,
            password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
            display_name: None,
            role: Role::Owner,
            suspended: false,
        };
        let printed = format!("{user:?}");
        assert!(printed.contains("a@example.com"), "{printed}");
        assert!(!printed.contains("argon2id"), "{printed}");
    }
}
