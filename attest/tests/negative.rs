//! One minted token per way a token can be wrong, each asserting the exact check that fails.

use std::sync::Arc;

use aileron_attest::{
    Check, FixedClock, Jwks, JwksSource, MAX_TOKEN_BYTES, Policy, TrustAnchor, Verifier,
};
use aileron_testkit::{
    ChainOptions, TestCa, b64url, google_shaped_claims, sign_hs256, test_digest,
};
use serde_json::{Value, json};

const NONCE: &str = "nonce-0123456789";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ca() -> &'static TestCa {
    static CA: std::sync::OnceLock<TestCa> = std::sync::OnceLock::new();
    CA.get_or_init(TestCa::new)
}

fn policy() -> Policy {
    Policy::from_toml_str(&format!(
        "audience = \"aileron-test\"\nimage_digests = [\"{}\"]\nproject_ids = [\"test-project\"]\nsupport_attributes = [\"STABLE\"]\n",
        test_digest('a')
    ))
    .unwrap()
}

fn claims() -> Value {
    google_shaped_claims(now(), "aileron-test", &[NONCE])
}

fn verifier() -> Verifier {
    let anchor = TrustAnchor::from_pem(ca().root_pem().as_bytes()).unwrap();
    let jwks = JwksSource::fixed(Jwks::from_json(ca().jwks_json().as_bytes()).unwrap());
    Verifier::new(anchor).with_jwks(Arc::new(jwks))
}

fn check(token: &str) -> Check {
    match verifier().verify(token, &policy(), &[NONCE]) {
        Ok(_) => panic!("token accepted"),
        Err(rejection) => rejection.check,
    }
}

fn with_claim(path: &[&str], value: Value) -> Value {
    let mut c = claims();
    let mut target = &mut c;
    for key in &path[..path.len() - 1] {
        target = &mut target[*key];
    }
    target[path[path.len() - 1]] = value;
    c
}

fn without_claim(name: &str) -> Value {
    let mut c = claims();
    c.as_object_mut().unwrap().remove(name);
    c
}

#[test]
fn a_correct_pki_token_is_accepted() {
    let token = ca().sign(&ca().pki_header(), &claims());
    let verified = verifier().verify(&token, &policy(), &[NONCE]).unwrap();
    assert_eq!(verified.claims().aud.as_slice(), ["aileron-test"]);
}

#[test]
fn a_correct_pki_token_without_the_root_in_x5c_is_accepted() {
    let mut header = ca().pki_header();
    header["x5c"].as_array_mut().unwrap().pop();
    verifier()
        .verify(&ca().sign(&header, &claims()), &policy(), &[NONCE])
        .unwrap();
}

#[test]
fn a_correct_oidc_token_is_accepted() {
    let token = ca().sign(&ca().oidc_header(), &claims());
    let verified = verifier().verify(&token, &policy(), &[NONCE]).unwrap();
    assert_eq!(verified.token_type(), aileron_attest::TokenType::Oidc);
}

#[test]
fn verify_rejects_an_altered_signature() {
    let token = ca().sign(&ca().pki_header(), &claims());
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut sig = sig.to_owned().into_bytes();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        check(&format!("{input}.{}", String::from_utf8(sig).unwrap())),
        Check::Signature
    );
}

#[test]
fn verify_rejects_altered_claims_under_a_valid_signature() {
    let token = ca().sign(&ca().pki_header(), &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64url(
        with_claim(&["aud"], json!("aileron-test"))
            .to_string()
            .replace("true", "true ")
            .as_bytes(),
    );
    assert_eq!(
        check(&format!("{}.{forged}.{}", parts[0], parts[2])),
        Check::Signature
    );
}

#[test]
fn verify_rejects_alg_none() {
    let header = json!({"alg": "none", "typ": "JWT", "kid": ca().kid()});
    let token = format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims().to_string().as_bytes())
    );
    assert_eq!(check(&token), Check::Algorithm);
}

