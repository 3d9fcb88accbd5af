//! Credentials at work: auto-escrow into the enclave, the escrow index, escrows the SDK sealed
//! end to end, and brokered requests — through the enclave when there is one, in the host with
//! the enclave's own broker when there is none.

use aileron_broker::scope::ValidScope;
use aileron_sdk::wire::{self, BrokeredRequest, BrokeredResponse, EscrowRequest, Scope};
use aileron_sdk::{Client, Escrow};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::agents::Agent;
use crate::audit::Actor;
use crate::db::escrows::{self, EscrowRow, Kind};
use crate::db::vault::CredentialRow;
use crate::error::Error;
use crate::http::AppState;
use crate::ids::UserId;
use crate::vault::envelope::DataKey;
use crate::vault::service::{check_name, stored_scope};

/// What errors and status say when the enclave lost a vault credential's escrow.
pub const LOST_VAULT: &str = "this credential's escrow is lost (the enclave restarted, or the server's keys changed): verify your passphrase again (POST /v1/users/me/passphrase/verify)";
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
    fn may_use(&self, name: &str) -> Result<(), Error> {
        match self.agent.as_ref().and_then(|a| a.credentials.as_ref()) {
            Some(names) if !names.iter().any(|n| n == name) => Err(Error::NotFound),
            _ => Ok(()),
        }
    }
}

/// An escrow as `GET /v1/escrows` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EscrowView {
    pub name: String,
    pub escrow_id: String,
    pub boot_id: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// `active`, `expired` or `lost` (the enclave restarted).
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

fn client(state: &AppState) -> Result<&Client, Error> {
    state.tee.client().map(|c| &**c).ok_or(Error::TeeDisabled)
}

