//! Claims chosen by the fuzzer, signed by a test CA whose root the verifier pins, so that
//! verification gets past the signature to the claim checks. A token is accepted only when its
//! claims satisfy the policy: issuer, audience, nonce, image digest, project, support
//! attributes, software, secure boot, debug status, hardware model, times with the leeway, no
//! dangerous development setting, and no duplicate key anywhere in the claims.
//!
//! Input: the claims, as the exact bytes that are signed (duplicate keys and odd spellings
//! included).
#![no_main]

use std::sync::LazyLock;

use aileron_attest::{
    Claims, DBGSTAT_DISABLED, DEFAULT_HWMODELS, DEFAULT_LEEWAY_SECONDS, GOOGLE_ISSUER, Policy,
    Rejection, SWNAME, TrustAnchor, VerifiedAttestation, Verifier, check_object,
};
use aileron_testkit::{ChainOptions, TestCa, google_shaped_claims, test_digest};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

const AUDIENCE: &str = "aileron-fuzz";
const NONCE: &str = "fuzz-nonce-0123456789";
const PROJECT: &str = "test-project";
/// The verification time, fixed so that a failing input replays the same on any day:
/// 2030-01-01. The test CA's root and intermediate are valid from a year before the machine's
/// clock to ten years after it, so this holds until the clock passes 2031-01-01 (then the
/// positive control in `Harness::new` fails, loudly).
const NOW: u64 = 1_893_456_000;

struct Harness {
    ca: TestCa,
    header: Vec<u8>,
    verifier: Verifier,
    policy: Policy,
}

// Generating the chain's RSA keys takes seconds: once per process, in the fuzzer's `init`,
// before libFuzzer's clock (`-max_total_time`) starts.
static HARNESS: LazyLock<Harness> = LazyLock::new(Harness::new);

impl Harness {
    fn new() -> Harness {
        let ca = TestCa::with(ChainOptions {
            leaf_validity: leaf_validity_around(NOW),
            ..ChainOptions::default()
        });
        let anchor = TrustAnchor::from_pem(ca.root_pem().as_bytes()).expect("test root");
        let header = ca.pki_header().to_string().into_bytes();
        let harness = Harness {
            ca,
            header,
            verifier: Verifier::new(anchor),
            policy: policy(),
        };
        // Positive control: a correct token passes, so acceptance is reachable.
        let correct = google_shaped_claims(NOW, AUDIENCE, &[NONCE]).to_string();
        if let Err(rejection) = harness.verify(correct.as_bytes()) {
            panic!("the harness refuses a correct token (clock past 2031?): {rejection:?}");
        }
        harness
    }

    fn verify(&self, claims: &[u8]) -> Result<VerifiedAttestation, Rejection> {
        let token = self.ca.sign_raw(&self.header, claims);
        self.verifier.verify_at(&token, &self.policy, &[NONCE], NOW)
    }
}

fn policy() -> Policy {
    Policy::from_toml_str(&format!(
        "audience = \"{AUDIENCE}\"\nimage_digests = [\"{}\"]\nproject_ids = [\"{PROJECT}\"]\n\
         support_attributes = [\"STABLE\"]\n",
        test_digest('a')
    ))
    .expect("fuzz policy")
}

/// The leaf's validity, relative to the machine's clock as `ChainOptions` takes it, so that it
/// covers `at`.
fn leaf_validity_around(at: u64) -> (i64, i64) {
    let offset = at.cast_signed() - OffsetDateTime::now_utc().unix_timestamp();
    (offset - 3600, offset + 86_400)
}

fuzz_target!(init: LazyLock::force(&HARNESS), |claims: &[u8]| {
    if let Ok(verified) = HARNESS.verify(claims) {
        assert_eq!(
            check_object(claims),
            Ok(()),
            "accepted claims with a duplicate key"
        );
        assert_satisfies_policy(verified.claims());
    }
});

fn assert_satisfies_policy(c: &Claims) {
    assert_names_the_workload(c);
    assert_production_platform(c);
    let leeway = DEFAULT_LEEWAY_SECONDS;
    assert!(c.exp.saturating_add(leeway) >= NOW, "expired: {}", c.exp);
    assert!(
        c.nbf.max(c.iat) <= NOW + leeway,
        "early: {} {}",
        c.nbf,
        c.iat
    );
}

/// Issuer, audience, nonce, image, project.
fn assert_names_the_workload(c: &Claims) {
    assert_eq!(c.iss, GOOGLE_ISSUER);
    assert!(c.aud.contains(AUDIENCE), "aud {:?}", c.aud);
    assert!(c.eat_nonce.contains(NONCE), "eat_nonce {:?}", c.eat_nonce);
    assert_eq!(c.submods.container.image_digest, test_digest('a'));
    let project = c.submods.gce.as_ref().map(|g| g.project_id.as_str());
    assert_eq!(project, Some(PROJECT));
}

/// Confidential Space on a production image, supported, on allowed hardware, without a
/// dangerous development setting.
fn assert_production_platform(c: &Claims) {
    assert_eq!((c.swname.as_str(), c.secboot), (SWNAME, true));
    assert_eq!(c.dbgstat, DBGSTAT_DISABLED);
    assert!(c.support_attributes().iter().any(|a| a == "STABLE"));
    assert!(
        DEFAULT_HWMODELS.contains(&c.hwmodel.as_str()),
        "{}",
        c.hwmodel
    );
    let container = &c.submods.container;
    let mut env = container.env.iter().chain(&container.env_override);
    assert!(
        !env.any(|(k, v)| dangerous_setting_on(k, v)),
        "{container:?}"
    );
}

/// An `AILERON_DANGEROUS_*` variable set to anything but empty, `0` or `false`.
fn dangerous_setting_on(name: &str, value: &str) -> bool {
    let off = matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false"
    );
    name.starts_with("AILERON_DANGEROUS_") && !off
}
