//! What the vault API accepts, parsed into values that cannot be wrong: base64url of the right
//! length, KDF parameters within the client floor and ceiling, a policy the broker accepts, and
//! never something that looks like a secret where ciphertext belongs.

use aileron_broker::destination::Destinations;
use aileron_broker::scope::{validate_inject, validate_rules};
use aileron_sdk::vault::format::{self, CIPHERTEXT_LEN, KdfParams, SALT_LEN, WRAPPED_KEY_LEN};
use aileron_sdk::vault::{CredentialPolicy, Kind};
use aileron_sdk::wire;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Largest policy, in bytes.
const MAX_POLICY_BYTES: usize = 8 * 1024;

/// The KDF of a vault, as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    /// Always `argon2id`.
    pub algorithm: String,
    /// Always 19 (Argon2 v1.3).
    pub version: u32,
    /// base64url of 16 bytes.
    pub salt: String,
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Kdf {
    /// Checks what a client sends: the algorithm, the salt, and the parameters within the floor
    /// and ceiling every client enforces (a vault no client could open is refused here).
    pub fn checked(self) -> Result<Kdf, Error> {
        if self.algorithm != "argon2id" || self.version != 19 {
            return Err(bad("kdf: algorithm must be argon2id, version 19"));
        }
        bytes("kdf.salt", &self.salt, SALT_LEN..=SALT_LEN)?;
        let params = KdfParams {
            m_cost_kib: self.m_cost_kib,
            t_cost: self.t_cost,
            p_cost: self.p_cost,
        };
        params
            .checked()
            .map_err(|e| Error::InvalidRequest(format!("kdf: {e}")))?;
        Ok(self)
    }
}

fn bad(message: &str) -> Error {
    Error::InvalidRequest(message.to_owned())
}

/// Decodes base64url of a length within `len`; refuses anything else.
fn bytes(field: &str, text: &str, len: std::ops::RangeInclusive<usize>) -> Result<Vec<u8>, Error> {
    let decoded = wire::from_b64u(text)
        .ok_or_else(|| Error::InvalidRequest(format!("{field}: not base64url")))?;
    if !len.contains(&decoded.len()) {
        return Err(Error::InvalidRequest(format!(
            "{field}: {} bytes, expected {} to {}",
            decoded.len(),
            len.start(),
            len.end()
        )));
    }
    Ok(decoded)
}

/// An AES-256-GCM envelope: the length range, and not text. Random bytes of this length are
/// all printable with a probability below 10^-12; a secret or passphrase sent by mistake is.
fn envelope(field: &str, text: &str, len: std::ops::RangeInclusive<usize>) -> Result<(), Error> {
    let decoded = bytes(field, text, len)?;
    if decoded
        .iter()
        .all(|b| (0x20..0x7f).contains(b) || b"\r\n\t".contains(b))
    {
        return Err(Error::InvalidRequest(format!(
            "{field}: this is text, not ciphertext: encrypt on the client (docs/vault.md)"
        )));
    }
    Ok(())
}

/// The wrapped vault key.
pub fn wrapped_key(text: &str) -> Result<(), Error> {
    envelope("wrapped_key", text, WRAPPED_KEY_LEN..=WRAPPED_KEY_LEN)
}

/// A credential's ciphertext.
pub fn ciphertext(text: &str) -> Result<(), Error> {
    envelope("ciphertext", text, CIPHERTEXT_LEN)
}

/// The hex SHA-256 of a verifier (32 bytes of base64url), as stored.
pub fn verifier_hash(verifier: &str) -> Result<String, Error> {
    let bytes = bytes("verifier", verifier, 32..=32)?;
    Ok(hex::encode(format::sha256(&bytes)))
}

/// A 32-byte key (server-trust mode's credential key).
pub fn key(field: &str, text: &str) -> Result<format::Key, Error> {
    let bytes = zeroize::Zeroizing::new(bytes(field, text, 32..=32)?);
    format::Key::from_bytes(&bytes).map_err(|e| Error::InvalidRequest(e.to_string()))
}

/// A credential id: a UUID in its canonical lower-case form (the client binds it).
pub fn credential_id(text: &str) -> Result<(), Error> {
    match uuid::Uuid::parse_str(text) {
        Ok(id) if id.hyphenated().to_string() == text => Ok(()),
        _ => Err(bad("id: a lower-case hyphenated UUID")),
    }
}

