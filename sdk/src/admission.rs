//! Admission tickets: who may create escrows in an enclave.
//!
//! An enclave is reachable by strangers, and its memory is a shared resource. It admits an
//! escrow only with a ticket signed by a key it was configured with (the host's, derived from
//! its signing key, or a client the operator allowed): a short-lived EdDSA JWT naming a subject
//! (a user) and how many live escrows that subject may hold. The enclave counts escrows per
//! subject and in total. The host learns nothing by signing tickets: it already knows its users.
//!
//! Ticket claims: `iss` = [`ISSUER`], `aud` = the enclave's audience, `sub`, `max_escrows`,
//! `iat`, `exp` (at most [`MAX_TICKET_SECONDS`] after `iat`). Header `alg` = `EdDSA`; the
//! algorithm comes from the verifying key, never from the header.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The request header carrying a ticket.
pub const HEADER: &str = "aileron-admission";
/// The `iss` of every ticket.
pub const ISSUER: &str = "aileron-admission";
/// How long a ticket the host signs is valid.
pub const TICKET_SECONDS: i64 = 300;
/// The longest validity a verifier accepts.
pub const MAX_TICKET_SECONDS: i64 = 3600;
/// Clock skew tolerated on `exp`.
const LEEWAY_SECONDS: u64 = 30;

/// Why a ticket or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// Not a valid ticket for this enclave: signature, audience, expiry or claims.
    #[error("the admission ticket is not valid: {0}")]
    Invalid(&'static str),
    /// A configured public key is not 32 bytes of unpadded base64url.
    #[error("an admission key must be 32 bytes of unpadded base64url (an Ed25519 public key)")]
    BadKey,
    /// Signing failed.
    #[error("cannot sign an admission ticket")]
    Signing,
}

/// A ticket's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    max_escrows: u64,
    iat: i64,
    exp: i64,
}

/// What a valid ticket admits. Only [`AdmissionVerifier::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    subject: String,
    max_escrows: u64,
}

impl Admission {
    /// The subject escrows are counted against.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// How many live escrows the subject may hold.
    pub fn max_escrows(&self) -> u64 {
        self.max_escrows
    }
}

/// Signs tickets with an Ed25519 key.
pub struct AdmissionSigner {
    key: EncodingKey,
    public: [u8; 32],
}

impl std::fmt::Debug for AdmissionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdmissionSigner")
            .field("public", &crate::wire::b64u(&self.public))
            .finish_non_exhaustive()
    }
}

impl AdmissionSigner {
    /// The signer whose Ed25519 private key is `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> Result<AdmissionSigner, AdmissionError> {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let signing = ed25519_dalek::SigningKey::from_bytes(seed);
        let der = signing
            .to_pkcs8_der()
            .map_err(|_| AdmissionError::Signing)?;
        let der = Zeroizing::new(der.as_bytes().to_vec());
        Ok(AdmissionSigner {
            key: EncodingKey::from_ed_der(&der),
            public: signing.verifying_key().to_bytes(),
        })
    }

    /// The public key, as an enclave is configured with it (unpadded base64url).
    pub fn public_key(&self) -> String {
        crate::wire::b64u(&self.public)
    }

    /// A ticket for `subject` at the enclave whose audience is `audience`, valid
    /// [`TICKET_SECONDS`] from `now` (Unix seconds).
    pub fn sign(
        &self,
        audience: &str,
        subject: &str,
        max_escrows: u64,
        now: i64,
    ) -> Result<String, AdmissionError> {
        let claims = Claims {
            iss: ISSUER.into(),
            aud: audience.into(),
            sub: subject.into(),
            max_escrows,
            iat: now,
            exp: now + TICKET_SECONDS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.key)
            .map_err(|_| AdmissionError::Signing)
    }
}

/// Checks tickets against the configured public keys.
pub struct AdmissionVerifier {
    keys: Vec<DecodingKey>,
    validation: Validation,
}

impl std::fmt::Debug for AdmissionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdmissionVerifier")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// Parses one public key: 32 bytes of unpadded base64url.
pub fn parse_public_key(text: &str) -> Result<[u8; 32], AdmissionError> {
    crate::wire::from_b64u(text.trim())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(AdmissionError::BadKey)
}

impl AdmissionVerifier {
    /// A verifier for tickets addressed to `audience`, signed by any of `public_keys`.
    pub fn new(audience: &str, public_keys: &[[u8; 32]]) -> AdmissionVerifier {
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        let keys = public_keys
            .iter()
            .map(|key| DecodingKey::from_ed_der(key))
            .collect();
        AdmissionVerifier { keys, validation }
    }

