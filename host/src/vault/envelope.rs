//! AES-256-GCM envelopes: the data key wrapped by the KEK, credentials sealed by the data key,
//! escrow handles sealed by a host key. Each ciphertext is `nonce (12) ‖ ciphertext ‖ tag (16)`
//! and its associated data binds what it belongs to, so a ciphertext moved to another row,
//! owner or version no longer opens.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretBox};
use zeroize::Zeroizing;

use super::VaultError;
use super::kdf::Kek;

/// A 256-bit AES key held in zeroizing memory.
pub struct DataKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([REDACTED])")
    }
}

impl DataKey {
    /// A fresh random data key.
    pub fn generate() -> Result<DataKey, VaultError> {
        let mut key = SecretBox::new(Box::new([0u8; 32]));
        SystemRandom::new()
            .fill(secrecy::ExposeSecretMut::expose_secret_mut(&mut key))
            .map_err(|_| VaultError::Random)?;
        Ok(DataKey(key))
    }

    /// Wraps this key under the KEK, bound to its owner.
    pub fn wrap(&self, kek: &Kek, owner: &str) -> Result<Vec<u8>, VaultError> {
        seal(
            kek.0.expose_secret(),
            self.0.expose_secret(),
            &aad("dek", &[owner.as_bytes()]),
        )
    }

    /// Unwraps a data key with the KEK. A wrong passphrase (hence KEK) fails authentication.
    pub fn unwrap(kek: &Kek, owner: &str, wrapped: &[u8]) -> Result<DataKey, VaultError> {
        let plain = open(
            kek.0.expose_secret(),
            wrapped,
            &aad("dek", &[owner.as_bytes()]),
        )
        .map_err(|_| VaultError::WrongPassphrase)?;
        let key: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Corrupt)?;
        Ok(DataKey(SecretBox::new(Box::new(key))))
    }

    /// Seals a credential's secret, bound to owner, credential id and version.
    pub fn seal_secret(
        &self,
        secret: &[u8],
        binding: &CredentialBinding<'_>,
    ) -> Result<Vec<u8>, VaultError> {
        seal(self.0.expose_secret(), secret, &binding.aad())
    }

    /// Opens a credential's secret into zeroizing memory.
    pub fn open_secret(
        &self,
        sealed: &[u8],
        binding: &CredentialBinding<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        open(self.0.expose_secret(), sealed, &binding.aad())
    }
}

/// What a credential ciphertext is bound to.
#[derive(Debug, Clone, Copy)]
pub struct CredentialBinding<'a> {
    /// The owning user's id.
    pub owner: &'a str,
    /// The credential's id.
    pub credential_id: &'a str,
    /// The credential's version (incremented on every change of its secret).
    pub version: u32,
}

impl CredentialBinding<'_> {
    fn aad(&self) -> Vec<u8> {
        aad(
            "credential",
            &[
                self.owner.as_bytes(),
                self.credential_id.as_bytes(),
                &self.version.to_be_bytes(),
            ],
        )
    }
}

/// A key the host derives from `AILERON_JWT_SIGNING_KEY` to seal escrow handles at rest.
pub struct HostKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HostKey([REDACTED])")
    }
}

impl HostKey {
    /// The key for the escrow index, derived from the signing key.
    pub fn derive(signing_key: &[u8]) -> HostKey {
        let key = crate::keys::derive(signing_key, crate::keys::Purpose::EscrowIndex);
        HostKey(SecretBox::new(Box::new(*key)))
    }

    /// Seals `plain`, bound to `context` (e.g. the escrow index row's ids).
    pub fn seal(&self, plain: &[u8], context: &[&[u8]]) -> Result<Vec<u8>, VaultError> {
        seal(self.0.expose_secret(), plain, &aad("host", context))
    }

    /// Opens what [`HostKey::seal`] sealed with the same context.
    pub fn open(&self, sealed: &[u8], context: &[&[u8]]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        open(self.0.expose_secret(), sealed, &aad("host", context))
    }
}

/// Unambiguous associated data: a purpose label, then length-prefixed fields.
fn aad(purpose: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("aileron/vault/{purpose}/v1").into_bytes();
    for field in fields {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

fn key(bytes: &[u8; 32]) -> Result<LessSafeKey, VaultError> {
    // ring accepts any 32-byte key for AES-256; an error here would be a ring defect.
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Corrupt)
}

fn seal(key_bytes: &[u8; 32], plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| VaultError::Random)?;
    let mut buffer = Vec::with_capacity(NONCE_LEN + plain.len() + AES_256_GCM.tag_len());
    buffer.extend_from_slice(&nonce);
    buffer.extend_from_slice(plain);
    let (_, body) = buffer.split_at_mut(NONCE_LEN);
    let tag = key(key_bytes)?
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), body)
        .map_err(|_| VaultError::Corrupt)?;
    buffer.extend_from_slice(tag.as_ref());
    Ok(buffer)
}

