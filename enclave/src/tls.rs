//! Per-boot TLS: a fresh ECDSA P-256 key and self-signed certificate at every start. Clients pin
//! the key through attestation (the SHA-256 of its SubjectPublicKeyInfo is bound into every
//! token), so no CA is involved and a restart changes the key.

use std::sync::Arc;

use rcgen::{CertificateParams, KeyPair, PublicKeyData as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The boot's TLS identity.
pub struct TlsIdentity {
    /// The rustls server configuration.
    pub config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the SubjectPublicKeyInfo.
    pub spki_sha256: [u8; 32],
}

/// Generates the boot's key and certificate.
pub fn generate() -> Result<TlsIdentity, String> {
    let key = KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params =
        CertificateParams::new(vec!["aileron-enclave".to_owned(), "localhost".to_owned()])
            .map_err(|e| e.to_string())?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "aileron-enclave (attested, per boot)",
    );
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    let mut spki_sha256 = [0u8; 32];
    spki_sha256.copy_from_slice(
        ring::digest::digest(&ring::digest::SHA256, &key.subject_public_key_info()).as_ref(),
    );
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], private)
    .map_err(|e| e.to_string())?;
    Ok(TlsIdentity {
        config: Arc::new(config),
        spki_sha256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_boot_has_its_own_key() {
        assert_ne!(
            generate().unwrap().spki_sha256,
            generate().unwrap().spki_sha256
        );
    }
}
