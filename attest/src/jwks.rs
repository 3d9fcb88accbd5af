//! OIDC tokens: keys from a JWKS, fetched over HTTPS through OpenID discovery, cached, and
//! refetched when a token names an unknown `kid` (at most once per [`MIN_REFETCH_INTERVAL`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::pki::modulus_bits;

/// Google's OpenID discovery document for Confidential Space tokens.
pub const GOOGLE_DISCOVERY_URL: &str =
    "https://confidentialcomputing.googleapis.com/.well-known/openid-configuration";
/// A token with an unknown `kid` triggers at most one refetch per this interval.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// Largest discovery document or JWKS accepted.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a JWKS could not be used.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// Not a JWKS document.
    #[error("invalid JWKS: {0}")]
    Invalid(String),
    /// The HTTP exchange failed.
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong (status, timeout, size).
        reason: String,
    },
    /// A refetch was asked for sooner than [`MIN_REFETCH_INTERVAL`] after the last one.
    #[error("JWKS was fetched less than {}s ago", MIN_REFETCH_INTERVAL.as_secs())]
    RateLimited,
}

/// An RSA verification key from a JWKS.
#[derive(Debug, Clone)]
pub(crate) struct RsaKey {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
}

impl RsaKey {
    pub(crate) fn bits(&self) -> usize {
        modulus_bits(&self.n)
    }
}

/// A set of RS256 verification keys by `kid`.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    keys: HashMap<String, RsaKey>,
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

