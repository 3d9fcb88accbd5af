//! The SDK's errors: each says what went wrong and, where there is one, what to do.

use crate::seal::SealError;
use crate::wire::ErrorCode;

/// What can go wrong talking to an enclave.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The enclave's attestation token failed verification against the policy.
    #[error("enclave attestation rejected: {0}")]
    Attestation(#[from] aileron_attest::Rejection),
    /// The attestation answer is malformed (bad encoding or lengths).
    #[error("malformed attestation answer: {0}")]
    BadAttestation(String),
    /// The boot id, HPKE key or TLS key the enclave presents is not the one its token binds.
    #[error(
        "the enclave's keys do not match the binding in its attestation (a swapped key or another boot)"
    )]
    BindingMismatch,
    /// The TLS key of the connection is not the one the token attests.
    #[error("the enclave's TLS key does not match its attestation (possible interception)")]
    TlsKeyMismatch,
    /// The enclave restarted since the escrow was made: every escrow of the old boot is gone.
    #[error(
        "the enclave restarted (boot {old} is now {new}): its escrows are lost, escrow the credential again"
    )]
    EnclaveRestarted {
        /// The boot the escrow belonged to.
        old: String,
        /// The enclave's boot now.
        new: String,
    },
    /// The enclave refused the request with a stable code (`scope_violation`, `escrow_expired`…).
    #[error("{code} (HTTP {status}): {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable machine-readable code.
        code: ErrorCode,
        /// Human message.
        message: String,
    },
    /// The enclave could not be reached or answered something that is not the protocol.
    #[error("cannot talk to the enclave: {0}")]
    Transport(String),
    /// The Aileron host server could not be reached or answered something unexpected.
    #[error("cannot talk to the Aileron server: {0}")]
    Host(String),
    /// Sealing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The vault refused: a wrong passphrase, a credential the server altered, parameters out
    /// of bounds.
    #[error(transparent)]
    Vault(crate::vault::VaultError),
    /// A scope or request the SDK refuses before sending it.
    #[error("invalid input: {0}")]
    Invalid(String),
}

impl Error {
    /// The stable code of an [`Error::Api`], if it is one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A transport failure in words, with its causes, but never the URL: error text travels (the
/// host shows an enclave's failures to its users) and URLs can name internal addresses.
pub(crate) fn transport(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
