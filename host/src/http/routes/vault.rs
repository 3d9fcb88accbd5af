//! `/v1/vault…` and `/v1/credentials…`: the end-to-end vault (docs/vault.md). Handlers extract,
//! call one service, map.

use aileron_sdk::wire::{BrokeredRequest, BrokeredResponse, EscrowRequest};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::db::escrows::Kind;
use crate::error::Error;
use crate::escrow::EscrowView;
use crate::http::AppState;
use crate::http::extract::{AuthUser, CredentialCaller, JsonBody};
use crate::http::routes::escrows::{BrokeredRequestDoc, BrokeredResponseDoc, SealedDoc};
use crate::vault::service::{
    CredentialView, NewCredential, NewVault, Rewrap, UpdatedCredential, VaultInfo,
};

type ErrorBody = crate::http::error::ErrorBody;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/vault",
            get(vault).put(create_vault).delete(delete_vault),
        )
        .route("/v1/vault/passphrase", post(change_passphrase))
        .route("/v1/vault/session", post(open_session))
        .route("/v1/vault/lock", post(lock))
        .route(
            "/v1/credentials",
            post(create_credential).get(list_credentials),
        )
        .route(
            "/v1/credentials/{name}",
            get(get_credential)
                .put(update_credential)
                .delete(delete_credential),
        )
        .route("/v1/credentials/{name}/escrow", post(escrow_credential))
        .route("/v1/credentials/{name}/requests", post(credential_request))
}

/// Proof of the vault key.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// base64url of the 32-byte verifier (docs/vault.md, format v1 §3).
    verifier: String,
}

/// Server-trust mode: the credential key, for the session.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    verifier: String,
    /// base64url of the 32-byte credential key (never the passphrase or the vault key).
    #[schema(value_type = String, format = Password)]
    credential_key: secrecy::SecretString,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionOpened {
    /// Unix seconds.
    expires_at: i64,
    /// Always `server`: said plainly, the server can read this vault's credentials until then.
    trust: crate::vault::Trust,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Locked {
    /// Credential escrows revoked in the enclave.
    escrows_revoked: usize,
}

/// A credential with its escrow, if any.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CredentialOut {
    #[serde(flatten)]
    credential: CredentialView,
    escrow: Option<EscrowView>,
}

/// What a client needs to open the vault: the KDF, the wrapped vault key, and who brokers.
#[utoipa::path(get, path = "/v1/vault", tag = "vault",
    responses((status = 200, body = VaultInfo), (status = 409, body = ErrorBody)))]
pub async fn vault(State(state): State<AppState>, who: AuthUser) -> Result<Json<VaultInfo>, Error> {
    Ok(Json(state.vault.info(&who.user_id).await?))
}

/// Registers a vault the client made: KDF parameters within the floor and ceiling, the wrapped
/// vault key, the verifier (the server keeps its hash).
#[utoipa::path(put, path = "/v1/vault", tag = "vault", request_body = NewVault,
    responses((status = 201), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_vault(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<NewVault>,
) -> Result<StatusCode, Error> {
    state.vault.create(&who.user_id, body).await?;
    Ok(StatusCode::CREATED)
}

/// A passphrase change: the same vault key, wrapped anew; needs proof of the vault key.
#[utoipa::path(post, path = "/v1/vault/passphrase", tag = "vault", request_body = Rewrap,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn change_passphrase(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<Rewrap>,
) -> Result<StatusCode, Error> {
    state.vault.rewrap(&who.user_id, body).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the vault, every credential and their escrows; needs proof of the vault key.
#[utoipa::path(delete, path = "/v1/vault", tag = "vault", request_body = Proof,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete_vault(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<Proof>,
) -> Result<StatusCode, Error> {
    // The proof first: a wrong one changes nothing, not even the escrows.
    state
        .vault
        .check_proof(&who.user_id, &body.verifier)
        .await?;
    state.escrows.lock(&who.user_id).await?;
    state.vault.delete(&who.user_id, &body.verifier).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Server-trust mode only (no enclave): the server holds the credential key for
/// `AILERON_KEK_SESSION_TTL` and can read this vault's credentials until then.
#[utoipa::path(post, path = "/v1/vault/session", tag = "vault", request_body = SessionRequest,
    responses((status = 200, body = SessionOpened), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn open_session(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<SessionRequest>,
) -> Result<Json<SessionOpened>, Error> {
    let expires_at = state
        .vault
        .open_session(&who.user_id, &body.verifier, &body.credential_key)
        .await?;
    Ok(Json(SessionOpened {
        expires_at,
        trust: crate::vault::Trust::Server,
    }))
}

/// Locks the vault: every credential escrow is revoked (and a server-trust session ends).
#[utoipa::path(post, path = "/v1/vault/lock", tag = "vault",
    responses((status = 200, body = Locked)))]
