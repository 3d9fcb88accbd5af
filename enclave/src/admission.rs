//! Who may use the enclave's costly resources: escrow slots (an admission ticket is required,
//! quotas per subject are kept by the store) and attestation tokens (each one a call to Google's
//! service in production: rate limited, and cached briefly per nonce so a repeated nonce costs
//! nothing). Callers with a valid ticket (the host, re-attesting) draw from their own budget, so
//! strangers cannot starve them.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aileron_sdk::admission::{Admission, AdmissionVerifier};
use aileron_sdk::wire::{AttestationResponse, ErrorCode};
use axum::http::HeaderMap;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// How long a token minted for a nonce is served again for the same nonce.
const CACHE_TTL: Duration = Duration::from_secs(30);
/// Most nonces remembered at once.
const CACHE_ENTRIES: usize = 1024;
/// Admitted callers get this many times the anonymous budget.
const ADMITTED_FACTOR: u32 = 10;

/// The enclave's gatekeeping.
pub struct Gate {
    verifier: AdmissionVerifier,
    anonymous: DefaultDirectRateLimiter,
    admitted: DefaultDirectRateLimiter,
    cache: Mutex<HashMap<String, (Instant, AttestationResponse)>>,
}

impl Gate {
    /// Tickets for `audience` signed by `keys`; `per_minute` fresh tokens for anonymous callers.
    pub fn new(audience: &str, keys: &[[u8; 32]], per_minute: u32) -> Gate {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let admitted =
            per_minute.saturating_mul(NonZeroU32::new(ADMITTED_FACTOR).unwrap_or(NonZeroU32::MIN));
        Gate {
            verifier: AdmissionVerifier::new(audience, keys),
            anonymous: RateLimiter::direct(Quota::per_minute(per_minute)),
            admitted: RateLimiter::direct(Quota::per_minute(admitted)),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The admission of a request: `admission_required` without a ticket, `admission_invalid`
    /// with a bad one.
    pub fn admit(&self, headers: &HeaderMap, now: i64) -> Result<Admission, ApiError> {
        let ticket = headers
            .get(aileron_sdk::admission::HEADER)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::AdmissionRequired,
                    "creating an escrow needs an admission ticket (the Aileron-Admission header)",
                )
            })?
            .to_str()
            .map_err(|_| ApiError::new(ErrorCode::AdmissionInvalid, "malformed ticket"))?;
        self.verifier
            .verify(ticket, now)
            .map_err(|e| ApiError::new(ErrorCode::AdmissionInvalid, e.to_string()))
    }

    /// A token already minted for `nonce`, if recent.
    pub fn cached(&self, nonce: &str) -> Option<AttestationResponse> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(nonce)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, answer)| answer.clone())
    }

    /// Takes one fresh token from the caller's budget: the admitted one when the request
    /// carries a valid ticket, else the anonymous one.
    pub fn take_attestation(&self, headers: &HeaderMap, now: i64) -> Result<(), ApiError> {
        let limiter = match headers.contains_key(aileron_sdk::admission::HEADER) {
            true => {
                self.admit(headers, now)?;
                &self.admitted
            }
            false => &self.anonymous,
        };
        limiter.check().map_err(|_| {
            ApiError::new(
                ErrorCode::RateLimited,
                "too many attestation requests; retry in a few seconds",
            )
        })
    }

    /// Remembers the token minted for `nonce`.
    pub fn remember(&self, nonce: &str, answer: &AttestationResponse) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= CACHE_ENTRIES {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
        }
        if cache.len() < CACHE_ENTRIES {
            cache.insert(nonce.to_owned(), (Instant::now(), answer.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use aileron_sdk::admission::AdmissionSigner;
    use axum::http::HeaderValue;

    use super::*;

    fn now() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }

    fn gate(per_minute: u32) -> (Gate, AdmissionSigner) {
        let signer = AdmissionSigner::from_seed(&[5; 32]).unwrap();
        let key = aileron_sdk::admission::parse_public_key(&signer.public_key()).unwrap();
        (Gate::new("aud", &[key], per_minute), signer)
    }

    fn with_ticket(ticket: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            aileron_sdk::admission::HEADER,
            HeaderValue::from_str(ticket).unwrap(),
        );
        headers
    }

    #[test]
    fn escrows_need_a_valid_ticket() {
        let (gate, signer) = gate(10);
        assert_eq!(
            gate.admit(&HeaderMap::new(), now()).unwrap_err().code(),
            ErrorCode::AdmissionRequired
        );
        assert_eq!(
            gate.admit(&with_ticket("forged"), now())
                .unwrap_err()
                .code(),
            ErrorCode::AdmissionInvalid
        );
        let other = AdmissionSigner::from_seed(&[6; 32]).unwrap();
        let foreign = other.sign("aud", "u", 1, now()).unwrap();
        assert_eq!(
            gate.admit(&with_ticket(&foreign), now())
                .unwrap_err()
                .code(),
            ErrorCode::AdmissionInvalid
        );
        let ticket = signer.sign("aud", "u", 1, now()).unwrap();
        assert_eq!(
            gate.admit(&with_ticket(&ticket), now()).unwrap().subject(),
            "u"
        );
    }

    #[test]
    fn a_flood_of_anonymous_attestations_does_not_starve_admitted_callers() {
        let (gate, signer) = gate(3);
        for _ in 0..3 {
            gate.take_attestation(&HeaderMap::new(), now()).unwrap();
        }
        assert_eq!(
            gate.take_attestation(&HeaderMap::new(), now())
                .unwrap_err()
                .code(),
            ErrorCode::RateLimited
        );
        let host = with_ticket(&signer.sign("aud", "host", 0, now()).unwrap());
        gate.take_attestation(&host, now()).unwrap();
        assert_eq!(
            gate.take_attestation(&with_ticket("bad"), now())
                .unwrap_err()
                .code(),
            ErrorCode::AdmissionInvalid
        );
    }

    #[test]
    fn a_token_is_served_again_for_the_same_nonce_only() {
        let (gate, _) = gate(3);
        let answer = AttestationResponse {
            token: "t".into(),
            token_type: "PKI".into(),
            boot_id: "b".into(),
            hpke_public_key: "k".into(),
            tls_spki_sha256: "s".into(),
        };
        assert!(gate.cached("nonce-0001").is_none());
        gate.remember("nonce-0001", &answer);
        assert_eq!(gate.cached("nonce-0001").unwrap().token, "t");
        assert!(gate.cached("nonce-0002").is_none());
    }
}
