//! `/v1/tee/status`: which TEE the host uses, whether it is attested and why not.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::http::AppState;
use crate::http::extract::AuthUser;
use crate::tee::TeeStatus;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/tee/status", get(status))
}

/// The enclave behind the host: provider, attested or not and why, the verified claims, boot.
#[utoipa::path(get, path = "/v1/tee/status", tag = "tee",
    responses((status = 200, body = TeeStatus), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn status(State(state): State<AppState>, _who: AuthUser) -> Json<TeeStatus> {
    Json(state.tee.status().await)
}
