//! Real Google-signed Confidential Space tokens (see data/README.md), verified at fixed times.

use aileron_attest::{Check, Outcome, Policy, TokenType, TrustAnchor, Verifier};

const TDX: &str = include_str!("data/oak_ctf_sha2_sample.jwt");
const TDX_AT: u64 = 1_757_061_000; // 2025-09-05T08:30:00Z
const TDX_NONCE: &str = "75a91c8dbe289f190d5e70ab1cb70c93cc14d7243f0ef3ff5326a622ead220a6";
const SEV_DEBUG: &str = include_str!("data/oak_valid_old.jwt");
const SEV_AT: u64 = 1_750_689_000; // 2025-06-23T14:30:00Z
const SEV_NONCE: &str = "a nonce between 10 and 74 characters";
const LOOKALIKE: &str = include_str!("data/oak_confidential_space_valid_old.jwt");

fn tdx_policy() -> Policy {
    Policy::from_toml_str(include_str!("data/policies/oak_ctf_tdx.toml")).unwrap()
}

fn sev_policy(allow_debug: bool) -> Policy {
    let text = include_str!("data/policies/oak_sev_debug.toml");
    Policy::from_toml_str(&format!("{text}allow_debug = {allow_debug}\n")).unwrap()
}

fn rejected_check(
    result: Result<aileron_attest::VerifiedAttestation, aileron_attest::Rejection>,
) -> Check {
    match result {
        Ok(v) => panic!("accepted: {:?}", v.claims()),
        Err(rejection) => rejection.check,
    }
}

#[test]
fn tdx_production_token_is_accepted_under_a_matching_policy() {
    let verified = Verifier::google()
        .verify_at(TDX.trim(), &tdx_policy(), &[TDX_NONCE], TDX_AT)
        .unwrap();
    assert_eq!(verified.token_type(), TokenType::Pki);
    let claims = verified.claims();
    assert_eq!(claims.hwmodel, "GCP_INTEL_TDX");
    assert_eq!(
        claims.submods.gce.as_ref().unwrap().project_id,
        "oak-examples-477357"
    );
    assert_eq!(claims.support_attributes(), ["LATEST", "STABLE", "USABLE"]);
    assert!(
        verified
            .report()
            .entries()
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Passed))
    );
}

#[test]
fn tdx_token_is_rejected_after_expiry() {
    let at = 1_757_063_850 + 61;
    assert_eq!(
        rejected_check(Verifier::google().verify_at(TDX, &tdx_policy(), &[TDX_NONCE], at)),
        Check::Expiry
    );
}

#[test]
fn tdx_token_is_accepted_within_the_leeway_after_expiry() {
    let at = 1_757_063_850 + 60;
    Verifier::google()
        .verify_at(TDX, &tdx_policy(), &[TDX_NONCE], at)
        .unwrap();
}

#[test]
fn tdx_token_is_rejected_before_it_was_issued() {
    let at = 1_757_060_250 - 61;
    assert_eq!(
        rejected_check(Verifier::google().verify_at(TDX, &tdx_policy(), &[TDX_NONCE], at)),
        Check::NotBefore
    );
}

#[test]
fn tdx_token_is_rejected_with_a_wrong_nonce() {
    let rejection = Verifier::google()
        .verify_at(TDX, &tdx_policy(), &["another nonce value"], TDX_AT)
        .unwrap_err();
    assert_eq!(rejection.check, Check::Nonce);
    assert!(rejection.detail.contains("another nonce value"));
}

#[test]
fn tdx_token_is_rejected_against_another_root() {
    let other = TrustAnchor::from_pem(test_root_pem().as_bytes()).unwrap();
    assert_eq!(
        rejected_check(Verifier::new(other).verify_at(TDX, &tdx_policy(), &[], TDX_AT)),
        Check::Chain
    );
}

#[test]
fn tdx_token_is_rejected_once_the_leaf_certificate_expired_even_with_huge_leeway() {
    // Leaf notAfter is 2025-11-03; the token's own exp is long past too, but the chain is checked first.
    let at = 1_762_200_000;
    let rejection = Verifier::google()
        .verify_at(TDX, &tdx_policy(), &[], at)
        .unwrap_err();
    assert_eq!(rejection.check, Check::Chain);
    assert!(
        rejection.detail.contains("leaf certificate expired"),
        "{}",
        rejection.detail
    );
}

