//! Scopes: validated once at escrow creation, then matched against every brokered request.
//!
//! A request URL is parsed and normalised (WHATWG URL parsing: case of scheme and host, default
//! ports, `.`/`..` segments including their percent-encoded forms, `\` as `/`) before matching.
//! Scheme, host and port must equal a rule's exactly; the path must start with the rule's path
//! on a segment boundary (`/v1` allows `/v1` and `/v1/x`, never `/v10`). Userinfo is refused.

use aileron_sdk::wire::{self, Scope};
use http::{HeaderName, HeaderValue, Method};
use time::{Duration, OffsetDateTime};
use url::Url;

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

impl ScopeError {
    /// The HTTP status and stable code every Aileron service answers this refusal with.
    pub fn status_code(&self) -> (http::StatusCode, &'static str) {
        match self {
            ScopeError::Invalid(_) => (http::StatusCode::BAD_REQUEST, "invalid_scope"),
            ScopeError::Violation(_) => (http::StatusCode::FORBIDDEN, "scope_violation"),
        }
    }
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
    /// The header the secret goes into.
    pub inject_header: HeaderName,
    prefix: String,
    suffix: String,
    /// Expiry.
    pub expires_at: OffsetDateTime,
    /// Use limit.
    pub max_uses: Option<u64>,
}

/// Hop-by-hop, framing and proxy headers: the caller may not set them and the secret may not go
/// into them.
pub const RESERVED_HEADERS: [&str; 10] = [
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
];

impl ValidScope {
    /// Validates `scope` at `now`: expiry in the future and within `max_ttl`, at least one
    /// rule, `https` unless a rule names `http`, `{secret}` exactly once, a valid header name.
    pub fn parse(
        scope: &Scope,
        now: OffsetDateTime,
        max_ttl: Duration,
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
        if scope.allow.is_empty() {
            return invalid("at least one allow rule is required".into());
        }
        if scope.max_uses == Some(0) {
            return invalid("max_uses must be at least 1 (or absent)".into());
        }
        let rules = scope
            .allow
            .iter()
            .map(parse_rule)
            .collect::<Result<Vec<_>, _>>()?;
        let header = HeaderName::from_bytes(scope.inject.header.as_bytes()).map_err(|_| {
            ScopeError::Invalid(format!(
                "{:?} is not a valid header name",
                scope.inject.header
            ))
        })?;
        if RESERVED_HEADERS.contains(&header.as_str()) {
            return invalid(format!("the secret cannot go into `{header}`"));
        }
        let mut parts = scope.inject.format.split("{secret}");
        let (Some(prefix), Some(suffix), None) = (parts.next(), parts.next(), parts.next()) else {
            return invalid("inject.format must contain {secret} exactly once".into());
        };
        if HeaderValue::from_str(&format!("{prefix}x{suffix}")).is_err() {
            return invalid("inject.format has characters not allowed in a header value".into());
        }
        Ok(ValidScope {
            rules,
            inject_header: header,
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            expires_at: scope.expires_at,
            max_uses: scope.max_uses,
        })
    }

