//! Scopes: validated once at escrow creation, then matched against every brokered request.
//!
//! A request URL is parsed and normalised (WHATWG URL parsing: case of scheme and host, default
//! ports, IPv4 spellings, `.`/`..` segments including their percent-encoded forms, `\` as `/`)
//! before matching. Scheme, host and port must equal a rule's exactly; the path must start with
//! the rule's path on a segment boundary (`/v1` allows `/v1` and `/v1/x`, never `/v10`).
//! Userinfo is refused, and so is any path segment that an upstream could decode into a
//! separator or a dot segment (`..%2f`, `%2E%2e%2F`, `..;`, `%5c`): the path the upstream
//! routes on is the path that was checked.

use aileron_sdk::wire::{self, Scope};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderName, HeaderValue, Method};
use time::{Duration, OffsetDateTime};
use url::Url;
use zeroize::Zeroizing;

use crate::destination::Destinations;

/// Why a scope or a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// The scope itself is malformed (at escrow creation).
    #[error("invalid scope: {0}")]
    Invalid(String),
    /// The request is outside every allow rule.
    #[error("request outside the escrow's scope: {0}")]
    Violation(String),
}

/// One allow rule, parsed.
#[derive(Debug, Clone)]
struct Rule {
    methods: Vec<Method>,
    scheme: String,
    host: String,
    port: u16,
    path: String,
}

/// A scope that passed validation.
#[derive(Debug, Clone)]
pub struct ValidScope {
    rules: Vec<Rule>,
    destinations: Destinations,
    /// The header the secret goes into.
    pub inject_header: HeaderName,
    prefix: String,
    suffix: String,
    username: Option<String>,
    /// Expiry.
    pub expires_at: OffsetDateTime,
    /// Use limit.
    pub max_uses: Option<u64>,
}

/// Headers the caller may not set: hop-by-hop and framing headers, headers that would let the
/// caller choose how the answer is encoded or cut (so redaction sees what the caller sees), that
/// override the method or claim a forwarding path, and the metadata server's request headers.
pub const RESERVED_HEADERS: [&str; 25] = [
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "accept-encoding",
    "range",
    "if-range",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-real-ip",
    "metadata-flavor",
    "x-google-metadata-request",
];

/// Whether a header name (lower case) is reserved: one of [`RESERVED_HEADERS`] or any other
/// `x-forwarded-*`.
pub fn is_reserved(name: &str) -> bool {
    RESERVED_HEADERS.contains(&name) || name.starts_with("x-forwarded-")
}

impl ValidScope {
    /// Validates `scope` at `now`: expiry in the future and within `max_ttl`, at least one
    /// rule, every rule's destination allowed by `destinations` (`https` and public unless the
    /// development setting is on), `{secret}` exactly once, a valid header name.
    pub fn parse(
        scope: &Scope,
        now: OffsetDateTime,
        max_ttl: Duration,
        destinations: Destinations,
    ) -> Result<ValidScope, ScopeError> {
        let invalid = |m: String| Err(ScopeError::Invalid(m));
        if scope.expires_at <= now {
            return invalid("expires_at is not in the future".into());
        }
        if scope.expires_at > now + max_ttl {
            return invalid(format!(
                "expires_at is more than {} hours away",
                max_ttl.whole_hours()
            ));
        }
        if scope.max_uses == Some(0) {
            return invalid("max_uses must be at least 1 (or absent)".into());
        }
        let rules = parse_rules(&scope.allow, destinations)?;
        let (inject_header, prefix, suffix) = parse_inject(&scope.inject)?;
        Ok(ValidScope {
            rules,
            destinations,
            inject_header,
            prefix,
            suffix,
            username: scope.inject.username.clone(),
            expires_at: scope.expires_at,
            max_uses: scope.max_uses,
        })
    }

    /// Checks `method url` against the rules; returns the normalised URL to call.
    pub fn check(&self, method: &str, url: &str) -> Result<(Method, Url), ScopeError> {
        check_request(&self.rules, self.destinations, method, url)
    }

    /// The destinations this scope was validated for.
    pub fn destinations(&self) -> Destinations {
        self.destinations
    }