pub async fn lock(State(state): State<AppState>, who: AuthUser) -> Result<Json<Locked>, Error> {
    let escrows_revoked = state.escrows.lock(&who.user_id).await?;
    Ok(Json(Locked { escrows_revoked }))
}

/// Stores a credential the client encrypted under its vault key, bound to this policy.
#[utoipa::path(post, path = "/v1/credentials", tag = "credentials", request_body = NewCredential,
    responses((status = 201, body = CredentialView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_credential(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<NewCredential>,
) -> Result<(StatusCode, Json<CredentialView>), Error> {
    let view = state.vault.create_credential(&who.user_id, body).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The caller's credentials: policies and ciphertexts (never secrets), with their escrows.
#[utoipa::path(get, path = "/v1/credentials", tag = "credentials",
    responses((status = 200, body = Vec<CredentialOut>)))]
pub async fn list_credentials(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<CredentialOut>>, Error> {
    let escrows = state.escrows.list(&who.user_id, Kind::Credential).await?;
    let rows = state.vault.credentials(&who.user_id).await?;
    let out = rows
        .into_iter()
        .map(|row| {
            let escrow = escrows.iter().find(|e| e.name == row.name).cloned();
            CredentialOut {
                credential: row.into(),
                escrow,
            }
        })
        .collect();
    Ok(Json(out))
}

/// One credential.
#[utoipa::path(get, path = "/v1/credentials/{name}", tag = "credentials",
    params(("name" = String, Path)),
    responses((status = 200, body = CredentialOut), (status = 404, body = ErrorBody)))]
pub async fn get_credential(
    State(state): State<AppState>,
    who: AuthUser,
    Path(name): Path<String>,
) -> Result<Json<CredentialOut>, Error> {
    let row = state.vault.credential(&who.user_id, &name).await?;
    let escrow = state
        .escrows
        .find(&who.user_id, Kind::Credential, &name)
        .await?;
    Ok(Json(CredentialOut {
        credential: row.into(),
        escrow,
    }))
}

/// A new secret or policy for a credential (version + 1); its escrow is revoked.
#[utoipa::path(put, path = "/v1/credentials/{name}", tag = "credentials",
    params(("name" = String, Path)), request_body = UpdatedCredential,
    responses((status = 200, body = CredentialView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update_credential(
    State(state): State<AppState>,
    who: AuthUser,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<UpdatedCredential>,
) -> Result<Json<CredentialView>, Error> {
    let view = state
        .vault
        .update_credential(&who.user_id, &name, body)
        .await?;
    state.escrows.forget_credential(&who.user_id, &name).await?;
    Ok(Json(view))
}

/// Deletes a credential and revokes its escrow.
#[utoipa::path(delete, path = "/v1/credentials/{name}", tag = "credentials",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_credential(
    State(state): State<AppState>,
    who: AuthUser,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    state.escrows.forget_credential(&who.user_id, &name).await?;
    state.vault.delete_credential(&who.user_id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Escrows a credential the client sealed to the attested enclave (its scope must be the
/// credential's policy); the escrow it replaces is revoked.
#[utoipa::path(post, path = "/v1/credentials/{name}/escrow", tag = "credentials",
    params(("name" = String, Path)), request_body = SealedDoc,
    responses((status = 201, body = EscrowView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn escrow_credential(
    State(state): State<AppState>,
    who: AuthUser,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<EscrowRequest>,
) -> Result<(StatusCode, Json<EscrowView>), Error> {
    let view = state
        .escrows
        .escrow_credential(&who.user_id, &name, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A brokered request with a vault credential: the secret is injected by the enclave (or, in
/// server-trust mode, by this server) and redacted from the answer. Users and agent tokens.
#[utoipa::path(post, path = "/v1/credentials/{name}/requests", tag = "credentials",
    params(("name" = String, Path)), request_body = BrokeredRequestDoc,
    responses((status = 200, body = BrokeredResponseDoc), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 423, body = ErrorBody)))]
pub async fn credential_request(
    State(state): State<AppState>,
    who: CredentialCaller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<BrokeredRequest>,
) -> Result<Json<BrokeredResponse>, Error> {
    Ok(Json(
        state
            .escrows
            .credential_request(&who.caller, &name, &body, who.prefetched)
            .await?,
    ))
}
