//! The vault as the API uses it: set, change and verify the passphrase, keep the unlocked data
//! key for the session, and seal, list, open and delete credentials.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aileron_sdk::wire::{self, AllowRule, Inject, Scope};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::envelope::{CredentialBinding, DataKey, HostKey};
use super::kdf::{self, KdfParams};
use super::session::{FailureLimiter, Sessions};
use crate::clock::Clock;
use crate::db::Db;
use crate::db::vault::{self as rows, CredentialRow, VaultRow};
use crate::error::Error;
use crate::ids::UserId;

/// Wrong passphrases allowed per user per window before attempts are refused.
pub const MAX_FAILURES: u32 = 5;
/// The window of [`MAX_FAILURES`].
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The vault service.
pub struct Vault {
    db: Db,
    clock: Clock,
    sessions: Sessions<UserId>,
    limiter: FailureLimiter<UserId>,
    params: KdfParams,
    /// Seals escrow handles at rest.
    pub host_key: HostKey,
    /// Escrow lifetime (`AILERON_ESCROW_TTL`).
    pub escrow_ttl: Duration,
    destinations: aileron_broker::destination::Destinations,
    max_credentials: u64,
}

/// How a credential is presented upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `Authorization: Bearer <secret>`.
    Bearer,
    /// A custom header (`header`, with an optional `format` containing `{secret}`).
    Header,
    /// `Authorization: Basic base64(username:secret)`.
    Basic,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Bearer => "bearer",
            Kind::Header => "header",
            Kind::Basic => "basic",
        }
    }
}

/// What a credential may be used for (stored in the clear: it is not secret).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialScope {
    /// Allowed requests (DESIGN §4).
    #[schema(value_type = Vec<Object>)]
    pub allow: Vec<AllowRule>,
    /// Where the secret goes.
    #[schema(value_type = Object)]
    pub inject: Inject,
    /// Use limit per escrow (and in the host without an enclave); none when absent.
    pub max_uses: Option<u64>,
    /// The basic-auth user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// A new credential, as the API receives it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    /// Unique per user: letters, digits, `-`, `_`, `.`; 1 to 64 characters.
    pub name: String,
    pub kind: Kind,
    /// The header name for `header` (default `Authorization` for `bearer` and `basic`).
    pub header: Option<String>,
    /// For `header`: the value template containing `{secret}` once (default `{secret}`).
    pub format: Option<String>,
    /// For `basic`: the user name (the secret is the password).
    pub username: Option<String>,
    /// Allowed requests: `[{"methods": ["GET"], "url_prefix": "https://api.example.com/"}]`.
    #[schema(value_type = Vec<Object>)]
    pub allow: Vec<AllowRule>,
    /// Use limit per escrow.
    pub max_uses: Option<u64>,
    /// The secret. Write-only: never returned, never logged.
    #[schema(value_type = String, format = Password)]
    pub secret: SecretString,
}

/// A credential as the API shows it: never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub scope: CredentialScope,
    pub version: i64,
    /// Uses brokered in the host (without an enclave).
    pub uses: i64,
    pub created_at: i64,
}

