//! The verifier: every check of the design, in order, into one report.

use std::sync::{Arc, RwLock};

use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

use crate::claims::Claims;
use crate::clock::{Clock, SystemClock};
use crate::jwks::{JwksError, JwksSource};
use crate::jwt::{self, Header, KeyRef, StepError};
use crate::pki::{self, ChainCache, MIN_RSA_BITS, TrustAnchor};
use crate::policy::Policy;
use crate::report::{Check, Outcome, Rejection, Report};

/// The only `swname` a Confidential Space token may carry.
pub const SWNAME: &str = "CONFIDENTIAL_SPACE";
/// The `dbgstat` of a production image.
pub const DBGSTAT_DISABLED: &str = "disabled-since-boot";

/// How the token named its signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TokenType {
    /// `x5c` chain to a pinned root.
    Pki,
    /// `kid` in a JWKS.
    Oidc,
}

/// A token that passed every check. Only the verifier constructs one, so a function that takes
/// a `&VerifiedAttestation` can rely on the checks having run.
#[derive(Debug, Clone)]
pub struct VerifiedAttestation {
    claims: Claims,
    raw_claims: Vec<u8>,
    token_type: TokenType,
    report: Report,
}

impl VerifiedAttestation {
    /// The typed claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }
    /// Every claim of the token, including those not typed.
    pub fn raw_claims(&self) -> Map<String, Value> {
        // These bytes passed the strict parser already; an empty map is unreachable.
        crate::json::parse_object(&self.raw_claims).unwrap_or_default()
    }
    /// PKI or OIDC.
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }
    /// Every check and its outcome.
    pub fn report(&self) -> &Report {
        &self.report
    }
}

/// Verifies Confidential Space tokens: PKI tokens against a pinned root, OIDC tokens against a
/// JWKS. Cheap to share (`Arc`) across threads; the chain cache is internal.
pub struct Verifier {
    anchor: Option<TrustAnchor>,
    jwks: Option<Arc<JwksSource>>,
    chains: ChainCache,
    /// The last header segment decoded, with its parse: tokens from one enclave repeat the same
    /// header (and its ~5 KB `x5c`) byte for byte, so equal bytes skip decoding.
    last_header: RwLock<Option<Arc<(String, Header)>>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("anchor", &self.anchor)
            .field("jwks", &self.jwks)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for PKI tokens chaining to `anchor`.
    pub fn new(anchor: TrustAnchor) -> Verifier {
        Verifier {
            anchor: Some(anchor),
            jwks: None,
            chains: ChainCache::default(),
            last_header: RwLock::new(None),
            clock: Arc::new(SystemClock),
        }
    }

    /// A verifier for PKI tokens chaining to Google's built-in, pinned root.
    pub fn google() -> Verifier {
        Verifier::new(TrustAnchor::google())
    }

    /// A verifier for OIDC tokens only.
    pub fn oidc(jwks: Arc<JwksSource>) -> Verifier {
        Verifier {
            anchor: None,
            jwks: Some(jwks),
            chains: ChainCache::default(),
            last_header: RwLock::new(None),
            clock: Arc::new(SystemClock),
        }
    }

    /// Also accepts OIDC tokens whose `kid` is in `jwks`.
    pub fn with_jwks(mut self, jwks: Arc<JwksSource>) -> Verifier {
        self.jwks = Some(jwks);
        self
    }

