//! Where attestation tokens come from: the Confidential Space launcher over its Unix socket, or
//! the local issuer. Both get the same request: audience, token type, nonces.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use aileron_attest::{LocalIssuer, MintRequest, TokenType};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde::Serialize;

/// The launcher's `POST /v1/token` body; it rejects unknown fields, so exactly these.
#[derive(Debug, Serialize)]
pub struct TokenRequest<'a> {
    /// Audience.
    pub audience: &'a str,
    /// `PKI` or `OIDC`.
    pub token_type: &'a str,
    /// Nonces, 10–74 bytes each, at most 6.
    pub nonces: &'a [String],
}

/// Why no token could be had.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    /// The launcher could not be reached or failed.
    #[error("launcher: {0}")]
    Launcher(String),
    /// The local issuer refused or failed.
    #[error(transparent)]
    Local(#[from] aileron_attest::IssuerError),
}

/// A token source.
pub enum Attester {
    /// The local issuer, claiming `image_digest` (the running executable's).
    Local {
        /// The issuer (boxed: it is large and there is one).
        issuer: Box<LocalIssuer>,
        /// `sha256:` of the enclave executable.
        image_digest: String,
        /// The settings a Confidential Space token would show in `submods.container.env`.
        env: BTreeMap<String, String>,
    },
    /// The Confidential Space launcher.
    Launcher {
        /// Its Unix socket.
        socket: PathBuf,
    },
}

fn token_type_name(t: TokenType) -> &'static str {
    match t {
        TokenType::Pki => "PKI",
        TokenType::Oidc => "OIDC",
    }
}

impl Attester {
    /// A token for `audience` binding `nonces`.
    pub async fn token(
        &self,
        audience: &str,
        token_type: TokenType,
        nonces: &[String],
    ) -> Result<String, AttestError> {
        match self {
            Attester::Local {
                issuer,
                image_digest,
                env,
            } => {
                let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
                Ok(issuer.mint(&MintRequest {
                    audience: audience.to_owned(),
                    nonces: nonces.to_vec(),
                    token_type,
                    image_digest: image_digest.clone(),
                    env: env.clone(),
                    now,
                })?)
            }
            Attester::Launcher { socket } => {
                let body = TokenRequest {
                    audience,
                    token_type: token_type_name(token_type),
                    nonces,
                };
                tokio::time::timeout(Duration::from_secs(10), launcher_call(socket, &body))
                    .await
                    .map_err(|_| AttestError::Launcher("timed out".into()))?
            }
        }
    }
}

async fn launcher_call(socket: &PathBuf, body: &TokenRequest<'_>) -> Result<String, AttestError> {
    let fail = |e: &dyn std::fmt::Display| AttestError::Launcher(e.to_string());
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .map_err(|e| fail(&format!("{}: {e}", socket.display())))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| fail(&e))?;
    tokio::spawn(connection);
    let json = serde_json::to_vec(body).map_err(|e| fail(&e))?;
    let request = http::Request::post("/v1/token")
        .header(http::header::HOST, "localhost")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(json)))
        .map_err(|e| fail(&e))?;
    let response = sender.send_request(request).await.map_err(|e| fail(&e))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| fail(&e))?
        .to_bytes();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    if !status.is_success() {
        return Err(AttestError::Launcher(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        )));
    }
    Ok(text)
}

/// The environment a local token reports, as Confidential Space reports a container's: the
/// dangerous development setting when it is on, so that client policies can refuse it.
pub fn reported_env(config: &crate::config::Config) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    if config.destinations.allows_private() {
        env.insert(
            aileron_broker::destination::DANGEROUS_PRIVATE_VAR.to_owned(),
            "true".to_owned(),
        );
    }
    env
}

/// `sha256:` and the hex SHA-256 of the running executable: the local issuer's image digest.
pub fn executable_digest() -> std::io::Result<String> {
    let bytes = std::fs::read(std::env::current_exe()?)?;
    Ok(format!(
        "sha256:{}",
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes))
    ))
}
