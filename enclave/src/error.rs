//! Every error the enclave answers with: a stable code (and its status, one per code), a message
//! that never carries internal detail or secret material. Converted to HTTP in exactly one place.

use aileron_broker::BrokerError;
use aileron_broker::scope::ScopeError;
use aileron_sdk::wire::{ErrorBody, ErrorCode, ErrorDetail};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
}

impl ApiError {
    /// An answer with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// `400 invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidRequest, message)
    }

    /// The code.
    #[cfg(test)]
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(code = %self.code, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        (status, Json(body)).into_response()
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> ApiError {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
            }
            _ => ApiError::bad_request(rejection.body_text()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let code = match e {
            StoreError::NotFound => ErrorCode::EscrowNotFound,
            StoreError::Expired => ErrorCode::EscrowExpired,
            StoreError::UsedUp => ErrorCode::EscrowUsedUp,
            StoreError::Full(_) => ErrorCode::EnclaveFull,
            StoreError::SubjectFull(_) => ErrorCode::QuotaExceeded,
            StoreError::Random => ErrorCode::Internal,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<ScopeError> for ApiError {
    fn from(e: ScopeError) -> ApiError {
        BrokerError::Scope(e).into()
    }
}

impl From<BrokerError> for ApiError {
    fn from(e: BrokerError) -> ApiError {
        ApiError::new(e.code(), e.message())
    }
}
