//! Passphrase → key-encryption key, with Argon2id. Parameters are stored beside the salt and
//! bounded when read, so a tampered row cannot ask for a gigabyte of memory or a zero-cost hash.

use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};

use super::VaultError;

/// Salt length in bytes.
pub const SALT_LEN: usize = 16;
/// Passphrase length bounds, in characters.
pub const PASSPHRASE_CHARS: std::ops::RangeInclusive<usize> = 8..=1024;

/// Argon2id cost parameters, as stored with each vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory, KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// OWASP's recommended Argon2id configuration: 19 MiB, 2 passes, 1 lane.
    pub const DEFAULT: KdfParams = KdfParams {
        m_cost_kib: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };
    const MEMORY_KIB: std::ops::RangeInclusive<u32> = (8 * 1024)..=(1024 * 1024);
    const PASSES: std::ops::RangeInclusive<u32> = 1..=10;
    const LANES: std::ops::RangeInclusive<u32> = 1..=8;

    /// Checks the bounds; stored parameters go through this before any hashing.
    pub fn checked(self) -> Result<KdfParams, VaultError> {
        let in_bounds = Self::MEMORY_KIB.contains(&self.m_cost_kib)
            && Self::PASSES.contains(&self.t_cost)
            && Self::LANES.contains(&self.p_cost);
        if in_bounds {
            Ok(self)
        } else {
            Err(VaultError::Parameters(format!("{self:?}")))
        }
    }
}

/// The key-encryption key. Never stored, never printed; zeroized on drop.
pub struct Kek(pub(super) SecretBox<[u8; 32]>);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek([REDACTED])")
    }
}

/// Checks a new passphrase's length (in characters, not bytes).
pub fn check_passphrase(passphrase: &SecretString) -> Result<(), VaultError> {
    let chars = passphrase.expose_secret().chars().count();
    if PASSPHRASE_CHARS.contains(&chars) {
        Ok(())
    } else {
        Err(VaultError::PassphraseLength {
            min: *PASSPHRASE_CHARS.start(),
            max: *PASSPHRASE_CHARS.end(),
        })
    }
}

/// A fresh random salt.
pub fn new_salt() -> Result<[u8; SALT_LEN], VaultError> {
    let mut salt = [0u8; SALT_LEN];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| VaultError::Random)?;
    Ok(salt)
}

/// Derives the KEK. CPU- and memory-heavy by design: call it off the async runtime.
pub fn derive_kek(
    passphrase: &SecretString,
    salt: &[u8],
    params: KdfParams,
) -> Result<Kek, VaultError> {
    let params = params.checked()?;
    let argon_params = Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
        .map_err(|e| VaultError::Parameters(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params);
    let mut key = SecretBox::new(Box::new([0u8; 32]));
    argon
        .hash_password_into(
            passphrase.expose_secret().as_bytes(),
            salt,
            secrecy::ExposeSecretMut::expose_secret_mut(&mut key),
        )
        .map_err(|e| VaultError::Parameters(e.to_string()))?;
    Ok(Kek(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    };

    #[test]
    fn derive_kek_is_deterministic_for_salt_and_parameters() {
        let pass = SecretString::from("correct horse battery staple");
        let a = derive_kek(&pass, b"0123456789abcdef", FAST).unwrap();
        let b = derive_kek(&pass, b"0123456789abcdef", FAST).unwrap();
        let c = derive_kek(&pass, b"fedcba9876543210", FAST).unwrap();
        assert_eq!(a.0.expose_secret(), b.0.expose_secret());
        assert_ne!(a.0.expose_secret(), c.0.expose_secret());
    }

    #[test]
    fn stored_parameters_out_of_bounds_are_refused_before_hashing() {
        let pass = SecretString::from("correct horse battery staple");
        for bad in [
            KdfParams {
                m_cost_kib: 1024,
                ..FAST
            },
            KdfParams {
                m_cost_kib: 4 * 1024 * 1024,
                ..FAST
            },
            KdfParams { t_cost: 0, ..FAST },
            KdfParams {
                t_cost: 1000,
                ..FAST
            },
            KdfParams { p_cost: 64, ..FAST },
        ] {
            assert!(
                matches!(
                    derive_kek(&pass, b"0123456789abcdef", bad),
                    Err(VaultError::Parameters(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passphrase_length_is_counted_in_characters() {
        assert!(check_passphrase(&SecretString::from("éééééééé")).is_ok());
        assert!(matches!(
            check_passphrase(&SecretString::from("short")),
            Err(VaultError::PassphraseLength { .. })
        ));
        assert!(check_passphrase(&SecretString::from("x".repeat(1025))).is_err());
    }

    #[test]
    fn kek_debug_never_prints_key_bytes() {
        let kek = derive_kek(
            &SecretString::from("correct horse battery staple"),
            b"0123456789abcdef",
            FAST,
        )
        .unwrap();
        assert_eq!(format!("{kek:?}"), "Kek([REDACTED])");
    }
}
