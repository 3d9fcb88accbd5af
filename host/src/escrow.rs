//! Credentials at work: escrows in the enclave (sealed by clients, relayed here with an admission
//! ticket, indexed with their handle sealed under the host key), brokered requests through them,
//! and, in server-trust mode, brokered requests in this process with the session's key. The
//! service writes its own audit events.

use std::sync::Arc;

use aileron_broker::Credential;
use aileron_broker::scope::ValidScope;
use aileron_sdk::Escrow;
use aileron_sdk::vault::CredentialPolicy;
use aileron_sdk::wire::{self, BrokeredRequest, BrokeredResponse, ErrorCode, EscrowRequest, Scope};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::admission::HostAdmission;
use crate::agents::Agent;
use crate::audit::{Actor, Audit};
use crate::clock::Clock;
use crate::config::Quotas;
use crate::db::Db;
use crate::db::escrows::{self, EscrowRow, Kind};
use crate::db::vault::CredentialRow;
use crate::error::Error;
use crate::ids::UserId;
use crate::keys::HostKey;
use crate::tee::{Enclave, Tee};
use crate::vault::{Vault, service::check_name};

/// What errors say when the enclave lost a vault credential's escrow.
pub const LOST_VAULT: &str = "this credential's escrow is lost (the enclave restarted, or the server's keys changed): unlock the vault again (aileron vault unlock)";
/// The same for an escrow sealed through the SDK.
pub const LOST_SEALED: &str = "this escrow is lost (the enclave restarted, or the server's keys changed): escrow the credential again (aileron escrow put)";

/// Who makes a brokered request: the user, or one of their agent tokens.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: UserId,
    pub agent: Option<Agent>,
}

impl Caller {
    /// For the audit log.
    pub fn actor(&self) -> Actor {
        match &self.agent {
            Some(agent) => Actor::Agent(agent.id.clone()),
            None => Actor::User,
        }
    }

    /// An agent restricted to other names does not see this one (404, like another user's).
    pub(crate) fn may_use(&self, name: &str) -> Result<(), Error> {
        match self.agent.as_ref().and_then(|a| a.credentials.as_ref()) {
            Some(names) if !names.iter().any(|n| n == name) => Err(Error::NotFound),
            _ => Ok(()),
        }
    }
}

/// An escrow as `GET /v1/escrows` and a credential's `escrow` show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EscrowView {
    pub name: String,
    pub escrow_id: String,
    pub boot_id: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// `active`, `expired`, `lost` (the enclave restarted, or left the configuration) or
    /// `unavailable` (the enclave holding it does not answer now: unlock again to move it).
    pub status: &'static str,
}

/// One allow rule, as the API shows it (the shape of `aileron_sdk::wire::AllowRule`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AllowRuleDoc {
    /// HTTP methods, upper case.
    methods: Vec<String>,
    /// `https://host[:port]/path/`: a request's URL must start with it, on a segment boundary.
    url_prefix: String,
}

/// A credential or escrow a caller may make requests with (`GET /v1/agent/credentials`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Usable {
    pub name: String,
    /// `credential` (a vault credential: `POST /v1/credentials/{name}/requests`) or `escrow`
    /// (sealed without the vault: `POST /v1/escrows/{name}/requests`).
    pub source: &'static str,
    /// `bearer`, `header` or `basic`; unknown for a sealed escrow.
    pub kind: Option<String>,
    /// The requests it allows. A sealed escrow's scope was sealed by its owner and the server
    /// keeps no copy: null.
    #[schema(value_type = Option<Vec<AllowRuleDoc>>)]
    pub allow: Option<Vec<wire::AllowRule>>,
    /// Uses per escrow, when limited.
    pub max_uses: Option<u64>,
    /// Unix seconds, when escrowed.
    pub expires_at: Option<i64>,
    /// `active`; `not_escrowed` (the owner must unlock the vault), `lost` (the enclave
    /// restarted: the owner must unlock again), `unavailable` (the enclave holding the escrow
    /// does not answer now: the owner's next unlock moves it), `expired`; or `server`
    /// (server-trust mode: usable while the owner's vault session is open).
    pub status: &'static str,
}

