//! Arbitrary strings as request URLs against one fixed scope, `GET https://api.example.com/v1/`.
//! However the URL is spelled, an accepted one names exactly that origin and a path under
//! `/v1/`, with no segment an upstream could decode into a separator or a dot segment, and
//! checking the URL `check` returned gives the same URL back (normalisation is a fixed point).
#![no_main]

use std::sync::LazyLock;

use aileron_broker::destination::Destinations;
use aileron_broker::scope::ValidScope;
use aileron_fuzz::{MAX_TTL, NOW, assert_path_is_plain, scope};
use aileron_sdk::wire::AllowRule;
use libfuzzer_sys::fuzz_target;
use url::Host;

static SCOPE: LazyLock<ValidScope> = LazyLock::new(|| {
    let rule = AllowRule {
        methods: vec!["GET".into()],
        url_prefix: "https://api.example.com/v1/".into(),
    };
    ValidScope::parse(&scope(vec![rule]), NOW, MAX_TTL, Destinations::PUBLIC)
        .expect("the fixed scope is valid")
});

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((_, accepted)) = SCOPE.check("GET", url) else {
        return;
    };
    assert_eq!(accepted.scheme(), "https", "{url:?}");
    assert_eq!(
        accepted.host(),
        Some(Host::Domain("api.example.com")),
        "{url:?}"
    );
    assert_eq!(accepted.port_or_known_default(), Some(443), "{url:?}");
    assert!(
        accepted.path().starts_with("/v1/"),
        "{url:?} became {accepted}"
    );
    assert!(
        accepted.username().is_empty() && accepted.password().is_none(),
        "{url:?}"
    );
    assert_path_is_plain(&accepted);
    let again = SCOPE.check("GET", accepted.as_str()).map(|(_, url)| url);
    assert_eq!(
        again.as_ref(),
        Ok(&accepted),
        "{url:?} is not normalised to a fixed point"
    );
    assert!(
        SCOPE.check("POST", url).is_err(),
        "{url:?} accepted for a method no rule names"
    );
});
