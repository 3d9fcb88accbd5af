//! The server's error enum. Every variant has a stable machine-readable code; the single
//! `IntoResponse` lives in `http::error`.

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
    #[error("the verification code is wrong")]
    InvalidCode,
    #[error("the verification code has expired; ask for a new one")]
    CodeExpired,
    #[error("too many wrong attempts; ask for a new code")]
    CodeAttemptsExceeded,
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
    #[error("too many requests; slow down")]
    RateLimited,
    #[error("not found")]
    NotFound,
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
    #[error("{0}")]
    InvalidPassphrase(String),
    #[error("no vault passphrase is set yet: set one with POST /v1/users/me/passphrase")]
    PassphraseNotSet,
    #[error("changing the passphrase requires current_passphrase")]
    CurrentPassphraseRequired,
    #[error("the passphrase is not correct")]
    WrongPassphrase,
    #[error("the vault is locked: verify your passphrase (POST /v1/users/me/passphrase/verify)")]
    VaultLocked,
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("agent tokens can only make brokered requests")]
    AgentNotAllowed,
    #[error("{0}")]
    EscrowLost(String),
    #[error("no enclave is configured (AILERON_TEE_PROVIDER is empty)")]
    TeeDisabled,
    #[error("the enclave is unavailable: {0}")]
    EnclaveUnavailable(String),
    /// A refusal with a code shared with the enclave (`scope_violation`, `escrow_expired`…).
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
}

impl Error {
    /// The stable code clients match on.
    pub fn code(&self) -> &str {
        use Error::*;
        match self {
            InvalidRequest(_) => "invalid_request",
            InvalidEmail => "invalid_email",
            InvalidPassword => "invalid_password",
            InvalidCredentials => "invalid_credentials",
            EmailNotVerified => "email_not_verified",
            AccountSuspended => "account_suspended",
            InvalidCode => "invalid_code",
            CodeExpired => "code_expired",
            CodeAttemptsExceeded => "code_attempts_exceeded",
            Unauthenticated => "unauthenticated",
            TokenExpired => "token_expired",
            InvalidToken => "invalid_token",
            InvalidRefreshToken => "invalid_refresh_token",
            RefreshTokenReused => "refresh_token_reused",
            Forbidden => "forbidden",
            OriginNotAllowed => "origin_not_allowed",
            RateLimited => "rate_limited",
            NotFound => "not_found",
            AuthDisabled => "auth_disabled",
            ProviderNotConfigured => "provider_not_configured",
            OAuthStateMismatch => "oauth_state_mismatch",
            OAuthEmailNotVerified => "oauth_email_not_verified",
            OAuthFailed => "oauth_failed",
            LastSignInMethod => "last_sign_in_method",
            PayloadTooLarge => "payload_too_large",
            DatabaseUnavailable => "database_unavailable",
            Internal(_) => "internal",
            InvalidPassphrase(_) => "invalid_passphrase",
            PassphraseNotSet => "passphrase_not_set",
            CurrentPassphraseRequired => "current_passphrase_required",
            WrongPassphrase => "wrong_passphrase",
            VaultLocked => "vault_locked",
            AlreadyExists(_) => "already_exists",
            AgentNotAllowed => "agent_token_not_allowed",
            EscrowLost(_) => "escrow_lost",
            TeeDisabled => "tee_disabled",
            EnclaveUnavailable(_) => "enclave_unavailable",
            Refused { code, .. } => code,
        }
    }
}

impl From<DbError> for Error {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => {
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

impl From<crate::vault::VaultError> for Error {
    fn from(e: crate::vault::VaultError) -> Self {
        use crate::vault::VaultError;
        match e {
            VaultError::WrongPassphrase => Error::WrongPassphrase,
            VaultError::PassphraseLength { .. } => Error::InvalidPassphrase(e.to_string()),
            VaultError::Corrupt | VaultError::Parameters(_) | VaultError::Random => {
                Error::Internal(e.to_string())
            }
        }
    }
}

impl From<aileron_enclave::broker::BrokerError> for Error {
    /// The in-host broker refuses with the enclave's statuses and codes (one mapping, in the
    /// enclave crate), so clients see one vocabulary.
    fn from(e: aileron_enclave::broker::BrokerError) -> Self {
        let (status, code) = e.status_code();
        Error::Refused {
            status: status.as_u16(),
            code: code.into(),
            message: e.to_string(),
        }
    }
}
