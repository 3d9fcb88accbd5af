//! Every key the host derives from `AILERON_JWT_SIGNING_KEY`, one HKDF-SHA256 per purpose, so
//! that one secret in the environment yields independent keys (a label per purpose).

use aileron_sdk::vault::format::{self, Key};
use zeroize::Zeroizing;

/// The purposes, as HKDF `info` labels. Never reuse one for another purpose.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// Seals escrow handles at rest (the escrow index).
    EscrowIndex,
    /// The Ed25519 seed of the admission tickets the host signs for its enclave.
    Admission,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::EscrowIndex => b"escrow-index",
            Purpose::Admission => b"admission-ed25519-seed",
        }
    }
}

/// The key for `purpose`, derived from the signing key.
pub fn derive(signing_key: &[u8], purpose: Purpose) -> Key {
    format::hkdf_sha256(signing_key, b"aileron/host-key/v1", purpose.label())
}

/// Seals escrow handles at rest (the escrow index), bound to their row.
pub struct HostKey(Key);

impl std::fmt::Debug for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostKey([REDACTED])")
    }
}

impl HostKey {
    /// The escrow-index key of this signing key.
    pub fn derive(signing_key: &[u8]) -> HostKey {
        HostKey(derive(signing_key, Purpose::EscrowIndex))
    }

    /// Seals `plain`, bound to `context` (the index row's identity).
    pub fn seal(&self, plain: &[u8], context: &[&[u8]]) -> Result<Vec<u8>, format::VaultError> {
        format::seal_envelope(&self.0, plain, &format::aad("host", context))
    }

    /// Opens what [`HostKey::seal`] sealed with the same context.
    pub fn open(
        &self,
        sealed: &[u8],
        context: &[&[u8]],
    ) -> Result<Zeroizing<Vec<u8>>, format::VaultError> {
        format::open_envelope(&self.0, sealed, &format::aad("host", context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_and_each_signing_key_gives_its_own_key() {
        let key = |signing_key: &[u8], purpose| *derive(signing_key, purpose).expose();
        let a = key(b"signing-key-one", Purpose::EscrowIndex);
        assert_ne!(a, key(b"signing-key-one", Purpose::Admission));
        assert_ne!(a, key(b"signing-key-two", Purpose::EscrowIndex));
        assert_eq!(a, key(b"signing-key-one", Purpose::EscrowIndex));
        assert_ne!(a, [0u8; 32]);
    }

    #[test]
    fn the_host_key_binds_its_context_and_never_prints() {
        let a = HostKey::derive(&[7u8; 32]);
        let sealed = a.seal(b"handle", &[b"escrow-1"]).unwrap();
        assert_eq!(
            a.open(&sealed, &[b"escrow-1"]).unwrap().as_slice(),
            b"handle"
        );
        assert!(a.open(&sealed, &[b"escrow-2"]).is_err());
        assert!(
            HostKey::derive(&[8u8; 32])
                .open(&sealed, &[b"escrow-1"])
                .is_err()
        );
        assert_eq!(format!("{a:?}"), "HostKey([REDACTED])");
    }
}
