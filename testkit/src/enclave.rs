//! A fake enclave speaking the real attestation protocol (DESIGN §4) over real TLS, that can
//! lie in one chosen way: another TLS key than the one it attests, an HPKE key or a boot other
//! than the bound ones, or a token minted for another nonce. Clients must refuse each lie.

use std::path::Path;

use aileron_attest::{LocalIssuer, MintRequest, TokenType};
use rcgen::PublicKeyData as _;

use crate::https::{HttpsServer, https_server_with};
use crate::tokens::b64url;

/// The one lie the fake enclave tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lie {
    /// None: an honest enclave (the positive control).
    None,
    /// The token binds (and the answer presents) a TLS key other than the connection's.
    OtherTlsKey,
    /// The answer presents an HPKE key other than the one the token binds.
    OtherHpkeKey,
    /// The answer presents a boot other than the one the token binds.
    OtherBoot,
    /// The token was minted for someone else's nonce.
    OtherNonce,
}

/// A running fake enclave.
pub struct FakeEnclave {
    /// `https://localhost:<port>`.
    pub url: String,
    /// The local issuer's root (PEM): the trust anchor of a client's verifier.
    pub root_pem: String,
    /// The image digest its tokens claim.
    pub image_digest: String,
}

/// `b64u(SHA-256("aileron-enclave-binding-v1" ‖ boot ‖ hpke ‖ spki_sha256))`, written here again
/// from DESIGN §4 so the double does not share the client's code.
fn binding(boot: &[u8; 16], hpke: &[u8; 32], spki_sha256: &[u8; 32]) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [&b"aileron-enclave-binding-v1"[..], boot, hpke, spki_sha256] {
        ctx.update(part);
    }
    b64url(ctx.finish().as_ref())
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

/// The `nonce` of an attestation request's JSON body.
fn nonce_of(request: &str) -> String {
    let body = request.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["nonce"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Starts a fake enclave telling `lie`; its local CA lives in `ca_dir`.
pub async fn fake_enclave(lie: Lie, ca_dir: &Path) -> FakeEnclave {
    let issuer = LocalIssuer::open(ca_dir).unwrap();
    let root_pem = issuer.root_pem().to_owned();
    let image_digest = crate::tokens::test_digest('f');
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let real_spki = sha256(&cert.signing_key.subject_public_key_info());
    let (boot, hpke) = ([1u8; 16], [2u8; 32]);
    let digest = image_digest.clone();
    let answer = move |_: &str, request: &str| {
        let presented_spki = match lie {
            Lie::OtherTlsKey => [9u8; 32],
            _ => real_spki,
        };
        let bound_hpke = if lie == Lie::OtherHpkeKey {
            [3u8; 32]
        } else {
            hpke
        };
        let bound_boot = if lie == Lie::OtherBoot {
            [4u8; 16]
        } else {
            boot
        };
        let nonce = match lie {
            Lie::OtherNonce => "someone-elses-nonce-0123".to_owned(),
            _ => nonce_of(request),
        };
        let token = issuer
            .mint(&MintRequest {
                audience: "aileron-enclave".into(),
                nonces: vec![nonce, binding(&bound_boot, &bound_hpke, &presented_spki)],
                token_type: TokenType::Pki,
                image_digest: digest.clone(),
                env: Default::default(),
                now: time::OffsetDateTime::now_utc().unix_timestamp() as u64,
            })
            .unwrap();
        let body = serde_json::json!({
            "token": token,
            "token_type": "PKI",
            "boot_id": hex_lower(&boot),
            "hpke_public_key": b64url(&hpke),
            "tls_spki_sha256": hex_lower(&presented_spki),
        });
        (200, body.to_string())
    };
    let HttpsServer { url, .. } = https_server_with(cert, answer).await;
    FakeEnclave {
        url,
        root_pem,
        image_digest,
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
