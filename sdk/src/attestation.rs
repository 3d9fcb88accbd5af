//! The attest-verify-bind sequence, once, for both paths: straight to an enclave ([`Client`])
//! and relayed by a host ([`HostClient`]).
//!
//! 1. A fresh random nonce goes to the enclave (or the relay).
//! 2. The token is verified against the caller's policy, requiring that nonce (a token minted
//!    for another nonce is a replay: [`Error::Attestation`], check `nonce`).
//! 3. The binding is recomputed from the boot id, HPKE key and TLS key hash the answer
//!    presents, and must be among the token's nonces: a key or boot other than the ones the
//!    enclave bound is [`Error::BindingMismatch`].
//! 4. Straight to an enclave, the TLS key of the connection must be the bound one
//!    ([`Error::TlsKeyMismatch`]); from then on the connection is pinned to it.
//!
//! [`Client`]: crate::Client
//! [`HostClient`]: crate::HostClient

use std::sync::Arc;

use aileron_attest::{Policy, VerifiedAttestation, Verifier};
use ring::rand::SecureRandom as _;

use crate::error::Error;
use crate::wire::{self, AttestationResponse};

/// What a verified attestation answer establishes.
pub(crate) struct Bound {
    pub boot_id: String,
    pub hpke_public_key: [u8; 32],
    pub tls_spki_sha256: [u8; 32],
    pub attestation: VerifiedAttestation,
}

/// A fresh nonce: 24 random bytes, base64url (32 characters).
pub(crate) fn fresh_nonce() -> Result<String, Error> {
    let mut bytes = [0u8; 24];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Invalid("the system random generator failed".into()))?;
    Ok(wire::b64u(&bytes))
}

/// Steps 2 and 3: the token verified for `nonce`, and the presented keys bound by it.
pub(crate) async fn verify(
    answer: &AttestationResponse,
    nonce: &str,
    policy: &Policy,
    verifier: &Arc<Verifier>,
) -> Result<Bound, Error> {
    let boot_id = wire::from_hex::<16>(&answer.boot_id)
        .ok_or_else(|| Error::BadAttestation("boot_id".into()))?;
    let hpke_public_key: [u8; 32] = wire::from_b64u(&answer.hpke_public_key)
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| Error::BadAttestation("hpke_public_key".into()))?;
    let tls_spki_sha256 = wire::from_hex::<32>(&answer.tls_spki_sha256)
        .ok_or_else(|| Error::BadAttestation("tls_spki_sha256".into()))?;
    let attestation = verifier
        .verify_refreshing(&answer.token, policy, &[nonce])
        .await?;
    let binding = wire::binding(&boot_id, &hpke_public_key, &tls_spki_sha256);
    if !attestation.claims().eat_nonce.contains(&binding) {
        return Err(Error::BindingMismatch);
    }
    Ok(Bound {
        boot_id: answer.boot_id.clone(),
        hpke_public_key,
        tls_spki_sha256,
        attestation,
    })
}
