//! `GET /v1/agent/credentials`: what the caller (an agent token, or the user) may make requests
//! with, and the rules of each, so an agent (or a model behind one) knows what it may call.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::Error;
use crate::escrow::{Caller, Usable};
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/agent/credentials", get(usable))
}

/// The credentials and escrows this token may use, with their allow rules and state. An agent
/// token restricted to some names sees only those. Never a secret or a ciphertext.
#[utoipa::path(get, path = "/v1/agent/credentials", tag = "agents",
    responses((status = 200, body = Vec<Usable>), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn usable(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Usable>>, Error> {
    Ok(Json(state.escrows.usable(&caller).await?))
}