#[test]
fn tdx_token_is_rejected_under_policies_it_does_not_meet() {
    let base = include_str!("data/policies/oak_ctf_tdx.toml");
    let cases = [
        (
            base.replace("z08381475938604996746", "other-audience"),
            Check::Audience,
        ),
        (base.replace("e2e5e3672f", "0000000000"), Check::ImageDigest),
        (
            base.replace("oak-examples-477357", "another-project"),
            Check::ProjectId,
        ),
        (
            base.replace("[\"STABLE\"]", "[\"STABLE\", \"EXPERIMENTAL\"]"),
            Check::SupportAttributes,
        ),
        (
            format!("{base}hwmodels = [\"GCP_AMD_SEV\"]\n"),
            Check::Hwmodel,
        ),
        (
            format!("{base}issuer = \"https://aileron.local/attestation\"\n"),
            Check::Issuer,
        ),
    ];
    for (text, check) in cases {
        let policy = Policy::from_toml_str(&text).unwrap();
        assert_eq!(
            rejected_check(Verifier::google().verify_at(TDX, &policy, &[TDX_NONCE], TDX_AT)),
            check,
            "{text}"
        );
    }
}

#[test]
fn sev_debug_token_is_rejected_by_default() {
    let rejection = Verifier::google()
        .verify_at(SEV_DEBUG, &sev_policy(false), &[SEV_NONCE], SEV_AT)
        .unwrap_err();
    assert_eq!(rejection.check, Check::Dbgstat);
    assert!(rejection.detail.contains("enabled"));
}

#[test]
fn sev_debug_token_is_accepted_when_the_policy_allows_debug() {
    let verified = Verifier::google()
        .verify_at(SEV_DEBUG, &sev_policy(true), &[SEV_NONCE], SEV_AT)
        .unwrap();
    assert_eq!(verified.claims().hwmodel, "GCP_AMD_SEV");
    assert_eq!(verified.claims().dbgstat, "enabled");
}

#[test]
fn sev_debug_token_is_rejected_after_expiry_with_a_wrong_nonce_and_against_another_root() {
    let policy = sev_policy(true);
    assert_eq!(
        rejected_check(Verifier::google().verify_at(
            SEV_DEBUG,
            &policy,
            &[SEV_NONCE],
            1_750_692_151 + 61
        )),
        Check::Expiry
    );
    assert_eq!(
        rejected_check(Verifier::google().verify_at(SEV_DEBUG, &policy, &["wrong nonce!"], SEV_AT)),
        Check::Nonce
    );
    let other = Verifier::new(TrustAnchor::from_pem(test_root_pem().as_bytes()).unwrap());
    assert_eq!(
        rejected_check(other.verify_at(SEV_DEBUG, &policy, &[SEV_NONCE], SEV_AT)),
        Check::Chain
    );
}

#[test]
fn lookalike_token_with_a_single_self_signed_certificate_is_rejected() {
    let policy = Policy::from_toml_str(
        "audience = \"https://test-attester-project.session.oak\"\nimage_digests = [\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]\n",
    ).unwrap();
    let rejection = Verifier::google()
        .verify_at(LOOKALIKE, &policy, &[], 1_750_000_000)
        .unwrap_err();
    assert_eq!(rejection.check, Check::Chain);
    assert!(
        rejection.detail.contains("single certificate"),
        "{}",
        rejection.detail
    );
}

#[test]
fn chain_cache_still_checks_validity_at_each_verification() {
    let verifier = Verifier::google();
    verifier.verify_at(TDX, &tdx_policy(), &[], TDX_AT).unwrap();
    // Warm cache, but the leaf has expired by now: the cached chain must not be trusted blindly.
    let rejection = verifier
        .verify_at(TDX, &tdx_policy(), &[], 1_762_200_000)
        .unwrap_err();
    assert_eq!(rejection.check, Check::Chain);
    verifier.verify_at(TDX, &tdx_policy(), &[], TDX_AT).unwrap();
}

fn test_root_pem() -> String {
    aileron_testkit::TestCa::new().root_pem()
}
