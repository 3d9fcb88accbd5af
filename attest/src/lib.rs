//! # aileron-attest
//!
//! Decides whether a Google Confidential Space attestation token proves what it claims.
//!
//! ## What is verified
//! Every check runs and is recorded in a [`Report`]; the first failure is the [`Rejection`]:
//! - **size**: at most [`MAX_TOKEN_BYTES`], before any parsing;
//! - **format**: three base64url parts; header and claims JSON objects with no duplicate key at
//!   any depth (serde_json alone would keep the last of two);
//! - **header**: only `alg`, `typ`, `kid`, `x5c`; `crit` is refused, and `jku`/`x5u`/`jwk` are
//!   refused, never fetched;
//! - **algorithm**: `RS256` only, bound to RSA keys of at least 2048 bits; the header cannot
//!   choose another;
//! - **key/chain**: PKI tokens (`x5c`) chain leaf → intermediate → the *pinned* root, as plain
//!   X.509 (signatures, validity at the verification time, the intermediate a CA, no unknown
//!   critical extension); a root carried by the token is never trusted. OIDC tokens (`kid`) use
//!   a JWKS, refetched on an unknown `kid` at most once a minute;
//! - **claims**: `iss`, `aud`, `exp`/`nbf`/`iat` with leeway, `eat_nonce` holding every required
//!   nonce, `swname`, `secboot`, `dbgstat`, `hwmodel`, image digest, project, support attributes,
//!   as the [`Policy`] says. A missing claim or one of the wrong JSON type is a rejection.
//!
//! ## Threat model
//! The token arrives from an untrusted network and host. Trusted are the pinned root (Google's
//! is built in, pinned by SHA-256), the JWKS source the caller configured, the policy, and the
//! clock ([`Clock`], injected). Nothing in the token can loosen a check: there is no "if absent,
//! skip". Not verified here: that the enclave's keys are bound to the token (the caller puts the
//! binding in a nonce and requires it, see the SDK), and revocation (Confidential Space publishes
//! no CRL; the leaf lives about 60 days).
#![deny(missing_docs)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

mod claims;
mod clock;
mod inspect;
mod issuer;
mod json;
mod jwks;
mod jwt;
mod pki;
mod policy;
mod report;
mod verify;

pub use claims::{Claims, ConfidentialSpace, Container, Gce, OneOrMany, Submods};
pub use clock::{Clock, FixedClock, SystemClock};
pub use inspect::{CertificateSummary, Inspection, inspect};
pub use issuer::{
    IssuerError, LocalIssuer, MAX_AUDIENCE_BYTES, MAX_NONCE_BYTES, MAX_NONCES, MIN_NONCE_BYTES,
    MintRequest, TOKEN_LIFETIME_SECONDS,
};
#[doc(hidden)]
pub use json::{JsonError, check_object, parse_object};
pub use jwks::{
    GOOGLE_DISCOVERY_URL, Jwks, JwksError, JwksSource, MIN_REFETCH_INTERVAL, https_client,
};
pub use jwt::{ALGORITHM, MAX_TOKEN_BYTES};
pub use pki::{AnchorError, GOOGLE_ROOT_SHA256, MIN_RSA_BITS, TrustAnchor};
pub use policy::{
    DEFAULT_HWMODELS, DEFAULT_LEEWAY_SECONDS, GOOGLE_ISSUER, LOCAL_HWMODEL, LOCAL_ISSUER, Policy,
    PolicyError, is_sha256_digest,
};
pub use report::{Check, Outcome, Rejection, Report};
pub use verify::{DBGSTAT_DISABLED, SWNAME, TokenType, VerifiedAttestation, Verifier};
