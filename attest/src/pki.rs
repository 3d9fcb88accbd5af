//! PKI tokens: the `x5c` chain (leaf, intermediate[, root]) checked against a pinned root.
//!
//! The chain is checked as plain X.509: signatures, validity at the verification time, the
//! intermediate a CA allowed to sign certificates, no unknown critical extension. Google's
//! intermediate carries EKU 2.23.133.8.1, which a TLS-oriented verifier would refuse, so no TLS
//! path-building library is used. Only the root is pinned; a root inside the token is never a
//! trust anchor (it must be byte-identical to the pinned one, or it is refused).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest::{SHA256, digest};
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::{
    OID_PKCS1_RSAENCRYPTION, OID_PKCS1_SHA256WITHRSA, OID_PKCS1_SHA384WITHRSA,
    OID_PKCS1_SHA512WITHRSA,
};
use x509_parser::prelude::FromDer;

use crate::jwt::{StepError, x5c_der};
use crate::report::Check;

const GOOGLE_ROOT_PEM: &str = include_str!("../roots/google_confidential_space_root.pem");
/// SHA-256 of the DER of Google's Confidential Space Root CA: the built-in pin.
pub const GOOGLE_ROOT_SHA256: &str =
    "148b293821bb0c6a317f413c8ba475814091cb22d49b9e3c94198db8e8f86c39";
/// RSA keys below this size are refused.
pub const MIN_RSA_BITS: usize = 2048;
/// Chains kept in the cache before it is emptied and refilled.
const CACHE_CAPACITY: usize = 1024;

/// Why a trust anchor could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    /// Not a PEM `CERTIFICATE`.
    #[error("not a PEM certificate: {0}")]
    Pem(String),
    /// Not a parseable X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    Certificate(String),
    /// The certificate does not have the pinned fingerprint.
    #[error("certificate SHA-256 is {actual}, the pin is {expected}")]
    Fingerprint {
        /// The pinned fingerprint.
        expected: String,
        /// The fingerprint of the certificate given.
        actual: String,
    },
}

/// A pinned root certificate.
#[derive(Clone)]
pub struct TrustAnchor {
    der: Arc<[u8]>,
    /// The DER as standard base64, as `x5c` carries it, to compare a token's root cheaply.
    b64: Arc<str>,
    fingerprint: [u8; 32],
}

impl std::fmt::Debug for TrustAnchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustAnchor(sha256:{})", self.fingerprint_hex())
    }
}

impl TrustAnchor {
    /// Google's Confidential Space Root CA, built in and checked against its pinned SHA-256.
    pub fn google() -> TrustAnchor {
        match TrustAnchor::from_pem_pinned(GOOGLE_ROOT_PEM.as_bytes(), GOOGLE_ROOT_SHA256) {
            Ok(anchor) => anchor,
            // The PEM is compiled in and covered by a test; a mismatch is a build defect.
            Err(e) => panic!("built-in Google root is corrupt: {e}"),
        }
    }

    /// A root from PEM (the first `CERTIFICATE` block).
    pub fn from_pem(pem_bytes: &[u8]) -> Result<TrustAnchor, AnchorError> {
        let block = pem::parse(pem_bytes).map_err(|e| AnchorError::Pem(e.to_string()))?;
        if block.tag() != "CERTIFICATE" {
            return Err(AnchorError::Pem(format!("block is `{}`", block.tag())));
        }
        TrustAnchor::from_der(block.contents())
    }

    /// A root from PEM that must have the given SHA-256 fingerprint (hex).
    pub fn from_pem_pinned(pem_bytes: &[u8], sha256_hex: &str) -> Result<TrustAnchor, AnchorError> {
        let anchor = TrustAnchor::from_pem(pem_bytes)?;
        let actual = anchor.fingerprint_hex();
        if !actual.eq_ignore_ascii_case(sha256_hex) {
            return Err(AnchorError::Fingerprint {
                expected: sha256_hex.to_owned(),
                actual,
            });
        }
        Ok(anchor)
    }

    /// A root from DER.
    pub fn from_der(der: &[u8]) -> Result<TrustAnchor, AnchorError> {
        parse_cert(der).map_err(|(_, e)| AnchorError::Certificate(e))?;
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(digest(&SHA256, der).as_ref());
        Ok(TrustAnchor {
            der: der.into(),
            b64: STANDARD.encode(der).into(),
            fingerprint,
        })
    }

    /// SHA-256 of the root's DER, lowercase hex.
    pub fn fingerprint_hex(&self) -> String {
        hex::encode(self.fingerprint)
    }

    /// The root's DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
}

