//! A stand-in for the Confidential Space launcher's token endpoint: `POST /v1/token` over a Unix
//! socket, with the real launcher's request rules (`audience` and `token_type` required, unknown
//! fields rejected, nonce limits enforced), backed by the local issuer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aileron_attest::{LocalIssuer, MintRequest, TokenType};
use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

/// The launcher's request body, strictly.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LauncherRequest {
    /// Required.
    pub audience: String,
    /// Required: `PKI` or `OIDC`.
    pub token_type: String,
    /// Optional nonces.
    #[serde(default)]
    pub nonces: Vec<String>,
}

/// A running stand-in launcher.
pub struct StandInLauncher {
    /// Its socket.
    pub socket: PathBuf,
    /// The bodies it accepted, in order.
    pub requests: Arc<Mutex<Vec<LauncherRequest>>>,
}

impl StandInLauncher {
    /// Serves on `socket`, minting with the local CA in `ca_dir` for `image_digest`.
    pub async fn start(socket: &Path, ca_dir: &Path, image_digest: &str) -> StandInLauncher {
        let issuer = Arc::new(LocalIssuer::open(ca_dir).expect("local CA"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (log, digest) = (requests.clone(), image_digest.to_owned());
        let app = Router::new().route(
            "/v1/token",
            post(move |body: Bytes| {
                let (issuer, log, digest) = (issuer.clone(), log.clone(), digest.clone());
                async move { token(&issuer, &log, &digest, &body) }
            }),
        );
        let listener = tokio::net::UnixListener::bind(socket).expect("bind launcher socket");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandInLauncher {
            socket: socket.to_owned(),
            requests,
        }
    }
}

fn token(
    issuer: &LocalIssuer,
    log: &Mutex<Vec<LauncherRequest>>,
    digest: &str,
    body: &[u8],
) -> (StatusCode, String) {
    let request: LauncherRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("invalid request: {e}")),
    };
    let token_type = match request.token_type.as_str() {
        "PKI" => TokenType::Pki,
        "OIDC" => TokenType::Oidc,
        other => {
            return (
                StatusCode::BAD_REQUEST,
                format!("unsupported token_type {other}"),
            );
        }
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let minted = issuer.mint(&MintRequest {
        audience: request.audience.clone(),
        nonces: request.nonces.clone(),
        token_type,
        image_digest: digest.to_owned(),
        env: Default::default(),
        now,
    });
    if let Ok(mut l) = log.lock() {
        l.push(request);
    }
    match minted {
        Ok(token) => (StatusCode::OK, token),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
    }
}