fn escrow_view(row: &EscrowRow, now: i64) -> EscrowView {
    EscrowView {
        name: row.name.clone(),
        escrow_id: row.escrow_id.clone(),
        boot_id: row.boot_id.clone(),
        expires_at: row.expires_at,
        status: if row.lost_at.is_some() {
            "lost"
        } else if row.expires_at <= now {
            "expired"
        } else {
            "active"
        },
    }
}

fn lost_message(kind: Kind) -> &'static str {
    match kind {
        Kind::Sealed => LOST_SEALED,
        Kind::Credential => LOST_VAULT,
    }
}

fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Sealed => "sealed",
        Kind::Credential => "credential",
    }
}

/// The escrow service.
pub struct Escrows {
    pub(crate) db: Db,
    pub(crate) clock: Clock,
    pub(crate) tee: Arc<Tee>,
    pub(crate) vault: Arc<Vault>,
    pub(crate) admission: Arc<HostAdmission>,
    pub(crate) host_key: HostKey,
    pub(crate) audit: Arc<Audit>,
    pub(crate) quotas: Quotas,
}

impl Escrows {
    /// Maps an SDK failure of `enclave`: a restart marks that enclave's escrows of older boots
    /// lost; an enclave that cannot be reached takes no new escrows until it answers again.
    async fn enclave_error(&self, enclave: &Enclave, e: aileron_sdk::Error, lost: &str) -> Error {
        use aileron_sdk::Error as E;
        match e {
            E::EnclaveRestarted { new, .. } => {
                if let Err(e) = self.lost_before(enclave, &new).await {
                    tracing::warn!(error = %e, "could not mark lost escrows");
                }
                Error::EscrowLost(lost.into())
            }
            E::Api { code, message, .. } => Error::Refused { code, message },
            E::Invalid(m) => Error::InvalidRequest(m),
            other => {
                enclave.set_health(Err(&other.to_string()));
                Error::EnclaveUnavailable(format!(
                    "enclave {}: {other}; if it does not come back, unlock the vault again (or escrow the credential again) to move this escrow to another enclave",
                    enclave.id
                ))
            }
        }
    }