fn open(key_bytes: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if sealed.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(VaultError::Corrupt);
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Corrupt)?;
    let mut buffer = Zeroizing::new(body.to_vec());
    let plain_len = key(key_bytes)?
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| VaultError::Corrupt)?
        .len();
    buffer.truncate(plain_len);
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::super::kdf::{KdfParams, derive_kek};
    use super::*;

    const FAST: KdfParams = KdfParams {
        m_cost_kib: 8 * 1024,
        t_cost: 1,
        p_cost: 1,
    };

    fn kek(pass: &str) -> Kek {
        derive_kek(&SecretString::from(pass), b"0123456789abcdef", FAST).unwrap()
    }

    fn binding(version: u32) -> CredentialBinding<'static> {
        CredentialBinding {
            owner: "user-1",
            credential_id: "cred-1",
            version,
        }
    }

    #[test]
    fn a_wrapped_data_key_opens_only_with_the_same_passphrase_and_owner() {
        let dek = DataKey::generate().unwrap();
        let wrapped = dek.wrap(&kek("right passphrase"), "user-1").unwrap();
        assert!(DataKey::unwrap(&kek("right passphrase"), "user-1", &wrapped).is_ok());
        assert_eq!(
            DataKey::unwrap(&kek("wrong passphrase"), "user-1", &wrapped).unwrap_err(),
            VaultError::WrongPassphrase
        );
        assert_eq!(
            DataKey::unwrap(&kek("right passphrase"), "user-2", &wrapped).unwrap_err(),
            VaultError::WrongPassphrase
        );
    }

    #[test]
    fn rewrapping_under_a_new_passphrase_keeps_sealed_secrets_readable() {
        let dek = DataKey::generate().unwrap();
        let sealed = dek.seal_secret(b"sk-live-123", &binding(1)).unwrap();
        let rewrapped = dek.wrap(&kek("new passphrase!"), "user-1").unwrap();
        let reopened = DataKey::unwrap(&kek("new passphrase!"), "user-1", &rewrapped).unwrap();
        assert_eq!(
            reopened
                .open_secret(&sealed, &binding(1))
                .unwrap()
                .as_slice(),
            b"sk-live-123"
        );
    }

    #[test]
    fn a_sealed_secret_is_bound_to_owner_credential_and_version() {
        let dek = DataKey::generate().unwrap();
        let sealed = dek.seal_secret(b"sk-live-123", &binding(1)).unwrap();
        assert!(
            !sealed.windows(11).any(|w| w == b"sk-live-123"),
            "plaintext visible in the ciphertext"
        );
        for other in [
            CredentialBinding {
                owner: "user-2",
                ..binding(1)
            },
            CredentialBinding {
                credential_id: "cred-2",
                ..binding(1)
            },
            binding(2),
        ] {
            assert_eq!(
                dek.open_secret(&sealed, &other).unwrap_err(),
                VaultError::Corrupt,
                "{other:?}"
            );
        }
        assert_eq!(
            DataKey::generate()
                .unwrap()
                .open_secret(&sealed, &binding(1))
                .unwrap_err(),
            VaultError::Corrupt
        );
    }

    #[test]
    fn altered_or_truncated_ciphertexts_do_not_open() {
        let dek = DataKey::generate().unwrap();
        let mut sealed = dek.seal_secret(b"secret", &binding(1)).unwrap();
        assert_eq!(
            dek.open_secret(&sealed[..10], &binding(1)).unwrap_err(),
            VaultError::Corrupt
        );
        sealed[14] ^= 1;
        assert_eq!(
            dek.open_secret(&sealed, &binding(1)).unwrap_err(),
            VaultError::Corrupt
        );
    }

    #[test]
    fn host_key_is_derived_per_signing_key_and_binds_its_context() {
        let a = HostKey::derive(&[7u8; 32]);
        let sealed = a.seal(b"handle", &[b"escrow-1"]).unwrap();
        assert_eq!(
            a.open(&sealed, &[b"escrow-1"]).unwrap().as_slice(),
            b"handle"
        );
        assert_eq!(
            a.open(&sealed, &[b"escrow-2"]).unwrap_err(),
            VaultError::Corrupt
        );
        assert_eq!(
            HostKey::derive(&[8u8; 32])
                .open(&sealed, &[b"escrow-1"])
                .unwrap_err(),
            VaultError::Corrupt
        );
    }

    #[test]
    fn aad_fields_are_unambiguous() {
        assert_ne!(aad("x", &[b"ab", b"c"]), aad("x", &[b"a", b"bc"]));
    }

    #[test]
    fn key_types_never_print_their_bytes() {
        assert_eq!(
            format!("{:?}", DataKey::generate().unwrap()),
            "DataKey([REDACTED])"
        );
        assert_eq!(
            format!("{:?}", HostKey::derive(b"k")),
            "HostKey([REDACTED])"
        );
    }
}
