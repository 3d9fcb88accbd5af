//! Attested TLS: the enclave's certificate is self-signed and per boot, so no CA can vouch for
//! it. Instead the client learns the SHA-256 of its SubjectPublicKeyInfo from a verified
//! attestation token and accepts exactly that key afterwards.
//!
//! The attestation request itself necessarily runs before the key is known: it uses
//! [`SpkiVerifier::capture`], which records the key it was shown, and the client then checks
//! that record against the token before anything secret is sent.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};
use x509_parser::prelude::{FromDer, X509Certificate};

/// SHA-256 of the end-entity certificate's SubjectPublicKeyInfo.
pub fn spki_sha256(cert_der: &[u8]) -> Option<[u8; 32]> {
    let (_, cert) = X509Certificate::from_der(cert_der).ok()?;
    let digest = ring::digest::digest(&ring::digest::SHA256, cert.public_key().raw);
    digest.as_ref().try_into().ok()
}

#[derive(Debug)]
enum Mode {
    Capture(Arc<Mutex<Option<[u8; 32]>>>),
    Pin([u8; 32]),
}

/// A rustls verifier that pins one SPKI (or captures the one it is shown).
#[derive(Debug)]
pub struct SpkiVerifier {
    mode: Mode,
    algorithms: WebPkiSupportedAlgorithms,
}

impl SpkiVerifier {
    /// Accepts only a certificate whose SPKI hashes to `spki_sha256`.
    pub fn pin(spki_sha256: [u8; 32]) -> Arc<SpkiVerifier> {
        Arc::new(SpkiVerifier {
            mode: Mode::Pin(spki_sha256),
            algorithms: provider().signature_verification_algorithms,
        })
    }

    /// Accepts any certificate and records its SPKI hash in `slot`. Only for the attestation
    /// request, whose answer is checked against the recorded hash before anything is trusted.
    pub fn capture(slot: Arc<Mutex<Option<[u8; 32]>>>) -> Arc<SpkiVerifier> {
        Arc::new(SpkiVerifier {
            mode: Mode::Capture(slot),
            algorithms: provider().signature_verification_algorithms,
        })
    }
}

/// The ring crypto provider.
pub fn provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

impl ServerCertVerifier for SpkiVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(actual) = spki_sha256(end_entity) else {
            return Err(Error::InvalidCertificate(
                rustls::CertificateError::BadEncoding,
            ));
        };
        match &self.mode {
            // The SPKI hash is public: no constant-time comparison is needed.
            Mode::Pin(expected) if *expected == actual => Ok(ServerCertVerified::assertion()),
            Mode::Pin(_) => Err(Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            )),
            Mode::Capture(slot) => {
                let mut slot = slot
                    .lock()
                    .map_err(|_| Error::General("capture slot poisoned".into()))?;
                // A second, different key within one attestation exchange is refused.
                match *slot {
                    Some(seen) if seen != actual => Err(Error::InvalidCertificate(
                        rustls::CertificateError::ApplicationVerificationFailure,
                    )),
                    _ => {
                        *slot = Some(actual);
                        Ok(ServerCertVerified::assertion())
                    }
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A reqwest client whose TLS accepts exactly what `verifier` accepts.
pub fn client_with(verifier: Arc<SpkiVerifier>, pooled: bool) -> Result<reqwest::Client, String> {
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none());
    if !pooled {
        builder = builder.pool_max_idle_per_host(0);
    }
    builder.build().map_err(|e| e.to_string())
}
