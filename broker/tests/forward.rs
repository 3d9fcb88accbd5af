//! The broker against real upstreams on loopback (the recording upstream of testkit): what the
//! caller cannot set, what comes back redacted, and where the broker will not connect.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use aileron_broker::destination::{Destinations, Lookup, Refused};
use aileron_broker::scope::ValidScope;
use aileron_broker::{Broker, BrokerError, BrokerLimits, Credential};
use aileron_sdk::wire::{self, AllowRule, BrokeredRequest, BrokeredResponse, Inject, Scope};
use aileron_testkit::Upstream;
use base64::Engine as _;
use time::{Duration, OffsetDateTime};

const SECRET: &str = "sk-planted-4c1d7e9a2b";

fn scope(prefix: &str, username: Option<&str>) -> Scope {
    Scope {
        allow: vec![AllowRule {
            methods: vec!["GET".into()],
            url_prefix: prefix.into(),
        }],
        inject: match username {
            Some(name) => Inject::basic(name.to_owned()),
            None => Inject::bearer(),
        },
        expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
        max_uses: None,
    }
}

/// The planted secret, prepared for `scope`.
fn credential(scope: &Scope, destinations: Destinations) -> Credential {
    Credential::new(valid(scope, destinations), SECRET.as_bytes()).unwrap()
}

fn valid(scope: &Scope, destinations: Destinations) -> ValidScope {
    ValidScope::parse(
        scope,
        OffsetDateTime::now_utc(),
        Duration::hours(2),
        destinations,
    )
    .unwrap()
}

/// A broker for loopback upstreams (the development setting) and the planted credential.
fn dev(upstream: &Upstream, username: Option<&str>) -> (Broker, Credential) {
    let destinations = Destinations::dangerous_private();
    let broker = Broker::new(BrokerLimits::default(), destinations).unwrap();
    let planted = credential(
        &scope(&format!("{}/", upstream.url()), username),
        destinations,
    );
    (broker, planted)
}

/// What the enclave does with a request: allow it, then send it.
async fn forward(
    broker: &Broker,
    credential: &Credential,
    request: &BrokeredRequest,
) -> Result<BrokeredResponse, BrokerError> {
    broker.forward(credential.allow(request)?).await
}

fn get(url: String, headers: &[(&str, &str)]) -> BrokeredRequest {
    BrokeredRequest {
        method: "GET".into(),
        url,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: None,
    }
}

fn everything(response: &BrokeredResponse) -> String {
    let body = wire::from_b64u(&response.body).unwrap();
    format!("{:?} {}", response.headers, String::from_utf8_lossy(&body))
}

