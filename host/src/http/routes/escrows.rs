//! `/v1/tee/attestation` (relay) and `/v1/escrows…`: escrows sealed end to end by the SDK,
//! registered under a name, used by the user and their agents.

use aileron_sdk::wire::{AttestationResponse, BrokeredRequest, BrokeredResponse, EscrowRequest};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};

use crate::db::escrows::Kind;
use crate::error::Error;
use crate::escrow::{Caller, EscrowView};
use crate::http::AppState;
use crate::http::extract::{AuthUser, JsonBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tee/attestation", post(attestation))
        .route("/v1/escrows", post(register).get(list))
        .route("/v1/escrows/admission", post(admission))
        .route("/v1/escrows/{name}", delete(remove))
        .route("/v1/escrows/{name}/requests", post(request))
        .route("/v1/escrows/{name}/status", get(status))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationNonce {
    /// 10 to 74 printable ASCII characters, fresh for this call.
    nonce: String,
}

/// The enclave's attestation answer, relayed unchanged (DESIGN §4).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct AttestationDoc {
    token: String,
    token_type: String,
    boot_id: String,
    hpke_public_key: String,
    tls_spki_sha256: String,
}

/// A brokered request (DESIGN §4): `headers` as `[name, value]` pairs, `body` base64url.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct BrokeredRequestDoc {
    method: String,
    url: String,
    headers: Option<Vec<Vec<String>>>,
    body: Option<String>,
}

/// The upstream's answer with the secret redacted; `body` base64url.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct BrokeredResponseDoc {
    status: u16,
    headers: Vec<Vec<String>>,
    body: String,
}

/// A credential sealed to the attested enclave (DESIGN §4), all base64url.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct SealedDoc {
    /// The scope JSON (also the HPKE associated data).
    scope: String,
    /// The HPKE encapsulated key.
    enc: String,
    /// The HPKE ciphertext of the secret.
    ciphertext: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterEscrow {
    /// 1 to 64 of `[A-Za-z0-9._-]`; registering a name again replaces (and revokes) the old one.
    name: String,
    /// base64url of the scope JSON (also the HPKE associated data).
    scope: String,
    /// base64url HPKE encapsulated key.
    enc: String,
    /// base64url HPKE ciphertext of the secret, sealed to the attested enclave key.
    ciphertext: String,
}

/// Relays the attestation of the caller's enclave (the one of the fleet their escrows go to) for
/// the caller's nonce, unchanged: the caller verifies the token itself (with nonces
/// `[nonce, binding]`) before sealing anything to the enclave.
#[utoipa::path(post, path = "/v1/tee/attestation", tag = "tee", request_body = AttestationNonce,
    responses((status = 200, body = AttestationDoc), (status = 409, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody)))]
pub async fn attestation(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<AttestationNonce>,
) -> Result<Json<AttestationResponse>, Error> {
    state
        .escrows
        .relay_attestation(&who.user_id, &body.nonce)
        .await
        .map(Json)
}

/// An admission ticket: lets the caller create escrows straight at this server's enclave.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Ticket {
    /// Send it as the `Aileron-Admission` header of `POST /v1/escrows` at the enclave.
    ticket: String,
    /// Seconds it stays valid.
    expires_in: i64,
}

/// Signs an admission ticket for the caller (their escrows count against their quota at the
/// enclave). For clients that seal and escrow straight to the enclave, such as
/// `aileron escrow put --direct`; escrows registered here need none.
#[utoipa::path(post, path = "/v1/escrows/admission", tag = "escrows",
    responses((status = 200, body = Ticket), (status = 401, body = crate::http::error::ErrorBody),
        (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn admission(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Ticket>, Error> {
    if !state.tee.enabled() {
        return Err(Error::TeeDisabled);
    }
    let ticket = state.admission.for_user(&who.user_id)?;
    Ok(Json(Ticket {
        ticket: ticket.expose_secret().to_owned(),
        expires_in: aileron_sdk::admission::TICKET_SECONDS,
    }))
}

/// Registers, under a name, a credential the SDK sealed to the attested enclave. The host
/// relays ciphertext it cannot open and keeps the escrow's handle sealed under its host key.
#[utoipa::path(post, path = "/v1/escrows", tag = "escrows", request_body = RegisterEscrow,
    responses((status = 201, body = EscrowView), (status = 400, body = crate::http::error::ErrorBody),
        (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<RegisterEscrow>,
) -> Result<(StatusCode, Json<EscrowView>), Error> {
    let sealed = EscrowRequest {
        scope: body.scope,
        enc: body.enc,
        ciphertext: body.ciphertext,
    };
    let view = state
        .escrows
        .register_sealed(&who.user_id, &body.name, &sealed)
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The caller's escrows: active, expired, or lost (the enclave restarted).
#[utoipa::path(get, path = "/v1/escrows", operation_id = "list_escrows", tag = "escrows",
    responses((status = 200, body = Vec<EscrowView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<EscrowView>>, Error> {
    Ok(Json(state.escrows.list(&who.user_id, Kind::Sealed).await?))
}

/// One escrow.
#[utoipa::path(get, path = "/v1/escrows/{name}/status", operation_id = "escrow_status", tag = "escrows",
    params(("name" = String, Path)),
    responses((status = 200, body = EscrowView), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    who: AuthUser,
    Path(name): Path<String>,
) -> Result<Json<EscrowView>, Error> {
    Ok(Json(
        state
            .escrows
            .find(&who.user_id, Kind::Sealed, &name)
            .await?
            .ok_or(Error::NotFound)?,
    ))
}

/// Revokes an escrow: the enclave forgets and zeroizes the secret.
#[utoipa::path(delete, path = "/v1/escrows/{name}", tag = "escrows",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    who: AuthUser,
    Path(name): Path<String>,
) -> Result<StatusCode, Error> {
    state.escrows.remove_sealed(&who.user_id, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A brokered request with a named escrow. Users and agent tokens.
#[utoipa::path(post, path = "/v1/escrows/{name}/requests", tag = "escrows",
    params(("name" = String, Path)), request_body = BrokeredRequestDoc,
    responses((status = 200, body = BrokeredResponseDoc), (status = 403, body = crate::http::error::ErrorBody),
        (status = 404, body = crate::http::error::ErrorBody), (status = 409, body = crate::http::error::ErrorBody),
        (status = 410, body = crate::http::error::ErrorBody)))]
pub async fn request(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<BrokeredRequest>,
) -> Result<Json<BrokeredResponse>, Error> {
    Ok(Json(
        state.escrows.sealed_request(&caller, &name, &body).await?,
    ))
}
