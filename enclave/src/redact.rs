//! Removing a secret from what an upstream sends back: its raw bytes, its base64 encodings
//! (standard and URL-safe, padded or not) and its percent-encoding (upper- and lower-case hex).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

/// What a secret is replaced with.
pub const REDACTED: &[u8] = b"[REDACTED]";

/// Every form of one secret to look for.
pub struct Needles(Vec<Zeroizing<Vec<u8>>>);

impl Needles {
    /// The forms of `secret`. Secrets shorter than 4 bytes would redact noise: only the raw form.
    pub fn new(secret: &[u8]) -> Needles {
        Needles::for_values(&[secret])
    }

    /// The forms of each value: the secret, and the whole injected header value (whose base64
    /// contains the secret's bits without containing the secret's own base64).
    pub fn for_values(values: &[&[u8]]) -> Needles {
        let mut forms: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for value in values {
            forms.push(Zeroizing::new(value.to_vec()));
            if value.len() >= 4 {
                for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                    forms.push(Zeroizing::new(engine.encode(value).into_bytes()));
                }
                forms.push(Zeroizing::new(percent_encode(value, b"0123456789ABCDEF")));
                forms.push(Zeroizing::new(percent_encode(value, b"0123456789abcdef")));
            }
        }
        // Longest first, so a form containing another is replaced whole.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup_by(|a, b| a.as_slice() == b.as_slice());
        forms.retain(|f| !f.is_empty());
        Needles(forms)
    }

    /// `haystack` with every form replaced by [`REDACTED`]; `None` when nothing was found.
    pub fn redact(&self, haystack: &[u8]) -> Option<Vec<u8>> {
        let mut current: Option<Vec<u8>> = None;
        for needle in &self.0 {
            let input = current.as_deref().unwrap_or(haystack);
            if memchr::memmem::find(input, needle).is_none() {
                continue;
            }
            let mut out = Vec::with_capacity(input.len());
            let mut rest = input;
            while let Some(at) = memchr::memmem::find(rest, needle) {
                out.extend_from_slice(&rest[..at]);
                out.extend_from_slice(REDACTED);
                rest = &rest[at + needle.len()..];
            }
            out.extend_from_slice(rest);
            current = Some(out);
        }
        current
    }
}

/// RFC 3986 percent-encoding of every byte outside the unreserved set.
fn percent_encode(bytes: &[u8], hex: &[u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_removes_raw_base64_and_percent_encoded_forms() {
        let secret = b"sk live/+=?";
        let needles = Needles::new(secret);
        let body = format!(
            "raw={} std={} url={} pct={} lower={}",
            String::from_utf8_lossy(secret),
            STANDARD.encode(secret),
            URL_SAFE_NO_PAD.encode(secret),
            String::from_utf8(percent_encode(secret, b"0123456789ABCDEF")).unwrap(),
            String::from_utf8(percent_encode(secret, b"0123456789abcdef")).unwrap(),
        );
        let out = String::from_utf8(needles.redact(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            out,
            "raw=[REDACTED] std=[REDACTED] url=[REDACTED] pct=[REDACTED] lower=[REDACTED]"
        );
    }

    #[test]
    fn redact_returns_none_when_the_secret_is_absent() {
        assert!(
            Needles::new(b"secret-value")
                .redact(b"nothing here")
                .is_none()
        );
    }

    #[test]
    fn redact_replaces_every_occurrence() {
        let out = Needles::new(b"tok123")
            .redact(b"tok123 and tok123tok123")
            .unwrap();
        assert_eq!(out, b"[REDACTED] and [REDACTED][REDACTED]");
    }
}
