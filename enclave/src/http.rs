//! The enclave's HTTP API (DESIGN §4). Handlers extract, call one function, map the answer.

use std::sync::Arc;

use aileron_broker::Credential;
use aileron_broker::scope::ValidScope;
use aileron_sdk::wire::{
    self, AttestationRequest, AttestationResponse, BrokeredRequest, BrokeredResponse, ErrorCode,
    EscrowCreated, EscrowRequest, EscrowStatus, Health, Scope,
};
use axum::extract::{FromRequest, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use time::OffsetDateTime;

use crate::Enclave;
use crate::error::ApiError;

/// JSON bodies, with rejections as [`ApiError`]s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// The escrow handle from `Authorization: Bearer <handle>`, decoded.
pub struct Handle(zeroize::Zeroizing<Vec<u8>>);

impl<S: Send + Sync> FromRequestParts<S> for Handle {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Handle, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MissingHandle,
                    "Authorization: Bearer <handle> is required",
                )
            })?;
        // A handle that does not decode is simply a wrong handle: the same 404 as any other.
        Ok(Handle(zeroize::Zeroizing::new(
            wire::from_b64u(value).unwrap_or_default(),
        )))
    }
}

/// The router.
pub fn router(enclave: Arc<Enclave>, body_limit: usize) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/attestation", post(attestation))
        .route("/v1/escrows", post(create_escrow))
        .route("/v1/escrows/{id}", get(status).delete(revoke))
        .route("/v1/escrows/{id}/requests", post(broker))
        .fallback(|| async { ApiError::new(ErrorCode::NotFound, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not take this method",
            )
        })
        .layer(axum::extract::DefaultBodyLimit::max(body_limit))
        .with_state(enclave)
}

async fn health(State(e): State<Arc<Enclave>>) -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        provider: e.config.provider.as_str().into(),
        boot_id: hex::encode(e.boot_id),
    })
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

async fn attestation(
    State(e): State<Arc<Enclave>>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<AttestationRequest>,
) -> Result<Json<AttestationResponse>, ApiError> {
    if !wire::valid_nonce(&req.nonce) {
        return Err(ApiError::new(
            ErrorCode::InvalidNonce,
            "nonce must be 10 to 74 printable ASCII characters",
        ));
    }
    if let Some(answer) = e.gate.cached(&req.nonce) {
        return Ok(Json(answer));
    }
    e.gate.take_attestation(&headers, now())?;
    let nonce = req.nonce.clone();
    let binding = wire::binding(&e.boot_id, &e.hpke_public_key, &e.tls_spki_sha256);
    let token = e
        .attester
        .token(
            &e.config.audience,
            e.config.token_type,
            &[req.nonce, binding],
        )
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "attestation token unavailable");
            ApiError::new(
                ErrorCode::AttestationUnavailable,
                "no attestation token could be obtained",
            )
        })?;
    let answer = AttestationResponse {
        token,
        token_type: match e.config.token_type {
            aileron_attest::TokenType::Pki => "PKI".into(),
            aileron_attest::TokenType::Oidc => "OIDC".into(),
        },
        boot_id: hex::encode(e.boot_id),
        hpke_public_key: wire::b64u(&e.hpke_public_key),
        tls_spki_sha256: hex::encode(e.tls_spki_sha256),
    };
    e.gate.remember(&nonce, &answer);
    Ok(Json(answer))
}

async fn create_escrow(
    State(e): State<Arc<Enclave>>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EscrowRequest>,
) -> Result<(StatusCode, Json<EscrowCreated>), ApiError> {
    let admission = e.gate.admit(&headers, now())?;
    let decode = |field: &str, value: &str| {
        wire::from_b64u(value)
            .ok_or_else(|| ApiError::bad_request(format!("`{field}` is not base64url")))
    };
    let scope_bytes = decode("scope", &req.scope)?;
    let enc = decode("enc", &req.enc)?;
    let ciphertext = decode("ciphertext", &req.ciphertext)?;
    let secret = e.open(&enc, &ciphertext, &scope_bytes).map_err(|_| {
        ApiError::new(
            ErrorCode::SealedPayloadInvalid,
            "the credential does not open: sealed to another key, altered, or its scope changed",
        )
    })?;
    if secret.is_empty() || secret.len() > e.config.max_secret_bytes {
        return Err(ApiError::new(
            ErrorCode::SecretSize,
            format!("a secret must be 1 to {} bytes", e.config.max_secret_bytes),
        ));
    }
    let scope: Scope = serde_json::from_slice(&scope_bytes)
        .map_err(|err| ApiError::new(ErrorCode::InvalidScope, err.to_string()))?;
    let max_ttl = time::Duration::try_from(e.config.escrow_ttl).unwrap_or(time::Duration::MAX);
    let scope = ValidScope::parse(
        &scope,
        OffsetDateTime::now_utc(),
        max_ttl,
        e.config.destinations,
    )?;
    let expires_at = scope.expires_at;
    let credential = Credential::new(scope, &secret)?;
    let (escrow_id, handle) = e.store.insert(&admission, credential)?;
    tracing::info!(escrow_id = %escrow_id, "escrow created");
    use secrecy::ExposeSecret as _;
    Ok((
        StatusCode::CREATED,
        Json(EscrowCreated {
            escrow_id,
            handle: handle.expose_secret().to_owned(),
            expires_at,
        }),
    ))
}

async fn broker(
    State(e): State<Arc<Enclave>>,
    Path(id): Path<String>,
    handle: Handle,
    ApiJson(req): ApiJson<BrokeredRequest>,
) -> Result<Json<BrokeredResponse>, ApiError> {
    let escrow = e.store.get(&id, &handle.0)?;
    let allowed = escrow.credential.allow(&req)?;
    let uses = escrow.take_use(OffsetDateTime::now_utc())?;
    let response = match e.broker.forward(allowed).await {
        Ok(response) => response,
        Err(err) => {
            if err.never_sent() {
                escrow.give_back_use();
            }
            return Err(err.into());
        }
    };
    tracing::info!(escrow_id = %id, uses, status = response.status, "brokered request");
    Ok(Json(response))
}

async fn status(
    State(e): State<Arc<Enclave>>,
    Path(id): Path<String>,
    handle: Handle,
) -> Result<Json<EscrowStatus>, ApiError> {
    let escrow = e.store.get(&id, &handle.0)?;
    Ok(Json(EscrowStatus {
        uses: escrow.uses(),
        max_uses: escrow.credential.scope().max_uses,
        expires_at: escrow.credential.scope().expires_at,
    }))
}

async fn revoke(
    State(e): State<Arc<Enclave>>,
    Path(id): Path<String>,
    handle: Handle,
) -> Result<StatusCode, ApiError> {
    e.store.revoke(&id, &handle.0)?;
    tracing::info!(escrow_id = %id, "escrow revoked");
    Ok(StatusCode::NO_CONTENT)
}