#[tokio::test]
async fn the_caller_cannot_choose_encodings_ranges_overrides_forwarding_or_metadata_headers() {
    let upstream = Upstream::start().await;
    let (broker, planted) = dev(&upstream, None);
    for name in [
        "Accept-Encoding",
        "Range",
        "If-Range",
        "X-HTTP-Method-Override",
        "X-Method-Override",
        "Forwarded",
        "X-Forwarded-For",
        "X-Forwarded-Host",
        "X-Forwarded-Anything",
        "X-Real-IP",
        "Metadata-Flavor",
        "X-Google-Metadata-Request",
        "Authorization",
        "Host",
    ] {
        let request = get(format!("{}/echo", upstream.url()), &[(name, "gzip")]);
        match forward(&broker, &planted, &request).await {
            Err(BrokerError::BadRequest(m)) => assert!(m.contains("may not be set"), "{name}: {m}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(
        upstream.requests().is_empty(),
        "nothing reached the upstream"
    );
}

#[tokio::test]
async fn the_broker_asks_for_identity_so_an_echo_comes_back_readable_and_redacted() {
    let upstream = Upstream::start().await;
    let (broker, planted) = dev(&upstream, None);
    let request = get(format!("{}/echo-gzip", upstream.url()), &[]);
    let response = forward(&broker, &planted, &request).await.unwrap();
    let seen = upstream.requests();
    let encoding = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "accept-encoding")
        .map(|(_, v)| v.as_str());
    assert_eq!(encoding, Some("identity"));
    let text = everything(&response);
    assert!(text.contains("[REDACTED]"), "the echo was seen: {text}");
    assert!(!text.contains(SECRET), "{text}");
}

#[tokio::test]
async fn the_answer_carries_no_framing_header_that_redaction_made_false() {
    let upstream = Upstream::start().await;
    let (broker, planted) = dev(&upstream, None);
    let request = get(format!("{}/echo", upstream.url()), &[]);
    let response = forward(&broker, &planted, &request).await.unwrap();
    let body = wire::from_b64u(&response.body).unwrap();
    assert!(String::from_utf8_lossy(&body).contains("[REDACTED]"));
    let names: Vec<&str> = response.headers.iter().map(|(n, _)| n.as_str()).collect();
    for framing in [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
    ] {
        assert!(!names.contains(&framing), "{framing} in {names:?}");
    }
    assert!(
        names.contains(&"content-type"),
        "other headers pass: {names:?}"
    );
}

#[tokio::test]
async fn a_compressed_answer_is_refused_not_passed_on() {
    let upstream = Upstream::start().await;
    let (broker, planted) = dev(&upstream, None);
    let request = get(format!("{}/always-gzip", upstream.url()), &[]);
    match forward(&broker, &planted, &request).await {
        Err(e @ BrokerError::Encoding(_)) => {
            assert_eq!(e.code(), wire::ErrorCode::UpstreamEncoding);
            assert!(!e.never_sent(), "the request reached the upstream: a use");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_secret_inside_a_larger_base64_text_is_redacted() {
    let upstream = Upstream::start().await;
    let (broker, planted) = dev(&upstream, None);
    let request = get(format!("{}/echo-json-b64", upstream.url()), &[]);
    let response = forward(&broker, &planted, &request).await.unwrap();
    let body = wire::from_b64u(&response.body).unwrap();
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("[REDACTED]"), "{text}");
    // Whatever base64 is left decodes to no trace of the secret.
    for piece in text.split("[REDACTED]") {
        for skip in 0..4 {
            let tail: String = piece.chars().skip(skip).collect();
            let trimmed = &tail[..tail.len() - tail.len() % 4];
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(trimmed) {
                assert!(!String::from_utf8_lossy(&bytes).contains(SECRET));
            }
        }
    }
}

#[tokio::test]
async fn basic_credentials_have_the_password_the_pair_and_the_header_redacted() {
    let upstream = Upstream::start().await;
    let (broker, planted) = dev(&upstream, Some("alice"));
    let response = forward(
        &broker,
        &planted,
        &get(format!("{}/echo", upstream.url()), &[]),
    )
    .await
    .unwrap();
    let pair = format!("alice:{SECRET}");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&pair);
    let seen = upstream.requests();
    let sent = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    assert_eq!(sent.1, format!("Basic {encoded}"), "what the upstream gets");
    let text = everything(&response);
    assert!(text.contains("[REDACTED]"), "{text}");
    for form in [SECRET, pair.as_str(), encoded.as_str()] {
        assert!(!text.contains(form), "{form} in {text}");
    }
}

/// Resolves every name to one address: a stand-in for DNS, which tests cannot use.
struct Resolves(IpAddr);

impl Lookup for Resolves {
    fn lookup(&self, _: String) -> reqwest::dns::Resolving {
        let addr = SocketAddr::new(self.0, 0);
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

#[tokio::test]
async fn a_name_that_resolves_to_loopback_is_refused_at_connect_time_and_nothing_is_sent() {
    // A metadata-server stand-in on loopback, and a public-looking name that resolves to it.
    let metadata = Upstream::start().await;
    let lookup = Arc::new(Resolves(metadata.addr.ip()));
    let broker =
        Broker::with_lookup(BrokerLimits::default(), Destinations::PUBLIC, lookup).unwrap();
    let port = metadata.addr.port();
    let planted = credential(
        &scope(&format!("https://rebind.example:{port}/"), None),
        Destinations::PUBLIC,
    );
    let request = get(
        format!("https://rebind.example:{port}/computeMetadata/v1/"),
        &[],
    );
    match forward(&broker, &planted, &request).await {
        Err(e @ BrokerError::Destination(Refused::PrivateAddress(_))) => {
            assert_eq!(e.code(), wire::ErrorCode::DestinationNotAllowed);
            assert!(e.never_sent());
        }
        other => panic!("{other:?}"),
    }
    assert!(metadata.requests().is_empty(), "the stand-in was reached");
}

#[tokio::test]
async fn without_the_development_setting_no_scope_can_name_the_metadata_stand_in() {
    let metadata = Upstream::start().await;
    for prefix in [
        format!("{}/", metadata.url()),
        format!("https://{}/", metadata.addr),
        format!("https://localhost:{}/", metadata.addr.port()),
        "https://169.254.169.254/".to_owned(),
        "https://metadata.google.internal/".to_owned(),
    ] {
        let parsed = ValidScope::parse(
            &scope(&prefix, None),
            OffsetDateTime::now_utc(),
            Duration::hours(2),
            Destinations::PUBLIC,
        );
        assert!(parsed.is_err(), "{prefix}");
    }
    assert!(metadata.requests().is_empty());
}
