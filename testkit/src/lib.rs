//! Test doubles for Aileron's test suites: test CAs and attestation tokens minted with throwaway
//! keys, with knobs for every way a chain or a token can be wrong. Independent of the verifier's
//! code, so a bug there is not mirrored here. Never published, never linked by production code.

pub mod tokens;

pub use tokens::{ChainOptions, TestCa, b64url, google_shaped_claims, sign_hs256, test_digest};
