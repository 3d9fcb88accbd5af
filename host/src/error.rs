//! The server's error enum. Every variant has a stable machine-readable code; the single
//! `IntoResponse` lives in `http::error`.

use aileron_sdk::wire::ErrorCode;

use crate::db::DbError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("the email address is not valid")]
    InvalidEmail,
    #[error("passwords must be 8 to 1024 characters")]
    InvalidPassword,
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("the email address is not verified yet")]
    EmailNotVerified,
    #[error("the account is suspended")]
    AccountSuspended,
    #[error(
        "the verification code is wrong, has expired or has had too many wrong tries; ask for a new one"
    )]
    InvalidCode,
    #[error("authentication required")]
    Unauthenticated,
    #[error("the access token has expired")]
    TokenExpired,
    #[error("the access token is not valid")]
    InvalidToken,
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    #[error("the refresh token was already used; the session has been revoked")]
    RefreshTokenReused,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("this request's Origin is not allowed")]
    OriginNotAllowed,
    /// `retry_after`: seconds until the window that refused this ends (the `Retry-After` header).
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("not found")]
    NotFound,
    #[error("this endpoint does not take this method")]
    MethodNotAllowed,
    #[error("the request took too long")]
    RequestTimeout,
    #[error("authentication is disabled (no AILERON_DATABASE_URL)")]
    AuthDisabled,
    #[error("this sign-in provider is not configured")]
    ProviderNotConfigured,
    #[error("the sign-in attempt is invalid or has expired")]
    OAuthStateMismatch,
    #[error("the identity provider did not confirm this email address")]
    OAuthEmailNotVerified,
    #[error("the identity provider refused the sign-in")]
    OAuthFailed,
    #[error("this is the account's last way to sign in")]
    LastSignInMethod,
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("the database is unavailable")]
    DatabaseUnavailable,
    #[error("internal error: {0}")]
    Internal(String),
    #[error("no vault yet: make one first (aileron vault set)")]
    VaultNotSet,
    #[error("the verifier does not prove this vault's key")]
    InvalidVerifier,
    #[error(
        "this server brokers through an enclave and never holds a vault key: unlocking escrows each credential into the enclave"
    )]
    ServerTrustDisabled,
    #[error("{0}")]
    VaultLocked(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    QuotaExceeded(String),
    #[error("agent tokens can only make brokered requests")]
    AgentNotAllowed,
    #[error("{0}")]
    EscrowLost(String),
    #[error("no enclave is configured (AILERON_TEE_PROVIDER is empty)")]
    TeeDisabled,
    /// The detail is logged, never shown: it may name internal addresses.
    #[error("the enclave cannot be reached or does not attest; retry later")]
    EnclaveUnavailable(String),
    /// A refusal with a code shared with the enclave (`scope_violation`, `escrow_expired`…).
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
}

impl Error {
    /// The stable code clients match on (its HTTP status comes with it: one per code).
    pub fn code(&self) -> ErrorCode {
        use Error::*;
        match self {
            InvalidRequest(_) => ErrorCode::InvalidRequest,
            InvalidEmail => ErrorCode::InvalidEmail,
            InvalidPassword => ErrorCode::InvalidPassword,
            InvalidCredentials => ErrorCode::InvalidCredentials,
            EmailNotVerified => ErrorCode::EmailNotVerified,
            AccountSuspended => ErrorCode::AccountSuspended,
            InvalidCode => ErrorCode::InvalidCode,
            Unauthenticated => ErrorCode::Unauthenticated,
            TokenExpired => ErrorCode::TokenExpired,
            InvalidToken => ErrorCode::InvalidToken,
            InvalidRefreshToken => ErrorCode::InvalidRefreshToken,
            RefreshTokenReused => ErrorCode::RefreshTokenReused,
            Forbidden => ErrorCode::Forbidden,
            OriginNotAllowed => ErrorCode::OriginNotAllowed,
            RateLimited { .. } => ErrorCode::RateLimited,
            NotFound => ErrorCode::NotFound,
            MethodNotAllowed => ErrorCode::MethodNotAllowed,
            RequestTimeout => ErrorCode::RequestTimeout,
            AuthDisabled => ErrorCode::AuthDisabled,
            ProviderNotConfigured => ErrorCode::ProviderNotConfigured,
            OAuthStateMismatch => ErrorCode::OauthStateMismatch,
            OAuthEmailNotVerified => ErrorCode::OauthEmailNotVerified,
            OAuthFailed => ErrorCode::OauthFailed,
            LastSignInMethod => ErrorCode::LastSignInMethod,
            PayloadTooLarge => ErrorCode::PayloadTooLarge,
            DatabaseUnavailable => ErrorCode::DatabaseUnavailable,
            Internal(_) => ErrorCode::Internal,
            VaultNotSet => ErrorCode::VaultNotSet,
            InvalidVerifier => ErrorCode::InvalidVerifier,
            ServerTrustDisabled => ErrorCode::ServerTrustDisabled,
            VaultLocked(_) => ErrorCode::VaultLocked,
            AlreadyExists(_) => ErrorCode::AlreadyExists,
            QuotaExceeded(_) => ErrorCode::QuotaExceeded,
            AgentNotAllowed => ErrorCode::AgentTokenNotAllowed,
            EscrowLost(_) => ErrorCode::EscrowLost,
            TeeDisabled => ErrorCode::TeeDisabled,
            EnclaveUnavailable(_) => ErrorCode::EnclaveUnavailable,
            Refused { code, .. } => *code,
        }
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sqlx(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::WorkerCrashed,
            ) => {
                tracing::error!(error = %e, "database unavailable");
                Error::DatabaseUnavailable
            }
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::from(DbError::from(e))
    }
}

impl From<crate::auth::password::HashError> for Error {
    fn from(e: crate::auth::password::HashError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl From<aileron_broker::BrokerError> for Error {
    /// The in-host broker refuses with the enclave's codes (one mapping, in the broker crate),
    /// so clients see one vocabulary.
    fn from(e: aileron_broker::BrokerError) -> Self {
        Error::Refused {
            code: e.code(),
            message: e.message(),
        }
    }
}
