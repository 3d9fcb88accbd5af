//! Agent tokens: shown once, stored as SHA-256 hashes, with an expiry and an optional list of
//! the credentials and escrows they may use. They make brokered requests and nothing else.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::auth::secret::token_hash;
use crate::clock::Clock;
use crate::db::Db;
use crate::db::agents::{self, AgentTokenRow};
use crate::error::Error;
use crate::ids::UserId;

/// Every agent token starts with this, so the server tells them from access tokens at a glance
/// (and so do secret scanners).
pub const PREFIX: &str = "ail_agent_";
/// Default lifetime.
pub const DEFAULT_TTL_SECS: i64 = 7 * 24 * 3600;
/// Longest lifetime.
pub const MAX_TTL_SECS: i64 = 365 * 24 * 3600;

/// `POST /v1/agent-tokens`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgentToken {
    /// A label, 1 to 64 of `[A-Za-z0-9._-]`.
    pub name: String,
    /// Lifetime in seconds (default 7 days, at most 365 days).
    pub expires_in: Option<i64>,
    /// Restrict the token to these credential and escrow names; all when absent.
    pub credentials: Option<Vec<String>>,
}

/// An agent token as listed (never the token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentTokenView {
    pub id: String,
    pub name: String,
    pub credentials: Option<Vec<String>>,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
}

/// A new token: the only time it is shown.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedAgentToken {
    #[serde(flatten)]
    pub view: AgentTokenView,
    /// The token. Shown once; store it now.
    #[schema(value_type = String)]
    #[serde(serialize_with = "expose")]
    pub token: SecretString,
}

fn expose<S: serde::Serializer>(token: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(token.expose_secret())
}

/// An authenticated agent.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub user_id: UserId,
    pub credentials: Option<Vec<String>>,
}

fn view(row: AgentTokenRow) -> AgentTokenView {
    AgentTokenView {
        credentials: row
            .credentials
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok()),
        id: row.id,
        name: row.name,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        created_at: row.created_at,
    }
}

/// Creates a token for `user`.
pub async fn create(
    db: &Db,
    clock: &Clock,
    user: &UserId,
    new: NewAgentToken,
) -> Result<CreatedAgentToken, Error> {
    crate::vault::service::check_name(&new.name)?;
    let ttl = new.expires_in.unwrap_or(DEFAULT_TTL_SECS);
    if !(60..=MAX_TTL_SECS).contains(&ttl) {
        return Err(Error::InvalidRequest(format!(
            "expires_in: 60 to {MAX_TTL_SECS} seconds"
        )));
    }
    if let Some(names) = &new.credentials {
        if names.is_empty() || names.len() > 100 {
            return Err(Error::InvalidRequest(
                "credentials: 1 to 100 names, or absent for all".into(),
            ));
        }
        names
            .iter()
            .try_for_each(|n| crate::vault::service::check_name(n))?;
    }
    let token = SecretString::from(format!(
        "{PREFIX}{}",
        crate::auth::secret::new_refresh_token().expose_secret()
    ));
    let now = clock.now();
    let row = AgentTokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user.as_str().into(),
        name: new.name,
        credentials: match &new.credentials {
            Some(c) => Some(serde_json::to_string(c).map_err(|e| Error::Internal(e.to_string()))?),
            None => None,
        },
        expires_at: now + ttl,
        last_used_at: None,
        created_at: now,
    };
    agents::insert(&db.pool, &row, &token_hash(&token)).await?;
    Ok(CreatedAgentToken {
        view: view(row),
        token,
    })
}

/// The user's tokens.
pub async fn list(db: &Db, user: &UserId) -> Result<Vec<AgentTokenView>, Error> {
    Ok(agents::list(&db.pool, user)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// Revokes one of the user's tokens (another user's is not found).
pub async fn revoke(db: &Db, user: &UserId, id: &str) -> Result<(), Error> {
    match agents::delete(&db.pool, user, id).await? {
        true => Ok(()),
        false => Err(Error::NotFound),
    }
}

/// `last_used_at` is written at most this often per token (seconds), in the background, so a
/// brokered request costs no database write for authentication.
pub const TOUCH_EVERY_SECS: i64 = 60;

/// The stored form of a presented token (a plain SHA-256: tokens are high-entropy).
pub fn hash(token: &str) -> String {
    token_hash(&SecretString::from(token.to_owned()))
}

/// The live agent behind a presented token.
pub async fn authenticate(db: &Db, clock: &Clock, token: &str) -> Result<Agent, Error> {
    authenticate_hash(db, clock, &hash(token)).await
}

/// The live agent behind a token's stored form ([`hash`]).
pub async fn authenticate_hash(db: &Db, clock: &Clock, hash: &str) -> Result<Agent, Error> {
    let now = clock.now();
    let (row, suspended) = agents::live(&db.pool, hash, now)
        .await?
        .ok_or(Error::InvalidToken)?;
    if suspended {
        return Err(Error::AccountSuspended);
    }
    if row.last_used_at.is_none_or(|t| now - t >= TOUCH_EVERY_SECS) {
        let (db, id) = (db.clone(), row.id.clone());
        tokio::spawn(async move {
            if let Err(e) = agents::touch(&db.pool, &id, now).await {
                tracing::warn!(error = %e, "could not record an agent token's use");
            }
        });
    }
    let view = view(row.clone());
    Ok(Agent {
        id: row.id,
        user_id: UserId(row.user_id),
        credentials: view.credentials,
    })
}