    /// Uses `clock` for the verification time.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Verifier {
        self.clock = clock;
        self
    }

    /// Forgets every cached chain (benchmarks of the cold path).
    pub fn clear_chain_cache(&self) {
        self.chains.clear();
    }

    /// Verifies `token` against `policy`; `eat_nonce` must contain every one of `nonces`.
    /// OIDC keys are the ones held now: see [`Verifier::verify_refreshing`] to fetch.
    pub fn verify(
        &self,
        token: &str,
        policy: &Policy,
        nonces: &[&str],
    ) -> Result<VerifiedAttestation, Rejection> {
        self.verify_at(token, policy, nonces, self.clock.now_unix())
    }

    /// As [`Verifier::verify`], refetching a remote JWKS once (rate-limited) when the token
    /// names a `kid` the cached set does not hold.
    pub async fn verify_refreshing(
        &self,
        token: &str,
        policy: &Policy,
        nonces: &[&str],
    ) -> Result<VerifiedAttestation, Rejection> {
        let first = self.verify(token, policy, nonces);
        let Err(rejection) = &first else { return first };
        let Some(jwks) = self.jwks.as_ref().filter(|j| j.is_remote()) else {
            return first;
        };
        if rejection.check != Check::Key || !rejection.detail.starts_with(UNKNOWN_KID) {
            return first;
        }
        match jwks.refresh().await {
            Ok(_) => self.verify(token, policy, nonces),
            Err(JwksError::RateLimited) => first,
            Err(e) => {
                tracing::warn!(error = %e, "JWKS refresh failed");
                first
            }
        }
    }

    /// Verifies at an explicit time (Unix seconds).
    pub fn verify_at(
        &self,
        token: &str,
        policy: &Policy,
        nonces: &[&str],
        now: u64,
    ) -> Result<VerifiedAttestation, Rejection> {
        let mut report = Report::new();
        let (claims_json, token_type) = match self.verify_signed(token, now, &mut report) {
            Ok(signed) => signed,
            Err((check, detail)) => {
                // The signed phase runs its checks in `Check::ALL` order: those before the
                // failed one passed.
                for earlier in Check::ALL.into_iter().take_while(|c| *c != check) {
                    if report.outcome(earlier).is_none() {
                        report.pass(earlier);
                    }
                }
                report.record(check, Outcome::Failed(detail));
                return Err(Rejection::from_report(report));
            }
        };
        match check_claims(&claims_json, policy, nonces, now, &mut report) {
            Ok(claims) => Ok(VerifiedAttestation {
                claims,
                raw_claims: claims_json,
                token_type,
                report: report.finish(),
            }),
            Err(()) => Err(Rejection::from_report(report)),
        }
    }

    /// Size, format, header, algorithm, key, chain and signature: what makes the claims
    /// trustworthy. Records each passed step.
    fn verify_signed(
        &self,
        token: &str,
        now: u64,
        report: &mut Report,
    ) -> Result<(Vec<u8>, TokenType), StepError> {
        let segments = jwt::split(token)?;
        let header = self.header(segments.header)?;
        let claims = jwt::decode_claims(segments.claims)?;
        let signature = jwt::decode_signature(segments.signature)?;
        for check in [Check::Size, Check::Format, Check::Header, Check::Algorithm] {
            report.pass(check);
        }
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let token_type = match &header.1.key {
            KeyRef::X5c(chain) => {
                let anchor = self.anchor.as_ref().ok_or((
                    Check::Key,
                    "this verifier accepts no PKI (x5c) tokens".to_owned(),
                ))?;
                let leaf_key = pki::verify_chain(anchor, &self.chains, chain, now)?;
                report.pass(Check::Key);
                report.pass(Check::Chain);
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &*leaf_key)
                    .verify(segments.signing_input, &signature)
                    .map_err(|_| {
                        (
                            Check::Signature,
                            "RS256 signature does not verify with the leaf key".to_owned(),
                        )
                    })?;
                TokenType::Pki
            }
            KeyRef::Kid(kid) => {
                let jwks = self
                    .jwks
                    .as_ref()
                    .ok_or((
                        Check::Key,
                        "this verifier accepts no OIDC (kid) tokens".to_owned(),
                    ))?
                    .current();
                let key = jwks
                    .get(kid)
                    .ok_or_else(|| (Check::Key, format!("{UNKNOWN_KID} `{kid}`")))?;
                if key.bits() < MIN_RSA_BITS {
                    return Err((
                        Check::Key,
                        format!(
                            "key `{kid}` has {} bits, at least {MIN_RSA_BITS} are required",
                            key.bits()
                        ),
                    ));
                }
                report.pass(Check::Key);
                report.record(Check::Chain, Outcome::NotRequired);
                RsaPublicKeyComponents {
                    n: &key.n,
                    e: &key.e,
                }
                .verify(
                    &RSA_PKCS1_2048_8192_SHA256,
                    segments.signing_input,
                    &signature,
                )
                .map_err(|_| {
                    (
                        Check::Signature,
                        format!("RS256 signature does not verify with key `{kid}`"),
                    )
                })?;
                TokenType::Oidc
            }
        };
        report.pass(Check::Signature);
        Ok((claims, token_type))
    }

    /// The decoded header: from the one-entry cache when the segment is byte-identical.
    fn header(&self, segment: &str) -> Result<Arc<(String, Header)>, StepError> {
        if let Ok(last) = self.last_header.read()
            && let Some(entry) = last.as_ref().filter(|e| e.0 == segment)
        {
            return Ok(entry.clone());
        }
        let entry = Arc::new((segment.to_owned(), jwt::decode_header(segment)?));
        if let Ok(mut last) = self.last_header.write() {
            *last = Some(entry.clone());
        }
        Ok(entry)
    }
}

const UNKNOWN_KID: &str = "no JWKS key has kid";

