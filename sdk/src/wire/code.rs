//! Every stable error code an Aileron service answers with, and its HTTP status: one vocabulary
//! for the enclave, the host and the clients. `docs/errors.md` lists the same table; a test
//! keeps the two equal.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($variant:ident = $code:literal, $status:literal, $doc:literal;)*) => {
        /// A stable, machine-readable error code (`{"error": {"code": …}}`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)*
            /// A code this version does not know (a newer server's).
            #[serde(other)]
            Unknown,
        }

        impl ErrorCode {
            /// Every known code, in the order of `docs/errors.md`.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Unknown => "unknown",
                }
            }

            /// The HTTP status every service answers this code with.
            pub fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                    ErrorCode::Unknown => 500,
                }
            }

            /// What the code means, in one line (the docs table's third column).
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $doc,)*
                    ErrorCode::Unknown => "a code this version does not know",
                }
            }
        }
    };
}

codes! {
    // Any request.
    InvalidRequest = "invalid_request", 400, "The request is malformed: bad JSON, a missing or unknown field, a bad value.";
    NotFound = "not_found", 404, "No such resource, or not yours (the two are not told apart).";
    MethodNotAllowed = "method_not_allowed", 405, "The path exists but not with this method.";
    RequestTimeout = "request_timeout", 408, "The request's body took too long to arrive, or the answer too long to make.";
    PayloadTooLarge = "payload_too_large", 413, "The request body is larger than allowed.";
    RateLimited = "rate_limited", 429, "Too many requests; retry later.";
    Internal = "internal", 500, "An unexpected failure; the answer carries a request id to report.";
    // Sign-in and sessions.
    InvalidEmail = "invalid_email", 400, "The email address is not valid.";
    InvalidPassword = "invalid_password", 400, "A password must be 8 to 1024 characters.";
    InvalidCredentials = "invalid_credentials", 401, "Email or password is wrong.";
    EmailNotVerified = "email_not_verified", 403, "The email address is not verified yet.";
    AccountSuspended = "account_suspended", 403, "The account is suspended by an operator.";
    InvalidCode = "invalid_code", 400, "The verification code is wrong, expired or tried too often (not told apart); ask for a new one.";
    Unauthenticated = "unauthenticated", 401, "No access token, cookie or agent token was presented.";
    TokenExpired = "token_expired", 401, "The access token has expired; refresh it.";
    InvalidToken = "invalid_token", 401, "The access or agent token is not valid (or was revoked).";
    InvalidRefreshToken = "invalid_refresh_token", 401, "The refresh token is not valid.";
    RefreshTokenReused = "refresh_token_reused", 401, "A rotated refresh token was presented again; its session is revoked.";
    Forbidden = "forbidden", 403, "Your role does not allow this.";
    OriginNotAllowed = "origin_not_allowed", 403, "A cookie-authenticated change came from an Origin that is not allowed.";
    AuthDisabled = "auth_disabled", 404, "The server runs without a database: authentication is off.";
    ProviderNotConfigured = "provider_not_configured", 404, "This sign-in provider is not configured.";
    OauthStateMismatch = "oauth_state_mismatch", 400, "The sign-in attempt is invalid or has expired.";
    OauthEmailNotVerified = "oauth_email_not_verified", 400, "The identity provider did not confirm the email address.";
    OauthFailed = "oauth_failed", 400, "The identity provider refused the sign-in.";
    LastSignInMethod = "last_sign_in_method", 409, "This is the account's last way to sign in.";
    DatabaseUnavailable = "database_unavailable", 503, "The database cannot be reached; retry later.";
    AgentTokenNotAllowed = "agent_token_not_allowed", 403, "Agent tokens can only make brokered requests.";
    AlreadyExists = "already_exists", 409, "Something with this name already exists.";
    QuotaExceeded = "quota_exceeded", 403, "A per-user or per-subject limit (credentials, escrows) is reached.";
    // The vault.
    VaultNotSet = "vault_not_set", 409, "No vault exists yet: make one first (aileron vault set).";
    InvalidVerifier = "invalid_verifier", 403, "The verifier does not prove the vault key (a wrong passphrase on the client).";
    ServerTrustDisabled = "server_trust_disabled", 409, "An enclave brokers on this server: it never holds a vault key.";
    VaultLocked = "vault_locked", 423, "The credential is not unlocked: its owner must unlock the vault (aileron vault unlock).";
    // Escrows and the enclave behind the host.
    EscrowLost = "escrow_lost", 409, "The escrow is gone (the enclave restarted): unlock or escrow again.";
    TeeDisabled = "tee_disabled", 409, "No enclave is configured on this server.";
    EnclaveUnavailable = "enclave_unavailable", 503, "The enclave cannot be reached or does not attest.";
    // The enclave.
    InvalidNonce = "invalid_nonce", 400, "An attestation nonce must be 10 to 74 printable ASCII characters.";
    AttestationUnavailable = "attestation_unavailable", 503, "The enclave could not obtain an attestation token.";
    AdmissionRequired = "admission_required", 401, "Creating an escrow needs an admission ticket (Aileron-Admission).";
    AdmissionInvalid = "admission_invalid", 401, "The admission ticket is not valid: bad signature, expired, or for another audience.";
    SealedPayloadInvalid = "sealed_payload_invalid", 400, "The sealed credential does not open: another key, altered, or its scope changed.";
    SecretSize = "secret_size", 413, "The secret is empty or larger than allowed.";
    InvalidScope = "invalid_scope", 400, "The scope is malformed or names a destination that is not allowed.";
    InvalidSecret = "invalid_secret", 422, "The secret cannot be sent in a header (control characters).";
    MissingHandle = "missing_handle", 401, "Authorization: Bearer <handle> is required.";
    EscrowNotFound = "escrow_not_found", 404, "No escrow with this id and handle.";
    EscrowExpired = "escrow_expired", 410, "The escrow has expired.";
    EscrowUsedUp = "escrow_used_up", 410, "The escrow's uses are spent.";
    EnclaveFull = "enclave_full", 503, "The enclave holds its maximum number of escrows.";
    ScopeViolation = "scope_violation", 403, "The request is outside the credential's scope.";
    DestinationNotAllowed = "destination_not_allowed", 403, "The upstream resolves to an address that is not public.";
    UpstreamError = "upstream_error", 502, "The upstream could not be reached or failed.";
    UpstreamTooLarge = "upstream_too_large", 502, "The upstream's answer is larger than allowed.";
    UpstreamEncoding = "upstream_encoding", 502, "The upstream answered with a content encoding the broker does not pass on.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_serializes_as_its_name_and_back() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
            assert!((400..600).contains(&code.status()), "{code}");
        }
        assert_eq!(
            serde_json::from_str::<ErrorCode>("\"from_the_future\"").unwrap(),
            ErrorCode::Unknown
        );
    }

    /// `docs/errors.md` holds one table row per code: `| code | status | meaning |`.
    #[test]
    fn the_docs_table_lists_every_code_with_its_status_and_meaning() {
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/errors.md"))
                .unwrap();
        let rows: Vec<(String, String, String)> = docs
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line
                    .trim()
                    .strip_prefix('|')?
                    .split('|')
                    .map(str::trim)
                    .collect();
                let code = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((
                    code.to_owned(),
                    cells.get(1)?.to_string(),
                    cells.get(2)?.to_string(),
                ))
            })
            .collect();
        let expected: Vec<(String, String, String)> = ErrorCode::ALL
            .iter()
            .map(|c| {
                (
                    c.as_str().to_owned(),
                    c.status().to_string(),
                    c.meaning().to_owned(),
                )
            })
            .collect();
        assert_eq!(rows, expected);
    }
}
