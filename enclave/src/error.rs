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
        let (status, code) = e.status_code();
        let (ScopeError::Invalid(message) | ScopeError::Violation(message)) = e;
        ApiError::new(status, code, message)
    }
}

impl From<BrokerError> for ApiError {
    fn from(e: BrokerError) -> ApiError {
        match e {
            BrokerError::Scope(s) => s.into(),
            other => {
                let (status, code) = other.status_code();
                ApiError::new(status, code, other.to_string())
            }
        }
    }
}