#[test]
fn verify_rejects_hs256_signed_with_the_public_key() {
    for header in [json!({"alg": "HS256", "typ": "JWT", "kid": ca().kid()}), {
        let mut h = ca().pki_header();
        h["alg"] = json!("HS256");
        h
    }] {
        let token = sign_hs256(&header, &claims(), ca().leaf_public_pkcs1());
        assert_eq!(check(&token), Check::Algorithm);
    }
}

#[test]
fn verify_rejects_rs384_and_rs512() {
    for alg in ["RS384", "RS512"] {
        let mut header = ca().pki_header();
        header["alg"] = json!(alg);
        assert_eq!(
            check(&ca().sign(&header, &claims())),
            Check::Algorithm,
            "{alg}"
        );
    }
}

#[test]
fn verify_rejects_an_unknown_kid() {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "not-a-known-key"});
    let rejection = verifier()
        .verify(&ca().sign(&header, &claims()), &policy(), &[NONCE])
        .unwrap_err();
    assert_eq!(rejection.check, Check::Key);
    assert!(rejection.detail.contains("not-a-known-key"));
}

#[test]
fn verify_rejects_a_crit_header() {
    let mut header = ca().pki_header();
    header["crit"] = json!(["exp"]);
    assert_eq!(check(&ca().sign(&header, &claims())), Check::Header);
}

#[test]
fn verify_rejects_jku_and_x5u_headers_without_fetching_them() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("https://{}/keys", listener.local_addr().unwrap());
    for name in ["jku", "x5u"] {
        let mut header = ca().oidc_header();
        header[name] = json!(url);
        assert_eq!(
            check(&ca().sign(&header, &claims())),
            Check::Header,
            "{name}"
        );
    }
    assert!(
        listener.accept().is_err(),
        "the verifier connected to a URL named by the token"
    );
}

#[test]
fn verify_rejects_a_duplicate_key_in_the_claims() {
    let body = claims().to_string();
    let duplicated = format!("{},\"aud\":\"aileron-test\"}}", &body[..body.len() - 1]);
    let token = ca().sign_raw(
        ca().pki_header().to_string().as_bytes(),
        duplicated.as_bytes(),
    );
    assert_eq!(check(&token), Check::Format);
}

#[test]
fn verify_rejects_a_duplicate_key_in_the_header() {
    let header = ca().pki_header().to_string();
    let duplicated = format!("{},\"alg\":\"RS256\"}}", &header[..header.len() - 1]);
    let token = ca().sign_raw(duplicated.as_bytes(), claims().to_string().as_bytes());
    assert_eq!(check(&token), Check::Format);
}

#[test]
fn verify_rejects_numeric_claims_of_the_wrong_json_type() {
    for (name, value) in [
        ("exp", json!((now() + 3600).to_string())),
        ("iat", json!(1.5)),
        ("nbf", json!(null)),
    ] {
        let token = ca().sign(&ca().pki_header(), &with_claim(&[name], value));
        assert_eq!(check(&token), Check::Claims, "{name}");
    }
}

#[test]
fn verify_rejects_a_missing_claim() {
    for name in [
        "iss",
        "aud",
        "exp",
        "eat_nonce",
        "swname",
        "secboot",
        "dbgstat",
        "hwmodel",
        "submods",
    ] {
        assert_eq!(
            check(&ca().sign(&ca().pki_header(), &without_claim(name))),
            Check::Claims,
            "{name}"
        );
    }
}

#[test]
fn verify_rejects_an_intermediate_that_is_not_a_ca() {
    let bad = TestCa::with(ChainOptions {
        intermediate_is_ca: false,
        ..ChainOptions::default()
    });
    let anchor = TrustAnchor::from_pem(bad.root_pem().as_bytes()).unwrap();
    let rejection = Verifier::new(anchor)
        .verify(&bad.sign(&bad.pki_header(), &claims()), &policy(), &[NONCE])
        .unwrap_err();
    assert_eq!(rejection.check, Check::Chain);
    assert!(
        rejection.detail.contains("not a CA"),
        "{}",
        rejection.detail
    );
}