/// A policy as the client serialised it: parsed strictly, consistent with its kind, and with
/// rules and an injection the broker accepts for this server's destinations.
pub fn policy(text: &str, destinations: Destinations) -> Result<CredentialPolicy, Error> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(bad("policy: at most 8 KiB"));
    }
    let policy: CredentialPolicy =
        serde_json::from_str(text).map_err(|e| Error::InvalidRequest(format!("policy: {e}")))?;
    policy
        .consistent()
        .map_err(|m| Error::InvalidRequest(format!("policy: {m}")))?;
    let invalid_scope = |e: aileron_broker::scope::ScopeError| Error::Refused {
        code: wire::ErrorCode::InvalidScope,
        message: e.to_string(),
    };
    validate_rules(&policy.allow, destinations).map_err(invalid_scope)?;
    validate_inject(&policy.inject).map_err(invalid_scope)?;
    if policy.max_uses == Some(0) {
        return Err(Error::Refused {
            code: wire::ErrorCode::InvalidScope,
            message: "max_uses must be at least 1 (or absent)".into(),
        });
    }
    Ok(policy)
}

/// The stored name of a kind.
pub fn kind_name(kind: Kind) -> &'static str {
    kind.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        wire::b64u(bytes)
    }

    #[test]
    fn text_where_ciphertext_belongs_is_refused() {
        let passphrase = b64(b"correct horse battery staple, my passphrase!!");
        assert!(ciphertext(&passphrase).is_err());
        let token = b64(b"ghp_0123456789abcdefghijklmnopqrstuv");
        assert!(ciphertext(&token).is_err());
        let random: Vec<u8> = (0..45u8)
            .map(|i| i.wrapping_mul(97).wrapping_add(200))
            .collect();
        assert!(ciphertext(&b64(&random)).is_ok());
        assert!(ciphertext(&b64(&random[..20])).is_err(), "too short");
        assert!(ciphertext("not base64url!").is_err());
        let key: Vec<u8> = (0..60u8)
            .map(|i| i.wrapping_mul(151).wrapping_add(3))
            .collect();
        assert!(wrapped_key(&b64(&key)).is_ok());
        assert!(wrapped_key(&b64(&key[..59])).is_err());
        assert!(wrapped_key(&b64(b"a raw 32-byte key given by error")).is_err());
    }

    #[test]
    fn kdf_parameters_no_client_would_use_are_refused() {
        let good = Kdf {
            algorithm: "argon2id".into(),
            version: 19,
            salt: b64(&[1; 16]),
            m_cost_kib: 65536,
            t_cost: 3,
            p_cost: 1,
        };
        assert!(good.clone().checked().is_ok());
        for bad in [
            Kdf {
                m_cost_kib: 1024,
                ..good.clone()
            },
            Kdf {
                t_cost: 1000,
                ..good.clone()
            },
            Kdf {
                algorithm: "scrypt".into(),
                ..good.clone()
            },
            Kdf {
                salt: b64(&[1; 8]),
                ..good.clone()
            },
        ] {
            assert!(bad.checked().is_err());
        }
    }

    #[test]
    fn policies_are_parsed_strictly_and_checked_like_escrow_scopes() {
        let ok = r#"{"kind":"bearer","inject":{"header":"Authorization","format":"Bearer {secret}"},"allow":[{"methods":["GET"],"url_prefix":"https://api.example.com/"}]}"#;
        assert!(policy(ok, Destinations::PUBLIC).is_ok());
        for (text, code) in [
            (
                ok.replace("https://api.example.com/", "https://169.254.169.254/"),
                "invalid_scope",
            ),
            (
                ok.replace("https://api.example.com/", "http://api.example.com/"),
                "invalid_scope",
            ),
            (
                ok.replace(r#""kind":"bearer""#, r#""kind":"basic""#),
                "invalid_request",
            ),
            (ok.replace('}', r#","secret":"x"}"#), "invalid_request"),
            (
                ok.replace(
                    r#""allow":[{"methods":["GET"],"url_prefix":"https://api.example.com/"}]"#,
                    r#""allow":[]"#,
                ),
                "invalid_scope",
            ),
        ] {
            let err = policy(&text, Destinations::PUBLIC).unwrap_err();
            assert_eq!(err.code().as_str(), code, "{text}");
        }
    }

    #[test]
    fn credential_ids_are_canonical_uuids() {
        assert!(credential_id("0f1e2d3c-4b5a-4968-8776-655443322110").is_ok());
        assert!(credential_id("0F1E2D3C-4B5A-4968-8776-655443322110").is_err());
        assert!(credential_id("0f1e2d3c4b5a49688776655443322110").is_err());
        assert!(credential_id("../etc").is_err());
    }
}