/// The outcome of a passphrase verification.
pub struct Unlocked {
    /// The data key, also held by the session.
    pub key: Arc<DataKey>,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Vault {
    /// The service: sessions last `session_ttl`; the host key derives from the signing key.
    pub fn new(
        db: Db,
        clock: Clock,
        session_ttl: Duration,
        escrow_ttl: Duration,
        signing_key: &[u8],
        destinations: aileron_broker::destination::Destinations,
        max_credentials: u64,
    ) -> Vault {
        Vault {
            db,
            clock,
            sessions: Sessions::new(session_ttl),
            limiter: FailureLimiter::new(MAX_FAILURES, FAILURE_WINDOW),
            params: KdfParams::DEFAULT,
            host_key: HostKey::derive(signing_key),
            escrow_ttl,
            destinations,
            max_credentials,
        }
    }

    /// Sets the passphrase, or changes it (then `current` is required and must be right). A
    /// change re-wraps the one data key, so every credential stays readable; an open session
    /// stays open.
    pub async fn set_passphrase(
        &self,
        user: &UserId,
        new: SecretString,
        current: Option<SecretString>,
    ) -> Result<(), Error> {
        kdf::check_passphrase(&new)?;
        let existing = rows::get(&self.db.pool, user).await?;
        let now = self.clock.now();
        match existing {
            None => {
                let key = DataKey::generate()?;
                let row = self.wrap(user, &key, new).await?;
                if !rows::create(&self.db.pool, user, &row, now).await? {
                    return Err(Error::AlreadyExists("the vault passphrase".into()));
                }
                Ok(())
            }
            Some(stored) => {
                let current = current.ok_or(Error::CurrentPassphraseRequired)?;
                let key = self.open(user, &stored, current).await?;
                let row = self.wrap(user, &key, new).await?;
                if !rows::rewrap(&self.db.pool, user, &stored.wrapped_key, &row, now).await? {
                    return Err(Error::WrongPassphrase);
                }
                Ok(())
            }
        }
    }

    /// Checks the passphrase and opens (or renews) the vault session. Wrong passphrases are
    /// limited per user.
    pub async fn verify(&self, user: &UserId, passphrase: SecretString) -> Result<Unlocked, Error> {
        let stored = rows::get(&self.db.pool, user)
            .await?
            .ok_or(Error::PassphraseNotSet)?;
        let key = self.open(user, &stored, passphrase).await?;
        let now = Instant::now();
        let expires = self.sessions.unlock(user.clone(), key, now);
        let key = self.sessions.key(user, now).ok_or(Error::VaultLocked)?;
        Ok(Unlocked {
            key,
            expires_at: self.unix(expires),
        })
    }

    /// The stored salt and KDF parameters (for clients deriving locally).
    pub async fn salt(&self, user: &UserId) -> Result<(String, KdfParams), Error> {
        let stored = rows::get(&self.db.pool, user)
            .await?
            .ok_or(Error::PassphraseNotSet)?;
        let params = params(&stored)?;
        Ok((stored.salt, params))
    }

    /// Whether the vault is unlocked, and until when (Unix seconds).
    pub fn session(&self, user: &UserId) -> Option<i64> {
        self.sessions
            .expires(user, Instant::now())
            .map(|e| self.unix(e))
    }

    /// The unlocked data key, or `vault_locked`.
    pub fn key(&self, user: &UserId) -> Result<Arc<DataKey>, Error> {
        self.sessions
            .key(user, Instant::now())
            .ok_or(Error::VaultLocked)
    }

    /// Locks the vault now (the key is dropped, and so zeroized, once no request holds it).
    pub fn lock(&self, user: &UserId) -> bool {
        self.sessions.lock(user)
    }

    /// Drops expired sessions. Run periodically.
    pub fn sweep(&self) -> usize {
        self.sessions.sweep(Instant::now())
    }

    /// Seals and stores a new credential. Needs the vault unlocked.
    pub async fn create(&self, user: &UserId, new: NewCredential) -> Result<CredentialView, Error> {
        check_name(&new.name)?;
        let scope = credential_scope(&new)?;
        // The scope is validated as the enclave will validate it at escrow time.
        let now = time::OffsetDateTime::from_unix_timestamp(self.clock.now())
            .map_err(|e| Error::Internal(e.to_string()))?;
        aileron_broker::scope::ValidScope::parse(
            &self.escrow_scope(&scope, self.clock.now())?,
            now,
            time::Duration::seconds(self.escrow_ttl_secs() + 60),
            self.destinations,
        )
        .map_err(|e| Error::Refused {
            code: aileron_sdk::wire::ErrorCode::InvalidScope,
            message: e.to_string(),
        })?;
        let secret = new.secret.expose_secret().as_bytes();
        if secret.is_empty() || secret.len() > 16 * 1024 {
            return Err(Error::InvalidRequest(
                "secret: 1 to 16384 bytes required".into(),
            ));
        }
        if secret.iter().any(|b| b.is_ascii_control()) {
            return Err(Error::Refused {
                code: aileron_sdk::wire::ErrorCode::InvalidSecret,
                message:
                    "the secret has control characters (CR, LF…): it cannot be sent in a header"
                        .into(),
            });
        }
        let held = rows::credentials(&self.db.pool, user).await?.len() as u64;
        if held >= self.max_credentials {
            return Err(Error::QuotaExceeded(format!(
                "you hold {held} credentials, the most this server allows (AILERON_MAX_CREDENTIALS_PER_USER); delete one first"
            )));
        }
        let key = self.key(user)?;
        let id = uuid::Uuid::new_v4().to_string();
        let binding = CredentialBinding {
            owner: user.as_str(),
            credential_id: &id,
            version: 1,
        };
        let sealed = key.seal_secret(new.secret.expose_secret().as_bytes(), &binding)?;
        let row = CredentialRow {
            id,
            name: new.name,
            kind: new.kind.as_str().into(),
            scope: serde_json::to_string(&scope).map_err(|e| Error::Internal(e.to_string()))?,
            ciphertext: wire::b64u(&sealed),
            version: 1,
            uses: 0,
            created_at: self.clock.now(),
        };
        if !rows::insert_credential(&self.db.pool, user, &row).await? {
            return Err(Error::AlreadyExists(format!(
                "a credential named {:?}",
                row.name
            )));
        }
        view(row)
    }

    /// The user's credentials (never their secrets). Works while locked.
    pub async fn list(&self, user: &UserId) -> Result<Vec<CredentialView>, Error> {
        rows::credentials(&self.db.pool, user)
            .await?
            .into_iter()
            .map(view)
            .collect()
    }

    /// One credential's row, or `not_found` (also for another user's).
    pub async fn get(&self, user: &UserId, name: &str) -> Result<CredentialRow, Error> {
        rows::credential_by_name(&self.db.pool, user, name)
            .await?
            .ok_or(Error::NotFound)
    }

    /// One credential as the API shows it (never its secret), or `not_found`.
    pub async fn view(&self, user: &UserId, name: &str) -> Result<CredentialView, Error> {
        view(self.get(user, name).await?)
    }

    /// Deletes a credential.
    pub async fn delete(&self, user: &UserId, name: &str) -> Result<(), Error> {
        match rows::delete_credential(&self.db.pool, user, name).await? {
            true => Ok(()),
            false => Err(Error::NotFound),
        }
    }

    /// The secret (for `basic`, the password: the broker builds the Basic value and redacts
    /// the password in every form), in zeroizing memory. Needs the key of an unlocked vault.
    pub fn open_secret(
        &self,
        user: &UserId,
        key: &DataKey,
        row: &CredentialRow,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let sealed = wire::from_b64u(&row.ciphertext)
            .ok_or(Error::Internal("credential ciphertext encoding".into()))?;
        let version =
            u32::try_from(row.version).map_err(|_| Error::Internal("credential version".into()))?;
        Ok(key.open_secret(
            &sealed,
            &CredentialBinding {
                owner: user.as_str(),
                credential_id: &row.id,
                version,
            },
        )?)
    }

    /// The escrow scope of a stored credential: its rules, expiring `AILERON_ESCROW_TTL` from
    /// `now` (Unix seconds).
    pub fn escrow_scope(&self, scope: &CredentialScope, now: i64) -> Result<Scope, Error> {
        let expires_at = time::OffsetDateTime::from_unix_timestamp(now + self.escrow_ttl_secs())
            .map_err(|e| Error::Internal(e.to_string()))?;
        let mut inject = scope.inject.clone();
        inject.username = scope.username.clone();
        Ok(Scope {
            allow: scope.allow.clone(),
            inject,
            expires_at,
            max_uses: scope.max_uses,
        })
    }

    fn escrow_ttl_secs(&self) -> i64 {
        i64::try_from(self.escrow_ttl.as_secs()).unwrap_or(i64::MAX / 4)
    }

    async fn wrap(
        &self,
        user: &UserId,
        key: &DataKey,
        passphrase: SecretString,
    ) -> Result<VaultRow, Error> {
        let salt = kdf::new_salt()?;
        let params = self.params;
        let kek = tokio::task::spawn_blocking(move || kdf::derive_kek(&passphrase, &salt, params))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
        Ok(VaultRow {
            salt: wire::b64u(&salt),
            kdf_params: serde_json::to_string(&params)
                .map_err(|e| Error::Internal(e.to_string()))?,
            wrapped_key: wire::b64u(&key.wrap(&kek, user.as_str())?),
        })
    }

    /// Opens the data key with a passphrase, counting failures against the limit.
    async fn open(
        &self,
        user: &UserId,
        stored: &VaultRow,
        passphrase: SecretString,
    ) -> Result<DataKey, Error> {
        if self.limiter.check(user, Instant::now()).is_err() {
            return Err(Error::RateLimited);
        }
        let salt = wire::from_b64u(&stored.salt).ok_or(Error::Internal("vault salt".into()))?;
        let params = params(stored)?;
        let kek = tokio::task::spawn_blocking(move || kdf::derive_kek(&passphrase, &salt, params))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
        let wrapped =
            wire::from_b64u(&stored.wrapped_key).ok_or(Error::Internal("wrapped key".into()))?;
        match DataKey::unwrap(&kek, user.as_str(), &wrapped) {
            Ok(key) => {
                self.limiter.succeeded(user);
                Ok(key)
            }
            Err(e) => {
                self.limiter.failed(user, Instant::now());
                Err(e.into())
            }
        }
    }

    fn unix(&self, at: Instant) -> i64 {
        let left = at.saturating_duration_since(Instant::now()).as_secs();
        self.clock.now() + i64::try_from(left).unwrap_or(0)
    }
}

fn params(stored: &VaultRow) -> Result<KdfParams, Error> {
    let params: KdfParams = serde_json::from_str(&stored.kdf_params)
        .map_err(|e| Error::Internal(format!("vault parameters: {e}")))?;
    Ok(params.checked()?)
}

/// The stored scope of a credential row.
pub fn stored_scope(row: &CredentialRow) -> Result<CredentialScope, Error> {
    serde_json::from_str(&row.scope).map_err(|e| Error::Internal(format!("credential scope: {e}")))
}

fn view(row: CredentialRow) -> Result<CredentialView, Error> {
    let scope = stored_scope(&row)?;
    let kind = match row.kind.as_str() {
        "bearer" => Kind::Bearer,
        "header" => Kind::Header,
        "basic" => Kind::Basic,
        _ => return Err(Error::Internal("credential kind".into())),
    };
    Ok(CredentialView {
        id: row.id,
        name: row.name,
        kind,
        scope,
        version: row.version,
        uses: row.uses,
        created_at: row.created_at,
    })
}

/// Names of credentials, escrows and agent tokens: 1 to 64 of `[A-Za-z0-9._-]`, not only dots
/// (`.` and `..` would read as path segments in URLs that carry the name).
pub fn check_name(name: &str) -> Result<(), Error> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.bytes().all(|b| b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(
            "name: 1 to 64 letters, digits, '-', '_' or '.', not only dots".into(),
        ))
    }
}