#[test]
fn verify_rejects_a_chain_ending_in_a_lookalike_root() {
    // Same root name as the pinned one, different key.
    let lookalike = TestCa::with(ChainOptions {
        root_key: 3,
        ..ChainOptions::default()
    });
    let token = lookalike.sign(&lookalike.pki_header(), &claims());
    let rejection = verifier().verify(&token, &policy(), &[NONCE]).unwrap_err();
    assert_eq!(rejection.check, Check::Chain);
    assert!(
        rejection.detail.contains("not the pinned root"),
        "{}",
        rejection.detail
    );

    let mut header = lookalike.pki_header();
    header["x5c"].as_array_mut().unwrap().pop();
    let rejection = verifier()
        .verify(&lookalike.sign(&header, &claims()), &policy(), &[NONCE])
        .unwrap_err();
    assert_eq!(rejection.check, Check::Chain);
    assert!(
        rejection.detail.contains("does not verify"),
        "{}",
        rejection.detail
    );
}

#[test]
fn verify_rejects_an_expired_leaf_and_a_leaf_not_yet_valid() {
    for (validity, words) in [
        ((-7200, -3600), "expired"),
        ((3600, 7200), "not valid before"),
    ] {
        let bad = TestCa::with(ChainOptions {
            leaf_validity: validity,
            ..ChainOptions::default()
        });
        let anchor = TrustAnchor::from_pem(bad.root_pem().as_bytes()).unwrap();
        let rejection = Verifier::new(anchor)
            .verify(&bad.sign(&bad.pki_header(), &claims()), &policy(), &[NONCE])
            .unwrap_err();
        assert_eq!(rejection.check, Check::Chain);
        assert!(rejection.detail.contains(words), "{}", rejection.detail);
    }
}

#[test]
fn verify_rejects_a_leaf_key_under_2048_bits() {
    let weak = TestCa::with(ChainOptions {
        weak_leaf_key: true,
        ..ChainOptions::default()
    });
    let anchor = TrustAnchor::from_pem(weak.root_pem().as_bytes()).unwrap();
    let jwks = JwksSource::fixed(Jwks::from_json(weak.jwks_json().as_bytes()).unwrap());
    let v = Verifier::new(anchor).with_jwks(Arc::new(jwks));
    for header in [weak.pki_header(), weak.oidc_header()] {
        let rejection = v
            .verify(&weak.sign(&header, &claims()), &policy(), &[NONCE])
            .unwrap_err();
        assert_eq!(rejection.check, Check::Key, "{header}");
        assert!(
            rejection.detail.contains("1024 bits"),
            "{}",
            rejection.detail
        );
    }
}

#[test]
fn verify_rejects_a_token_over_64_kib_before_parsing() {
    let token = format!("{}.{}.x", "a".repeat(MAX_TOKEN_BYTES), "b");
    assert_eq!(check(&token), Check::Size);
    // A properly signed token padded past the limit with a large claim.
    let big = ca().sign(
        &ca().pki_header(),
        &with_claim(&["pad"], json!("p".repeat(MAX_TOKEN_BYTES))),
    );
    assert_eq!(check(&big), Check::Size);
}

