//! # aileron-broker
//!
//! Brokered requests: check a request against the scope sealed with a credential, inject the
//! secret, call the upstream, and give back its answer with every form of the secret removed.
//! The enclave runs this for every escrow; the host runs the same code when no enclave is
//! configured (the declared server-trust mode).
//!
//! A credential (its scope and secret, [`Credential`]) is checked once; each request is first
//! allowed by it ([`Credential::allow`], no network), then sent ([`Broker::forward`]).
//!
//! What it guarantees, and where:
//! - **Scope** ([`scope`]): method, scheme, host, port and a path prefix on a segment boundary,
//!   on the normalised URL; no userinfo; no path segment an upstream could decode into a
//!   separator or a dot segment.
//! - **Destinations** ([`destination`]): public addresses over `https` only, checked on the URL
//!   and again on every address a name resolves to at connect time; private destinations and
//!   plain `http` only behind [`destination::DANGEROUS_PRIVATE_VAR`].
//! - **What the caller cannot set**: hop-by-hop headers, encodings and ranges of the answer,
//!   method overrides, forwarding headers, the metadata server's headers, the injected header.
//! - **Redaction** ([`redact`]): the answer is never compressed (the broker asks for `identity`
//!   and refuses any other content encoding), and every form of each injected value is removed
//!   from its headers and body. Redirects are returned, never followed.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod credential;
pub mod destination;
pub mod redact;
pub mod scope;

use std::sync::Arc;
use std::time::Duration;

use aileron_sdk::wire::{self, BrokeredResponse, ErrorCode};
use http::{HeaderValue, header};

pub use crate::credential::{Allowed, Credential};
use crate::destination::{Destinations, FilteringResolver, Lookup, Refused, SystemLookup};
use crate::redact::Needles;
use crate::scope::ScopeError;

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
    /// The upstream's name resolves to an address the broker may not reach.
    #[error("destination not allowed: {0}")]
    Destination(Refused),
    /// The upstream could not be connected to: the request never left, so it is not a use.
    #[error("upstream request failed: could not connect (the use was not counted)")]
    Unreachable,
    /// The upstream failed or timed out after the request may have reached it.
    #[error("upstream request failed: {0}")]
    Upstream(&'static str),
    /// The upstream's answer is larger than allowed.
    #[error("upstream answer larger than {0} bytes")]
    TooLarge(usize),
    /// The upstream compressed its answer although asked not to.
    #[error("the upstream answered with content encoding {0:?}, which is not passed on")]
    Encoding(String),
}

impl BrokerError {
    /// The stable code every Aileron service answers this error with (the enclave, and the host
    /// when it brokers without one).
    pub fn code(&self) -> ErrorCode {
        match self {
            BrokerError::Scope(ScopeError::Invalid(_)) => ErrorCode::InvalidScope,
            BrokerError::Scope(ScopeError::Violation(_)) => ErrorCode::ScopeViolation,
            BrokerError::BadRequest(_) => ErrorCode::InvalidRequest,
            BrokerError::InvalidSecret => ErrorCode::InvalidSecret,
            BrokerError::Destination(_) => ErrorCode::DestinationNotAllowed,
            BrokerError::Upstream(_) | BrokerError::Unreachable => ErrorCode::UpstreamError,
            BrokerError::TooLarge(_) => ErrorCode::UpstreamTooLarge,
            BrokerError::Encoding(_) => ErrorCode::UpstreamEncoding,
        }
    }

    /// The message every Aileron service answers this error with (beside [`BrokerError::code`],
    /// which already says "scope").
    pub fn message(&self) -> String {
        match self {
            BrokerError::Scope(ScopeError::Invalid(m) | ScopeError::Violation(m)) => m.clone(),
            other => other.to_string(),
        }
    }

    /// Whether the request certainly never reached the upstream (its use is given back).
    pub fn never_sent(&self) -> bool {
        matches!(
            self,
            BrokerError::Unreachable | BrokerError::Destination(_) | BrokerError::BadRequest(_)
        )
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
    destinations: Destinations,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("limits", &self.limits)
            .field("destinations", &self.destinations)
            .finish()
    }
}

impl Broker {
    /// A broker trusting the public web PKI (rustls, ring), resolving names with the system
    /// resolver and connecting only where `destinations` allows.
    pub fn new(limits: BrokerLimits, destinations: Destinations) -> Result<Broker, String> {
        Broker::with_lookup(limits, destinations, Arc::new(SystemLookup))
    }

    /// As [`Broker::new`], resolving names with `lookup` (tests stand in for DNS here).
    pub fn with_lookup(
        limits: BrokerLimits,
        destinations: Destinations,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Broker, String> {
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
            .dns_resolver(Arc::new(FilteringResolver::new(destinations, lookup)))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .timeout(limits.timeout)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Broker {
            http,
            limits,
            destinations,
        })
    }

    /// The destinations this broker may reach (scopes are validated against the same).
    pub fn destinations(&self) -> Destinations {
        self.destinations
    }

    /// Sends what a credential allowed, with its secret injected, and gives back the answer
    /// with every form of the secret removed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn forward(&self, allowed: Allowed<'_>) -> Result<BrokeredResponse, BrokerError> {
        let Allowed {
            credential,
            method,
            url,
            mut headers,
            body,
        } = allowed;
        let (value, needles) = credential.injection()?;
        headers.insert(credential.scope().inject_header.clone(), value);
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        let mut builder = self.http.request(method, url).headers(headers);
        if let Some(body) = body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(send_error)?;
        self.answer(response, &needles).await
    }

    async fn answer(
        &self,
        mut response: reqwest::Response,
        needles: &Needles,
    ) -> Result<BrokeredResponse, BrokerError> {
        if let Some(encoding) = response.headers().get(header::CONTENT_ENCODING)
            && !encoding.as_bytes().eq_ignore_ascii_case(b"identity")
        {
            return Err(BrokerError::Encoding(
                String::from_utf8_lossy(encoding.as_bytes()).into_owned(),
            ));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            // Framing and hop-by-hop headers describe the upstream's connection, not the answer
            // passed on: redaction changes the body's length, so its Content-Length would lie.
            .filter(|(name, _)| !FRAMING_HEADERS.contains(&name.as_str()))
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
        while let Some(chunk) = response.chunk().await.map_err(|e| {
            BrokerError::Upstream(if e.is_timeout() {
                "timed out"
            } else {
                "bad response body"
            })
        })? {
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

/// Upstream answer headers that are not passed on (lower case).
const FRAMING_HEADERS: [&str; 9] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "proxy-authenticate",
];

/// reqwest's messages include the URL, which may carry query parameters: keep only the kind.
/// A refusal of the resolved address is found in the error's sources.
fn send_error(e: reqwest::Error) -> BrokerError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return BrokerError::Destination(refused.clone());
        }
        source = err.source();
    }
    if e.is_connect() {
        BrokerError::Unreachable
    } else if e.is_timeout() {
        BrokerError::Upstream("timed out")
    } else {
        BrokerError::Upstream("request failed")
    }
}
