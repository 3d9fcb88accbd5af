//! The vault as the API uses it. The server stores and serves what clients produce (the KDF, the
//! wrapped vault key, the verifier's hash, credential ciphertexts and their policies) and checks
//! shapes and proofs; it opens nothing, except in server-trust mode, where a client handed it
//! the credential key for a session.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aileron_broker::destination::Destinations;
use aileron_sdk::vault::CredentialPolicy;
use aileron_sdk::vault::format::{self, Binding, Key};
use aileron_sdk::wire;
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use super::input::{self, Kdf};
use super::session::Sessions;
use crate::audit::{Actor, Audit};
use crate::clock::Clock;
use crate::db::Db;
use crate::db::vault::{self as rows, CredentialRow, VaultRow};
use crate::error::Error;
use crate::ids::UserId;

/// Who brokers, hence what the server can read while a vault is unlocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Trust {
    /// An attested enclave: the server never holds a key.
    Enclave,
    /// No enclave: the server brokers, and holds a credential key while a vault is unlocked.
    Server,
}

/// `PUT /v1/vault`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVault {
    /// Always 1.
    pub format: u32,
    pub kdf: Kdf,
    /// base64url of the 60-byte envelope of the vault key.
    pub wrapped_key: String,
    /// base64url of the 32-byte verifier (the server keeps its SHA-256).
    pub verifier: String,
}

/// `POST /v1/vault/passphrase`: the same vault key, wrapped under a new passphrase.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rewrap {
    pub verifier: String,
    pub kdf: Kdf,
    pub wrapped_key: String,
}

/// `GET /v1/vault`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VaultInfo {
    pub format: i64,
    pub kdf: Kdf,
    pub wrapped_key: String,
    pub trust: Trust,
    /// The longest escrow a client may ask for (`AILERON_ESCROW_TTL`).
    pub escrow_ttl_secs: i64,
    /// How long a server-trust session lasts (`AILERON_KEK_SESSION_TTL`).
    pub session_ttl_secs: i64,
    /// Server-trust mode: when the current session ends (Unix seconds), if one is open.
    pub unlocked_until: Option<i64>,
}

/// `POST /v1/credentials`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    /// A UUID the client chose (it is bound into the ciphertext).
    pub id: String,
    /// 1 to 64 of `[A-Za-z0-9._-]`, not only dots; unique per user.
    pub name: String,
    /// The policy JSON, serialised by the client; stored and served verbatim.
    pub policy: String,
    /// base64url of the envelope of the secret (docs/vault.md, format v1).
    pub ciphertext: String,
}

/// `PUT /v1/credentials/{name}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatedCredential {
    /// The previous version + 1 (bound into the ciphertext).
    pub version: i64,
    pub policy: String,
    pub ciphertext: String,
}

