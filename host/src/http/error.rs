//! Errors become HTTP here, and only here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

tokio::task_local! {
    /// The current request's id, set by the request-id middleware.
    pub static REQUEST_ID: String;
}

/// The wire form: `{"error": {"code", "message", "request_id"}}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// The error object.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl Error {
    fn status(&self) -> StatusCode {
        use Error::*;
        match self {
            InvalidRequest(_)
            | InvalidEmail
            | InvalidPassword
            | InvalidCode
            | CodeExpired
            | CodeAttemptsExceeded
            | OAuthStateMismatch
            | OAuthEmailNotVerified
            | OAuthFailed => StatusCode::BAD_REQUEST,
            InvalidCredentials | Unauthenticated | TokenExpired | InvalidToken
            | InvalidRefreshToken | RefreshTokenReused => StatusCode::UNAUTHORIZED,
            EmailNotVerified | AccountSuspended | Forbidden | OriginNotAllowed => {
                StatusCode::FORBIDDEN
            }
            NotFound | AuthDisabled | ProviderNotConfigured => StatusCode::NOT_FOUND,
            LastSignInMethod => StatusCode::CONFLICT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            InvalidPassphrase(_) | CurrentPassphraseRequired => StatusCode::BAD_REQUEST,
            WrongPassphrase | AgentNotAllowed => StatusCode::FORBIDDEN,
            PassphraseNotSet | AlreadyExists(_) | EscrowLost(_) | TeeDisabled => {
                StatusCode::CONFLICT
            }
            VaultLocked => StatusCode::LOCKED,
            EnclaveUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Refused { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = if let Error::Internal(detail) = &self {
            // The detail is logged once, here; the client gets a generic message and the id.
            tracing::error!(error = %detail, "internal error");
            "internal error".to_owned()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                request_id: REQUEST_ID.try_with(Clone::clone).ok(),
            },
        };
        (status, Json(body)).into_response()
    }
}
