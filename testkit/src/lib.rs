//! Test doubles for Aileron's test suites: test CAs and attestation tokens minted with throwaway
//! keys, a recording upstream, a minimal HTTPS server, and a stand-in for the Confidential Space launcher. Never
//! published, never linked by production code.

pub mod bins;
pub mod enclave;
pub mod https;
pub mod launcher;
pub mod tokens;
pub mod upstream;

pub use bins::workspace_binary;
pub use enclave::{FakeEnclave, Lie, fake_enclave};
pub use https::{HttpsServer, https_server, https_server_with};
pub use launcher::{LauncherRequest, StandInLauncher};
pub use tokens::{ChainOptions, TestCa, b64url, google_shaped_claims, sign_hs256, test_digest};
pub use upstream::{Recorded, Upstream};
