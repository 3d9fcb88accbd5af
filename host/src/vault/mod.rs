//! The end-to-end vault, server side (docs/vault.md). Clients derive the KEK, hold the vault key
//! and encrypt credentials; the server stores what they send, after checking its shape (never
//! plaintext where ciphertext belongs), and proofs of the vault key. In server-trust mode (no
//! enclave) it holds a client's credential key for a session, and says so.

pub mod input;
pub mod service;
pub mod session;

pub use service::{Trust, Vault, VaultSettings};
