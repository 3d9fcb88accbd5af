//! `/v1/users/me…` and `/v1/enterprises/me`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;

use crate::accounts::{self, EnterpriseView, Me};
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{AuthUser, JsonBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users/me", get(get_me).patch(patch_me))
        .route(
            "/v1/users/me/auth-providers/{provider}",
            delete(delete_provider),
        )
        .route(
            "/v1/enterprises/me",
            get(get_enterprise).patch(patch_enterprise),
        )
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PatchMe {
    /// A new display name; empty clears it.
    display_name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PatchEnterprise {
    name: String,
}

fn name(raw: &str, field: &str) -> Result<Option<String>, Error> {
    crate::text::name(raw, field, 100)
}

/// The signed-in user.
#[utoipa::path(get, path = "/v1/users/me", tag = "users",
    responses((status = 200, body = Me), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, who: AuthUser) -> Result<Json<Me>, Error> {
    Ok(Json(accounts::me(&state.db, &who.user_id).await?))
}

/// Updates the signed-in user's display name.
#[utoipa::path(patch, path = "/v1/users/me", tag = "users", request_body = PatchMe,
    responses((status = 200, body = Me), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn patch_me(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(req): JsonBody<PatchMe>,
) -> Result<Json<Me>, Error> {
    let display = name(
        req.display_name.as_deref().unwrap_or_default(),
        "display_name",
    )?;
    Ok(Json(
        accounts::rename_me(&state.db, &who.user_id, display.as_deref()).await?,
    ))
}

/// The signed-in user's enterprise.
#[utoipa::path(get, path = "/v1/enterprises/me", tag = "users",
    responses((status = 200, body = EnterpriseView), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn get_enterprise(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<EnterpriseView>, Error> {
    Ok(Json(accounts::enterprise(&state.db, &who.user_id).await?))
}

/// Renames the enterprise (owner or admin).
#[utoipa::path(patch, path = "/v1/enterprises/me", tag = "users", request_body = PatchEnterprise,
    responses((status = 200, body = EnterpriseView), (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn patch_enterprise(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(req): JsonBody<PatchEnterprise>,
) -> Result<Json<EnterpriseView>, Error> {
    let new = name(&req.name, "name")?.ok_or(Error::InvalidRequest("name: required".into()))?;
    Ok(Json(
        accounts::rename_enterprise(&state.db, &who.user_id, &new).await?,
    ))
}

/// Unlinks a sign-in provider (never the last way in).
#[utoipa::path(delete, path = "/v1/users/me/auth-providers/{provider}", tag = "users",
    params(("provider" = String, Path, description = "google, github or oidc")),
    responses((status = 204), (status = 409, body = crate::http::error::ErrorBody)))]
pub async fn delete_provider(
    State(state): State<AppState>,
    who: AuthUser,
    Path(provider): Path<String>,
) -> Result<StatusCode, Error> {
    accounts::unlink_provider(&state.db, &who.user_id, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}
