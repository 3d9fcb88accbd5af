//! The zero-knowledge vault's cryptography: envelope encryption.
//!
//! A passphrase derives a key-encryption key (KEK) with Argon2id ([`kdf`]); the KEK wraps a random
//! per-user data key ([`envelope::DataKey`]); credentials are sealed with AES-256-GCM under the
//! data key with associated data binding owner, credential id and version. The database stores
//! salt, parameters, the wrapped data key and ciphertexts — never the passphrase, the KEK or the
//! data key. A passphrase change re-wraps one key; every credential stays readable.

pub mod envelope;
pub mod kdf;
pub mod service;
pub mod session;

/// Why a vault operation failed. Exact variants are asserted by the tests.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The passphrase does not open the wrapped data key (or the stored key was altered).
    #[error("the passphrase is not correct")]
    WrongPassphrase,
    /// A ciphertext does not open under this key with this associated data: altered, moved to
    /// another credential or owner, or a stale version.
    #[error("the stored ciphertext does not authenticate")]
    Corrupt,
    /// Stored KDF parameters outside the accepted bounds.
    #[error("stored key-derivation parameters are out of bounds: {0}")]
    Parameters(String),
    /// The passphrase is too short or too long.
    #[error("the passphrase must be {min} to {max} characters")]
    PassphraseLength {
        /// Minimum characters.
        min: usize,
        /// Maximum characters.
        max: usize,
    },
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}
