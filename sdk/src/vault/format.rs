//! Vault format v1 (docs/vault.md, "Vault format v1"): the byte-level cryptography of the
//! end-to-end vault, done on the client. The host stores what this produces and opens nothing,
//! except in the declared server-trust mode, where the client hands it the credential key.
//!
//! - KEK = Argon2id v1.3 (NFC(passphrase) as UTF-8, salt 16 bytes, m/t/p, 32 bytes), with the
//!   parameters bounded by [`KdfParams::FLOOR`] and [`KdfParams::CEILING`] on every use.
//! - Vault key: 32 random bytes, wrapped by the KEK with AES-256-GCM, associated data
//!   `aad("wrap", [user id])`.
//! - Credential key = HKDF-SHA256(ikm = vault key, salt = "aileron/vault/v1", info =
//!   "credential-key"); verifier = the same with info "verifier" (the host keeps its SHA-256).
//! - A credential's secret: AES-256-GCM under the credential key, associated data
//!   `aad("credential", [user id, credential id, version (u32 BE), SHA-256(policy bytes)])`.
//! - Every AES-256-GCM output is `nonce (12) ‖ ciphertext ‖ tag (16)`; `aad(purpose, fields)` is
//!   `"aileron/vault/" purpose "/v1"` followed by each field as a u32 BE length and its bytes.

use argon2::{Algorithm, Argon2, Params, Version};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;
use zeroize::Zeroizing;

/// The format version this module writes and reads.
pub const FORMAT: u32 = 1;
/// Salt length.
pub const SALT_LEN: usize = 16;
/// AES-256-GCM tag length.
pub const TAG_LEN: usize = 16;
/// A wrapped vault key: nonce, 32 bytes, tag.
pub const WRAPPED_KEY_LEN: usize = NONCE_LEN + 32 + TAG_LEN;
/// The largest secret a credential holds.
pub const MAX_SECRET_LEN: usize = 16 * 1024;
/// A credential's ciphertext: nonce, a secret of 1 to [`MAX_SECRET_LEN`] bytes, tag.
pub const CIPHERTEXT_LEN: std::ops::RangeInclusive<usize> =
    NONCE_LEN + 1 + TAG_LEN..=NONCE_LEN + MAX_SECRET_LEN + TAG_LEN;
/// HKDF salt of every key derived from the vault key.
const HKDF_SALT: &[u8] = b"aileron/vault/v1";

/// Why a vault operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The passphrase does not open the vault key (or the stored key was altered or belongs to
    /// someone else).
    #[error("the passphrase does not open this vault (or the server changed what it stores)")]
    WrongPassphrase,
    /// A credential does not open under the vault key with its binding: its ciphertext or
    /// policy was changed, or it was moved from another credential or user.
    #[error(
        "credential {0:?} was altered by the server (its policy, ciphertext or identity no longer match what you sealed)"
    )]
    Tampered(String),
    /// Key-derivation parameters outside the floor and ceiling.
    #[error("key-derivation parameters {0}")]
    Parameters(String),
    /// Bytes of the wrong length or encoding.
    #[error("malformed vault data: {0}")]
    Malformed(&'static str),
    /// A secret the format cannot hold (see [`check_secret`]).
    #[error("the secret {0}")]
    Secret(&'static str),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// The least a client accepts: 64 MiB, 3 passes, 1 lane.
    pub const FLOOR: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };
    /// The most a client accepts: a hostile host cannot make it allocate more than 256 MiB or
    /// spend more than 8 passes.
    pub const CEILING: KdfParams = KdfParams {
        m_cost_kib: 256 * 1024,
        t_cost: 8,
        p_cost: 4,
    };
    /// What new vaults use: the floor (about a second in a browser, a third of one natively).
    pub const DEFAULT: KdfParams = KdfParams::FLOOR;

    /// The parameters, if within the floor and the ceiling.
    pub fn checked(self) -> Result<KdfParams, VaultError> {
        let (lo, hi) = (KdfParams::FLOOR, KdfParams::CEILING);
        if self.m_cost_kib < lo.m_cost_kib || self.t_cost < lo.t_cost || self.p_cost < lo.p_cost {
            return Err(VaultError::Parameters(format!(
                "{self:?} are below the floor {lo:?}: a server asking for them weakens your passphrase"
            )));
        }
        if self.m_cost_kib > hi.m_cost_kib || self.t_cost > hi.t_cost || self.p_cost > hi.p_cost {
            return Err(VaultError::Parameters(format!(
                "{self:?} are above the ceiling {hi:?}"
            )));
        }
        Ok(self)
    }
}

