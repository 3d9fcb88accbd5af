//! `cargo bench -p aileron-attest`: the verifier's cost against a raw RSA-2048 verification.
//!
//! - `raw_ring_rsa2048_verify`: ring verifying one RS256 signature (the floor);
//! - `oidc_verify`: a full OIDC-token verification (JWKS key, every check);
//! - `pki_verify_warm` / `pki_verify_cold`: a full PKI-token verification with the chain cache
//!   warm, and emptied before each run (two more RSA verifications, one by a 2048-bit key);
//! - `google_tdx_pki_warm` / `_cold`: the real Google TDX token (RSA-4096 root).

use std::hint::black_box;
use std::sync::Arc;

use aileron_attest::{Jwks, JwksSource, Policy, TrustAnchor, Verifier};
use aileron_testkit::{TestCa, google_shaped_claims, test_digest};
use criterion::{Criterion, criterion_group, criterion_main};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

const NONCE: &str = "bench-nonce-0123456789";

fn bench(c: &mut Criterion) {
    let ca = TestCa::new();
    let now = 1_800_000_000;
    let claims = google_shaped_claims(now, "aud", &[NONCE]);
    let policy = Policy::from_toml_str(&format!(
        "audience = \"aud\"\nimage_digests = [\"{}\"]\n",
        test_digest('a')
    ))
    .unwrap();
    let oidc_token = ca.sign(&ca.oidc_header(), &claims);

    let (input, sig) = oidc_token.rsplit_once('.').unwrap();
    let sig = base64_decode(sig);
    let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, ca.leaf_public_pkcs1());
    c.bench_function("raw_ring_rsa2048_verify", |b| {
        b.iter(|| {
            key.verify(black_box(input.as_bytes()), black_box(&sig))
                .unwrap()
        })
    });

    let jwks = Arc::new(JwksSource::fixed(
        Jwks::from_json(ca.jwks_json().as_bytes()).unwrap(),
    ));
    let oidc = Verifier::oidc(jwks);
    c.bench_function("oidc_verify", |b| {
        b.iter(|| {
            oidc.verify_at(black_box(&oidc_token), &policy, &[NONCE], now)
                .unwrap()
        })
    });

    // Certificates of the test CA are valid around the real now, not at `now` above.
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let pki_claims = google_shaped_claims(real_now, "aud", &[NONCE]);
    let pki_token = ca.sign(&ca.pki_header(), &pki_claims);
    let pki = Verifier::new(TrustAnchor::from_pem(ca.root_pem().as_bytes()).unwrap());
    c.bench_function("pki_verify_warm", |b| {
        b.iter(|| {
            pki.verify_at(black_box(&pki_token), &policy, &[NONCE], real_now)
                .unwrap()
        })
    });
    c.bench_function("pki_verify_cold", |b| {
        b.iter(|| {
            pki.clear_chain_cache();
            pki.verify_at(black_box(&pki_token), &policy, &[NONCE], real_now)
                .unwrap()
        })
    });

    let tdx = include_str!("../tests/data/oak_ctf_sha2_sample.jwt").trim();
    let tdx_policy =
        Policy::from_toml_str(include_str!("../tests/data/policies/oak_ctf_tdx.toml")).unwrap();
    let google = Verifier::google();
    c.bench_function("google_tdx_pki_warm", |b| {
        b.iter(|| {
            google
                .verify_at(black_box(tdx), &tdx_policy, &[], 1_757_061_000)
                .unwrap()
        })
    });
    c.bench_function("google_tdx_pki_cold", |b| {
        b.iter(|| {
            google.clear_chain_cache();
            google
                .verify_at(black_box(tdx), &tdx_policy, &[], 1_757_061_000)
                .unwrap()
        })
    });
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

criterion_group!(benches, bench);
criterion_main!(benches);