/// Maps an SDK failure; a restart marks the whole index of older boots lost.
async fn enclave_error(state: &AppState, e: aileron_sdk::Error, lost: &str) -> Error {
    use aileron_sdk::Error as E;
    match e {
        E::EnclaveRestarted { new, .. } => {
            if let Err(e) = escrows::mark_lost(&state.db.pool, &new, state.auth.clock.now()).await {
                tracing::warn!(error = %e, "could not mark lost escrows");
            }
            Error::EscrowLost(lost.into())
        }
        E::Api { code, message, .. } => Error::Refused { code, message },
        E::Invalid(m) => Error::InvalidRequest(m),
        other => Error::EnclaveUnavailable(other.to_string()),
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

/// Stores an escrow in the index with its handle sealed under the host key.
async fn index(
    state: &AppState,
    user: &UserId,
    kind: Kind,
    name: &str,
    credential_id: Option<String>,
    escrow: &Escrow,
) -> Result<EscrowRow, Error> {
    let context = handle_context(user, kind_label(kind), name, &escrow.escrow_id);
    let sealed = state
        .vault
        .host_key
        .seal(escrow.handle.expose_secret().as_bytes(), &context)?;
    let row = EscrowRow {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.into(),
        credential_id,
        escrow_id: escrow.escrow_id.clone(),
        handle: wire::b64u(&sealed),
        boot_id: escrow.boot_id.clone(),
        expires_at: escrow.expires_at.unix_timestamp(),
        lost_at: None,
        created_at: state.auth.clock.now(),
    };
    escrows::upsert(&state.db.pool, user, kind, &row).await?;
    Ok(row)
}

/// The SDK escrow behind an index row (the handle opened with the host key).
fn escrow_of(
    state: &AppState,
    user: &UserId,
    kind: Kind,
    row: &EscrowRow,
) -> Result<Escrow, Error> {
    let sealed = wire::from_b64u(&row.handle).ok_or(Error::Internal("handle encoding".into()))?;
    let context = handle_context(user, kind_label(kind), &row.name, &row.escrow_id);
    // A handle that no longer opens (the signing key, hence the host key, changed) is as good
    // as lost: say how to recover, not 500.
    let handle = state
        .vault
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

/// Escrows one vault credential into the enclave (expiry now + `AILERON_ESCROW_TTL`).
async fn escrow_credential(
    state: &AppState,
    client: &Client,
    user: &UserId,
    key: &DataKey,
    row: &CredentialRow,
) -> Result<EscrowRow, Error> {
    let secret = state.vault.open_secret(user, key, row)?;
    let scope = state
        .vault
        .escrow_scope(&stored_scope(row)?, state.auth.clock.now())?;
    let ticket = state.admission.for_user(user)?;
    let escrow = match client.escrow(&secret, &scope, ticket.expose_secret()).await {
        Ok(escrow) => escrow,
        Err(e) => return Err(enclave_error(state, e, LOST_VAULT).await),
    };
    let previous = escrows::get(&state.db.pool, user, Kind::Credential, &row.name).await?;
    let indexed = index(
        state,
        user,
        Kind::Credential,
        &row.name,
        Some(row.id.clone()),
        &escrow,
    )
    .await?;
    state
        .audit
        .record(
            user,
            &Actor::User,
            "escrow.create",
            json!({"credential": row.name, "escrow_id": indexed.escrow_id, "expires_at": indexed.expires_at}),
        )
        .await?;
    // The escrow it replaces is revoked, so a secret is held once, not once per verification.
    if let Some(previous) = previous.filter(|p| p.escrow_id != indexed.escrow_id) {
        revoke_at_enclave(state, client, user, Kind::Credential, &previous).await;
    }
    Ok(indexed)
}

/// After a passphrase verification: escrows every credential of the user. Returns how many
/// were escrowed (0 without an enclave) and the first failure, if any.
pub async fn auto_escrow(
    state: &AppState,
    user: &UserId,
    key: &DataKey,
) -> Result<(usize, Option<String>), Error> {
    let Some(client) = state.tee.client() else {
        return Ok((0, None));
    };
    let credentials = crate::db::vault::credentials(&state.db.pool, user).await?;
    let mut done = 0;
    let mut failure = None;
    for row in &credentials {
        match escrow_credential(state, client, user, key, row).await {
            Ok(_) => done += 1,
            Err(e) => {
                tracing::warn!(credential = %row.name, error = %e, "auto-escrow failed");
                failure.get_or_insert(e.to_string());
            }
        }
    }
    Ok((done, failure))
}

/// Escrows a credential just created (with an enclave and an unlocked vault), so that agents
/// can use it before the next passphrase verification.
pub async fn escrow_new(state: &AppState, user: &UserId, name: &str) -> Result<(), Error> {
    let Some(client) = state.tee.client() else {
        return Ok(());
    };
    let key = state.vault.key(user)?;
    let row = state.vault.get(user, name).await?;
    escrow_credential(state, client, user, &key, &row)
        .await
        .map(|_| ())
}

/// A brokered request with a vault credential.
pub async fn credential_request(
    state: &AppState,
    caller: &Caller,
    name: &str,
    request: &BrokeredRequest,
) -> Result<BrokeredResponse, Error> {
    caller.may_use(name)?;
    let user = &caller.user_id;
    let row = state.vault.get(user, name).await?;
    let result = match state.tee.client() {
        Some(client) => via_enclave(state, client, user, &row, request).await,
        None => in_host(state, user, &row, request).await,
    };
    audit_request(state, caller, "credential", name, request, &result).await?;
    result
}

async fn via_enclave(
    state: &AppState,
    client: &Client,
    user: &UserId,
    row: &CredentialRow,
    request: &BrokeredRequest,
) -> Result<BrokeredResponse, Error> {
    let now = state.auth.clock.now();
    let indexed = escrows::get(&state.db.pool, user, Kind::Credential, &row.name).await?;
    let indexed = match indexed {
        Some(e) if e.lost_at.is_some() => return Err(Error::EscrowLost(LOST_VAULT.into())),
        Some(e) if e.expires_at > now && e.credential_id.as_deref() == Some(&row.id) => e,
        // Not escrowed yet (added after the verification) or expired: escrow it now if the
        // vault is open.
        _ => {
            let key = state.vault.key(user)?;
            escrow_credential(state, client, user, &key, row).await?
        }
    };
    let escrow = escrow_of(state, user, Kind::Credential, &indexed)?;
    match client.request(&escrow, request).await {
        Ok(response) => Ok(response),
        Err(e) => Err(enclave_error(state, e, LOST_VAULT).await),
    }
}

/// No enclave: the host's own broker, with the same scope rules and redaction.
async fn in_host(
    state: &AppState,
    user: &UserId,
    row: &CredentialRow,
    request: &BrokeredRequest,
) -> Result<BrokeredResponse, Error> {
    let key = state.vault.key(user)?;
    let stored = stored_scope(row)?;
    let scope = state.vault.escrow_scope(&stored, state.auth.clock.now())?;
    let valid = valid_scope(state, &scope)?;
    valid
        .check(&request.method, &request.url)
        .map_err(aileron_broker::BrokerError::from)?;
    let secret = state.vault.open_secret(user, &key, row)?;
    let max = stored
        .max_uses
        .map(|m| i64::try_from(m).unwrap_or(i64::MAX));
    if crate::db::vault::count_use(&state.db.pool, &row.id, max)
        .await?
        .is_none()
    {
        return Err(Error::Refused {
            code: aileron_sdk::wire::ErrorCode::EscrowUsedUp,
            message: "the credential's use limit is reached".into(),
        });
    }
    match state.tee.broker().forward(&valid, &secret, request).await {
        Ok(response) => Ok(response),
        Err(e) => {
            if e.never_sent() {
                crate::db::vault::give_back_use(&state.db.pool, &row.id).await?;
            }
            Err(e.into())
        }
    }
}

fn valid_scope(state: &AppState, scope: &Scope) -> Result<ValidScope, Error> {
    let now = OffsetDateTime::from_unix_timestamp(state.auth.clock.now())
        .map_err(|e| Error::Internal(e.to_string()))?;
    // A stored scope that no longer passes (a destination the server now refuses) is refused
    // for this request, with the reason.
    ValidScope::parse(
        scope,
        now - time::Duration::seconds(5),
        time::Duration::days(3650),
        state.tee.broker().destinations(),
    )
    .map_err(|e| Error::Refused {
        code: aileron_sdk::wire::ErrorCode::ScopeViolation,
        message: e.to_string(),
    })
}

/// Registers an escrow the SDK sealed end to end.
pub async fn register_sealed(
    state: &AppState,
    user: &UserId,
    name: &str,
    body: &EscrowRequest,
) -> Result<EscrowView, Error> {
    check_name(name)?;
    let client = client(state)?;
    let replacing = escrows::get(&state.db.pool, user, Kind::Sealed, name).await?;
    if replacing.is_none() {
        let held = escrows::list(&state.db.pool, user, Kind::Sealed)
            .await?
            .len();
        if held as u64 >= state.quotas.escrows {
            return Err(Error::QuotaExceeded(format!(
                "you hold {held} escrows, the most this server allows (AILERON_MAX_ESCROWS_PER_USER); remove one first"
            )));
        }
    }
    let ticket = state.admission.for_user(user)?;
    let escrow = match client.escrow_sealed(body, ticket.expose_secret()).await {
        Ok(escrow) => escrow,
        Err(e) => return Err(enclave_error(state, e, LOST_SEALED).await),
    };
    // Replacing a name revokes the escrow it pointed to.
    if let Some(old) = replacing {
        revoke_at_enclave(state, client, user, Kind::Sealed, &old).await;
    }
    let row = index(state, user, Kind::Sealed, name, None, &escrow).await?;
    state
        .audit
        .record(
            user,
            &Actor::User,
            "escrow.create",
            json!({"name": name, "escrow_id": row.escrow_id, "expires_at": row.expires_at}),
        )
        .await?;
    Ok(escrow_view(&row, state.auth.clock.now()))
}

/// The user's sealed escrows.
pub async fn list_sealed(state: &AppState, user: &UserId) -> Result<Vec<EscrowView>, Error> {
    let now = state.auth.clock.now();
    Ok(escrows::list(&state.db.pool, user, Kind::Sealed)
        .await?
        .iter()
        .map(|r| escrow_view(r, now))
        .collect())
}

/// One of the user's sealed escrows, or `not_found`.
pub async fn sealed(state: &AppState, user: &UserId, name: &str) -> Result<EscrowView, Error> {
    let row = escrows::get(&state.db.pool, user, Kind::Sealed, name)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(escrow_view(&row, state.auth.clock.now()))
}

/// Revokes a sealed escrow at the enclave and forgets it.
pub async fn remove_sealed(state: &AppState, user: &UserId, name: &str) -> Result<(), Error> {
    let row = escrows::remove(&state.db.pool, user, Kind::Sealed, name)
        .await?
        .ok_or(Error::NotFound)?;
    if let Some(client) = state.tee.client() {
        revoke_at_enclave(state, client, user, Kind::Sealed, &row).await;
    }
    state
        .audit
        .record(
            user,
            &Actor::User,
            "escrow.revoke",
            json!({"name": name, "escrow_id": row.escrow_id}),
        )
        .await
}

/// Revokes a vault credential's escrow (on credential delete).
pub async fn forget_credential(state: &AppState, user: &UserId, name: &str) -> Result<(), Error> {
    let row = escrows::remove(&state.db.pool, user, Kind::Credential, name).await?;
    if let (Some(row), Some(client)) = (row, state.tee.client()) {
        revoke_at_enclave(state, client, user, Kind::Credential, &row).await;
    }
    Ok(())
}

/// Best effort: a lost or expired escrow is already gone from the enclave.
async fn revoke_at_enclave(
    state: &AppState,
    client: &Client,
    user: &UserId,
    kind: Kind,
    row: &EscrowRow,
) {
    if row.lost_at.is_some() {
        return;
    }
    let result = match escrow_of(state, user, kind, row) {
        Ok(escrow) => client.revoke(&escrow).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = result {
        tracing::info!(escrow_id = %row.escrow_id, error = %e, "escrow not revoked at the enclave");
    }
}

/// A brokered request with a sealed escrow.
pub async fn sealed_request(
    state: &AppState,
    caller: &Caller,
    name: &str,
    request: &BrokeredRequest,
) -> Result<BrokeredResponse, Error> {
    caller.may_use(name)?;
    let user = &caller.user_id;
    let client = client(state)?;
    let row = escrows::get(&state.db.pool, user, Kind::Sealed, name)
        .await?
        .ok_or(Error::NotFound)?;
    let result = if row.lost_at.is_some() {
        Err(Error::EscrowLost(LOST_SEALED.into()))
    } else {
        let escrow = escrow_of(state, user, Kind::Sealed, &row)?;
        match client.request(&escrow, request).await {
            Ok(response) => Ok(response),
            Err(e) => Err(enclave_error(state, e, LOST_SEALED).await),
        }
    };
    audit_request(state, caller, "escrow", name, request, &result).await?;
    result
}

/// Records a brokered request: method, host, path, status and size; never headers or bodies.
async fn audit_request(
    state: &AppState,
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
    state
        .audit
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

/// Watches the enclave's boot: a new boot marks every escrow of older boots lost. Returns the
/// number of rows marked.
pub async fn check_boot(state: &AppState) -> Result<u64, Error> {
    let Some(client) = state.tee.client() else {
        return Ok(0);
    };
    let boot = client
        .current_boot()
        .await
        .map_err(|e| Error::EnclaveUnavailable(e.to_string()))?;
    lost_before(state, &boot).await
}

/// Marks the escrows of every boot but `boot` lost. Returns the number of rows marked.
pub async fn lost_before(state: &AppState, boot: &str) -> Result<u64, Error> {
    let marked = escrows::mark_lost(&state.db.pool, boot, state.auth.clock.now()).await?;
    if marked > 0 {
        tracing::warn!(boot_id = %boot, escrows = marked, "the enclave restarted: escrows of older boots are lost");
    }
    Ok(marked)
}

/// The caller's escrows: `(live, lost)`.
pub async fn counts(state: &AppState, user: &UserId) -> Result<(i64, i64), Error> {
    Ok(escrows::counts(&state.db.pool, user, state.auth.clock.now()).await?)
}
