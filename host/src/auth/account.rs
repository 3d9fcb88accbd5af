//! Creating accounts: a user and its enterprise, in one transaction.

use sqlx::{Any, Transaction};

use super::email::Email;
use crate::db::DbError;
use crate::db::users::{self, Enterprise, NewUser, User};
use crate::ids::{EnterpriseId, Role, UserId};

/// Creates a user, owner of a new enterprise, inside `tx`. `None` when the email is taken.
pub async fn create(
    tx: &mut Transaction<'static, Any>,
    email: &Email,
    new: NewUser<'_>,
    now: i64,
) -> Result<Option<User>, DbError> {
    let enterprise = enterprise_for(email, new.display_name);
    users::insert_enterprise(&mut **tx, &enterprise, now).await?;
    let id = UserId::random();
    if !users::insert_user(&mut **tx, &id, &enterprise.id, Role::Owner, &new, now).await? {
        return Ok(None);
    }
    users::by_id(&mut **tx, &id).await
}

/// Free-mail users get a personal enterprise; others one named after their domain. Users are
/// never joined to an existing enterprise by domain alone: that needs an invitation.
fn enterprise_for(email: &Email, display_name: Option<&str>) -> Enterprise {
    let (name, kind, domain) = if email.is_personal() {
        let who = display_name.unwrap_or(email.local());
        (format!("{who}'s workspace"), "personal", None)
    } else {
        (
            email.domain().to_owned(),
            "organization",
            Some(email.domain().to_owned()),
        )
    };
    Enterprise {
        id: EnterpriseId::random(),
        name,
        kind: kind.to_owned(),
        domain,
    }
}

/// The user an external identity signs in as: the linked one, else the account with the same
/// verified email (the identity is linked to it), else a new account. An address the provider
/// has not verified is never linked nor used to create an account.
pub async fn resolve_external(
    db: &crate::db::Db,
    id: &crate::oauth::ExternalIdentity,
    now: i64,
) -> Result<User, crate::error::Error> {
    use crate::error::Error;
    if let Some(user) = users::by_identity(&db.pool, id.provider, &id.subject).await? {
        return Ok(user);
    }
    if !id.email_verified {
        return Err(Error::OAuthEmailNotVerified);
    }
    let email = Email::parse(&id.email).ok_or(Error::OAuthEmailNotVerified)?;
    let mut tx = db.pool.begin().await?;
    let user = match users::by_email(&mut *tx, email.as_str()).await? {
        Some(existing) => {
            if !existing.email_verified {
                // Someone registered this address without proving it; the provider just did.
                // Drop that password so a pre-registered account cannot be taken over.
                users::claim_unverified(&mut *tx, &existing.id).await?;
            }
            existing
        }
        None => {
            let new = NewUser {
                email: email.as_str(),
                email_verified: true,
                password_hash: None,
                display_name: id.name.as_deref(),
            };
            create(&mut tx, &email, new, now)
                .await?
                .ok_or(Error::OAuthFailed)?
        }
    };
    users::link_identity(
        &mut *tx,
        &user.id,
        id.provider,
        &id.subject,
        Some(email.as_str()),
        now,
    )
    .await?;
    tx.commit().await?;
    users::by_id(&db.pool, &user.id)
        .await?
        .ok_or(Error::OAuthFailed)
}
