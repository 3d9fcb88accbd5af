//! `/v1/users/me/passphrase…` (the vault) and `/v1/credentials…`.

use aileron_sdk::wire::{BrokeredRequest, BrokeredResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::Actor;
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{AuthUser, JsonBody};
use crate::http::routes::escrows::{BrokeredRequestDoc, BrokeredResponseDoc};
use crate::relay::{self, Caller};
use crate::vault::service::{CredentialView, NewCredential};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users/me/passphrase", post(set_passphrase))
        .route("/v1/users/me/passphrase/verify", post(verify_passphrase))
        .route("/v1/users/me/passphrase/salt", get(salt))
        .route("/v1/users/me/passphrase/session", get(session))
        .route("/v1/users/me/passphrase/lock", post(lock))
        .route(
            "/v1/credentials",
            post(create_credential).get(list_credentials),
        )
        .route(
            "/v1/credentials/{name}",
            get(get_credential).delete(delete_credential),
        )
        .route("/v1/credentials/{name}/requests", post(credential_request))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassphrase {
    /// 8 to 1024 characters.
    #[schema(value_type = String, format = Password)]
    passphrase: SecretString,
    /// Required to change an existing passphrase.
    #[schema(value_type = Option<String>, format = Password)]
    current_passphrase: Option<SecretString>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyPassphrase {
    #[schema(value_type = String, format = Password)]
    passphrase: SecretString,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Verified {
    valid: bool,
    /// Unix seconds; absent when not valid.
    session_expires_at: Option<i64>,
    /// Credentials escrowed into the enclave by this verification.
    escrowed_count: usize,
    /// Why some credentials could not be escrowed (the enclave is unavailable…).
    #[serde(skip_serializing_if = "Option::is_none")]
    escrow_error: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Salt {
    /// base64url salt.
    salt: String,
    /// Always `argon2id`.
    algorithm: &'static str,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionState {
    active: bool,
    /// Unix seconds.
    expires_at: Option<i64>,
}

/// Sets the vault passphrase, or changes it (`current_passphrase` required). A change re-wraps
/// the data key: every credential stays readable.
#[utoipa::path(post, path = "/v1/users/me/passphrase", tag = "vault", request_body = SetPassphrase,
    responses((status = 204), (status = 400, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn set_passphrase(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<SetPassphrase>,
) -> Result<StatusCode, Error> {
    let change = body.current_passphrase.is_some();
    state
        .vault
        .set_passphrase(&who.user_id, body.passphrase, body.current_passphrase)
        .await?;
    let action = if change {
        "passphrase.change"
    } else {
        "passphrase.set"
    };
    state
        .audit
        .record(&who.user_id, &Actor::User, action, json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Verifies the passphrase: opens the vault for `AILERON_KEK_SESSION_TTL` and, with an enclave,
/// escrows every credential (expiry now + `AILERON_ESCROW_TTL`).
#[utoipa::path(post, path = "/v1/users/me/passphrase/verify", tag = "vault", request_body = VerifyPassphrase,
    responses((status = 200, body = Verified), (status = 409, body = crate::http::error::ErrorBody),
        (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn verify_passphrase(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<VerifyPassphrase>,
) -> Result<Json<Verified>, Error> {
    let unlocked = match state.vault.verify(&who.user_id, body.passphrase).await {
        Ok(unlocked) => unlocked,
        Err(Error::WrongPassphrase) => {
            state
                .audit
                .record(
                    &who.user_id,
                    &Actor::User,
                    "passphrase.verify",
                    json!({"valid": false}),
                )
                .await?;
            return Ok(Json(Verified {
                valid: false,
                session_expires_at: None,
                escrowed_count: 0,
                escrow_error: None,
            }));
        }
        Err(e) => return Err(e),
    };
    let (escrowed, escrow_error) = relay::auto_escrow(&state, &who.user_id, &unlocked.key).await?;
    state
        .audit
        .record(
            &who.user_id,
            &Actor::User,
            "passphrase.verify",
            json!({"valid": true, "escrowed": escrowed}),
        )
        .await?;
    Ok(Json(Verified {
        valid: true,
        session_expires_at: Some(unlocked.expires_at),
        escrowed_count: escrowed,
        escrow_error,
    }))
}

/// The salt and Argon2id parameters of the vault.
#[utoipa::path(get, path = "/v1/users/me/passphrase/salt", tag = "vault",
    responses((status = 200, body = Salt), (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn salt(State(state): State<AppState>, who: AuthUser) -> Result<Json<Salt>, Error> {
    let (salt, params) = state.vault.salt(&who.user_id).await?;
    Ok(Json(Salt {
        salt,
        algorithm: "argon2id",
        m_cost_kib: params.m_cost_kib,
        t_cost: params.t_cost,
        p_cost: params.p_cost,
    }))
}

/// Whether the vault is unlocked, and until when.
#[utoipa::path(get, path = "/v1/users/me/passphrase/session", tag = "vault",
    responses((status = 200, body = SessionState)))]
pub async fn session(State(state): State<AppState>, who: AuthUser) -> Json<SessionState> {
    let expires_at = state.vault.session(&who.user_id);
    Json(SessionState {
        active: expires_at.is_some(),
        expires_at,
    })
}

/// Locks the vault now: the data key is dropped from memory and zeroized.
#[utoipa::path(post, path = "/v1/users/me/passphrase/lock", tag = "vault",
    responses((status = 204)))]
pub async fn lock(State(state): State<AppState>, who: AuthUser) -> Result<StatusCode, Error> {
    if state.vault.lock(&who.user_id) {
        state
            .audit
            .record(&who.user_id, &Actor::User, "vault.lock", json!({}))
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Stores a credential sealed under the vault's data key. The vault must be unlocked (423).
#[utoipa::path(post, path = "/v1/credentials", tag = "credentials", request_body = NewCredential,
    responses((status = 201, body = CredentialView), (status = 400, body = crate::http::error::ErrorBody),
        (status = 409, body = crate::http::error::ErrorBody), (status = 423, body = crate::http::error::ErrorBody)))]
pub async fn create_credential(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<NewCredential>,
) -> Result<(StatusCode, Json<CredentialView>), Error> {
    let view = state.vault.create(&who.user_id, body).await?;
    state
        .audit
        .record(
            &who.user_id,
            &Actor::User,
            "credential.create",
            json!({"name": view.name, "id": view.id}),
        )
        .await?;
    // Best effort: a failure here is retried at the first request or the next verification.
    if let Err(e) = relay::escrow_new(&state, &who.user_id, &view.name).await {
        tracing::warn!(credential = %view.name, error = %e, "escrow of a new credential failed");
    }
    Ok((StatusCode::CREATED, Json(view)))
}

/// The caller's credentials (never their secrets).
#[utoipa::path(get, path = "/v1/credentials", tag = "credentials",
    responses((status = 200, body = Vec<CredentialView>)))]
pub async fn list_credentials(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<CredentialView>>, Error> {
    Ok(Json(state.vault.list(&who.user_id).await?))
}

/// One credential (never its secret).
#[utoipa::path(get, path = "/v1/credentials/{name}", tag = "credentials",
    params(("name" = String, Path)),
    responses((status = 200, body = CredentialView), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn get_credential(
    State(state): State<AppState>,
    who: AuthUser,
    Path(name): Path<String>,
) -> Result<Json<CredentialView>, Error> {
    Ok(Json(state.vault.view(&who.user_id, &name).await?))
}

/// Deletes a credential and revokes its escrow.
#[utoipa::path(delete, path = "/v1/credentials/{name}", tag = "credentials",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn delete_credential(
    State(state): State<AppState>,
    who: AuthUser,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    state.vault.get(&who.user_id, &name).await?;
    relay::forget_credential(&state, &who.user_id, &name).await?;
    state.vault.delete(&who.user_id, &name).await?;
    state
        .audit
        .record(
            &who.user_id,
            &Actor::User,
            "credential.delete",
            json!({"name": name}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A brokered request with a vault credential: the secret is injected by the enclave (or, with
/// no enclave, by the host) and redacted from the answer. Users and agent tokens.
#[utoipa::path(post, path = "/v1/credentials/{name}/requests", tag = "credentials",
    params(("name" = String, Path)), request_body = BrokeredRequestDoc,
    responses((status = 200, body = BrokeredResponseDoc), (status = 403, body = crate::http::error::ErrorBody),
        (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody),
        (status = 423, body = crate::http::error::ErrorBody)))]
pub async fn credential_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<BrokeredRequest>,
) -> Result<Json<BrokeredResponse>, Error> {
    Ok(Json(
        relay::credential_request(&state, &caller, &name, &body).await?,
    ))
}
