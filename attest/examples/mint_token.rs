//! Mints one token with the local issuer, for the interoperability tests and benchmarks:
//! `mint_token CA_DIR AUDIENCE IMAGE_DIGEST pki|oidc [NONCE...]` prints the token; the CA's
//! `root.pem` is in CA_DIR and its JWKS is written to CA_DIR/jwks.json.

use std::process::ExitCode;

use aileron_attest::{LocalIssuer, MintRequest, TokenType};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, audience, digest, kind, nonces @ ..] = args.as_slice() else {
        eprintln!("usage: mint_token CA_DIR AUDIENCE IMAGE_DIGEST pki|oidc [NONCE...]");
        return ExitCode::from(2);
    };
    let token_type = if kind == "oidc" {
        TokenType::Oidc
    } else {
        TokenType::Pki
    };
    let result = LocalIssuer::open(dir.as_ref()).and_then(|issuer| {
        std::fs::write(format!("{dir}/jwks.json"), issuer.jwks_json()).map_err(|source| {
            aileron_attest::IssuerError::Io {
                path: dir.into(),
                source,
            }
        })?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        issuer.mint(&MintRequest {
            audience: audience.clone(),
            nonces: nonces.to_vec(),
            token_type,
            image_digest: digest.clone(),
            env: Default::default(),
            now,
        })
    });
    match result {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
