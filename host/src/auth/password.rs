//! Argon2id password hashing off the async runtime, behind a semaphore.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

/// Accepted password lengths, in characters.
pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 1024;

/// Hashing failures (never caused by the user's input).
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed")]
    Join,
}

/// A password that passed the length rule. No `Debug`, no `Serialize`.
pub struct Password(SecretString);

impl Password {
    /// Accepts 8 to 1024 characters.
    pub fn parse(secret: SecretString) -> Option<Self> {
        let len = secret.expose_secret().chars().count();
        (MIN_LEN..=MAX_LEN).contains(&len).then_some(Self(secret))
    }
}

/// Hashes and verifies passwords with bounded parallelism.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    params: Params,
    /// Verified against when the account does not exist, so both paths cost the same.
    dummy_hash: Arc<str>,
}

impl Hasher {
    /// OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane); one permit per core.
    pub fn new() -> Result<Self, HashError> {
        let params =
            Params::new(19 * 1024, 2, 1, None).map_err(|e| HashError::Argon2(e.to_string()))?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let dummy = hash_blocking(&params, "not a real password, only for timing")?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(cores)),
            params,
            dummy_hash: dummy.into(),
        })
    }

    fn argon(params: &Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
    }

    /// The PHC string of a new hash.
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Join)?;
        let params = self.params.clone();
        tokio::task::spawn_blocking(move || hash_blocking(&params, password.0.expose_secret()))
            .await
            .map_err(|_| HashError::Join)?
    }

    /// Checks a password against a stored hash, or against a dummy when there is none.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, HashError> {
        let _permit = self.permits.acquire().await.map_err(|_| HashError::Join)?;
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let params = self.params.clone();
        let ok = tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else {
                return false;
            };
            Self::argon(&params)
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok()
        })
        .await
        .map_err(|_| HashError::Join)?;
        Ok(ok && real)
    }
}

fn hash_blocking(params: &Params, password: &str) -> Result<String, HashError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| HashError::Argon2(e.to_string()))?;
    Hasher::argon(params)
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}