#[test]
fn verify_rejects_each_failed_claim_check() {
    // Far beyond the 60 s leeway: the cases are signed one after another and the verifier
    // reads its own clock, so a margin of a second would flake on a busy machine.
    let t = now();
    let cases: Vec<(&str, Value, Check)> = vec![
        (
            "issuer",
            with_claim(&["iss"], json!("https://evil.example")),
            Check::Issuer,
        ),
        (
            "audience",
            with_claim(&["aud"], json!("someone-else")),
            Check::Audience,
        ),
        (
            "audience array",
            with_claim(&["aud"], json!(["a", "b"])),
            Check::Audience,
        ),
        (
            "expired",
            with_claim(&["exp"], json!(t - 3600)),
            Check::Expiry,
        ),
        (
            "not yet valid",
            with_claim(&["nbf"], json!(t + 3600)),
            Check::NotBefore,
        ),
        (
            "issued in the future",
            with_claim(&["iat"], json!(t + 3600)),
            Check::IssuedAt,
        ),
        (
            "nonce",
            with_claim(&["eat_nonce"], json!("other-nonce-0000")),
            Check::Nonce,
        ),
        (
            "nonce array",
            with_claim(&["eat_nonce"], json!(["other-nonce-0000", "x".repeat(20)])),
            Check::Nonce,
        ),
        (
            "swname",
            with_claim(&["swname"], json!("GCE")),
            Check::Swname,
        ),
        (
            "secboot",
            with_claim(&["secboot"], json!(false)),
            Check::Secboot,
        ),
        (
            "dbgstat",
            with_claim(&["dbgstat"], json!("enabled")),
            Check::Dbgstat,
        ),
        (
            "hwmodel",
            with_claim(&["hwmodel"], json!("GCP_SHIELDED_VM")),
            Check::Hwmodel,
        ),
        (
            "image digest",
            with_claim(
                &["submods", "container", "image_digest"],
                json!(test_digest('b')),
            ),
            Check::ImageDigest,
        ),
        (
            "project",
            with_claim(&["submods", "gce", "project_id"], json!("other-project")),
            Check::ProjectId,
        ),
        (
            "no gce",
            with_claim(&["submods", "gce"], json!(null)),
            Check::ProjectId,
        ),
        (
            "support attributes",
            with_claim(
                &["submods", "confidential_space", "support_attributes"],
                json!(["LATEST"]),
            ),
            Check::SupportAttributes,
        ),
    ];
    for (name, claims, expected) in cases {
        let token = ca().sign(&ca().pki_header(), &claims);
        assert_eq!(check(&token), expected, "{name}");
    }
}

#[test]
fn verify_accepts_time_claims_within_the_leeway_and_nonces_in_an_array() {
    let t = now();
    let c = with_claim(&["nbf"], json!(t + 50));
    verifier()
        .verify(&ca().sign(&ca().pki_header(), &c), &policy(), &[NONCE])
        .unwrap();
    let c = with_claim(&["eat_nonce"], json!(["first-nonce-000", NONCE]));
    verifier()
        .verify(
            &ca().sign(&ca().pki_header(), &c),
            &policy(),
            &["first-nonce-000", NONCE],
        )
        .unwrap();
}

#[test]
fn verify_uses_the_injected_clock() {
    let token = ca().sign(&ca().pki_header(), &claims());
    let anchor = TrustAnchor::from_pem(ca().root_pem().as_bytes()).unwrap();
    let later = Verifier::new(anchor).with_clock(Arc::new(FixedClock(now() + 7200)));
    assert_eq!(
        later.verify(&token, &policy(), &[NONCE]).unwrap_err().check,
        Check::Expiry
    );
}

#[test]
fn the_report_names_every_check_and_what_did_not_run() {
    let token = ca().sign(&ca().pki_header(), &with_claim(&["secboot"], json!(false)));
    let rejection = verifier().verify(&token, &policy(), &[NONCE]).unwrap_err();
    let report = &rejection.report;
    assert_eq!(report.entries().len(), Check::ALL.len());
    assert_eq!(
        report.outcome(Check::Signature),
        Some(&aileron_attest::Outcome::Passed)
    );
    assert!(matches!(
        report.outcome(Check::Secboot),
        Some(aileron_attest::Outcome::Failed(_))
    ));

    let rejection = verifier().verify("a.b", &policy(), &[NONCE]).unwrap_err();
    assert_eq!(
        rejection.report.outcome(Check::Signature),
        Some(&aileron_attest::Outcome::NotRun)
    );
}
