//! What the scope targets share: a fixed clock, a scope around given rules, and the property
//! every accepted URL's path must have.

use aileron_sdk::wire::{AllowRule, Inject, Scope};
use percent_encoding::percent_decode;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use url::Url;

/// The validation time: fixed, so a failing input replays the same on any day.
pub const NOW: OffsetDateTime = datetime!(2030-01-01 0:00 UTC);

/// The longest lifetime a scope may ask for.
pub const MAX_TTL: Duration = Duration::hours(24);

/// A scope allowing `allow`, injecting a bearer token, valid for an hour after [`NOW`].
pub fn scope(allow: Vec<AllowRule>) -> Scope {
    Scope {
        allow,
        inject: Inject {
            header: "authorization".into(),
            format: "Bearer {secret}".into(),
            username: None,
        },
        expires_at: NOW + Duration::hours(1),
        max_uses: None,
    }
}

/// Asserts that no segment of `url`'s path decodes, once or twice (as a lenient upstream
/// might), to something holding a separator or to a dot segment: the path the upstream routes
/// on is the path that was checked.
pub fn assert_path_is_plain(url: &Url) {
    for segment in url.path().split('/') {
        let once: Vec<u8> = percent_decode(segment.as_bytes()).collect();
        let twice: Vec<u8> = percent_decode(&once).collect();
        for decoded in [once, twice] {
            let separator = decoded.iter().any(|b| matches!(b, b'/' | b'\\'));
            let dots = matches!(decoded.as_slice(), b"." | b"..");
            assert!(!separator && !dots, "segment {segment:?} of accepted {url}");
        }
    }
}
