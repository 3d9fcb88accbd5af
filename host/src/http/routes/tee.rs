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
    /// The caller's escrows lost by an enclave restarting.
    escrows_lost: i64,
    /// Who brokers: `enclave`, or `server` (no enclave: the server can read a vault's
    /// credentials while it is unlocked).
    trust: crate::vault::Trust,
    /// The same in words.
    trust_statement: &'static str,
    /// What to do, when something needs doing.
    #[serde(skip_serializing_if = "Option::is_none")]
    action: Option<&'static str>,
}

/// The enclave behind the host: provider, attested or not and why, the verified claims, boot,
/// and the caller's escrows (lost ones say to verify the passphrase again).
#[utoipa::path(get, path = "/v1/tee/status", operation_id = "tee_status", tag = "tee",
    responses((status = 200, body = StatusView), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    who: AuthUser,
) -> Result<Json<StatusView>, Error> {
    // The status asks every enclave for its boot; a restart is noticed now, not at the next tick.
    let status = state.tee.status(&who.user_id).await;
    for e in &status.enclaves {
        if let (Some(boot), Some(enclave)) = (
            &e.boot_id,
            state.tee.enclaves().iter().find(|c| c.id == e.id),
        ) {
            state.escrows.lost_before(enclave, boot).await?;
        }
    }
    let (escrows_active, escrows_lost) = state.escrows.counts(&who.user_id).await?;
    let action = (escrows_lost > 0).then_some(
        "the enclave restarted and lost escrows: unlock the vault again (aileron vault unlock) and escrow sealed credentials again",
    );
    let trust = state.vault.trust();
    Ok(Json(StatusView {
        status,
        escrows_active,
        escrows_lost,
        trust,
        trust_statement: trust_statement(trust),
        action,
    }))
}

fn trust_statement(trust: crate::vault::Trust) -> &'static str {
    match trust {
        crate::vault::Trust::Enclave => {
            "credentials are used only inside the attested enclave; this server stores and relays ciphertext it cannot open"
        }
        crate::vault::Trust::Server => {
            "no enclave is configured: this server brokers requests itself and CAN READ the credentials of a vault while it is unlocked (server-trust mode)"
        }
    }
}
