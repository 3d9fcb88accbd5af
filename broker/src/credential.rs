//! A credential ready to broker: its scope and its secret, checked once (the secret can be
//! carried in the scope's header). The enclave makes one when an escrow is created; the host, in
//! server-trust mode, for each request.
//!
//! A request goes through two steps. [`Credential::allow`] checks it against the scope and
//! parses everything the caller sent, without touching the network: a refusal there never
//! reaches the upstream and never costs a use. [`crate::Broker::forward`] sends what was
//! allowed, building the header value and the redaction searcher for that request (about 10 µs).
//! Keeping the searcher with the escrow would cost some 20 KiB an escrow (`scripts/bench-enclave`
//! measured 21.6 KB instead of 1.1 KB); the enclave is sized by escrows.

use aileron_sdk::wire::BrokeredRequest;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret as _, SecretBox};
use url::Url;

use crate::BrokerError;
use crate::redact::Needles;
use crate::scope::{ValidScope, is_reserved};

/// A scope and its secret, checked.
pub struct Credential {
    scope: ValidScope,
    secret: SecretBox<[u8]>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// The credential `secret`, usable within `scope`. Refused when the secret cannot be a
    /// header value (control characters: a secret with CR or LF would inject headers).
    pub fn new(scope: ValidScope, secret: &[u8]) -> Result<Credential, BrokerError> {
        scope
            .inject_value(secret)
            .ok_or(BrokerError::InvalidSecret)?;
        Ok(Credential {
            scope,
            secret: SecretBox::new(secret.into()),
        })
    }

    /// What the credential may be used for.
    pub fn scope(&self) -> &ValidScope {
        &self.scope
    }

    /// Checks `request` against the scope and parses its headers and body: what may be sent.
    pub fn allow<'a>(&'a self, request: &BrokeredRequest) -> Result<Allowed<'a>, BrokerError> {
        let (method, url) = self.scope.check(&request.method, &request.url)?;
        let mut headers = HeaderMap::with_capacity(request.headers.len() + 2);
        for (name, value) in &request.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| BrokerError::BadRequest(format!("invalid header name {name:?}")))?;
            if is_reserved(header.as_str()) || header == self.scope.inject_header {
                return Err(BrokerError::BadRequest(format!(
                    "header `{header}` may not be set by the caller"
                )));
            }
            let value = HeaderValue::from_str(value).map_err(|_| {
                BrokerError::BadRequest(format!("invalid value for header `{header}`"))
            })?;
            headers.append(header, value);
        }
        let body = match &request.body {
            Some(body) => Some(
                aileron_sdk::wire::from_b64u(body)
                    .ok_or_else(|| BrokerError::BadRequest("body is not base64url".into()))?,
            ),
            None => None,
        };
        Ok(Allowed {
            credential: self,
            method,
            url,
            headers,
            body,
        })
    }

    /// The header value carrying the secret, marked sensitive, and the searcher for every form
    /// of what it injects.
    pub(crate) fn injection(&self) -> Result<(HeaderValue, Needles), BrokerError> {
        let secret = self.secret.expose_secret();
        let bytes = self
            .scope
            .inject_value(secret)
            .ok_or(BrokerError::InvalidSecret)?;
        let mut value = HeaderValue::from_bytes(&bytes).map_err(|_| BrokerError::InvalidSecret)?;
        value.set_sensitive(true);
        Ok((value, needles(&self.scope, secret, &bytes)))
    }
}

/// A request the credential's scope allows, ready to send with [`crate::Broker::forward`].
#[derive(Debug)]
pub struct Allowed<'a> {
    pub(crate) credential: &'a Credential,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
}

/// Every value whose forms are redacted: the secret, what replaces `{secret}` (for Basic, the
/// encoded pair, and the pair itself) and the whole header value.
fn needles(scope: &ValidScope, secret: &[u8], value: &[u8]) -> Needles {
    let injected = scope.injected_secret(secret);
    let pair = scope.basic_pair(secret);
    let mut values: Vec<&[u8]> = vec![secret, &injected, value];
    if scope.is_basic() {
        values.push(&pair);
    }
    Needles::for_values(&values)
}

#[cfg(test)]
mod tests {
    use aileron_sdk::wire::{AllowRule, Inject, Scope};
    use time::{Duration, OffsetDateTime};

    use super::*;
    use crate::destination::Destinations;

    fn scope() -> ValidScope {
        let scope = Scope {
            allow: vec![AllowRule {
                methods: vec!["GET".into()],
                url_prefix: "https://api.example.com/".into(),
            }],
            inject: Inject::bearer(),
            expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
            max_uses: None,
        };
        ValidScope::parse(
            &scope,
            OffsetDateTime::now_utc(),
            Duration::hours(2),
            Destinations::PUBLIC,
        )
        .unwrap()
    }

    fn get(url: &str, headers: &[(&str, &str)], body: Option<&str>) -> BrokeredRequest {
        BrokeredRequest {
            method: "GET".into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.map(str::to_owned),
        }
    }

    #[test]
    fn a_secret_that_cannot_be_a_header_value_is_refused_when_prepared() {
        for bad in [&b"a\r\nX-Evil: 1"[..], b"a\nb", b"a\0b", b"a\x7fb"] {
            assert!(
                matches!(
                    Credential::new(scope(), bad),
                    Err(BrokerError::InvalidSecret)
                ),
                "{bad:?}"
            );
        }
        let credential = Credential::new(scope(), b"sk-live-1").unwrap();
        let (value, needles) = credential.injection().unwrap();
        assert_eq!(value.as_bytes(), b"Bearer sk-live-1");
        assert!(value.is_sensitive());
        assert_eq!(
            needles.redact(b"echo: sk-live-1").as_deref(),
            Some(&b"echo: [REDACTED]"[..])
        );
    }

    #[test]
    fn allow_checks_the_scope_headers_and_body_before_anything_is_sent() {
        let credential = Credential::new(scope(), b"sk-live-1").unwrap();
        let allowed = credential
            .allow(&get(
                "https://api.example.com/repos",
                &[("Accept", "application/json")],
                Some("aGk"),
            ))
            .unwrap();
        assert_eq!(allowed.url.as_str(), "https://api.example.com/repos");
        assert_eq!(allowed.headers["accept"], "application/json");
        assert_eq!(allowed.body.as_deref(), Some(&b"hi"[..]));
        let refused = |request: BrokeredRequest| credential.allow(&request).unwrap_err();
        assert!(matches!(
            refused(get("https://elsewhere.example/", &[], None)),
            BrokerError::Scope(_)
        ));
        for (name, value) in [
            ("Authorization", "Bearer mine"),
            ("Accept-Encoding", "gzip"),
            ("bad header", "x"),
            ("Accept", "a\r\nb"),
        ] {
            assert!(
                matches!(
                    refused(get("https://api.example.com/", &[(name, value)], None)),
                    BrokerError::BadRequest(_)
                ),
                "{name}"
            );
        }
        assert!(matches!(
            refused(get("https://api.example.com/", &[], Some("not base64!"))),
            BrokerError::BadRequest(_)
        ));
    }

    #[test]
    fn the_secret_never_prints() {
        let credential = Credential::new(scope(), b"sk-live-hunter2").unwrap();
        let printed = format!("{credential:?}");
        assert!(printed.starts_with("Credential {"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
        let request = get("https://api.example.com/", &[], None);
        let allowed = format!("{:?}", credential.allow(&request).unwrap());
        assert!(!allowed.contains("hunter2"), "{allowed}");
    }
}
