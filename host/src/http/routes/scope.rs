//! `POST /v1/scope/check`: would a credential's policy allow this request? Answered by the
//! broker's own scope code, the code the enclave runs for every brokered request, so a client
//! (the UI's "test a request" panel, an agent's MCP tool) never needs a second matcher that
//! could drift.

use aileron_broker::scope::{ScopeError, check_rules};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::escrow::Caller;
use crate::http::AppState;
use crate::http::extract::JsonBody;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/scope/check", post(check))
}

/// A policy (or a stored credential, by name) and a request to check against it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeCheck {
    /// A credential policy as JSON text (a draft, or a stored credential's `policy`).
    policy: Option<String>,
    /// Or the name of a vault credential the caller may use (agent tokens: one of theirs).
    credential: Option<String>,
    /// The request's method, e.g. `GET`.
    method: String,
    /// The request's absolute URL.
    url: String,
}

/// The verdict.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ScopeVerdict {
    /// Whether the enclave would make this request with the credential.
    allowed: bool,
    /// When allowed: the URL as it would be called (normalised).
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// When not allowed: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// Checks a request against a policy, or a stored credential's, without making it. Exactly one
/// of `policy` and `credential`. An invalid policy is refused with the code the credential
/// routes use for it (`invalid_request` or `invalid_scope`). Users and agent tokens.
#[utoipa::path(post, path = "/v1/scope/check", tag = "credentials", request_body = ScopeCheck,
    responses((status = 200, body = ScopeVerdict), (status = 400, body = crate::http::error::ErrorBody),
        (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ScopeCheck>,
) -> Result<Json<ScopeVerdict>, Error> {
    let text = match (body.policy, body.credential) {
        (Some(policy), None) => policy,
        (None, Some(name)) => {
            caller.may_use(&name)?;
            state.vault.credential(&caller.user_id, &name).await?.policy
        }
        _ => {
            return Err(Error::InvalidRequest(
                "give exactly one of policy and credential".into(),
            ));
        }
    };
    let policy = crate::vault::input::policy(&text, state.destinations)?;
    let verdict = match check_rules(&policy.allow, state.destinations, &body.method, &body.url) {
        Ok((_, url)) => ScopeVerdict {
            allowed: true,
            url: Some(url.to_string()),
            reason: None,
        },
        Err(ScopeError::Violation(reason)) => ScopeVerdict {
            allowed: false,
            url: None,
            reason: Some(reason),
        },
        // The rules passed validation above; the broker refusing them now would be a bug.
        Err(ScopeError::Invalid(m)) => return Err(Error::Internal(m)),
    };
    Ok(Json(verdict))
}
