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
        inject: Inject::bearer(),
        expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
        max_uses: None,
    }
}

fn parse(s: &Scope, destinations: Destinations) -> Result<ValidScope, ScopeError> {
    ValidScope::parse(
        s,
        OffsetDateTime::now_utc(),
        Duration::hours(168),
        destinations,
    )
}

fn valid(rules: &[(&[&str], &str)]) -> ValidScope {
    parse(&scope(rules), Destinations::PUBLIC).unwrap()
}

#[test]
fn check_allows_urls_inside_a_rule() {
    let s = valid(&[(&["GET", "POST"], "https://api.x.com/v1/")]);
    for url in [
        "https://api.x.com/v1/",
        "https://API.X.COM/v1/repos?q=1",
        "https://api.x.com:443/v1/a/../b",
        "https://api.x.com/v1/%2e/x",
        "https://api.x.com/v1/a%20b",
        "https://api.x.com/v1/a;b",
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
fn check_refuses_separators_an_upstream_would_decode() {
    let s = valid(&[(&["GET"], "https://api.x.com/v1/")]);
    for url in [
        "https://api.x.com/v1/..%2fadmin",
        "https://api.x.com/v1/..%2Fadmin",
        "https://api.x.com/v1/%2E%2e%2fadmin",
        "https://api.x.com/v1/x%2f..%2f..%2fadmin",
        "https://api.x.com/v1/..;/admin",
        "https://api.x.com/v1/.;/admin",
        "https://api.x.com/v1/..%5cadmin",
        "https://api.x.com/v1/a%00b",
        "https://api.x.com/v1/..%252fadmin",
        "https://api.x.com/v1/%252e%252e/admin",
    ] {
        match s.check("GET", url) {
            Err(ScopeError::Violation(m)) => assert!(m.contains("decodes"), "{url}: {m}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[test]
fn check_refuses_private_destinations_even_if_a_rule_could_name_them() {
    let s = valid(&[(&["GET"], "https://api.x.com/")]);
    for url in [
        "https://169.254.169.254/computeMetadata/v1/",
        "https://metadata.google.internal/",
        "https://0x7f.1/",
    ] {
        assert!(
            matches!(s.check("GET", url), Err(ScopeError::Violation(_))),
            "{url}"
        );
    }
}

#[test]
fn parse_refuses_private_destinations_and_plain_http_by_default() {
    for prefix in [
        "http://api.example.com/",
        "https://169.254.169.254/",
        "http://169.254.169.254/",
        "https://metadata.google.internal/",
        "https://localhost:8080/",
        "https://127.0.0.1/",
        "https://2130706433/",
        "https://0x7f.1/",
        "https://[::1]/",
        "https://[::ffff:10.0.0.1]/",
        "https://10.0.0.1/",
        "https://0.0.0.0/",
    ] {
        match parse(&scope(&[(&["GET"], prefix)]), Destinations::PUBLIC) {
            Err(ScopeError::Invalid(m)) => assert!(m.contains(prefix), "{m}"),
            other => panic!("{prefix}: {other:?}"),
        }
        assert!(
            parse(
                &scope(&[(&["GET"], prefix)]),
                Destinations::dangerous_private()
            )
            .is_ok(),
            "{prefix} with the development setting"
        );
    }
}

#[test]
fn http_is_allowed_only_where_a_rule_names_it() {
    let s = parse(
        &scope(&[(&["GET"], "http://127.0.0.1:8080/")]),
        Destinations::dangerous_private(),
    )
    .unwrap();
    assert!(s.check("GET", "http://127.0.0.1:8080/a").is_ok());
    assert!(s.check("GET", "https://127.0.0.1:8080/a").is_err());
}

#[test]
fn parse_refuses_malformed_scopes() {
    let now = OffsetDateTime::now_utc();
    let mut cases: Vec<(Scope, &str)> = Vec::new();
    let base = || scope(&[(&["GET"], "https://a.example/")]);
    let mut s = base();
    s.expires_at = now - Duration::seconds(1);
    cases.push((s, "in the future"));
    let mut s = base();
    s.expires_at = now + Duration::hours(200);
    cases.push((s, "hours away"));
    cases.push((scope(&[]), "at least one"));
    cases.push((scope(&[(&["GET"], "ftp://a.example/")]), "https"));
    cases.push((scope(&[(&["get"], "https://a.example/")]), "upper-case"));
    cases.push((scope(&[(&[], "https://a.example/")]), "no method"));
    cases.push((scope(&[(&["GET"], "https://u@a.example/")]), "userinfo"));
    cases.push((scope(&[(&["GET"], "https://a.example/..%2f")]), "decodes"));
    let mut s = base();
    s.inject.format = "Bearer {secret} {secret}".into();
    cases.push((s, "exactly once"));
    let mut s = base();
    s.inject.format = "Bearer".into();
    cases.push((s, "exactly once"));
    let mut s = base();
    s.inject.header = "Bad Header".into();
    cases.push((s, "header name"));
    for reserved in ["Host", "Accept-Encoding", "X-Forwarded-Anything", "Range"] {
        let mut s = base();
        s.inject.header = reserved.into();
        cases.push((s, "cannot go into"));
    }
    let mut s = base();
    s.inject.username = Some("a:b".into());
    cases.push((s, "username"));
    let mut s = base();
    s.max_uses = Some(0);
    cases.push((s, "max_uses"));
    for (s, words) in cases {
        match parse(&s, Destinations::PUBLIC) {
            Err(ScopeError::Invalid(m)) => assert!(m.contains(words), "{m} lacks {words}"),
            other => panic!("{words}: {other:?}"),
        }
    }
}

#[test]
fn inject_value_refuses_control_characters() {
    let s = valid(&[(&["GET"], "https://a.example/")]);
    assert_eq!(s.inject_value(b"abc").unwrap().as_slice(), b"Bearer abc");
    for bad in [&b"a\r\nX-Evil: 1"[..], b"a\nb", b"a\rb", b"a\0b", b"a\x7fb"] {
        assert!(s.inject_value(bad).is_none(), "{bad:?}");
    }
}

#[test]
fn basic_scopes_inject_the_encoded_pair() {
    let mut raw = scope(&[(&["GET"], "https://a.example/")]);
    raw.inject.format = "Basic {secret}".into();
    raw.inject.username = Some("alice".into());
    let s = parse(&raw, Destinations::PUBLIC).unwrap();
    assert!(s.is_basic());
    assert_eq!(
        s.inject_value(b"pw").unwrap().as_slice(),
        b"Basic YWxpY2U6cHc="
    );
    assert_eq!(s.basic_pair(b"pw").as_slice(), b"alice:pw");
}