impl Jwks {
    /// Parses a JWKS document. RSA signing keys with a `kid` are kept; keys of other types or
    /// meant for other uses are skipped; an RSA key marked for another algorithm is skipped too.
    pub fn from_json(bytes: &[u8]) -> Result<Jwks, JwksError> {
        crate::json::parse_object(bytes).map_err(|e| JwksError::Invalid(e.to_string()))?;
        let raw: RawJwks =
            serde_json::from_slice(bytes).map_err(|e| JwksError::Invalid(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in raw.keys {
            let usable = jwk.kty == "RSA"
                && jwk
                    .alg
                    .as_deref()
                    .is_none_or(|a| a == crate::jwt::ALGORITHM)
                && jwk.use_.as_deref().is_none_or(|u| u == "sig");
            let (true, Some(kid), Some(n), Some(e)) = (usable, jwk.kid, jwk.n, jwk.e) else {
                continue;
            };
            let decode = |v: &str, what: &str| {
                URL_SAFE_NO_PAD
                    .decode(v)
                    .map_err(|err| JwksError::Invalid(format!("key {kid}: `{what}`: {err}")))
            };
            let key = RsaKey {
                n: decode(&n, "n")?,
                e: decode(&e, "e")?,
            };
            if keys.insert(kid.clone(), key).is_some() {
                return Err(JwksError::Invalid(format!("duplicate kid {kid}")));
            }
        }
        Ok(Jwks { keys })
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&RsaKey> {
        self.keys.get(kid)
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there is no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Keys for OIDC tokens: fixed, or fetched from an OpenID provider and cached.
pub struct JwksSource {
    current: RwLock<Arc<Jwks>>,
    remote: Option<Remote>,
}

struct Remote {
    discovery_url: String,
    http: reqwest::Client,
    last_fetch: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksSource")
            .field(
                "discovery_url",
                &self.remote.as_ref().map(|r| &r.discovery_url),
            )
            .finish_non_exhaustive()
    }
}

impl JwksSource {
    /// A fixed key set that is never refetched (e.g. from a file).
    pub fn fixed(jwks: Jwks) -> JwksSource {
        JwksSource {
            current: RwLock::new(Arc::new(jwks)),
            remote: None,
        }
    }

    /// Keys discovered from `discovery_url` with the given client. Nothing is fetched until
    /// [`JwksSource::refresh`] or a verification that needs a key.
    pub fn remote(discovery_url: &str, http: reqwest::Client) -> JwksSource {
        JwksSource {
            current: RwLock::new(Arc::new(Jwks::default())),
            remote: Some(Remote {
                discovery_url: discovery_url.to_owned(),
                http,
                last_fetch: Mutex::new(None),
            }),
        }
    }

    /// Google's keys, through [`GOOGLE_DISCOVERY_URL`] and the public web PKI.
    pub fn google() -> Result<JwksSource, JwksError> {
        let http = https_client(&[]).map_err(|reason| JwksError::Fetch {
            url: GOOGLE_DISCOVERY_URL.into(),
            reason,
        })?;
        Ok(JwksSource::remote(GOOGLE_DISCOVERY_URL, http))
    }

    /// The keys held now.
    pub fn current(&self) -> Arc<Jwks> {
        match self.current.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether a refetch is possible at all (a remote source).
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// Fetches the keys again, unless the last fetch was less than [`MIN_REFETCH_INTERVAL`] ago.
    pub async fn refresh(&self) -> Result<Arc<Jwks>, JwksError> {
        let Some(remote) = &self.remote else {
            return Ok(self.current());
        };
        {
            let mut last = remote
                .last_fetch
                .lock()
                .map_err(|_| JwksError::RateLimited)?;
            if last.is_some_and(|t| t.elapsed() < MIN_REFETCH_INTERVAL) {
                return Err(JwksError::RateLimited);
            }
            // Claim the slot before fetching, so concurrent callers do not all fetch.
            *last = Some(Instant::now());
        }
        let discovery: Discovery =
            serde_json::from_slice(&get(&remote.http, &remote.discovery_url).await?)
                .map_err(|e| JwksError::Invalid(format!("discovery document: {e}")))?;
        if !discovery.jwks_uri.starts_with("https://") {
            return Err(JwksError::Invalid(format!(
                "jwks_uri {} is not https",
                discovery.jwks_uri
            )));
        }
        let jwks = Arc::new(Jwks::from_json(
            &get(&remote.http, &discovery.jwks_uri).await?,
        )?);
        if let Ok(mut current) = self.current.write() {
            *current = jwks.clone();
        }
        tracing::info!(keys = jwks.len(), url = %discovery.jwks_uri, "JWKS refreshed");
        Ok(jwks)
    }
}

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

async fn get(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, JwksError> {
    let fail = |reason: String| JwksError::Fetch {
        url: url.to_owned(),
        reason,
    };
    let mut response = http
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP status {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(fail(format!(
                "response larger than {MAX_DOCUMENT_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An HTTPS client on rustls with the ring provider, trusting the public web PKI plus the given
/// PEM roots (for a private OpenID provider, or tests), with connect and request timeouts.
pub fn https_client(extra_roots_pem: &[&[u8]]) -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem_bytes in extra_roots_pem {
        for block in pem::parse_many(pem_bytes).map_err(|e| e.to_string())? {
            roots
                .add(block.contents().to_vec().into())
                .map_err(|e| e.to_string())?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_json_keeps_rsa_signing_keys_and_skips_the_rest() {
        let doc = br#"{"keys":[
            {"kty":"RSA","kid":"a","alg":"RS256","use":"sig","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"b","alg":"RS512","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"c","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"EC","kid":"d","crv":"P-256","x":"AA","y":"AA"}]}"#;
        let jwks = Jwks::from_json(doc).unwrap();
        assert_eq!(jwks.len(), 1);
        assert!(jwks.get("a").is_some());
    }

    #[test]
    fn from_json_rejects_duplicate_kids_and_duplicate_keys() {
        let dup_kid = br#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"},
            {"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}"#;
        assert!(matches!(
            Jwks::from_json(dup_kid),
            Err(JwksError::Invalid(_))
        ));
        let dup_key = br#"{"keys":[{"kty":"RSA","kid":"a","kid":"b","n":"AQAB","e":"AQAB"}]}"#;
        assert!(matches!(
            Jwks::from_json(dup_key),
            Err(JwksError::Invalid(_))
        ));
    }
}