    /// Whether any key is configured.
    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The admission a ticket grants, if it is valid at `now` (Unix seconds).
    pub fn verify(&self, ticket: &str, now: i64) -> Result<Admission, AdmissionError> {
        use jsonwebtoken::errors::ErrorKind;
        if ticket.len() > 4096 {
            return Err(AdmissionError::Invalid("longer than 4096 bytes"));
        }
        let mut last = AdmissionError::Invalid("no admission key is configured");
        for key in &self.keys {
            match jsonwebtoken::decode::<Claims>(ticket, key, &self.validation) {
                Ok(data) => return check_claims(data.claims, now),
                Err(e) => {
                    last = AdmissionError::Invalid(match e.kind() {
                        ErrorKind::ExpiredSignature => "expired",
                        ErrorKind::InvalidAudience => "for another enclave",
                        ErrorKind::InvalidIssuer => "not an admission ticket",
                        ErrorKind::InvalidSignature => "bad signature",
                        ErrorKind::InvalidAlgorithm => "wrong algorithm",
                        _ => "malformed",
                    });
                    // Another key may have signed it: only a bad signature is worth the next key.
                    if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }
}

fn check_claims(claims: Claims, now: i64) -> Result<Admission, AdmissionError> {
    if claims.iat > now + LEEWAY_SECONDS as i64 {
        return Err(AdmissionError::Invalid("issued in the future"));
    }
    if claims.exp - claims.iat > MAX_TICKET_SECONDS {
        return Err(AdmissionError::Invalid("valid for longer than an hour"));
    }
    if claims.sub.is_empty() || claims.sub.len() > 256 {
        return Err(AdmissionError::Invalid("subject must be 1 to 256 bytes"));
    }
    Ok(Admission {
        subject: claims.sub,
        max_escrows: claims.max_escrows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn signer(seed: u8) -> AdmissionSigner {
        AdmissionSigner::from_seed(&[seed; 32]).unwrap()
    }

    fn verifier(signers: &[&AdmissionSigner]) -> AdmissionVerifier {
        let keys: Vec<[u8; 32]> = signers
            .iter()
            .map(|s| parse_public_key(&s.public_key()).unwrap())
            .collect();
        AdmissionVerifier::new("aileron-enclave", &keys)
    }

    #[test]
    fn a_ticket_from_a_configured_key_admits_its_subject() {
        let (host, other) = (signer(1), signer(2));
        let ticket = host.sign("aileron-enclave", "user-1", 7, now()).unwrap();
        let admission = verifier(&[&other, &host]).verify(&ticket, now()).unwrap();
        assert_eq!(admission.subject(), "user-1");
        assert_eq!(admission.max_escrows(), 7);
    }

    #[test]
    fn each_way_a_ticket_fails_is_refused() {
        let host = signer(1);
        let v = verifier(&[&host]);
        let cases = [
            (
                signer(9).sign("aileron-enclave", "u", 1, now()).unwrap(),
                "bad signature",
            ),
            (
                host.sign("another-enclave", "u", 1, now()).unwrap(),
                "for another enclave",
            ),
            (
                host.sign("aileron-enclave", "u", 1, now() - 3600).unwrap(),
                "expired",
            ),
            (
                host.sign("aileron-enclave", "", 1, now()).unwrap(),
                "subject must be",
            ),
            (
                host.sign("aileron-enclave", "u", 1, now() + 600).unwrap(),
                "issued in the future",
            ),
            ("not.a.ticket".to_owned(), "malformed"),
            ("x".repeat(5000), "longer than"),
        ];
        for (ticket, why) in cases {
            match v.verify(&ticket, now()) {
                Err(AdmissionError::Invalid(reason)) => {
                    assert!(reason.contains(why), "{reason} / {why}")
                }
                other => panic!("{why}: {other:?}"),
            }
        }
        assert_eq!(
            AdmissionVerifier::new("aileron-enclave", &[])
                .verify(&host.sign("aileron-enclave", "u", 1, now()).unwrap(), now())
                .unwrap_err(),
            AdmissionError::Invalid("no admission key is configured")
        );
    }

    #[test]
    fn an_hs256_ticket_is_refused_whatever_its_key() {
        let claims = serde_json::json!({"iss": ISSUER, "aud": "aileron-enclave", "sub": "u",
            "max_escrows": 1, "iat": now(), "exp": now() + 60});
        let host = signer(1);
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&parse_public_key(&host.public_key()).unwrap()),
        )
        .unwrap();
        assert!(verifier(&[&host]).verify(&forged, now()).is_err());
    }

    #[test]
    fn public_keys_parse_strictly() {
        assert!(parse_public_key(&signer(1).public_key()).is_ok());
        assert_eq!(parse_public_key("short"), Err(AdmissionError::BadKey));
        assert_eq!(
            parse_public_key(&"A".repeat(44)),
            Err(AdmissionError::BadKey)
        );
    }
}
