//! Every error the enclave answers with: a status, a stable code, a message that never carries
//! internal detail or secret material. Converted to HTTP in exactly one place.

use aileron_sdk::wire::{ErrorBody, ErrorDetail};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::broker::BrokerError;
use crate::scope::ScopeError;
use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An answer with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// `400 invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = self.code, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
        ApiError::bad_request(rejection.body_text())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let (status, code) = match e {
            StoreError::NotFound => (StatusCode::NOT_FOUND, "escrow_not_found"),
            StoreError::Expired => (StatusCode::GONE, "escrow_expired"),
            StoreError::UsedUp => (StatusCode::GONE, "escrow_used_up"),
            StoreError::Full(_) => (StatusCode::SERVICE_UNAVAILABLE, "enclave_full"),
            StoreError::Random => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        };
        ApiError::new(status, code, e.to_string())
    }
}

impl From<ScopeError> for ApiError {
    fn from(e: ScopeError) -> ApiError {
        match e {
            ScopeError::Invalid(m) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_scope", m),
            ScopeError::Violation(m) => ApiError::new(StatusCode::FORBIDDEN, "scope_violation", m),
        }
    }
}

impl From<BrokerError> for ApiError {
    fn from(e: BrokerError) -> ApiError {
        match e {
            BrokerError::Scope(s) => s.into(),
            BrokerError::BadRequest(m) => ApiError::bad_request(m),
            BrokerError::InvalidSecret => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_secret",
                e.to_string(),
            ),
            BrokerError::Upstream(_) | BrokerError::Unreachable => {
                ApiError::new(StatusCode::BAD_GATEWAY, "upstream_error", e.to_string())
            }
            BrokerError::TooLarge(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "upstream_too_large", e.to_string())
            }
        }
    }
}