    /// What goes in place of `{secret}`: the secret, or for HTTP Basic
    /// `base64(username ":" secret)`.
    pub fn injected_secret(&self, secret: &[u8]) -> Zeroizing<Vec<u8>> {
        match &self.username {
            None => Zeroizing::new(secret.to_vec()),
            Some(_) => Zeroizing::new(STANDARD.encode(&*self.basic_pair(secret)).into()),
        }
    }

    /// `username ":" secret`, the pair HTTP Basic encodes (the user name is empty when the
    /// scope is not Basic).
    pub fn basic_pair(&self, secret: &[u8]) -> Zeroizing<Vec<u8>> {
        let username = self.username.as_deref().unwrap_or_default();
        let mut pair = Zeroizing::new(Vec::with_capacity(username.len() + 1 + secret.len()));
        pair.extend_from_slice(username.as_bytes());
        pair.push(b':');
        pair.extend_from_slice(secret);
        pair
    }

    /// Whether the secret is injected as HTTP Basic.
    pub fn is_basic(&self) -> bool {
        self.username.is_some()
    }

    /// The bytes of the header value carrying `secret`, or `None` if the secret cannot be in a
    /// header value (control characters: a secret with CR or LF would inject headers).
    pub fn inject_value(&self, secret: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if secret.iter().any(|b| b.is_ascii_control()) {
            return None;
        }
        let injected = self.injected_secret(secret);
        let mut bytes = Zeroizing::new(Vec::with_capacity(
            self.prefix.len() + injected.len() + self.suffix.len(),
        ));
        bytes.extend_from_slice(self.prefix.as_bytes());
        bytes.extend_from_slice(&injected);
        bytes.extend_from_slice(self.suffix.as_bytes());
        HeaderValue::from_bytes(&bytes).ok()?;
        Some(bytes)
    }
}

/// Validates allow rules alone (the host checks a credential's rules when it is stored, with
/// the same code the enclave runs at escrow creation).
pub fn validate_rules(
    allow: &[wire::AllowRule],
    destinations: Destinations,
) -> Result<(), ScopeError> {
    parse_rules(allow, destinations).map(|_| ())
}

/// Checks one request against allow rules alone, with exactly the code an escrow runs for each
/// brokered request: what a client shows as "inside the scope" is what the enclave allows.
/// Returns the normalised method and URL. `allow` is validated first (an invalid rule is
/// `ScopeError::Invalid`).
pub fn check_rules(
    allow: &[wire::AllowRule],
    destinations: Destinations,
    method: &str,
    url: &str,
) -> Result<(Method, Url), ScopeError> {
    let rules = parse_rules(allow, destinations)?;
    check_request(&rules, destinations, method, url)
}

fn check_request(
    rules: &[Rule],
    destinations: Destinations,
    method: &str,
    url: &str,
) -> Result<(Method, Url), ScopeError> {
    let violation = |m: String| Err(ScopeError::Violation(m));
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| ScopeError::Violation(format!("invalid method {method:?}")))?;
    let parsed = Url::parse(url).map_err(|e| ScopeError::Violation(format!("invalid URL: {e}")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return violation("URLs with userinfo are refused".into());
    }
    let (Some(host), Some(port)) = (parsed.host(), parsed.port_or_known_default()) else {
        return violation("the URL has no host".into());
    };
    destinations
        .check_host(parsed.scheme(), &host)
        .map_err(|e| ScopeError::Violation(e.to_string()))?;
    check_segments(parsed.path()).map_err(ScopeError::Violation)?;
    let host = host.to_string();
    let allowed = rules.iter().any(|rule| {
        rule.scheme == parsed.scheme()
            && rule.host == host
            && rule.port == port
            && path_within(parsed.path(), &rule.path)
            && rule.methods.contains(&method)
    });
    if allowed {
        Ok((method, parsed))
    } else {
        violation(format!(
            "{method} {}://{host}:{port}{} matches no allow rule",
            parsed.scheme(),
            parsed.path()
        ))
    }
}

/// Validates an injection (header name, format, basic user name) alone.
pub fn validate_inject(inject: &wire::Inject) -> Result<(), ScopeError> {
    parse_inject(inject).map(|_| ())
}

