//! Decoding a token for people to read, with no check at all: `aileron attest inspect`.

use serde::Serialize;
use serde_json::{Map, Value};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use crate::jwt;
use crate::report::Rejection;

/// A token taken apart, unverified.
#[derive(Debug, Serialize)]
pub struct Inspection {
    /// Always `false`: nothing was checked.
    pub verified: bool,
    /// The JOSE header, without `x5c` (see `certificates`).
    pub header: Map<String, Value>,
    /// The claims as the token states them.
    pub claims: Map<String, Value>,
    /// The `x5c` certificates, leaf first.
    pub certificates: Vec<CertificateSummary>,
}

/// What a person wants to know about a certificate.
#[derive(Debug, Serialize)]
pub struct CertificateSummary {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Validity start (RFC 2822 as x509-parser prints it).
    pub not_before: String,
    /// Validity end.
    pub not_after: String,
    /// basicConstraints CA.
    pub is_ca: bool,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
}

/// Decodes `token` without verifying anything. Fails only when it cannot be taken apart.
pub fn inspect(token: &str) -> Result<Inspection, Rejection> {
    let parsed = jwt::decode_unverified(token).map_err(Rejection::from_step)?;
    let mut header = parsed.0;
    let certificates = match header.remove("x5c") {
        Some(Value::Array(entries)) => entries.iter().map(summarize).collect(),
        _ => Vec::new(),
    };
    Ok(Inspection {
        verified: false,
        header,
        claims: parsed.1,
        certificates,
    })
}

fn summarize(entry: &Value) -> CertificateSummary {
    let der = entry
        .as_str()
        .and_then(|s| jwt::x5c_der(s).ok())
        .unwrap_or_default();
    let sha256 = hex::encode(ring::digest::digest(&ring::digest::SHA256, &der));
    match X509Certificate::from_der(&der) {
        Ok((_, cert)) => CertificateSummary {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: cert.validity().not_before.to_string(),
            not_after: cert.validity().not_after.to_string(),
            is_ca: cert.is_ca(),
            sha256,
        },
        Err(e) => CertificateSummary {
            subject: format!("(unparseable: {e})"),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            is_ca: false,
            sha256,
        },
    }
}
