//! `GET /v1/health`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::http::AppState;

/// The health report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `degraded`.
    pub status: &'static str,
    pub version: &'static str,
    /// `ok` or `unreachable`.
    pub database: &'static str,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/health", get(health))
}

/// Liveness and database reachability; 503 while the database is unreachable.
#[utoipa::path(get, path = "/v1/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let up = state.db.healthy().await;
    let body = Health {
        status: if up { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        database: if up { "ok" } else { "unreachable" },
    };
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}
