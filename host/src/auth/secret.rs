//! Opaque secrets handed to clients (refresh tokens) and verification codes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// A fresh refresh token: 32 random bytes, base64url.
pub fn new_refresh_token() -> SecretString {
    let bytes: [u8; 32] = rand::random();
    SecretString::from(URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a refresh token (high-entropy, so a plain hash suffices).
pub fn token_hash(token: &SecretString) -> String {
    hex::encode(Sha256::digest(token.expose_secret().as_bytes()))
}

/// A fresh six-digit code, uniformly drawn.
pub fn new_code() -> SecretString {
    let n = rand::random_range(0..1_000_000u32);
    SecretString::from(format!("{n:06}"))
}

/// Keyed hashes of verification codes: a six-digit code has too little entropy for a plain hash,
/// so the server's key is mixed in and a stolen table alone does not reveal pending codes.
pub struct CodeHasher(hmac::Key);

impl CodeHasher {
    /// A hasher keyed from the signing key (domain-separated).
    pub fn new(signing_key: &[u8]) -> Self {
        let derive = hmac::Key::new(hmac::HMAC_SHA256, signing_key);
        let sub = hmac::sign(&derive, b"aileron email verification code v1");
        Self(hmac::Key::new(hmac::HMAC_SHA256, sub.as_ref()))
    }

    /// The stored form of `code` for `user`.
    pub fn hash(&self, user: &str, code: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(user.as_bytes());
        ctx.update(b"\0");
        ctx.update(code.as_bytes());
        hex::encode(ctx.sign().as_ref())
    }
}

/// Constant-time comparison of two strings.
pub fn same(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}
