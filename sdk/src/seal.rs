//! Sealing a credential to the attested enclave key: RFC 9180 HPKE, base mode,
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; `info` = `aileron/escrow/v1`,
//! `aad` = the exact scope bytes (so the host cannot change the scope sealed with a secret).

use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use zeroize::Zeroizing;

use crate::wire::ESCROW_INFO;

/// The KEM of the protocol.
pub type Kem = X25519HkdfSha256;
/// An enclave's HPKE private key.
pub type PrivateKey = <Kem as hpke::Kem>::PrivateKey;
/// An enclave's HPKE public key.
pub type PublicKey = <Kem as hpke::Kem>::PublicKey;

/// Why sealing or opening failed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// A key or encapsulation of the wrong length or form.
    #[error("malformed HPKE key or encapsulation")]
    Malformed,
    /// The ciphertext does not open: altered, sealed to another key, or with another scope.
    #[error("the sealed credential does not open with this key and scope")]
    Open,
}

/// A fresh key pair.
pub fn generate() -> (PrivateKey, PublicKey) {
    Kem::gen_keypair()
}

/// The 32 public-key bytes.
pub fn public_bytes(pk: &PublicKey) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&pk.to_bytes());
    out
}

/// Seals `secret` to `recipient` with `aad`; returns (enc, ciphertext).
pub fn seal(recipient: &[u8], secret: &[u8], aad: &[u8]) -> Result<(Vec<u8>, Vec<u8>), SealError> {
    let pk = PublicKey::from_bytes(recipient).map_err(|_| SealError::Malformed)?;
    let (enc, ciphertext) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, Kem>(
        &OpModeS::Base,
        &pk,
        ESCROW_INFO,
        secret,
        aad,
    )
    .map_err(|_| SealError::Malformed)?;
    Ok((enc.to_bytes().to_vec(), ciphertext))
}

/// The `POST /v1/escrows` body for `secret` with `scope`, sealed to `recipient`: the scope's
/// exact JSON bytes are both sent and bound as the associated data.
pub fn escrow_request(
    recipient: &[u8],
    secret: &[u8],
    scope: &crate::wire::Scope,
) -> Result<crate::wire::EscrowRequest, crate::Error> {
    let scope_bytes =
        serde_json::to_vec(scope).map_err(|e| crate::Error::Invalid(e.to_string()))?;
    let (enc, ciphertext) = seal(recipient, secret, &scope_bytes)?;
    Ok(crate::wire::EscrowRequest {
        scope: crate::wire::b64u(&scope_bytes),
        enc: crate::wire::b64u(&enc),
        ciphertext: crate::wire::b64u(&ciphertext),
    })
}

/// Opens what [`seal`] sealed; the plaintext lives in zeroizing memory.
pub fn open(
    key: &PrivateKey,
    enc: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, SealError> {
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc).map_err(|_| SealError::Malformed)?;
    hpke::single_shot_open::<AesGcm256, HkdfSha256, Kem>(
        &OpModeR::Base,
        key,
        &enc,
        ESCROW_INFO,
        ciphertext,
        aad,
    )
    .map(Zeroizing::new)
    .map_err(|_| SealError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secret_opens_with_the_key_and_scope_only() {
        let (sk, pk) = generate();
        let (enc, ct) = seal(&public_bytes(&pk), b"sk-123", b"scope").unwrap();
        assert_eq!(
            open(&sk, &enc, &ct, b"scope").unwrap().as_slice(),
            b"sk-123"
        );
        assert_eq!(
            open(&sk, &enc, &ct, b"scope2").unwrap_err(),
            SealError::Open
        );
        let (other, _) = generate();
        assert_eq!(
            open(&other, &enc, &ct, b"scope").unwrap_err(),
            SealError::Open
        );
        assert_eq!(
            open(&sk, &enc[..5], &ct, b"scope").unwrap_err(),
            SealError::Malformed
        );
        assert_eq!(seal(&[0; 5], b"x", b"").unwrap_err(), SealError::Malformed);
    }
}
