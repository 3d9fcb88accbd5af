//! Every key the host derives from `AILERON_JWT_SIGNING_KEY`, one HKDF-SHA256 per purpose, so
//! that one secret in the environment yields independent keys (a label per purpose).

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

/// 32 bytes for `purpose`, derived from the signing key.
pub fn derive(signing_key: &[u8], purpose: Purpose) -> Zeroizing<[u8; 32]> {
    struct Len32;
    impl ring::hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"aileron/host-key/v1");
    let mut key = Zeroizing::new([0u8; 32]);
    let info: [&[u8]; 1] = [purpose.label()];
    // `expand` fails only for outputs longer than 255 blocks; 32 bytes is one block.
    if let Ok(okm) = salt.extract(signing_key).expand(&info, Len32) {
        let _ = okm.fill(key.as_mut());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_purpose_and_each_signing_key_gives_its_own_key() {
        let a = derive(b"signing-key-one", Purpose::EscrowIndex);
        assert_ne!(*a, *derive(b"signing-key-one", Purpose::Admission));
        assert_ne!(*a, *derive(b"signing-key-two", Purpose::EscrowIndex));
        assert_eq!(*a, *derive(b"signing-key-one", Purpose::EscrowIndex));
        assert_ne!(*a, [0u8; 32]);
    }
}