/// A 256-bit key in zeroizing memory that never prints.
pub struct Key(SecretBox<[u8; 32]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key([REDACTED])")
    }
}

impl Key {
    /// A key from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Key, VaultError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_| VaultError::Malformed("key"))?;
        Ok(Key(SecretBox::new(Box::new(array))))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Key, VaultError> {
        let mut key = SecretBox::new(Box::new([0u8; 32]));
        SystemRandom::new()
            .fill(secrecy::ExposeSecretMut::expose_secret_mut(&mut key))
            .map_err(|_| VaultError::Random)?;
        Ok(Key(key))
    }

    /// The bytes, for the narrowest scope that needs them.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

/// The key-encryption key from a passphrase. CPU- and memory-heavy by design.
pub fn derive_kek(
    passphrase: &SecretString,
    salt: &[u8],
    params: KdfParams,
) -> Result<Key, VaultError> {
    let params = params.checked()?;
    if salt.len() != SALT_LEN {
        return Err(VaultError::Malformed("salt"));
    }
    let normalised: Zeroizing<String> = Zeroizing::new(passphrase.expose_secret().nfc().collect());
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
            .map_err(|e| VaultError::Parameters(e.to_string()))?,
    );
    let mut kek = SecretBox::new(Box::new([0u8; 32]));
    argon
        .hash_password_into(
            normalised.as_bytes(),
            salt,
            secrecy::ExposeSecretMut::expose_secret_mut(&mut kek),
        )
        .map_err(|e| VaultError::Parameters(e.to_string()))?;
    Ok(Key(kek))
}

/// A fresh random salt.
pub fn new_salt() -> Result<[u8; SALT_LEN], VaultError> {
    let mut salt = [0u8; SALT_LEN];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| VaultError::Random)?;
    Ok(salt)
}

/// Unambiguous associated data: a purpose label, then length-prefixed fields.
pub fn aad(purpose: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("aileron/vault/{purpose}/v1").into_bytes();
    for field in fields {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field);
    }
    out
}

/// Wraps the vault key under the KEK for `user_id`.
pub fn wrap(kek: &Key, vault_key: &Key, user_id: &str) -> Result<Vec<u8>, VaultError> {
    seal(
        kek,
        vault_key.expose(),
        &aad("wrap", &[user_id.as_bytes()]),
        random_nonce()?,
    )
}

/// Unwraps the vault key; a wrong passphrase, another user's key or an altered one fail alike.
pub fn unwrap(kek: &Key, wrapped: &[u8], user_id: &str) -> Result<Key, VaultError> {
    if wrapped.len() != WRAPPED_KEY_LEN {
        return Err(VaultError::Malformed("wrapped key length"));
    }
    let plain = open(kek, wrapped, &aad("wrap", &[user_id.as_bytes()]))
        .map_err(|_| VaultError::WrongPassphrase)?;
    Key::from_bytes(&plain)
}

/// HKDF-SHA256 (ring's) of `ikm` with `salt` and `info`: 32 bytes, as a key.
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8]) -> Key {
    struct Len32;
    impl ring::hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let mut out = SecretBox::new(Box::new([0u8; 32]));
    let info = [info];
    let filled = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, salt)
        .extract(ikm)
        .expand(&info, Len32)
        .and_then(|okm| okm.fill(secrecy::ExposeSecretMut::expose_secret_mut(&mut out)));
    if filled.is_err() {
        // ring refuses only outputs longer than 255 blocks; 32 bytes is one. Never a zero key.
        unreachable!("HKDF-SHA256 refused a 32-byte output");
    }
    Key(out)
}

fn hkdf(vault_key: &Key, info: &[u8]) -> Key {
    hkdf_sha256(vault_key.expose(), HKDF_SALT, info)
}

/// The key credentials are encrypted under (what server-trust mode hands the host).
pub fn credential_key(vault_key: &Key) -> Key {
    hkdf(vault_key, b"credential-key")
}

/// The verifier: proof of the vault key for a passphrase change or a vault reset. The host keeps
/// only its SHA-256 ([`verifier_hash`]).
pub fn verifier(vault_key: &Key) -> Key {
    hkdf(vault_key, b"verifier")
}

