//! Writes `attest/tests/data/shared-cases.json`: attestation test cases that every verifier of
//! this project decides alike (the Rust verifier here, the browser's in `ui/src/lib/attest/`).
//! One correct token and one per way a token can be wrong, minted now with the test CA of
//! `aileron-testkit`, plus the real Google tokens of `data/README.md` at their valid times. Each
//! case names its root, policy, nonces, the time to verify at and the verdict: `accept`, or the
//! name of the check that fails (`aileron_attest::Check::as_str`). The Rust verifier's verdict
//! is computed here and must equal the expected one, or nothing is written.
//!
//! `cargo run -p aileron-attest --example export_shared_cases > attest/tests/data/shared-cases.json`
//! (tests/shared_cases.rs then checks the file against the verifier on every test run).

use std::collections::BTreeMap;
use std::process::ExitCode;

use aileron_attest::{MAX_TOKEN_BYTES, Policy, TrustAnchor, Verifier};
use aileron_testkit::{
    ChainOptions, TestCa, b64url, google_shaped_claims, sign_hs256, test_digest,
};
use serde_json::{Value, json};

const NONCE: &str = "nonce-0123456789";
const AUDIENCE: &str = "aileron-test";
const TDX: &str = include_str!("../tests/data/oak_ctf_sha2_sample.jwt");
const TDX_AT: u64 = 1_757_061_000;
const TDX_NONCE: &str = "75a91c8dbe289f190d5e70ab1cb70c93cc14d7243f0ef3ff5326a622ead220a6";
const SEV: &str = include_str!("../tests/data/oak_valid_old.jwt");
const SEV_AT: u64 = 1_750_689_000;
const SEV_NONCE: &str = "a nonce between 10 and 74 characters";
const LOOKALIKE: &str = include_str!("../tests/data/oak_confidential_space_valid_old.jwt");
const GOOGLE_ROOT: &str = include_str!("../tests/data/confidential_space_root.pem");

struct Case {
    name: String,
    root: &'static str,
    policy: &'static str,
    nonces: Vec<String>,
    at: u64,
    token: String,
    expect: &'static str,
}