    /// Checks `method url` against the rules; returns the normalised URL to call.
    pub fn check(&self, method: &str, url: &str) -> Result<(Method, Url), ScopeError> {
        let violation = |m: String| Err(ScopeError::Violation(m));
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| ScopeError::Violation(format!("invalid method {method:?}")))?;
        let parsed =
            Url::parse(url).map_err(|e| ScopeError::Violation(format!("invalid URL: {e}")))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return violation("URLs with userinfo are refused".into());
        }
        let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
            return violation("the URL has no host".into());
        };
        let allowed = self.rules.iter().any(|rule| {
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

    /// The header value carrying `secret`, or `None` if the secret cannot be a header value.
    pub fn inject_value(&self, secret: &[u8]) -> Option<HeaderValue> {
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(
            self.prefix.len() + secret.len() + self.suffix.len(),
        ));
        bytes.extend_from_slice(self.prefix.as_bytes());
        bytes.extend_from_slice(secret);
        bytes.extend_from_slice(self.suffix.as_bytes());
        let mut value = HeaderValue::from_bytes(&bytes).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

fn parse_rule(rule: &wire::AllowRule) -> Result<Rule, ScopeError> {
    let invalid = |m: String| ScopeError::Invalid(m);
    if rule.methods.is_empty() {
        return Err(invalid(format!(
            "rule for {} names no method",
            rule.url_prefix
        )));
    }
    let methods = rule
        .methods
        .iter()
        .map(|m| match Method::from_bytes(m.as_bytes()) {
            Ok(method) if m.bytes().all(|b| b.is_ascii_uppercase()) => Ok(method),
            _ => Err(invalid(format!("{m:?} is not an upper-case HTTP method"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let url = Url::parse(&rule.url_prefix)
        .map_err(|e| invalid(format!("url_prefix {:?}: {e}", rule.url_prefix)))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid(format!(
            "url_prefix {:?} must be https (or http when named)",
            rule.url_prefix
        )));
    }
    if !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(invalid(format!(
            "url_prefix {:?} may not have userinfo, query or fragment",
            rule.url_prefix
        )));
    }
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(invalid(format!(
            "url_prefix {:?} has no host",
            rule.url_prefix
        )));
    };
    Ok(Rule {
        methods,
        scheme: url.scheme().to_owned(),
        host: host.to_owned(),
        port,
        path: url.path().to_owned(),
    })
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
mod tests {
    use aileron_sdk::wire::{AllowRule, Inject};

    use super::*;

    fn scope(rules: &[(&[&str], &str)]) -> Scope {
        Scope {
            allow: rules
                .iter()
                .map(|(m, p)| AllowRule {
                    methods: m.iter().map(|s| (*s).to_owned()).collect(),
                    url_prefix: (*p).to_owned(),
                })
                .collect(),
            inject: Inject {
                header: "Authorization".into(),
                format: "Bearer {secret}".into(),
            },
            expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
            max_uses: None,
        }
    }

    fn valid(rules: &[(&[&str], &str)]) -> ValidScope {
        ValidScope::parse(
            &scope(rules),
            OffsetDateTime::now_utc(),
            Duration::hours(168),
        )
        .unwrap()
    }

    #[test]
    fn check_allows_urls_inside_a_rule() {
        let s = valid(&[(&["GET", "POST"], "https://api.x.com/v1/")]);
        for url in [
            "https://api.x.com/v1/",
            "https://API.X.COM/v1/repos?q=1",
            "https://api.x.com:443/v1/a/../b",
            "https://api.x.com/v1/%2e/x",
        ] {
            assert!(s.check("GET", url).is_ok(), "{url}");
        }
        assert!(s.check("POST", "https://api.x.com/v1/x").is_ok());
    }

    #[test]
    fn check_refuses_each_scope_escape() {
        let s = valid(&[(&["GET"], "https://api.x.com/v1")]);
        for (method, url) in [
            ("DELETE", "https://api.x.com/v1/x"),
            ("GET", "https://other.example/v1/x"),
            ("GET", "https://api.x.com.evil.example/v1/x"),
            ("GET", "https://api.x.com@evil.example/v1/x"),
            ("GET", "https://user:pw@api.x.com/v1/x"),
            ("GET", "https://api.x.com/v1/../admin"),
            ("GET", "https://api.x.com/v1/%2e%2e/admin"),
            ("GET", "https://api.x.com/v10"),
            ("GET", "https://api.x.com:8443/v1/x"),
            ("GET", "http://api.x.com/v1/x"),
            ("GET", "not a url"),
            ("G\nET", "https://api.x.com/v1/x"),
        ] {
            assert!(
                matches!(s.check(method, url), Err(ScopeError::Violation(_))),
                "{method} {url}"
            );
        }
        assert!(s.check("GET", "https://api.x.com/v1").is_ok());
        assert!(s.check("GET", "https://api.x.com/v1/x").is_ok());
    }

    #[test]
    fn http_is_allowed_only_where_a_rule_names_it() {
        let s = valid(&[(&["GET"], "http://127.0.0.1:8080/")]);
        assert!(s.check("GET", "http://127.0.0.1:8080/a").is_ok());
        assert!(s.check("GET", "https://127.0.0.1:8080/a").is_err());
    }

    #[test]
    fn parse_refuses_malformed_scopes() {
        let now = OffsetDateTime::now_utc();
        let ttl = Duration::hours(168);
        let mut cases: Vec<(Scope, &str)> = Vec::new();
        let mut s = scope(&[(&["GET"], "https://a.example/")]);
        s.expires_at = now - Duration::seconds(1);
        cases.push((s, "in the future"));
        let mut s = scope(&[(&["GET"], "https://a.example/")]);
        s.expires_at = now + Duration::hours(200);
        cases.push((s, "hours away"));
        cases.push((scope(&[]), "at least one"));
        cases.push((scope(&[(&["GET"], "ftp://a.example/")]), "https"));
        cases.push((scope(&[(&["get"], "https://a.example/")]), "upper-case"));
        cases.push((scope(&[(&[], "https://a.example/")]), "no method"));
        cases.push((scope(&[(&["GET"], "https://u@a.example/")]), "userinfo"));
        let mut s = scope(&[(&["GET"], "https://a.example/")]);
        s.inject.format = "Bearer {secret} {secret}".into();
        cases.push((s, "exactly once"));
        let mut s = scope(&[(&["GET"], "https://a.example/")]);
        s.inject.format = "Bearer".into();
        cases.push((s, "exactly once"));
        let mut s = scope(&[(&["GET"], "https://a.example/")]);
        s.inject.header = "Bad Header".into();
        cases.push((s, "header name"));
        let mut s = scope(&[(&["GET"], "https://a.example/")]);
        s.inject.header = "Host".into();
        cases.push((s, "cannot go into"));
        let mut s = scope(&[(&["GET"], "https://a.example/")]);
        s.max_uses = Some(0);
        cases.push((s, "max_uses"));
        for (s, words) in cases {
            match ValidScope::parse(&s, now, ttl) {
                Err(ScopeError::Invalid(m)) => assert!(m.contains(words), "{m} lacks {words}"),
                other => panic!("{words}: {other:?}"),
            }
        }
    }

    #[test]
    fn inject_value_is_sensitive_and_refuses_control_characters() {
        let s = valid(&[(&["GET"], "https://a.example/")]);
        let v = s.inject_value(b"abc").unwrap();
        assert_eq!(v.as_bytes(), b"Bearer abc");
        assert!(v.is_sensitive());
        assert!(s.inject_value(b"a\r\nX-Evil: 1").is_none());
    }
}
