//! `/v1/agent-tokens`: tokens that let an agent make brokered requests, and nothing else.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde_json::json;

use crate::agents::{self, AgentTokenView, CreatedAgentToken, NewAgentToken};
use crate::audit::Actor;
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{AuthUser, JsonBody};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/agent-tokens", post(create).get(list))
        .route("/v1/agent-tokens/{id}", delete(revoke))
}

/// Creates an agent token. The token is in this answer only; it is stored hashed.
#[utoipa::path(post, path = "/v1/agent-tokens", operation_id = "create_agent_token", tag = "agents", request_body = NewAgentToken,
    responses((status = 201, body = CreatedAgentToken), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: AuthUser,
    JsonBody(body): JsonBody<NewAgentToken>,
) -> Result<(StatusCode, Json<CreatedAgentToken>), Error> {
    let created = agents::create(&state.db, &state.auth.clock, &who.user_id, body).await?;
    state
        .audit
        .record(
            &who.user_id,
            &Actor::User,
            "agent_token.create",
            json!({"id": created.view.id, "name": created.view.name, "credentials": created.view.credentials}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's agent tokens (never the tokens themselves).
#[utoipa::path(get, path = "/v1/agent-tokens", operation_id = "list_agent_tokens", tag = "agents",
    responses((status = 200, body = Vec<AgentTokenView>)))]
pub async fn list(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<Vec<AgentTokenView>>, Error> {
    Ok(Json(agents::list(&state.db, &who.user_id).await?))
}

/// Revokes an agent token at once.
#[utoipa::path(delete, path = "/v1/agent-tokens/{id}", operation_id = "revoke_agent_token", tag = "agents",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    who: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    agents::revoke(&state.db, &who.user_id, &id).await?;
    state
        .audit
        .record(
            &who.user_id,
            &Actor::User,
            "agent_token.revoke",
            json!({"id": id}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
