//! The enclave protocol's messages (DESIGN §4), defined once for the enclave, the host and the
//! SDK. Bytes are unpadded base64url; `boot_id` is 32 lowercase hex characters; times RFC 3339.

mod code;

pub use code::ErrorCode;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// HPKE `info` for sealing a credential to the enclave.
pub const ESCROW_INFO: &[u8] = b"aileron/escrow/v1";
/// Domain separator of the attestation binding.
pub const BINDING_LABEL: &[u8] = b"aileron-enclave-binding-v1";

/// `POST /v1/attestation` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationRequest {
    /// 10–74 printable ASCII characters.
    pub nonce: String,
}

/// `POST /v1/attestation` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationResponse {
    /// The attestation token (JWT).
    pub token: String,
    /// `PKI` or `OIDC`.
    pub token_type: String,
    /// 32 lowercase hex characters.
    pub boot_id: String,
    /// The enclave's HPKE public key (X25519), b64u.
    pub hpke_public_key: String,
    /// SHA-256 of the enclave's TLS SPKI, 64 lowercase hex characters.
    pub tls_spki_sha256: String,
}

/// `POST /v1/escrows` request: a credential sealed to the enclave.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscrowRequest {
    /// b64u of the scope JSON bytes (also the HPKE `aad`).
    pub scope: String,
    /// b64u HPKE encapsulated key.
    pub enc: String,
    /// b64u HPKE ciphertext of the secret.
    pub ciphertext: String,
}

/// `201` answer to an escrow. Its `Debug` never prints the handle.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscrowCreated {
    /// The escrow's id.
    pub escrow_id: String,
    /// b64u of 32 random bytes: the capability to use or revoke the escrow. Keep it secret.
    pub handle: String,
    /// When the escrow expires.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for EscrowCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EscrowCreated")
            .field("escrow_id", &self.escrow_id)
            .field("handle", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a credential may be used for, sealed with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Allowed requests; at least one rule.
    pub allow: Vec<AllowRule>,
    /// Where and how the secret is injected.
    pub inject: Inject,
    /// Expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Maximum number of uses, unlimited when absent or null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
}

/// One allowed (methods, URL prefix) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowRule {
    /// HTTP methods, upper case.
    pub methods: Vec<String>,
    /// `https://host[:port]/path/` prefix the request URL must start with, on a segment boundary.
    pub url_prefix: String,
}

/// How the secret goes into the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    /// Header name, e.g. `Authorization`.
    pub header: String,
    /// Value template with `{secret}` exactly once, e.g. `Bearer {secret}`.
    pub format: String,
    /// HTTP Basic: when present, `{secret}` is replaced by `base64(username ":" secret)`, so
    /// the secret is the password alone and is redacted as such.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

impl Inject {
    /// `Authorization: Bearer {secret}`.
    pub fn bearer() -> Inject {
        Inject {
            header: "Authorization".into(),
            format: "Bearer {secret}".into(),
            username: None,
        }
    }

    /// `Authorization: Basic base64(username ":" secret)`.
    pub fn basic(username: String) -> Inject {
        Inject {
            header: "Authorization".into(),
            format: "Basic {secret}".into(),
            username: Some(username),
        }
    }
}

/// `POST /v1/escrows/{id}/requests`: a request to make with the escrowed secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokeredRequest {
    /// HTTP method.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Extra headers as `[name, value]` pairs.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// b64u request body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The upstream's answer, with the secret redacted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokeredResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers as `[name, value]` pairs.
    pub headers: Vec<(String, String)>,
    /// b64u response body.
    pub body: String,
}

/// `GET /v1/escrows/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscrowStatus {
    /// Uses so far.
    pub uses: u64,
    /// The limit, if any.
    pub max_uses: Option<u64>,
    /// Expiry.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `GET /v1/health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// `local` or `confidential-space`.
    pub provider: String,
    /// This boot's id.
    pub boot_id: String,
}

/// Every error: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// A stable machine-readable code and a human message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable code, e.g. `scope_violation`.
    pub code: ErrorCode,
    /// Human message.
    pub message: String,
}

/// `binding = b64u(SHA-256(label ‖ boot_id(16) ‖ hpke_public_key(32) ‖ SHA-256(SPKI)(32)))`.
pub fn binding(boot_id: &[u8; 16], hpke_public_key: &[u8; 32], spki_sha256: &[u8; 32]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(BINDING_LABEL);
    ctx.update(boot_id);
    ctx.update(hpke_public_key);
    ctx.update(spki_sha256);
    b64u(ctx.finish().as_ref())
}

/// Unpadded base64url.
pub fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url.
pub fn from_b64u(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Decodes fixed-length lowercase hex.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || text.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(text).ok()?.try_into().ok()
}

/// Whether `nonce` is 10–74 printable ASCII characters.
pub fn valid_nonce(nonce: &str) -> bool {
    (10..=74).contains(&nonce.len()) && nonce.bytes().all(|b| (0x20..0x7f).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_is_43_characters_and_covers_every_input() {
        let b = binding(&[1; 16], &[2; 32], &[3; 32]);
        assert_eq!(b.len(), 43);
        assert_ne!(b, binding(&[9; 16], &[2; 32], &[3; 32]));
        assert_ne!(b, binding(&[1; 16], &[9; 32], &[3; 32]));
        assert_ne!(b, binding(&[1; 16], &[2; 32], &[9; 32]));
    }

    #[test]
    fn scope_parses_the_design_example_and_refuses_unknown_fields() {
        let json = r#"{"allow": [{"methods": ["GET"], "url_prefix": "https://api.example.com/v1/"}],
            "inject": {"header": "Authorization", "format": "Bearer {secret}"},
            "expires_at": "2030-01-01T00:00:00Z", "max_uses": 100}"#;
        let scope: Scope = serde_json::from_str(json).unwrap();
        assert_eq!(scope.max_uses, Some(100));
        assert!(
            serde_json::from_str::<Scope>(&json.replace("\"max_uses\"", "\"maxuses\"")).is_err()
        );
        let no_limit = json.replace(", \"max_uses\": 100", ", \"max_uses\": null");
        assert_eq!(
            serde_json::from_str::<Scope>(&no_limit).unwrap().max_uses,
            None
        );
    }

    #[test]
    fn escrow_created_debug_never_prints_the_handle() {
        let created = EscrowCreated {
            escrow_id: "e1".into(),
            handle: "capability-bytes".into(),
            expires_at: OffsetDateTime::UNIX_EPOCH,
        };
        let printed = format!("{created:?}");
        assert!(
            !printed.contains("capability-bytes") && printed.contains("[REDACTED]"),
            "{printed}"
        );
    }

    #[test]
    fn hex_and_nonce_validation() {
        assert_eq!(from_hex::<2>("0aff"), Some([0x0a, 0xff]));
        assert_eq!(from_hex::<2>("0AFF"), None);
        assert_eq!(from_hex::<2>("0af"), None);
        assert!(valid_nonce("0123456789"));
        assert!(!valid_nonce("short"));
        assert!(!valid_nonce("0123456789\n"));
    }
}
