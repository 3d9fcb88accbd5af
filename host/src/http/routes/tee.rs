//! `/v1/tee/status`: which TEE the host uses, whether it is attested and why not, and what
//! became of the caller's escrows.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::AuthUser;
use crate::tee::TeeStatus;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/tee/status", get(status))
}

/// The status with the caller's escrows.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusView {
    #[serde(flatten)]
    status: TeeStatus,
    /// The caller's escrows in the enclave now.
    escrows_active: i64,
    /// The caller's escrows the enclave lost by restarting.
    escrows_lost: i64,
    /// What to do, when something needs doing.
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
}

/// The enclave behind the host: provider, attested or not and why, the verified claims, boot,
/// and the caller's escrows (lost ones say to verify the passphrase again).
#[utoipa::path(get, path = "/v1/tee/status", tag = "tee",
    responses((status = 200, body = StatusView), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<StatusView>, Error> {
    // The status asks the enclave for its boot; a restart is noticed now, not at the next tick.
    let status = state.tee.status().await;
    if let Some(boot) = &status.boot_id {
        crate::relay::lost_before(&state, boot).await?;
    }
    let (escrows_active, escrows_lost) = crate::relay::counts(&state, &who.user_id).await?;
    let action = (escrows_lost > 0).then_some(
        "the enclave restarted and lost escrows: verify your passphrase again (POST /v1/users/me/passphrase/verify) and escrow sealed credentials again",
    );
    Ok(Json(StatusView {
        status,
        escrows_active,
        escrows_lost,
        action,
    }))
}
