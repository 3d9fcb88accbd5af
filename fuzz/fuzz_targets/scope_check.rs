//! Scopes and requests from text, through `ValidScope::parse` and `check`. Whatever the rules
//! and the request, an accepted request lies inside a rule, its path has no segment an upstream
//! could decode into a separator or a dot segment, and (with `Destinations::PUBLIC`) it goes
//! over `https` to a public host.
//!
//! Input, as UTF-8: the request `METHOD URL` on the first line, then one allow rule per line,
//! `METHOD[,METHOD...] URL_PREFIX`. A leading `!` validates with the dangerous private setting
//! instead, where only the rule and path properties hold.
#![no_main]

use std::net::IpAddr;

use aileron_broker::destination::{Destinations, is_public};
use aileron_broker::scope::ValidScope;
use aileron_fuzz::{MAX_TTL, NOW, assert_path_is_plain, scope};
use aileron_sdk::wire::AllowRule;
use libfuzzer_sys::fuzz_target;
use url::{Host, Url};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (destinations, text) = match text.strip_prefix('!') {
        Some(rest) => (Destinations::dangerous_private(), rest),
        None => (Destinations::PUBLIC, text),
    };
    let mut lines = text.lines();
    let Some((method, url)) = lines.next().and_then(|l| l.split_once(' ')) else {
        return;
    };
    let allow: Vec<AllowRule> = lines.filter_map(rule).collect();
    let Ok(valid) = ValidScope::parse(&scope(allow.clone()), NOW, MAX_TTL, destinations) else {
        return;
    };
    let Ok((_, accepted)) = valid.check(method, url) else {
        return;
    };
    assert_path_is_plain(&accepted);
    assert_inside_a_rule(&allow, method, &accepted);
    if destinations == Destinations::PUBLIC {
        assert_public(&accepted);
    }
});

fn rule(line: &str) -> Option<AllowRule> {
    let (methods, url_prefix) = line.split_once(' ')?;
    Some(AllowRule {
        methods: methods.split(',').map(str::to_owned).collect(),
        url_prefix: url_prefix.to_owned(),
    })
}

/// Some rule names the method, the URL's scheme, host and port, and a prefix of its path.
fn assert_inside_a_rule(allow: &[AllowRule], method: &str, url: &Url) {
    let origin = |u: &Url| {
        (
            u.scheme().to_owned(),
            u.host().map(|h| h.to_owned()),
            u.port_or_known_default(),
        )
    };
    let inside = |rule: &AllowRule| {
        Url::parse(&rule.url_prefix).is_ok_and(|prefix| {
            rule.methods.iter().any(|m| m == method)
                && origin(&prefix) == origin(url)
                && url.path().starts_with(prefix.path())
        })
    };
    assert!(
        allow.iter().any(inside),
        "{method} {url} is outside {allow:?}"
    );
}

fn assert_public(url: &Url) {
    assert_eq!(url.scheme(), "https", "{url}");
    match url.host() {
        Some(Host::Ipv4(ip)) => assert!(is_public(IpAddr::V4(ip)), "{url}"),
        Some(Host::Ipv6(ip)) => assert!(is_public(IpAddr::V6(ip)), "{url}"),
        Some(Host::Domain(name)) => assert_public_name(name),
        None => panic!("accepted a URL without a host: {url}"),
    }
}

/// Not `localhost`, a `.internal` name or the metadata server, and not an IP address literal
/// left spelled as a name: an HTTP client connects to a literal without resolving it, so
/// without the resolver's address check.
fn assert_public_name(name: &str) {
    assert!(
        name.parse::<IpAddr>().is_err(),
        "accepted an IP address as a name: {name:?}"
    );
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let is_or_under = |private: &&str| name == *private || name.ends_with(&format!(".{private}"));
    let private = ["localhost", "metadata", "metadata.goog"]
        .iter()
        .any(is_or_under)
        || name.ends_with(".internal");
    assert!(!private, "accepted the private name {name:?}");
}