/// SHA-256, as the host stores the verifier and as the associated data binds a policy.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

/// What the host stores of the verifier.
pub fn verifier_hash(verifier: &Key) -> [u8; 32] {
    sha256(verifier.expose())
}

/// What a credential's ciphertext is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    /// The owner's user id.
    pub user_id: &'a str,
    /// The credential's id (chosen by the client, a UUID).
    pub credential_id: &'a str,
    /// Its version (1, then one more for every new secret or policy).
    pub version: u32,
    /// Its policy exactly as stored (the JSON bytes).
    pub policy: &'a [u8],
}

impl Binding<'_> {
    /// The associated data.
    pub fn aad(&self) -> Vec<u8> {
        aad(
            "credential",
            &[
                self.user_id.as_bytes(),
                self.credential_id.as_bytes(),
                &self.version.to_be_bytes(),
                &sha256(self.policy),
            ],
        )
    }
}

/// Encrypts a credential's secret.
pub fn seal_credential(
    key: &Key,
    secret: &[u8],
    binding: &Binding<'_>,
) -> Result<Vec<u8>, VaultError> {
    check_secret(secret)?;
    seal(key, secret, &binding.aad(), random_nonce()?)
}

/// A secret the format holds: UTF-8 of 1 to [`MAX_SECRET_LEN`] bytes without ASCII control
/// characters (it goes into a header).
pub fn check_secret(secret: &[u8]) -> Result<(), VaultError> {
    if secret.is_empty() || secret.len() > MAX_SECRET_LEN {
        return Err(VaultError::Secret("must be 1 to 16384 bytes"));
    }
    if std::str::from_utf8(secret).is_err() {
        return Err(VaultError::Secret("is not UTF-8 text"));
    }
    if secret.iter().any(|b| b.is_ascii_control()) {
        return Err(VaultError::Secret(
            "has control characters (CR, LF…): it cannot be sent in a header",
        ));
    }
    Ok(())
}

/// Decrypts a credential's secret, refusing one whose binding does not hold.
pub fn open_credential(
    key: &Key,
    ciphertext: &[u8],
    binding: &Binding<'_>,
    name: &str,
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    open(key, ciphertext, &binding.aad()).map_err(|_| VaultError::Tampered(name.to_owned()))
}

/// An envelope of `plain` under `key` with associated data `aad` (a random nonce), for other
/// keys than the vault's (the server seals escrow handles at rest with it).
pub fn seal_envelope(key: &Key, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
    seal(key, plain, aad, random_nonce()?)
}

/// Opens what [`seal_envelope`] sealed with the same key and associated data.
pub fn open_envelope(
    key: &Key,
    sealed: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    open(key, sealed, aad)
}

fn random_nonce() -> Result<[u8; NONCE_LEN], VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| VaultError::Random)?;
    Ok(nonce)
}

fn aead_key(key: &Key) -> Result<LessSafeKey, VaultError> {
    // ring accepts any 32-byte key for AES-256.
    UnboundKey::new(&AES_256_GCM, key.expose())
        .map(LessSafeKey::new)
        .map_err(|_| VaultError::Malformed("key"))
}

/// AES-256-GCM with an explicit nonce (random in use; fixed only for the test vectors).
pub(crate) fn seal(
    key: &Key,
    plain: &[u8],
    aad: &[u8],
    nonce: [u8; NONCE_LEN],
) -> Result<Vec<u8>, VaultError> {
    let mut buffer = Vec::with_capacity(NONCE_LEN + plain.len() + TAG_LEN);
    buffer.extend_from_slice(&nonce);
    buffer.extend_from_slice(plain);
    let (_, body) = buffer.split_at_mut(NONCE_LEN);
    let tag = aead_key(key)?
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), body)
        .map_err(|_| VaultError::Malformed("seal"))?;
    buffer.extend_from_slice(tag.as_ref());
    Ok(buffer)
}

fn open(key: &Key, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed("ciphertext length"));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce =
        Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Malformed("nonce"))?;
    let mut buffer = Zeroizing::new(body.to_vec());
    let len = aead_key(key)?
        .open_in_place(nonce, Aad::from(aad), &mut buffer)
        .map_err(|_| VaultError::Malformed("does not open"))?
        .len();
    buffer.truncate(len);
    Ok(buffer)
}

#[cfg(test)]
mod tests;