    /// Calls the user's enclave: the first of their placement that can be reached. An enclave
    /// that cannot be reached is marked unhealthy and passed over for the next; any other answer
    /// (success or refusal) is the user's enclave's and is returned with it. Only the upkeep's
    /// check marks an enclave healthy again (it also verifies the attestation).
    async fn at_users_enclave<'a, T, Fut>(
        &'a self,
        user: &UserId,
        lost: &str,
        call: impl Fn(&'a Enclave) -> Fut,
    ) -> Result<(T, &'a Enclave), Error>
    where
        Fut: Future<Output = Result<T, aileron_sdk::Error>>,
    {
        if !self.tee.enabled() {
            return Err(Error::TeeDisabled);
        }
        let mut last = Error::TeeDisabled;
        for enclave in self.tee.placement(user) {
            match call(enclave).await {
                Ok(value) => return Ok((value, enclave)),
                Err(aileron_sdk::Error::Transport(m)) => {
                    enclave.set_health(Err(&m));
                    last = Error::EnclaveUnavailable(format!("enclave {}: {m}", enclave.id));
                }
                Err(e) => return Err(self.enclave_error(enclave, e, lost).await),
            }
        }
        Err(last)
    }

    /// Relays a sealed credential to the user's enclave with the user's admission ticket. The
    /// ciphertext opens only in the enclave the client attested, so passing over one that cannot
    /// be reached hands it to no other enclave that could use it.
    async fn relay(
        &self,
        user: &UserId,
        body: &EscrowRequest,
        lost: &str,
    ) -> Result<(Escrow, &Enclave), Error> {
        let ticket = self.admission.for_user(user)?;
        self.at_users_enclave(user, lost, |enclave| {
            enclave.client().escrow_sealed(body, ticket.expose_secret())
        })
        .await
    }

    /// Relays the attestation of the user's enclave for the caller's nonce, unchanged (the
    /// caller verifies it and seals to that enclave).
    pub async fn relay_attestation(
        &self,
        user: &UserId,
        nonce: &str,
    ) -> Result<aileron_sdk::wire::AttestationResponse, Error> {
        self.at_users_enclave(user, LOST_VAULT, |enclave| {
            enclave.client().relay_attestation(nonce)
        })
        .await
        .map(|(doc, _)| doc)
    }

    /// An index row as the API shows it: an escrow whose enclave left the configuration is
    /// `lost`, one whose enclave does not answer now is `unavailable`.
    fn view(&self, row: &EscrowRow, now: i64) -> EscrowView {
        let mut view = escrow_view(row, now);
        if view.status == "active" && self.tee.enabled() {
            match self.tee.holding(&row.enclave) {
                None => view.status = "lost",
                Some(enclave) if !enclave.healthy() => view.status = "unavailable",
                Some(_) => {}
            }
        }
        view
    }

    /// The enclave holding an index row's escrow; one no longer configured lost it.
    fn holder(&self, row: &EscrowRow, kind: Kind) -> Result<&Enclave, Error> {
        if !self.tee.enabled() {
            return Err(Error::TeeDisabled);
        }
        self.tee
            .holding(&row.enclave)
            .ok_or_else(|| Error::EscrowLost(lost_message(kind).into()))
    }

    /// Stores an escrow in the index with its handle sealed under the host key, and audits it.
    async fn index(
        &self,
        user: &UserId,
        kind: Kind,
        name: &str,
        credential_id: Option<String>,
        escrow: &Escrow,
        enclave: &Enclave,
    ) -> Result<EscrowRow, Error> {
        let context = handle_context(user, kind_label(kind), name, &escrow.escrow_id);
        let sealed = self
            .host_key
            .seal(escrow.handle.expose_secret().as_bytes(), &context)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let row = EscrowRow {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.into(),
            credential_id,
            escrow_id: escrow.escrow_id.clone(),
            handle: wire::b64u(&sealed),
            boot_id: escrow.boot_id.clone(),
            enclave: enclave.url.clone(),
            expires_at: escrow.expires_at.unix_timestamp(),
            lost_at: None,
            created_at: self.clock.now(),
        };
        escrows::upsert(&self.db.pool, user, kind, &row).await?;
        self.audit
            .record(
                user,
                &Actor::User,
                "escrow.create",
                json!({kind_label(kind): name, "escrow_id": row.escrow_id, "expires_at": row.expires_at}),
            )
            .await?;
        Ok(row)
    }

    /// The SDK escrow behind an index row (the handle opened with the host key).
    fn escrow_of(&self, user: &UserId, kind: Kind, row: &EscrowRow) -> Result<Escrow, Error> {
        let sealed =
            wire::from_b64u(&row.handle).ok_or(Error::Internal("handle encoding".into()))?;
        let context = handle_context(user, kind_label(kind), &row.name, &row.escrow_id);
        // A handle that no longer opens (the signing key, hence the host key, changed) is as good
        // as lost: say how to recover, not 500.
        let handle = self
            .host_key
            .open(&sealed, &context)
            .map_err(|_| Error::EscrowLost(lost_message(kind).into()))?;
        let handle = std::str::from_utf8(&handle).map_err(|_| Error::Internal("handle".into()))?;
        Ok(Escrow {
            escrow_id: row.escrow_id.clone(),
            handle: SecretString::from(handle.to_owned()),
            boot_id: row.boot_id.clone(),
            expires_at: OffsetDateTime::from_unix_timestamp(row.expires_at)
                .map_err(|e| Error::Internal(e.to_string()))?,
        })
    }

    /// Best effort: a lost or expired escrow is already gone from the enclave.
    async fn revoke_at_enclave(&self, user: &UserId, kind: Kind, row: &EscrowRow) {
        if row.lost_at.is_some() || !self.tee.enabled() {
            return;
        }
        let Some(enclave) = self.tee.holding(&row.enclave) else {
            return;
        };
        let result = match self.escrow_of(user, kind, row) {
            Ok(escrow) => enclave
                .client()
                .revoke(&escrow)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = result {
            tracing::info!(escrow_id = %row.escrow_id, error = %e, "escrow not revoked at the enclave");
        }
    }

    /// Escrows a vault credential the client sealed to the attested enclave. The scope must be
    /// the credential's policy with an expiry within `AILERON_ESCROW_TTL`; the escrow it replaces
    /// is revoked, so the enclave holds each secret once.
    pub async fn escrow_credential(
        &self,
        user: &UserId,
        name: &str,
        body: &EscrowRequest,
    ) -> Result<EscrowView, Error> {
        let row = self.vault.credential(user, name).await?;
        self.check_scope(&row, body)?;
        let (escrow, enclave) = self.relay(user, body, LOST_VAULT).await?;
        let previous = escrows::get(&self.db.pool, user, Kind::Credential, name).await?;
        let indexed = self
            .index(
                user,
                Kind::Credential,
                name,
                Some(row.id.clone()),
                &escrow,
                enclave,
            )
            .await?;
        if let Some(previous) = previous.filter(|p| p.escrow_id != indexed.escrow_id) {
            self.revoke_at_enclave(user, Kind::Credential, &previous)
                .await;
        }
        Ok(self.view(&indexed, self.clock.now()))
    }

    /// The sealed scope must be exactly the credential's policy (agents rely on it) with a
    /// future expiry within the server's limit.
    fn check_scope(&self, row: &CredentialRow, body: &EscrowRequest) -> Result<(), Error> {
        let invalid = |m: &str| Error::Refused {
            code: ErrorCode::InvalidScope,
            message: m.to_owned(),
        };
        let bytes = wire::from_b64u(&body.scope).ok_or_else(|| invalid("scope: not base64url"))?;
        let scope: Scope = serde_json::from_slice(&bytes).map_err(|e| invalid(&e.to_string()))?;
        let policy: CredentialPolicy = Vault::policy(row)?;
        let expected = policy.scope(scope.expires_at);
        if scope != expected {
            return Err(invalid(
                "the sealed scope is not this credential's policy (rules, injection or use limit differ)",
            ));
        }
        let now = self.clock.now();
        let ttl = i64::try_from(self.vault.escrow_ttl().as_secs()).unwrap_or(i64::MAX / 4);
        let expires = scope.expires_at.unix_timestamp();
        if expires <= now || expires > now + ttl + 60 {
            return Err(invalid(
                "expires_at must be in the future, within AILERON_ESCROW_TTL",
            ));
        }
        Ok(())
    }

    /// Revokes every credential escrow of the user (locking the vault) and ends a server-trust
    /// session. Returns how many escrows were revoked.
    pub async fn lock(&self, user: &UserId) -> Result<usize, Error> {
        let rows = escrows::list(&self.db.pool, user, Kind::Credential).await?;
        for row in &rows {
            if let Some(removed) =
                escrows::remove(&self.db.pool, user, Kind::Credential, &row.name).await?
            {
                self.revoke_at_enclave(user, Kind::Credential, &removed)
                    .await;
            }
        }
        let session = self.vault.end_session(user);
        self.audit
            .record(
                user,
                &Actor::User,
                "vault.lock",
                json!({"escrows": rows.len(), "session": session}),
            )
            .await?;
        Ok(rows.len())
    }

    /// Revokes a credential's escrow (the credential was deleted or changed).
    pub async fn forget_credential(&self, user: &UserId, name: &str) -> Result<(), Error> {
        if let Some(row) = escrows::remove(&self.db.pool, user, Kind::Credential, name).await? {
            self.revoke_at_enclave(user, Kind::Credential, &row).await;
        }
        Ok(())
    }

    /// The user's escrow of `kind` named `name`, if any.
    pub async fn find(
        &self,
        user: &UserId,
        kind: Kind,
        name: &str,
    ) -> Result<Option<EscrowView>, Error> {
        let row = escrows::get(&self.db.pool, user, kind, name).await?;
        Ok(row.map(|r| self.view(&r, self.clock.now())))
    }

    /// Every escrow of `kind` the user holds.
    pub async fn list(&self, user: &UserId, kind: Kind) -> Result<Vec<EscrowView>, Error> {
        let now = self.clock.now();
        Ok(escrows::list(&self.db.pool, user, kind)
            .await?
            .iter()
            .map(|r| self.view(r, now))
            .collect())
    }

    /// What `caller` may make requests with: the user's vault credentials and sealed escrows,
    /// narrowed to an agent token's names, with each one's rules and whether it works now.
    pub async fn usable(&self, caller: &Caller) -> Result<Vec<Usable>, Error> {
        let user = &caller.user_id;
        let now = self.clock.now();
        let server_trust = self.vault.trust() == crate::vault::Trust::Server;
        let escrowed = escrows::list(&self.db.pool, user, Kind::Credential).await?;
        let mut out = Vec::new();
        for row in self.vault.credentials(user).await? {
            // Stored policies were checked when stored; one that no longer parses is shown
            // without rules rather than hiding the credential.
            let policy: Option<CredentialPolicy> = serde_json::from_str(&row.policy).ok();
            let escrow = escrowed.iter().find(|e| e.name == row.name);
            let status = match escrow {
                Some(e) => self.view(e, now).status,
                None if server_trust => "server",
                None => "not_escrowed",
            };
            out.push(Usable {
                source: "credential",
                kind: Some(row.kind.clone()),
                allow: policy.as_ref().map(|p| p.allow.clone()),
                max_uses: policy.and_then(|p| p.max_uses),
                expires_at: escrow.map(|e| e.expires_at),
                status,
                name: row.name,
            });
        }
        for row in escrows::list(&self.db.pool, user, Kind::Sealed).await? {
            let view = self.view(&row, now);
            out.push(Usable {
                source: "escrow",
                kind: None,
                allow: None,
                max_uses: None,
                expires_at: Some(row.expires_at),
                status: view.status,
                name: row.name,
            });
        }
        out.retain(|u| caller.may_use(&u.name).is_ok());
        Ok(out)
    }

    /// A brokered request with a vault credential. `prefetched` is the credential and its
    /// escrow's index row when the caller's extractor already read them (an agent token's path).
    pub async fn credential_request(
        &self,
        caller: &Caller,
        name: &str,
        request: &BrokeredRequest,
        prefetched: Option<escrows::CredentialEscrow>,
    ) -> Result<BrokeredResponse, Error> {
        caller.may_use(name)?;
        let user = &caller.user_id;
        let result = match self.tee.enabled() {
            true => {
                // An unknown name is refused before anything is audited, as in server trust.
                let rows = match prefetched {
                    Some(rows) => rows,
                    None => escrows::for_credential(&self.db.pool, user, name).await?,
                };
                let (credential_id, indexed) = rows.ok_or(Error::NotFound)?;
                self.via_enclave(user, &credential_id, indexed, request)
                    .await
            }
            false => {
                let row = self.vault.credential(user, name).await?;
                self.in_server(user, &row, request).await
            }
        };
        self.audit_request(caller, "credential", name, request, &result)
            .await?;
        result
    }

    /// Through the enclave that holds the credential's escrow (the credential's id and its
    /// escrow's index row came in one query).
    async fn via_enclave(
        &self,
        user: &UserId,
        credential_id: &str,
        indexed: Option<EscrowRow>,
        request: &BrokeredRequest,
    ) -> Result<BrokeredResponse, Error> {
        let indexed = match indexed {
            Some(e) if e.lost_at.is_some() => return Err(Error::EscrowLost(LOST_VAULT.into())),
            Some(e)
                if e.expires_at > self.clock.now()
                    && e.credential_id.as_deref() == Some(credential_id) =>
            {
                e
            }
            _ => return Err(Error::VaultLocked(crate::vault::service::LOCKED.into())),
        };
        let enclave = self.holder(&indexed, Kind::Credential)?;
        let escrow = self.escrow_of(user, Kind::Credential, &indexed)?;
        match enclave.client().request(&escrow, request).await {
            Ok(response) => Ok(response),
            Err(e) => Err(self.enclave_error(enclave, e, LOST_VAULT).await),
        }
    }

    /// Server-trust mode: the same broker, in this process, with the session's key.
    async fn in_server(
        &self,
        user: &UserId,
        row: &CredentialRow,
        request: &BrokeredRequest,
    ) -> Result<BrokeredResponse, Error> {
        let key = self.vault.session_key(user)?;
        let policy = Vault::policy(row)?;
        let now = OffsetDateTime::from_unix_timestamp(self.clock.now())
            .map_err(|e| Error::Internal(e.to_string()))?;
        // A stored policy that no longer passes (a destination the server now refuses) is
        // refused for this request, with the reason.
        let valid = ValidScope::parse(
            &policy.scope(now + time::Duration::hours(1)),
            now,
            time::Duration::hours(2),
            self.tee.broker().destinations(),
        )
        .map_err(|e| Error::Refused {
            code: ErrorCode::ScopeViolation,
            message: e.to_string(),
        })?;
        let secret = self.vault.open_secret(user, &key, row)?;
        let credential = Credential::new(valid, &secret)?;
        let allowed = credential.allow(request)?;
        let max = policy
            .max_uses
            .map(|m| i64::try_from(m).unwrap_or(i64::MAX));
        if crate::db::vault::count_use(&self.db.pool, &row.id, max)
            .await?
            .is_none()
        {
            return Err(Error::Refused {
                code: ErrorCode::EscrowUsedUp,
                message: "the credential's use limit is reached".into(),
            });
        }
        match self.tee.broker().forward(allowed).await {
            Ok(response) => Ok(response),
            Err(e) => {
                if e.never_sent() {
                    crate::db::vault::give_back_use(&self.db.pool, &row.id).await?;
                }
                Err(e.into())
            }
        }
    }

    /// Registers an escrow the SDK sealed end to end.
    pub async fn register_sealed(
        &self,
        user: &UserId,
        name: &str,
        body: &EscrowRequest,
    ) -> Result<EscrowView, Error> {
        check_name(name)?;
        if !self.tee.enabled() {
            return Err(Error::TeeDisabled);
        }
        let replacing = escrows::get(&self.db.pool, user, Kind::Sealed, name).await?;
        if replacing.is_none() {
            let held = escrows::list(&self.db.pool, user, Kind::Sealed)
                .await?
                .len();
            if held as u64 >= self.quotas.escrows {
                return Err(Error::QuotaExceeded(format!(
                    "you hold {held} escrows, the most this server allows (AILERON_MAX_ESCROWS_PER_USER); remove one first"
                )));
            }
        }
        let (escrow, enclave) = self.relay(user, body, LOST_SEALED).await?;
        // Replacing a name revokes the escrow it pointed to.
        if let Some(old) = replacing {
            self.revoke_at_enclave(user, Kind::Sealed, &old).await;
        }
        let row = self
            .index(user, Kind::Sealed, name, None, &escrow, enclave)
            .await?;
        Ok(self.view(&row, self.clock.now()))
    }

    /// Revokes a sealed escrow at the enclave and forgets it.
    pub async fn remove_sealed(&self, user: &UserId, name: &str) -> Result<(), Error> {
        let row = escrows::remove(&self.db.pool, user, Kind::Sealed, name)
            .await?
            .ok_or(Error::NotFound)?;
        self.revoke_at_enclave(user, Kind::Sealed, &row).await;
        self.audit
            .record(
                user,
                &Actor::User,
                "escrow.revoke",
                json!({"name": name, "escrow_id": row.escrow_id}),
            )
            .await
    }

    /// A brokered request with a sealed escrow.
    pub async fn sealed_request(
        &self,
        caller: &Caller,
        name: &str,
        request: &BrokeredRequest,
    ) -> Result<BrokeredResponse, Error> {
        caller.may_use(name)?;
        let user = &caller.user_id;
        if !self.tee.enabled() {
            return Err(Error::TeeDisabled);
        }
        let row = escrows::get(&self.db.pool, user, Kind::Sealed, name)
            .await?
            .ok_or(Error::NotFound)?;
        let result = if row.lost_at.is_some() {
            Err(Error::EscrowLost(LOST_SEALED.into()))
        } else {
            match self.holder(&row, Kind::Sealed) {
                Err(e) => Err(e),
                Ok(enclave) => {
                    let escrow = self.escrow_of(user, Kind::Sealed, &row)?;
                    match enclave.client().request(&escrow, request).await {
                        Ok(response) => Ok(response),
                        Err(e) => Err(self.enclave_error(enclave, e, LOST_SEALED).await),
                    }
                }
            }
        };
        self.audit_request(caller, "escrow", name, request, &result)
            .await?;
        result
    }

    /// Records a brokered request: method, host, path, status and size; never headers or bodies.
    async fn audit_request(
        &self,
        caller: &Caller,
        via: &str,
        name: &str,
        request: &BrokeredRequest,
        result: &Result<BrokeredResponse, Error>,
    ) -> Result<(), Error> {
        let url = url::Url::parse(&request.url).ok();
        let (status, size, error) = match result {
            Ok(r) => (
                Some(r.status),
                wire::from_b64u(&r.body).map(|b| b.len()),
                None,
            ),
            Err(e) => (None, None, Some(e.code().as_str())),
        };
        self.audit
            .record(
                &caller.user_id,
                &caller.actor(),
                "request",
                json!({
                    via: name,
                    "method": request.method,
                    "host": url.as_ref().and_then(|u| u.host_str().map(str::to_owned)),
                    "path": url.as_ref().map(|u| u.path().to_owned()),
                    "status": status,
                    "size": size,
                    "error": error,
                }),
            )
            .await
    }

    /// Checks every enclave's boot and health: a new boot marks that enclave's escrows of older
    /// boots lost. Returns the number of rows marked.
    pub async fn check_boot(&self) -> Result<u64, Error> {
        let mut marked = 0;
        for enclave in self.tee.enclaves() {
            match enclave.check().await {
                Ok(attested) => marked += self.lost_before(enclave, &attested.boot_id).await?,
                Err(e) => {
                    tracing::debug!(enclave = %enclave.id, error = %e, "enclave check failed")
                }
            }
        }
        Ok(marked)
    }

    /// Marks the escrows `enclave` holds from every boot but `boot` lost. Returns the number of
    /// rows marked.
    pub async fn lost_before(&self, enclave: &Enclave, boot: &str) -> Result<u64, Error> {
        let marked =
            escrows::mark_lost(&self.db.pool, &enclave.url, boot, self.clock.now()).await?;
        if marked > 0 {
            tracing::warn!(enclave = %enclave.id, boot_id = %boot, escrows = marked, "the enclave restarted: its escrows of older boots are lost");
        }
        Ok(marked)
    }

    /// Gives the rows written before the fleet (no enclave recorded) to the first enclave, the
    /// one configured then, and marks lost the rows of enclaves no longer configured.
    pub async fn reconcile_enclaves(&self) -> Result<(), crate::db::DbError> {
        let urls: Vec<&str> = self.tee.enclaves().iter().map(|e| e.url.as_str()).collect();
        let (adopted, lost) = escrows::reconcile(&self.db.pool, &urls, self.clock.now()).await?;
        if adopted > 0 {
            tracing::info!(
                escrows = adopted,
                "escrows indexed before the enclave fleet are held by the first enclave"
            );
        }
        if lost > 0 {
            tracing::warn!(
                escrows = lost,
                "escrows held by enclaves no longer configured are lost: their owners unlock again"
            );
        }
        Ok(())
    }

    /// The user's escrows: `(live, lost)`.
    pub async fn counts(&self, user: &UserId) -> Result<(i64, i64), Error> {
        Ok(escrows::counts(&self.db.pool, user, self.clock.now()).await?)
    }
}

/// Context binding a sealed handle to its index row.
fn handle_context<'a>(
    user: &'a UserId,
    kind: &'a str,
    name: &'a str,
    escrow_id: &'a str,
) -> [&'a [u8]; 4] {
    [
        user.as_str().as_bytes(),
        kind.as_bytes(),
        name.as_bytes(),
        escrow_id.as_bytes(),
    ]
}
