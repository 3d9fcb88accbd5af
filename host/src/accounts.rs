//! The signed-in user's profile and enterprise.

use serde::Serialize;

use crate::db::{Db, users};
use crate::error::Error;
use crate::ids::{EnterpriseId, Role, UserId};

/// What `GET /v1/users/me` returns.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub email_verified: bool,
    pub display_name: Option<String>,
    pub role: Role,
    pub enterprise_id: EnterpriseId,
    /// Sign-in providers linked to the account (`google`, `github`, `oidc`).
    pub auth_providers: Vec<String>,
    pub has_password: bool,
}

/// What `GET /v1/enterprises/me` returns.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EnterpriseView {
    pub id: EnterpriseId,
    pub name: String,
    /// `personal` or `organization`.
    pub kind: String,
    pub domain: Option<String>,
}

/// The caller's profile. The role is read from the database, not from the token.
pub async fn me(db: &Db, user_id: &UserId) -> Result<Me, Error> {
    let user = users::by_id(&db.pool, user_id)
        .await?
        .ok_or(Error::InvalidToken)?;
    let providers = users::providers(&db.pool, &user.id).await?;
    Ok(Me {
        id: user.id,
        email: user.email,
        email_verified: user.email_verified,
        display_name: user.display_name,
        role: user.role,
        enterprise_id: user.enterprise_id,
        auth_providers: providers,
        has_password: user.password_hash.is_some(),
    })
}

/// Changes the caller's display name.
pub async fn rename_me(db: &Db, user_id: &UserId, name: Option<&str>) -> Result<Me, Error> {
    users::set_display_name(&db.pool, user_id, name).await?;
    me(db, user_id).await
}

async fn my_enterprise(db: &Db, user_id: &UserId) -> Result<(users::User, EnterpriseView), Error> {
    let user = users::by_id(&db.pool, user_id)
        .await?
        .ok_or(Error::InvalidToken)?;
    let ent = users::enterprise(&db.pool, &user.enterprise_id)
        .await?
        .ok_or(Error::NotFound)?;
    let view = EnterpriseView {
        id: ent.id,
        name: ent.name,
        kind: ent.kind,
        domain: ent.domain,
    };
    Ok((user, view))
}

/// The caller's enterprise.
pub async fn enterprise(db: &Db, user_id: &UserId) -> Result<EnterpriseView, Error> {
    my_enterprise(db, user_id).await.map(|(_, e)| e)
}

/// Renames the caller's enterprise (owner or admin, as stored now).
pub async fn rename_enterprise(
    db: &Db,
    user_id: &UserId,
    name: &str,
) -> Result<EnterpriseView, Error> {
    let (user, mut view) = my_enterprise(db, user_id).await?;
    if !user.role.manages_enterprise() {
        return Err(Error::Forbidden);
    }
    users::rename_enterprise(&db.pool, &view.id, name).await?;
    view.name = name.to_owned();
    Ok(view)
}

/// Unlinks a sign-in provider, unless it is the account's last way in.
pub async fn unlink_provider(db: &Db, user_id: &UserId, provider: &str) -> Result<(), Error> {
    let mut tx = db.pool.begin().await?;
    let user = users::by_id(&mut *tx, user_id)
        .await?
        .ok_or(Error::InvalidToken)?;
    let providers = users::providers(&mut *tx, &user.id).await?;
    if !providers.iter().any(|p| p == provider) {
        return Err(Error::NotFound);
    }
    let ways_in = providers.len() + usize::from(user.password_hash.is_some());
    if ways_in <= 1 {
        return Err(Error::LastSignInMethod);
    }
    users::unlink_provider(&mut *tx, &user.id, provider).await?;
    tx.commit().await?;
    Ok(())
}