/// A credential as the API shows it: its ciphertext, never its secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CredentialView {
    pub id: String,
    pub name: String,
    /// `bearer`, `header` or `basic`.
    pub kind: String,
    /// The policy JSON exactly as stored (clients hash these bytes).
    pub policy: String,
    pub version: i64,
    pub ciphertext: String,
    /// Uses brokered by the server (server-trust mode).
    pub uses: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<CredentialRow> for CredentialView {
    fn from(row: CredentialRow) -> Self {
        CredentialView {
            id: row.id,
            name: row.name,
            kind: row.kind,
            policy: row.policy,
            version: row.version,
            ciphertext: row.ciphertext,
            uses: row.uses,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The vault service.
pub struct Vault {
    db: Db,
    clock: Clock,
    audit: Arc<Audit>,
    sessions: Sessions<UserId>,
    settings: VaultSettings,
}

/// What the vault service is configured with.
pub struct VaultSettings {
    pub session_ttl: Duration,
    pub escrow_ttl: Duration,
    pub destinations: Destinations,
    pub max_credentials: u64,
    pub trust: Trust,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

impl Vault {
    /// The service.
    pub fn new(db: Db, clock: Clock, audit: Arc<Audit>, settings: VaultSettings) -> Vault {
        Vault {
            db,
            clock,
            audit,
            sessions: Sessions::new(settings.session_ttl),
            settings,
        }
    }

    /// Who brokers on this server.
    pub fn trust(&self) -> Trust {
        self.settings.trust
    }

    /// The longest escrow (`AILERON_ESCROW_TTL`).
    pub fn escrow_ttl(&self) -> Duration {
        self.settings.escrow_ttl
    }

    async fn row(&self, user: &UserId) -> Result<VaultRow, Error> {
        rows::get(&self.db.pool, user)
            .await?
            .ok_or(Error::VaultNotSet)
    }

    /// What a client needs to open the vault.
    pub async fn info(&self, user: &UserId) -> Result<VaultInfo, Error> {
        let row = self.row(user).await?;
        let kdf: Kdf = serde_json::from_str(&row.kdf)
            .map_err(|e| Error::Internal(format!("stored kdf: {e}")))?;
        Ok(VaultInfo {
            format: row.format,
            kdf,
            wrapped_key: row.wrapped_key,
            trust: self.settings.trust,
            escrow_ttl_secs: secs(self.settings.escrow_ttl),
            session_ttl_secs: secs(self.settings.session_ttl),
            unlocked_until: self.session_until(user),
        })
    }

    /// Registers a new vault.
    pub async fn create(&self, user: &UserId, new: NewVault) -> Result<(), Error> {
        if new.format != format::FORMAT {
            return Err(Error::InvalidRequest("format: only 1 is known".into()));
        }
        let kdf = new.kdf.checked()?;
        input::wrapped_key(&new.wrapped_key)?;
        let now = self.clock.now();
        let row = VaultRow {
            format: i64::from(format::FORMAT),
            kdf: serde_json::to_string(&kdf).map_err(|e| Error::Internal(e.to_string()))?,
            wrapped_key: new.wrapped_key,
            verifier_hash: input::verifier_hash(&new.verifier)?,
            created_at: now,
            updated_at: now,
        };
        if !rows::create(&self.db.pool, user, &row).await? {
            return Err(Error::AlreadyExists("a vault".into()));
        }
        self.audit
            .record(user, &Actor::User, "vault.create", json!({}))
            .await
    }

    /// Replaces the wrapping (a passphrase change), with proof of the vault key.
    pub async fn rewrap(&self, user: &UserId, change: Rewrap) -> Result<(), Error> {
        let kdf = change.kdf.checked()?;
        input::wrapped_key(&change.wrapped_key)?;
        let proof = input::verifier_hash(&change.verifier)?;
        let kdf = serde_json::to_string(&kdf).map_err(|e| Error::Internal(e.to_string()))?;
        let done = rows::rewrap(
            &self.db.pool,
            user,
            &proof,
            &kdf,
            &change.wrapped_key,
            self.clock.now(),
        )
        .await?;
        if !done {
            self.row(user).await?;
            return Err(Error::InvalidVerifier);
        }
        self.audit
            .record(user, &Actor::User, "vault.passphrase", json!({}))
            .await
    }

    /// Deletes the vault and every credential, with proof of the vault key. Returns the
    /// deleted credentials' names (their escrows are the caller's to revoke).
    pub async fn delete(&self, user: &UserId, verifier: &str) -> Result<Vec<String>, Error> {
        let proof = input::verifier_hash(verifier)?;
        let names: Vec<String> = rows::credentials(&self.db.pool, user)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        let mut tx = self.db.pool.begin().await?;
        if !rows::delete(&mut tx, user, &proof).await? {
            drop(tx);
            self.row(user).await?;
            return Err(Error::InvalidVerifier);
        }
        tx.commit().await?;
        self.sessions.lock(user);
        self.audit
            .record(
                user,
                &Actor::User,
                "vault.delete",
                json!({"credentials": names.len()}),
            )
            .await?;
        Ok(names)
    }

    /// Checks a proof of the vault key (before anything is changed on its strength).
    pub async fn check_proof(&self, user: &UserId, verifier: &str) -> Result<(), Error> {
        let row = self.row(user).await?;
        let proof = input::verifier_hash(verifier)?;
        let same = subtle::ConstantTimeEq::ct_eq(proof.as_bytes(), row.verifier_hash.as_bytes());
        match bool::from(same) {
            true => Ok(()),
            false => Err(Error::InvalidVerifier),
        }
    }

    /// Server-trust mode: holds the client's credential key for the session. Refused when an
    /// enclave brokers (the server must never hold a key then).
    pub async fn open_session(
        &self,
        user: &UserId,
        verifier: &str,
        credential_key: &secrecy::SecretString,
    ) -> Result<i64, Error> {
        if self.settings.trust == Trust::Enclave {
            return Err(Error::ServerTrustDisabled);
        }
        self.check_proof(user, verifier).await?;
        let key = input::key(
            "credential_key",
            secrecy::ExposeSecret::expose_secret(credential_key),
        )?;
        let expires = self.sessions.unlock(user.clone(), key, Instant::now());
        let until = self.unix(expires);
        self.audit
            .record(
                user,
                &Actor::User,
                "vault.session",
                json!({"expires_at": until}),
            )
            .await?;
        Ok(until)
    }

    /// Ends a server-trust session (the key is dropped, and so zeroized).
    pub fn end_session(&self, user: &UserId) -> bool {
        self.sessions.lock(user)
    }

    /// The session's credential key, or `vault_locked`.
    pub fn session_key(&self, user: &UserId) -> Result<Arc<Key>, Error> {
        self.sessions
            .key(user, Instant::now())
            .ok_or_else(|| Error::VaultLocked(LOCKED.into()))
    }

    fn session_until(&self, user: &UserId) -> Option<i64> {
        self.sessions
            .expires(user, Instant::now())
            .map(|at| self.unix(at))
    }

    /// Drops expired sessions. Run periodically.
    pub fn sweep(&self) -> usize {
        self.sessions.sweep(Instant::now())
    }

    fn unix(&self, at: Instant) -> i64 {
        let left = at.saturating_duration_since(Instant::now()).as_secs();
        self.clock.now() + i64::try_from(left).unwrap_or(0)
    }

    /// Stores a credential the client encrypted.
    pub async fn create_credential(
        &self,
        user: &UserId,
        new: NewCredential,
    ) -> Result<CredentialView, Error> {
        check_name(&new.name)?;
        input::credential_id(&new.id)?;
        let policy = input::policy(&new.policy, self.settings.destinations)?;
        input::ciphertext(&new.ciphertext)?;
        self.row(user).await?;
        let held = rows::count_credentials(&self.db.pool, user).await?;
        if u64::try_from(held).unwrap_or(u64::MAX) >= self.settings.max_credentials {
            return Err(Error::QuotaExceeded(format!(
                "you hold {held} credentials, the most this server allows (AILERON_MAX_CREDENTIALS_PER_USER); delete one first"
            )));
        }
        let now = self.clock.now();
        let row = CredentialRow {
            id: new.id,
            name: new.name,
            kind: policy.kind.as_str().into(),
            policy: new.policy,
            ciphertext: new.ciphertext,
            version: 1,
            uses: 0,
            created_at: now,
            updated_at: now,
        };
        if !rows::insert_credential(&self.db.pool, user, &row).await? {
            return Err(Error::AlreadyExists(format!(
                "a credential named {:?}",
                row.name
            )));
        }
        self.audit
            .record(
                user,
                &Actor::User,
                "credential.create",
                json!({"name": row.name}),
            )
            .await?;
        Ok(row.into())
    }

    /// Replaces a credential's secret or policy (a new version).
    pub async fn update_credential(
        &self,
        user: &UserId,
        name: &str,
        update: UpdatedCredential,
    ) -> Result<CredentialView, Error> {
        let policy = input::policy(&update.policy, self.settings.destinations)?;
        input::ciphertext(&update.ciphertext)?;
        let current = self.credential(user, name).await?;
        if update.version != current.version + 1 {
            return Err(Error::InvalidRequest(format!(
                "version must be {} (the current one plus one)",
                current.version + 1
            )));
        }
        let row = CredentialRow {
            kind: policy.kind.as_str().into(),
            policy: update.policy,
            ciphertext: update.ciphertext,
            version: update.version,
            uses: 0,
            updated_at: self.clock.now(),
            ..current.clone()
        };
        if !rows::update_credential(&self.db.pool, user, &row, current.version).await? {
            return Err(Error::AlreadyExists(
                "a newer version of this credential".into(),
            ));
        }
        self.audit
            .record(
                user,
                &Actor::User,
                "credential.update",
                json!({"name": name, "version": row.version}),
            )
            .await?;
        Ok(row.into())
    }

    /// The user's credentials.
    pub async fn credentials(&self, user: &UserId) -> Result<Vec<CredentialRow>, Error> {
        Ok(rows::credentials(&self.db.pool, user).await?)
    }

    /// One credential, or `not_found` (also for another user's).
    pub async fn credential(&self, user: &UserId, name: &str) -> Result<CredentialRow, Error> {
        rows::credential_by_name(&self.db.pool, user, name)
            .await?
            .ok_or(Error::NotFound)
    }

    /// Deletes a credential (its escrow is the caller's to revoke).
    pub async fn delete_credential(&self, user: &UserId, name: &str) -> Result<(), Error> {
        if !rows::delete_credential(&self.db.pool, user, name).await? {
            return Err(Error::NotFound);
        }
        self.audit
            .record(
                user,
                &Actor::User,
                "credential.delete",
                json!({"name": name}),
            )
            .await
    }

    /// A stored policy, parsed (the server validated it when it was stored).
    pub fn policy(row: &CredentialRow) -> Result<CredentialPolicy, Error> {
        serde_json::from_str(&row.policy)
            .map_err(|e| Error::Internal(format!("stored policy: {e}")))
    }

    /// Server-trust mode: opens a credential's secret with the session's key, checking its
    /// binding as a client would.
    pub fn open_secret(
        &self,
        user: &UserId,
        key: &Key,
        row: &CredentialRow,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let sealed = wire::from_b64u(&row.ciphertext)
            .ok_or_else(|| Error::Internal("stored ciphertext encoding".into()))?;
        let version =
            u32::try_from(row.version).map_err(|_| Error::Internal("credential version".into()))?;
        let binding = Binding {
            user_id: user.as_str(),
            credential_id: &row.id,
            version,
            policy: row.policy.as_bytes(),
        };
        // A key that does not open it was not this vault's: say so rather than 500.
        format::open_credential(key, &sealed, &binding, &row.name).map_err(|_| {
            Error::VaultLocked(
                "the key of the open session does not open this credential: unlock the vault again"
                    .into(),
            )
        })
    }

    /// The number of credentials (for status).
    pub async fn count(&self, user: &UserId) -> Result<i64, Error> {
        Ok(rows::count_credentials(&self.db.pool, user).await?)
    }
}

/// What a request on a credential nobody unlocked says.
pub const LOCKED: &str =
    "this credential is not unlocked: its owner must unlock the vault (aileron vault unlock)";

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