/// A chain already verified up to the anchor, with what later verifications still need.
struct VerifiedChain {
    intermediate_b64: String,
    /// (not_before, not_after) of leaf, intermediate and root, in Unix seconds.
    windows: [(i64, i64, &'static str); 3],
    leaf_key: Arc<[u8]>,
}

/// Chains verified against one anchor, keyed by the exact leaf encoding (a stricter key than its
/// fingerprint: equal keys are equal certificates). A hit skips the signature checks but never
/// the validity windows, which are checked against every verification time.
#[derive(Default)]
pub(crate) struct ChainCache {
    entries: RwLock<HashMap<Arc<str>, Arc<VerifiedChain>>>,
}

impl ChainCache {
    fn get(&self, leaf_b64: &str) -> Option<Arc<VerifiedChain>> {
        self.entries.read().ok()?.get(leaf_b64).cloned()
    }

    fn insert(&self, leaf_b64: Arc<str>, chain: Arc<VerifiedChain>) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= CACHE_CAPACITY {
                entries.clear();
            }
            entries.insert(leaf_b64, chain);
        }
    }

    /// Forgets every verified chain (for benchmarks of the cold path).
    pub(crate) fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

/// Verifies the `x5c` chain at `now` and returns the leaf's RSA public key (PKCS#1 DER).
pub(crate) fn verify_chain(
    anchor: &TrustAnchor,
    cache: &ChainCache,
    x5c: &[String],
    now: i64,
) -> Result<Arc<[u8]>, StepError> {
    let (leaf_b64, intermediate_b64) = match x5c {
        [_] => {
            return Err((
                Check::Chain,
                "`x5c` holds a single certificate; a leaf and an intermediate are required".into(),
            ));
        }
        [leaf, intermediate] => (leaf, intermediate),
        [leaf, intermediate, root] => {
            if root.as_str() != &*anchor.b64 {
                return Err((
                    Check::Chain,
                    "the token's root certificate is not the pinned root".into(),
                ));
            }
            (leaf, intermediate)
        }
        _ => {
            return Err((
                Check::Chain,
                format!("`x5c` has {} certificates", x5c.len()),
            ));
        }
    };
    let chain = match cache.get(leaf_b64) {
        Some(chain) if chain.intermediate_b64 == *intermediate_b64 => chain,
        _ => {
            let chain = Arc::new(verify_uncached(anchor, leaf_b64, intermediate_b64)?);
            cache.insert(leaf_b64.as_str().into(), chain.clone());
            chain
        }
    };
    for (not_before, not_after, name) in chain.windows {
        if now < not_before {
            return Err((
                Check::Chain,
                format!("{name} certificate is not valid before {not_before}"),
            ));
        }
        if now > not_after {
            return Err((
                Check::Chain,
                format!("{name} certificate expired at {not_after}"),
            ));
        }
    }
    Ok(chain.leaf_key.clone())
}

fn verify_uncached(
    anchor: &TrustAnchor,
    leaf_b64: &str,
    intermediate_b64: &str,
) -> Result<VerifiedChain, StepError> {
    let leaf_der = x5c_der(leaf_b64)?;
    let intermediate_der = x5c_der(intermediate_b64)?;
    let leaf = parse_cert(&leaf_der).map_err(|(_, e)| (Check::Chain, format!("leaf: {e}")))?;
    let intermediate = parse_cert(&intermediate_der)
        .map_err(|(_, e)| (Check::Chain, format!("intermediate: {e}")))?;
    let root = parse_cert(&anchor.der).map_err(|(_, e)| (Check::Chain, format!("root: {e}")))?;

    check_issued_by(&intermediate, &root, "intermediate", "the pinned root")?;
    check_can_sign_certificates(&intermediate)?;
    check_issued_by(&leaf, &intermediate, "leaf", "the intermediate")?;
    for (cert, name) in [(&leaf, "leaf"), (&intermediate, "intermediate")] {
        check_critical_extensions_known(cert, name)?;
    }
    if leaf.is_ca() {
        return Err((Check::Chain, "the leaf certificate is a CA".into()));
    }
    let leaf_key = rsa_public_key(&leaf)?;
    let window = |c: &X509Certificate<'_>, name| {
        (
            c.validity().not_before.timestamp(),
            c.validity().not_after.timestamp(),
            name,
        )
    };
    Ok(VerifiedChain {
        intermediate_b64: intermediate_b64.to_owned(),
        windows: [
            window(&leaf, "leaf"),
            window(&intermediate, "intermediate"),
            window(&root, "root"),
        ],
        leaf_key,
    })
}

fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>, StepError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err((Check::Chain, "trailing bytes after the certificate".into())),
        Err(e) => Err((Check::Chain, format!("unparseable certificate: {e}"))),
    }
}

fn check_issued_by(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    name: &str,
    issuer_name: &str,
) -> Result<(), StepError> {
    if cert.issuer().as_raw() != issuer.subject().as_raw() {
        return Err((
            Check::Chain,
            format!(
                "{name} certificate names issuer `{}`, not {issuer_name} `{}`",
                cert.issuer(),
                issuer.subject()
            ),
        ));
    }
    let alg = &cert.signature_algorithm.algorithm;
    if ![
        OID_PKCS1_SHA256WITHRSA,
        OID_PKCS1_SHA384WITHRSA,
        OID_PKCS1_SHA512WITHRSA,
    ]
    .contains(alg)
    {
        return Err((
            Check::Chain,
            format!("{name} certificate is signed with unsupported algorithm {alg}"),
        ));
    }
    cert.verify_signature(Some(issuer.public_key()))
        .map_err(|_| {
            (
                Check::Chain,
                format!("{name} certificate's signature does not verify with {issuer_name}'s key"),
            )
        })
}

fn check_can_sign_certificates(intermediate: &X509Certificate<'_>) -> Result<(), StepError> {
    let is_ca = intermediate
        .basic_constraints()
        .map_err(|e| (Check::Chain, format!("intermediate basicConstraints: {e}")))?
        .is_some_and(|bc| bc.value.ca);
    if !is_ca {
        return Err((
            Check::Chain,
            "the intermediate certificate is not a CA".into(),
        ));
    }
    let key_usage = intermediate
        .key_usage()
        .map_err(|e| (Check::Chain, format!("intermediate keyUsage: {e}")))?;
    if key_usage.is_some_and(|ku| !ku.value.key_cert_sign()) {
        return Err((
            Check::Chain,
            "the intermediate's keyUsage does not allow signing certificates".into(),
        ));
    }
    Ok(())
}

fn check_critical_extensions_known(
    cert: &X509Certificate<'_>,
    name: &str,
) -> Result<(), StepError> {
    match cert
        .extensions()
        .iter()
        .find(|e| e.critical && e.parsed_extension().unsupported())
    {
        Some(ext) => Err((
            Check::Chain,
            format!(
                "{name} certificate has unknown critical extension {}",
                ext.oid
            ),
        )),
        None => Ok(()),
    }
}

fn rsa_public_key(leaf: &X509Certificate<'_>) -> Result<Arc<[u8]>, StepError> {
    let spki = leaf.public_key();
    if spki.algorithm.algorithm != OID_PKCS1_RSAENCRYPTION {
        return Err((Check::Key, "the leaf key is not an RSA key".into()));
    }
    let pkcs1 = spki.subject_public_key.data.as_ref();
    let bits = match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => modulus_bits(rsa.modulus),
        _ => return Err((Check::Key, "the leaf's RSA key does not parse".into())),
    };
    if bits < MIN_RSA_BITS {
        return Err((
            Check::Key,
            format!("the leaf's RSA key has {bits} bits, at least {MIN_RSA_BITS} are required"),
        ));
    }
    Ok(pkcs1.into())
}

/// Bits of a big-endian unsigned modulus, ignoring leading zero bytes.
pub(crate) fn modulus_bits(modulus: &[u8]) -> usize {
    let trimmed: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(first) => &modulus[first..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_root_matches_its_pin() {
        assert_eq!(TrustAnchor::google().fingerprint_hex(), GOOGLE_ROOT_SHA256);
    }

    #[test]
    fn from_pem_pinned_rejects_a_wrong_fingerprint() {
        let err = TrustAnchor::from_pem_pinned(GOOGLE_ROOT_PEM.as_bytes(), &"00".repeat(32));
        assert!(matches!(err, Err(AnchorError::Fingerprint { .. })));
    }

    #[test]
    fn from_pem_rejects_garbage() {
        assert!(matches!(
            TrustAnchor::from_pem(b"hello"),
            Err(AnchorError::Pem(_))
        ));
        let not_a_cert = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            TrustAnchor::from_pem(not_a_cert.as_bytes()),
            Err(AnchorError::Certificate(_))
        ));
    }

    #[test]
    fn modulus_bits_ignores_leading_zeros() {
        assert_eq!(modulus_bits(&[0, 0x80, 0]), 16);
        assert_eq!(modulus_bits(&[0x01, 0xff]), 9);
        assert_eq!(modulus_bits(&[0, 0]), 0);
    }
}
