//! The end-to-end vault, client side: the byte format ([`format`], specified in docs/vault.md as
//! "Vault format v1", with test vectors in `sdk/vectors/vault-v1.json`) and credential policies
//! ([`policy`]). The passphrase, the KEK and the vault key never leave the client; the host stores
//! salt, parameters, the wrapped key, a hash of the verifier, policies and ciphertexts.

pub mod api;
pub mod client;
pub mod format;
pub mod policy;
#[cfg(test)]
mod vectors;

pub use format::{KdfParams, Key, VaultError};
pub use policy::{CredentialPolicy, Kind};
