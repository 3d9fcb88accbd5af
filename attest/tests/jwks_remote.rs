//! OIDC keys fetched over real HTTPS (rustls, a test CA) through OpenID discovery: cached,
//! refetched on an unknown `kid` at most once a minute, HTTP failures never turned into keys.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aileron_attest::{Check, JwksSource, Policy, Verifier, https_client};
use aileron_testkit::{TestCa, google_shaped_claims, https_server, test_digest};

struct Provider {
    url: String,
    root_pem: String,
    jwks: Arc<Mutex<(u16, String)>>,
    jwks_hits: Arc<AtomicUsize>,
}

/// An HTTPS server for discovery and a JWKS whose answer the test sets.
async fn provider() -> Provider {
    let jwks = Arc::new(Mutex::new((200, r#"{"keys":[]}"#.to_owned())));
    let jwks_hits = Arc::new(AtomicUsize::new(0));
    let (state, hits) = (jwks.clone(), jwks_hits.clone());
    let server = https_server(move |base, request| {
        if request.starts_with("GET /.well-known/openid-configuration ") {
            (
                200,
                format!(r#"{{"issuer":"{base}","jwks_uri":"{base}/jwks"}}"#),
            )
        } else if request.starts_with("GET /jwks ") {
            hits.fetch_add(1, Ordering::SeqCst);
            state.lock().unwrap().clone()
        } else {
            (404, String::new())
        }
    })
    .await;
    Provider {
        url: server.url,
        root_pem: server.root_pem,
        jwks,
        jwks_hits,
    }
}

fn policy() -> Policy {
    Policy::from_toml_str(&format!(
        "audience = \"aud\"\nimage_digests = [\"{}\"]\n",
        test_digest('a')
    ))
    .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn source(p: &Provider) -> Arc<JwksSource> {
    let http = https_client(&[p.root_pem.as_bytes()]).unwrap();
    Arc::new(JwksSource::remote(
        &format!("{}/.well-known/openid-configuration", p.url),
        http,
    ))
}

#[tokio::test]
async fn an_unknown_kid_triggers_one_fetch_and_then_the_token_verifies() {
    let p = provider().await;
    let ca = TestCa::new();
    *p.jwks.lock().unwrap() = (200, ca.jwks_json());
    let verifier = Verifier::oidc(source(&p));
    let token = ca.sign(&ca.oidc_header(), &google_shaped_claims(now(), "aud", &[]));

    // Nothing cached yet: the synchronous path refuses, the refreshing path fetches.
    assert_eq!(
        verifier.verify(&token, &policy(), &[]).unwrap_err().check,
        Check::Key
    );
    verifier
        .verify_refreshing(&token, &policy(), &[])
        .await
        .unwrap();
    assert_eq!(p.jwks_hits.load(Ordering::SeqCst), 1);

    // Cached now: no more fetches for a known kid.
    verifier
        .verify_refreshing(&token, &policy(), &[])
        .await
        .unwrap();
    assert_eq!(p.jwks_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unknown_kids_refetch_at_most_once_a_minute() {
    let p = provider().await;
    let verifier = Verifier::oidc(source(&p));
    let ca = TestCa::new();
    let token = ca.sign(&ca.oidc_header(), &google_shaped_claims(now(), "aud", &[]));
    for _ in 0..5 {
        let rejection = verifier
            .verify_refreshing(&token, &policy(), &[])
            .await
            .unwrap_err();
        assert_eq!(rejection.check, Check::Key);
    }
    assert_eq!(
        p.jwks_hits.load(Ordering::SeqCst),
        1,
        "refetched more than once within a minute"
    );
}

#[tokio::test]
async fn a_failing_jwks_endpoint_leaves_the_token_rejected() {
    let p = provider().await;
    let ca = TestCa::new();
    *p.jwks.lock().unwrap() = (500, ca.jwks_json());
    let verifier = Verifier::oidc(source(&p));
    let token = ca.sign(&ca.oidc_header(), &google_shaped_claims(now(), "aud", &[]));
    let rejection = verifier
        .verify_refreshing(&token, &policy(), &[])
        .await
        .unwrap_err();
    assert_eq!(rejection.check, Check::Key);
    assert_eq!(p.jwks_hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_provider_with_an_untrusted_certificate_is_never_used() {
    let p = provider().await;
    let ca = TestCa::new();
    *p.jwks.lock().unwrap() = (200, ca.jwks_json());
    // The client trusts only the public web PKI, not the provider's self-signed certificate.
    let http = https_client(&[]).unwrap();
    let source = Arc::new(JwksSource::remote(
        &format!("{}/.well-known/openid-configuration", p.url),
        http,
    ));
    assert!(source.refresh().await.is_err());
    let token = ca.sign(&ca.oidc_header(), &google_shaped_claims(now(), "aud", &[]));
    let rejection = Verifier::oidc(source)
        .verify_refreshing(&token, &policy(), &[])
        .await
        .unwrap_err();
    assert_eq!(rejection.check, Check::Key);
    assert_eq!(p.jwks_hits.load(Ordering::SeqCst), 0);
}
