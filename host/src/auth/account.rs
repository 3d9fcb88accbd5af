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