/// Runs every claim check, recording each; `Err` when any failed.
fn check_claims(
    raw: &[u8],
    policy: &Policy,
    nonces: &[&str],
    now: u64,
    report: &mut Report,
) -> Result<Claims, ()> {
    let claims = match Claims::from_slice(raw) {
        Ok(claims) => claims,
        Err(e) => {
            report.record(Check::Claims, Outcome::Failed(e));
            return Err(());
        }
    };
    report.pass(Check::Claims);
    let leeway = policy.leeway_seconds();
    let mut ok = true;
    let mut record = |check, result: Result<(), String>| {
        ok &= result.is_ok();
        report.record(
            check,
            result.map_or_else(Outcome::Failed, |()| Outcome::Passed),
        );
    };
    record(
        Check::Issuer,
        expect_eq("iss", &claims.iss, policy.issuer()),
    );
    record(
        Check::Audience,
        claims
            .aud
            .contains(policy.audience())
            .then_some(())
            .ok_or_else(|| {
                format!(
                    "`aud` is {:?}, expected {:?}",
                    claims.aud.as_slice(),
                    policy.audience()
                )
            }),
    );
    record(
        Check::Expiry,
        (now <= claims.exp.saturating_add(leeway))
            .then_some(())
            .ok_or_else(|| {
                format!(
                    "token expired at {} ({} s before the verification time {now})",
                    claims.exp,
                    now - claims.exp
                )
            }),
    );
    record(
        Check::NotBefore,
        (claims.nbf <= now.saturating_add(leeway))
            .then_some(())
            .ok_or_else(|| {
                format!(
                    "token is not valid before {} (verification time {now})",
                    claims.nbf
                )
            }),
    );
    record(
        Check::IssuedAt,
        (claims.iat <= now.saturating_add(leeway))
            .then_some(())
            .ok_or_else(|| {
                format!(
                    "token is issued in the future, at {} (verification time {now})",
                    claims.iat
                )
            }),
    );
    let missing: Vec<&str> = nonces
        .iter()
        .copied()
        .filter(|n| !claims.eat_nonce.contains(n))
        .collect();
    record(
        Check::Nonce,
        missing
            .is_empty()
            .then_some(())
            .ok_or_else(|| format!("`eat_nonce` lacks {missing:?}")),
    );
    record(Check::Swname, expect_eq("swname", &claims.swname, SWNAME));
    record(
        Check::Secboot,
        claims
            .secboot
            .then_some(())
            .ok_or_else(|| "`secboot` is false".to_owned()),
    );
    record(
        Check::Dbgstat,
        if policy.allow_debug() {
            Ok(())
        } else {
            expect_eq("dbgstat", &claims.dbgstat, DBGSTAT_DISABLED).map_err(|e| {
                format!("{e}: debug images are refused unless the policy sets allow_debug")
            })
        },
    );
    record(
        Check::Hwmodel,
        expect_in("hwmodel", &claims.hwmodel, policy.hwmodels()),
    );
    record(
        Check::ImageDigest,
        expect_in(
            "submods.container.image_digest",
            &claims.submods.container.image_digest,
            policy.image_digests(),
        ),
    );
    match policy.project_ids() {
        None => report.record(Check::ProjectId, Outcome::NotRequired),
        Some(allowed) => {
            let result = match &claims.submods.gce {
                Some(gce) => expect_in("submods.gce.project_id", &gce.project_id, allowed),
                None => Err("`submods.gce.project_id` is missing".to_owned()),
            };
            ok &= result.is_ok();
            report.record(
                Check::ProjectId,
                result.map_or_else(Outcome::Failed, |()| Outcome::Passed),
            );
        }
    }
    if policy.support_attributes().is_empty() {
        report.record(Check::SupportAttributes, Outcome::NotRequired);
    } else {
        let have = claims.support_attributes();
        let lacking: Vec<&String> = policy
            .support_attributes()
            .iter()
            .filter(|a| !have.contains(a))
            .collect();
        let result = lacking
            .is_empty()
            .then_some(())
            .ok_or_else(|| format!("support attributes {have:?} lack {lacking:?}"));
        ok &= result.is_ok();
        report.record(
            Check::SupportAttributes,
            result.map_or_else(Outcome::Failed, |()| Outcome::Passed),
        );
    }
    let dangerous: Vec<&String> = claims
        .submods
        .container
        .env
        .iter()
        .chain(&claims.submods.container.env_override)
        .filter(|(name, value)| {
            name.starts_with(crate::policy::DANGEROUS_ENV_PREFIX)
                && !matches!(
                    value.trim().to_ascii_lowercase().as_str(),
                    "" | "0" | "false"
                )
        })
        .map(|(name, _)| name)
        .collect();
    let result = match (dangerous.is_empty(), policy.allow_dangerous_settings()) {
        (true, _) | (false, true) => Ok(()),
        (false, false) => Err(format!(
            "the enclave runs with dangerous development settings {dangerous:?}; refused unless the policy sets allow_dangerous_settings"
        )),
    };
    ok &= result.is_ok();
    report.record(
        Check::Environment,
        result.map_or_else(Outcome::Failed, |()| Outcome::Passed),
    );
    if ok { Ok(claims) } else { Err(()) }
}

fn expect_eq(name: &str, actual: &str, expected: &str) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("`{name}` is {actual:?}, expected {expected:?}"))
    }
}

fn expect_in(name: &str, actual: &str, allowed: &[String]) -> Result<(), String> {
    if allowed.iter().any(|a| a == actual) {
        Ok(())
    } else {
        Err(format!("`{name}` {actual:?} is not one of {allowed:?}"))
    }
}