fn parse_rules(
    allow: &[wire::AllowRule],
    destinations: Destinations,
) -> Result<Vec<Rule>, ScopeError> {
    if allow.is_empty() {
        return Err(ScopeError::Invalid(
            "at least one allow rule is required".into(),
        ));
    }
    allow
        .iter()
        .map(|rule| parse_rule(rule, destinations))
        .collect()
}

fn parse_inject(inject: &wire::Inject) -> Result<(HeaderName, String, String), ScopeError> {
    let invalid = |m: String| Err(ScopeError::Invalid(m));
    let header = HeaderName::from_bytes(inject.header.as_bytes()).map_err(|_| {
        ScopeError::Invalid(format!("{:?} is not a valid header name", inject.header))
    })?;
    if is_reserved(header.as_str()) {
        return invalid(format!("the secret cannot go into `{header}`"));
    }
    let mut parts = inject.format.split("{secret}");
    let (Some(prefix), Some(suffix), None) = (parts.next(), parts.next(), parts.next()) else {
        return invalid("inject.format must contain {secret} exactly once".into());
    };
    if HeaderValue::from_str(&format!("{prefix}x{suffix}")).is_err() {
        return invalid("inject.format has characters not allowed in a header value".into());
    }
    if let Some(username) = &inject.username
        && (username.is_empty()
            || username.len() > 256
            || username.contains(':')
            || username.chars().any(char::is_control))
    {
        return invalid("inject.username: 1 to 256 bytes, no ':' or control characters".into());
    }
    Ok((header, prefix.to_owned(), suffix.to_owned()))
}

fn parse_rule(rule: &wire::AllowRule, destinations: Destinations) -> Result<Rule, ScopeError> {
    let invalid = |m: String| ScopeError::Invalid(m);
    let prefix = &rule.url_prefix;
    if rule.methods.is_empty() {
        return Err(invalid(format!("rule for {prefix} names no method")));
    }
    let methods = rule
        .methods
        .iter()
        .map(|m| match Method::from_bytes(m.as_bytes()) {
            Ok(method) if m.bytes().all(|b| b.is_ascii_uppercase()) => Ok(method),
            _ => Err(invalid(format!("{m:?} is not an upper-case HTTP method"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let url = Url::parse(prefix).map_err(|e| invalid(format!("url_prefix {prefix:?}: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid(format!(
            "url_prefix {prefix:?} must be https (or http when named)"
        )));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(invalid(format!(
            "url_prefix {prefix:?} may not have userinfo, query or fragment"
        )));
    }
    let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
        return Err(invalid(format!("url_prefix {prefix:?} has no host")));
    };
    destinations
        .check_host(url.scheme(), &host)
        .map_err(|e| invalid(format!("url_prefix {prefix:?}: {e}")))?;
    check_segments(url.path()).map_err(|e| invalid(format!("url_prefix {prefix:?}: {e}")))?;
    Ok(Rule {
        methods,
        scheme: url.scheme().to_owned(),
        host: host.to_string(),
        port,
        path: url.path().to_owned(),
    })
}

/// Refuses path segments that an upstream could decode into a separator or a dot segment.
fn check_segments(path: &str) -> Result<(), String> {
    for raw in path.split('/') {
        let decoded = percent_encoding::percent_decode_str(raw).collect::<Vec<u8>>();
        let lower = decoded.to_ascii_lowercase();
        let separator = decoded.iter().any(|b| matches!(b, b'/' | b'\\' | 0));
        let dots = matches!(
            decoded.split(|b| *b == b';').next(),
            Some(b".") | Some(b"..")
        );
        let double_encoded = [&b"%2f"[..], b"%5c", b"%2e", b"%00"]
            .iter()
            .any(|e| lower.windows(3).any(|w| w == *e));
        if separator || dots || double_encoded {
            return Err(format!(
                "the path segment {raw:?} decodes to a separator or a dot segment"
            ));
        }
    }
    Ok(())
}

/// `path` equals `prefix` or continues it after a `/`.
fn path_within(path: &str, prefix: &str) -> bool {
    if prefix.ends_with('/') {
        path.starts_with(prefix)
    } else {
        path == prefix
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

#[cfg(test)]
mod tests;