fn main() -> ExitCode {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (roots, policies, cases) = cases(now);
    let mut failed = false;
    for case in &cases {
        let anchor = TrustAnchor::from_pem(roots[case.root].as_bytes()).expect("root");
        let nonces: Vec<&str> = case.nonces.iter().map(String::as_str).collect();
        let verdict = match Verifier::new(anchor).verify_at(
            &case.token,
            &policies[case.policy],
            &nonces,
            case.at,
        ) {
            Ok(_) => "accept",
            Err(rejection) => rejection.check.as_str(),
        };
        if verdict != case.expect {
            eprintln!(
                "{}: expected {}, the verifier says {verdict}",
                case.name, case.expect
            );
            failed = true;
        }
    }
    if failed {
        return ExitCode::FAILURE;
    }
    let doc = json!({
        "about": "Attestation cases every verifier of this project decides alike (the Rust one, \
                  attest/tests/shared_cases.rs; the browser's, ui/src/lib/attest). Written by \
                  cargo run -p aileron-attest --example export_shared_cases. `expect` is `accept` \
                  or the name of the failing check. Test-CA tokens were minted at `generated_at`; \
                  the Google tokens are from data/README.md (project-oak/oak, Apache-2.0).",
        "format": 1,
        "generated_at": now,
        "roots": roots,
        "policies": policies.iter().map(|(k, p)| (k.to_string(), serde_json::to_value(p).expect("policy"))).collect::<BTreeMap<_, _>>(),
        "cases": cases.iter().map(|c| json!({
            "name": c.name, "root": c.root, "policy": c.policy, "nonces": c.nonces,
            "at": c.at, "token": c.token, "expect": c.expect,
        })).collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string_pretty(&doc).expect("json"));
    ExitCode::SUCCESS
}

type Roots = BTreeMap<&'static str, String>;
type Policies = BTreeMap<&'static str, Policy>;

fn cases(now: u64) -> (Roots, Policies, Vec<Case>) {
    let ca = TestCa::new();
    let with = |options: ChainOptions| TestCa::with(options);
    let not_ca = with(ChainOptions {
        intermediate_is_ca: false,
        ..ChainOptions::default()
    });
    let lookalike = with(ChainOptions {
        root_key: 3,
        ..ChainOptions::default()
    });
    let expired = with(ChainOptions {
        leaf_validity: (-7200, -3600),
        ..ChainOptions::default()
    });
    let future = with(ChainOptions {
        leaf_validity: (3600, 7200),
        ..ChainOptions::default()
    });
    let weak = with(ChainOptions {
        weak_leaf_key: true,
        ..ChainOptions::default()
    });
    let roots: Roots = [
        ("test", ca.root_pem()),
        ("test_not_ca", not_ca.root_pem()),
        ("test_expired_leaf", expired.root_pem()),
        ("test_future_leaf", future.root_pem()),
        ("test_weak_leaf", weak.root_pem()),
        ("google", GOOGLE_ROOT.to_owned()),
    ]
    .into();
    let test_policy = Policy::from_toml_str(&format!(
        "audience = \"{AUDIENCE}\"\nimage_digests = [\"{}\"]\nproject_ids = [\"test-project\"]\nsupport_attributes = [\"STABLE\"]\n",
        test_digest('a')
    ))
    .expect("policy");
    let sev = include_str!("../tests/data/policies/oak_sev_debug.toml");
    let policies: Policies = [
        ("test", test_policy),
        (
            "tdx",
            Policy::from_toml_str(include_str!("../tests/data/policies/oak_ctf_tdx.toml"))
                .expect("tdx policy"),
        ),
        (
            "sev_debug",
            Policy::from_toml_str(&format!("{sev}allow_debug = true\n")).expect("sev policy"),
        ),
        (
            "sev_no_debug",
            Policy::from_toml_str(&format!("{sev}allow_debug = false\n")).expect("sev policy"),
        ),
    ]
    .into();

    let claims = || google_shaped_claims(now, AUDIENCE, &[NONCE]);
    let with_claim = |path: &[&str], value: Value| {
        let mut c = claims();
        let mut target = &mut c;
        for key in &path[..path.len() - 1] {
            target = &mut target[*key];
        }
        target[path[path.len() - 1]] = value;
        c
    };
    let without_claim = |name: &str| {
        let mut c = claims();
        c.as_object_mut().expect("object").remove(name);
        c
    };
    let mut out = Vec::new();
    let mut case = |name: &str, root: &'static str, token: String, expect: &'static str| {
        out.push(Case {
            name: name.into(),
            root,
            policy: "test",
            nonces: vec![NONCE.into()],
            at: now,
            token,
            expect,
        });
    };
    let pki = |claims: &Value| ca.sign(&ca.pki_header(), claims);

    case("a correct PKI token", "test", pki(&claims()), "accept");
    let mut header = ca.pki_header();
    header["x5c"].as_array_mut().expect("x5c").pop();
    case(
        "a correct PKI token without the root in x5c",
        "test",
        ca.sign(&header, &claims()),
        "accept",
    );
    case(
        "nbf within the 60 s leeway",
        "test",
        pki(&with_claim(&["nbf"], json!(now + 50))),
        "accept",
    );
    case(
        "an OIDC token (no x5c): no JWKS is configured",
        "test",
        ca.sign(&ca.oidc_header(), &claims()),
        "key",
    );
    let token = pki(&claims());
    let (input, sig) = token.rsplit_once('.').expect("token");
    let mut sig = sig.to_owned().into_bytes();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    case(
        "an altered signature",
        "test",
        format!("{input}.{}", String::from_utf8(sig).expect("ascii")),
        "signature",
    );
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64url(claims().to_string().replace("true", "true ").as_bytes());
    case(
        "altered claims under a valid signature",
        "test",
        format!("{}.{forged}.{}", parts[0], parts[2]),
        "signature",
    );
    let none = json!({"alg": "none", "typ": "JWT", "kid": ca.kid()});
    case(
        "alg none",
        "test",
        format!(
            "{}.{}.",
            b64url(none.to_string().as_bytes()),
            b64url(claims().to_string().as_bytes())
        ),
        "algorithm",
    );
    let mut hs = ca.pki_header();
    hs["alg"] = json!("HS256");
    case(
        "HS256 signed with the leaf's public key",
        "test",
        sign_hs256(&hs, &claims(), ca.leaf_public_pkcs1()),
        "algorithm",
    );
    for alg in ["RS384", "RS512"] {
        let mut header = ca.pki_header();
        header["alg"] = json!(alg);
        case(
            &format!("alg {alg}"),
            "test",
            ca.sign(&header, &claims()),
            "algorithm",
        );
    }
    let unknown = json!({"alg": "RS256", "typ": "JWT", "kid": "not-a-known-key"});
    case(
        "an unknown kid and no x5c",
        "test",
        ca.sign(&unknown, &claims()),
        "key",
    );
    for (name, value) in [
        ("crit", json!(["exp"])),
        ("jku", json!("https://127.0.0.1:9/keys")),
        ("x5u", json!("https://127.0.0.1:9/cert")),
        ("jwk", json!({"kty": "RSA"})),
    ] {
        let mut header = ca.pki_header();
        header[name] = value;
        case(
            &format!("a {name} header"),
            "test",
            ca.sign(&header, &claims()),
            "header",
        );
    }
    let body = claims().to_string();
    case(
        "a duplicate key in the claims",
        "test",
        ca.sign_raw(
            ca.pki_header().to_string().as_bytes(),
            format!("{},\"aud\":\"{AUDIENCE}\"}}", &body[..body.len() - 1]).as_bytes(),
        ),
        "format",
    );
    let header = ca.pki_header().to_string();
    case(
        "a duplicate key in the header",
        "test",
        ca.sign_raw(
            format!("{},\"alg\":\"RS256\"}}", &header[..header.len() - 1]).as_bytes(),
            body.as_bytes(),
        ),
        "format",
    );
    case("not three segments", "test", "abc.def".into(), "format");
    for (name, value) in [
        ("exp", json!((now + 3600).to_string())),
        ("iat", json!(1.5)),
        ("nbf", json!(null)),
    ] {
        case(
            &format!("{name} of the wrong JSON type"),
            "test",
            pki(&with_claim(&[name], value)),
            "claims",
        );
    }
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
        case(
            &format!("no {name} claim"),
            "test",
            pki(&without_claim(name)),
            "claims",
        );
    }
    case(
        "an intermediate that is not a CA",
        "test_not_ca",
        not_ca.sign(&not_ca.pki_header(), &claims()),
        "chain",
    );
    case(
        "a chain ending in a look-alike root",
        "test",
        lookalike.sign(&lookalike.pki_header(), &claims()),
        "chain",
    );
    let mut header = lookalike.pki_header();
    header["x5c"].as_array_mut().expect("x5c").pop();
    case(
        "a chain under a look-alike root, without the root in x5c",
        "test",
        lookalike.sign(&header, &claims()),
        "chain",
    );
    case(
        "an expired leaf",
        "test_expired_leaf",
        expired.sign(&expired.pki_header(), &claims()),
        "chain",
    );
    case(
        "a leaf not yet valid",
        "test_future_leaf",
        future.sign(&future.pki_header(), &claims()),
        "chain",
    );
    case(
        "a leaf key under 2048 bits",
        "test_weak_leaf",
        weak.sign(&weak.pki_header(), &claims()),
        "key",
    );
    case(
        "a token over 64 KiB",
        "test",
        pki(&with_claim(&["pad"], json!("p".repeat(MAX_TOKEN_BYTES)))),
        "size",
    );
    for (name, path, value, check) in [
        (
            "another issuer",
            &["iss"][..],
            json!("https://evil.example"),
            "issuer",
        ),
        (
            "another audience",
            &["aud"],
            json!("someone-else"),
            "audience",
        ),
        ("an audience array", &["aud"], json!(["a", "b"]), "audience"),
        ("expired", &["exp"], json!(now - 3600), "expiry"),
        ("not yet valid", &["nbf"], json!(now + 3600), "not_before"),
        (
            "issued in the future",
            &["iat"],
            json!(now + 3600),
            "issued_at",
        ),
        (
            "another nonce",
            &["eat_nonce"],
            json!("other-nonce-0000"),
            "nonce",
        ),
        (
            "a nonce array without ours",
            &["eat_nonce"],
            json!(["other-nonce-0000", "x".repeat(20)]),
            "nonce",
        ),
        ("swname GCE", &["swname"], json!("GCE"), "swname"),
        ("secboot false", &["secboot"], json!(false), "secboot"),
        ("a debug image", &["dbgstat"], json!("enabled"), "dbgstat"),
        (
            "another hwmodel",
            &["hwmodel"],
            json!("GCP_SHIELDED_VM"),
            "hwmodel",
        ),
        (
            "another image",
            &["submods", "container", "image_digest"],
            json!(test_digest('b')),
            "image_digest",
        ),
        (
            "another project",
            &["submods", "gce", "project_id"],
            json!("other-project"),
            "project_id",
        ),
        ("no gce", &["submods", "gce"], json!(null), "project_id"),
        (
            "no STABLE support",
            &["submods", "confidential_space", "support_attributes"],
            json!(["LATEST"]),
            "support_attributes",
        ),
        (
            "a dangerous development setting",
            &["submods", "container", "env"],
            json!({"AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS": "true"}),
            "environment",
        ),
    ] {
        case(name, "test", pki(&with_claim(path, value)), check);
    }
    let two = with_claim(&["eat_nonce"], json!(["first-nonce-000", NONCE]));
    out.push(Case {
        name: "two nonces, both required".into(),
        root: "test",
        policy: "test",
        nonces: vec!["first-nonce-000".into(), NONCE.into()],
        at: now,
        token: pki(&two),
        expect: "accept",
    });
    out.push(Case {
        name: "verified two hours later".into(),
        root: "test",
        policy: "test",
        nonces: vec![NONCE.into()],
        at: now + 7200,
        token: pki(&claims()),
        expect: "expiry",
    });
    let google = |name: &str, policy, nonce: &str, at, token: &str, expect| Case {
        name: name.into(),
        root: "google",
        policy,
        nonces: vec![nonce.into()],
        at,
        token: token.trim().to_owned(),
        expect,
    };
    out.extend([
        google(
            "Google: the TDX production token",
            "tdx",
            TDX_NONCE,
            TDX_AT,
            TDX,
            "accept",
        ),
        google(
            "Google: the TDX token after its expiry",
            "tdx",
            TDX_NONCE,
            1_757_063_850 + 61,
            TDX,
            "expiry",
        ),
        google(
            "Google: the TDX token with another nonce",
            "tdx",
            "another nonce of enough length",
            TDX_AT,
            TDX,
            "nonce",
        ),
        google(
            "Google: the SEV debug token where debug is allowed",
            "sev_debug",
            SEV_NONCE,
            SEV_AT,
            SEV,
            "accept",
        ),
        google(
            "Google: the SEV debug token where debug is refused",
            "sev_no_debug",
            SEV_NONCE,
            SEV_AT,
            SEV,
            "dbgstat",
        ),
        google(
            "Google: a look-alike whose x5c is one self-signed certificate",
            "tdx",
            TDX_NONCE,
            TDX_AT,
            LOOKALIKE,
            "chain",
        ),
    ]);
    (roots, policies, out)
}
