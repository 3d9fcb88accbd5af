//! The local issuer's tokens go through the same verifier, against its own root.

use std::sync::Arc;

use aileron_attest::{
    Check, IssuerError, Jwks, JwksSource, LocalIssuer, MintRequest, Policy, TokenType, TrustAnchor,
    Verifier,
};

const NONCE: &str = "local-nonce-0001";

fn digest() -> String {
    format!("sha256:{}", "d".repeat(64))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn request(token_type: TokenType) -> MintRequest {
    MintRequest {
        audience: "aileron-enclave".into(),
        nonces: vec![NONCE.into()],
        token_type,
        image_digest: digest(),
        env: Default::default(),
        now: now(),
    }
}

#[test]
fn local_tokens_verify_under_a_local_policy_and_fail_a_production_one() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = LocalIssuer::open(dir.path()).unwrap();
    let token = issuer.mint(&request(TokenType::Pki)).unwrap();
    let verifier = Verifier::new(TrustAnchor::from_pem(issuer.root_pem().as_bytes()).unwrap());

    let local = Policy::local("aileron-enclave", vec![digest()]).unwrap();
    let verified = verifier.verify(&token, &local, &[NONCE]).unwrap();
    assert_eq!(verified.claims().hwmodel, "LOCAL_INSECURE");
    assert_eq!(verified.claims().dbgstat, "enabled");

    let production = Policy::production("aileron-enclave", vec![digest()], None).unwrap();
    let rejection = verifier.verify(&token, &production, &[NONCE]).unwrap_err();
    assert_eq!(rejection.check, Check::Issuer);
    // And Google's root never accepts a local token.
    assert_eq!(
        Verifier::google()
            .verify(&token, &local, &[NONCE])
            .unwrap_err()
            .check,
        Check::Chain
    );
}

#[test]
fn local_oidc_tokens_verify_against_the_issuers_jwks() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = LocalIssuer::open(dir.path()).unwrap();
    let token = issuer.mint(&request(TokenType::Oidc)).unwrap();
    let jwks = JwksSource::fixed(Jwks::from_json(issuer.jwks_json().as_bytes()).unwrap());
    let verified = Verifier::oidc(Arc::new(jwks))
        .verify(
            &token,
            &Policy::local("aileron-enclave", vec![digest()]).unwrap(),
            &[NONCE],
        )
        .unwrap();
    assert_eq!(verified.token_type(), TokenType::Oidc);
}

#[test]
fn open_reuses_the_chain_stored_in_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let first = LocalIssuer::open(dir.path()).unwrap().root_pem().to_owned();
    let second = LocalIssuer::open(dir.path()).unwrap();
    assert_eq!(first, second.root_pem());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("root.pem")).unwrap(),
        first
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("leaf.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "private key readable by others");
    }
}

#[test]
fn mint_refuses_requests_the_launcher_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = LocalIssuer::open(dir.path()).unwrap();
    let mut req = request(TokenType::Pki);
    req.nonces.push("short".into());
    assert!(matches!(
        issuer.mint(&req),
        Err(IssuerError::NonceLength { index: 1, len: 5 })
    ));
}

#[test]
fn multiple_nonces_become_an_array_and_all_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = LocalIssuer::open(dir.path()).unwrap();
    let mut req = request(TokenType::Pki);
    req.nonces.push("binding-value-0123".into());
    let token = issuer.mint(&req).unwrap();
    let verifier = Verifier::new(TrustAnchor::from_pem(issuer.root_pem().as_bytes()).unwrap());
    let policy = Policy::local("aileron-enclave", vec![digest()]).unwrap();
    verifier
        .verify(&token, &policy, &[NONCE, "binding-value-0123"])
        .unwrap();
    let rejection = verifier
        .verify(&token, &policy, &[NONCE, "binding-value-XXXX"])
        .unwrap_err();
    assert_eq!(rejection.check, Check::Nonce);
}