fn credential_scope(new: &NewCredential) -> Result<CredentialScope, Error> {
    let bad = |m: &str| Err(Error::InvalidRequest(m.into()));
    let (inject, username) = match new.kind {
        Kind::Bearer => {
            if new.format.is_some() || new.username.is_some() {
                return bad("bearer credentials take no format or username");
            }
            let header = new.header.clone().unwrap_or_else(|| "Authorization".into());
            let format = "Bearer {secret}".into();
            let username = None;
            (
                Inject {
                    header,
                    format,
                    username,
                },
                None,
            )
        }
        Kind::Header => {
            let Some(header) = new.header.clone() else {
                return bad("header credentials need `header`");
            };
            if new.username.is_some() {
                return bad("header credentials take no username");
            }
            let format = new.format.clone().unwrap_or_else(|| "{secret}".into());
            let username = None;
            (
                Inject {
                    header,
                    format,
                    username,
                },
                None,
            )
        }
        Kind::Basic => {
            let Some(username) = new.username.clone() else {
                return bad("basic credentials need `username`");
            };
            if username.contains(':') || username.chars().any(char::is_control) {
                return bad("username: no ':' or control characters");
            }
            if new.format.is_some() {
                return bad("basic credentials take no format");
            }
            let header = new.header.clone().unwrap_or_else(|| "Authorization".into());
            let format = "Basic {secret}".into();
            let inject = Inject {
                header,
                format,
                username: None,
            };
            (inject, Some(username))
        }
    };
    Ok(CredentialScope {
        allow: new.allow.clone(),
        inject,
        max_uses: new.max_uses,
        username,
    })
}
