//! Brokered requests: check the scope, inject the secret, call the upstream without following
//! redirects, cap the answer, and redact the secret from it. The host runs the same code when no
//! enclave is configured.

use std::sync::Arc;
use std::time::Duration;

use aileron_sdk::wire::{self, BrokeredRequest, BrokeredResponse};
use http::HeaderName;

use crate::redact::Needles;
use crate::scope::{RESERVED_HEADERS, ScopeError, ValidScope};

/// Why a brokered request failed.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// Outside the scope.
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// A malformed request (bad header, body encoding).
    #[error("{0}")]
    BadRequest(String),
    /// The secret cannot be carried in the configured header.
    #[error("the secret cannot be sent in a header (control characters)")]
    InvalidSecret,
    /// The upstream could not be connected to: the request never left, so it is not a use.
    #[error("upstream request failed: could not connect (the use was not counted)")]
    Unreachable,
    /// The upstream failed or timed out after the request may have reached it.
    #[error("upstream request failed: {0}")]
    Upstream(String),
    /// The upstream's answer is larger than allowed.
    #[error("upstream answer larger than {0} bytes")]
    TooLarge(usize),
}

impl BrokerError {
    /// The HTTP status and stable code every Aileron service answers this error with (the
    /// enclave, and the host when it brokers without one).
    pub fn status_code(&self) -> (http::StatusCode, &'static str) {
        use http::StatusCode;
        match self {
            BrokerError::Scope(s) => s.status_code(),
            BrokerError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            BrokerError::InvalidSecret => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_secret"),
            BrokerError::Upstream(_) | BrokerError::Unreachable => {
                (StatusCode::BAD_GATEWAY, "upstream_error")
            }
            BrokerError::TooLarge(_) => (StatusCode::BAD_GATEWAY, "upstream_too_large"),
        }
    }
}

/// Limits of brokered requests.
#[derive(Debug, Clone, Copy)]
pub struct BrokerLimits {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Largest upstream answer body.
    pub max_response_bytes: usize,
}

impl Default for BrokerLimits {
    fn default() -> Self {
        BrokerLimits {
            timeout: Duration::from_secs(30),
            max_response_bytes: 10 * 1024 * 1024,
        }
    }
}

/// Makes brokered requests.
#[derive(Clone)]
pub struct Broker {
    http: reqwest::Client,
    limits: BrokerLimits,
}

impl Broker {
    /// A broker trusting the public web PKI (rustls, ring).
    pub fn new(limits: BrokerLimits) -> Result<Broker, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(limits.timeout)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Broker { http, limits })
    }

    /// Makes `request` with `secret` injected, if `scope` allows it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn forward(
        &self,
        scope: &ValidScope,
        secret: &[u8],
        request: &BrokeredRequest,
    ) -> Result<BrokeredResponse, BrokerError> {
        let (method, url) = scope.check(&request.method, &request.url)?;
        let mut builder = self.http.request(method, url);
        for (name, value) in &request.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| BrokerError::BadRequest(format!("invalid header name {name:?}")))?;
            if RESERVED_HEADERS.contains(&header.as_str()) || header == scope.inject_header {
                return Err(BrokerError::BadRequest(format!(
                    "header `{header}` may not be set by the caller"
                )));
            }
            let value = http::HeaderValue::from_str(value).map_err(|_| {
                BrokerError::BadRequest(format!("invalid value for header `{header}`"))
            })?;
            builder = builder.header(header, value);
        }
        let value = scope
            .inject_value(secret)
            .ok_or(BrokerError::InvalidSecret)?;
        let needles = Needles::for_values(&[secret, value.as_bytes()]);
        builder = builder.header(scope.inject_header.clone(), value);
        if let Some(body) = &request.body {
            let bytes = wire::from_b64u(body)
                .ok_or_else(|| BrokerError::BadRequest("body is not base64url".into()))?;
            builder = builder.body(bytes);
        }
        let mut response = builder.send().await.map_err(|e| match e.is_connect() {
            true => BrokerError::Unreachable,
            false => BrokerError::Upstream(without_url(&e)),
        })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                let value = needles
                    .redact(value.as_bytes())
                    .unwrap_or_else(|| value.as_bytes().to_vec());
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(&value).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| BrokerError::Upstream(without_url(&e)))?
        {
            if body.len() + chunk.len() > self.limits.max_response_bytes {
                return Err(BrokerError::TooLarge(self.limits.max_response_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        let body = needles.redact(&body).unwrap_or(body);
        Ok(BrokeredResponse {
            status,
            headers,
            body: wire::b64u(&body),
        })
    }
}

/// reqwest's messages include the URL, which may carry query parameters: keep only the kind.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "bad response body"
    } else {
        "request failed"
    };
    kind.to_owned()
}
