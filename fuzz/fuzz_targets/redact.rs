//! Redaction of a secret the fuzzer chooses inside a text it chooses: the secret raw at a chosen
//! offset, and that whole document in base64 (standard, and URL-safe unpadded), which puts the
//! secret at every alignment inside a larger base64 text. Each time something must be redacted,
//! and what is left must hold no copy of the secret, of its standard base64 nor (from 6 bytes)
//! of its URL-safe unpadded base64; of a base64 document, only the encoding of the text around
//! the secret and a few partial characters may be left.
//!
//! Input: a byte for the secret's length (4 + n % 60), a byte for the offset, the secret, the text.
#![no_main]

use aileron_broker::redact::{Needles, REDACTED};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;

struct Case<'a> {
    secret: &'a [u8],
    text: &'a [u8],
    at: usize,
}

impl<'a> Case<'a> {
    fn split(data: &'a [u8]) -> Option<Case<'a>> {
        let ([len, at], rest) = data.split_first_chunk::<2>()?;
        let (secret, text) = rest.split_at_checked(4 + usize::from(len % 60))?;
        let at = usize::from(*at).min(text.len());
        Some(Case { secret, text, at })
    }

    /// The text with the secret inserted at the offset.
    fn document(&self) -> Vec<u8> {
        let (before, after) = self.text.split_at(self.at);
        [before, self.secret, after].concat()
    }

    /// The forms that must not survive redaction.
    fn forms(&self) -> Vec<Vec<u8>> {
        let mut forms = vec![
            self.secret.to_vec(),
            STANDARD.encode(self.secret).into_bytes(),
        ];
        if self.secret.len() >= 6 {
            forms.push(URL_SAFE_NO_PAD.encode(self.secret).into_bytes());
        }
        forms
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(case) = Case::split(data) else {
        return;
    };
    let needles = Needles::for_values(&[case.secret]);
    let document = case.document();
    assert_redacted(&case, &needles.redact(&document));
    for engine in [&STANDARD, &URL_SAFE_NO_PAD] {
        let encoded = engine.encode(&document);
        let out = needles.redact(encoded.as_bytes());
        let pieces = assert_redacted(&case, &out);
        // What is left is the text around the secret and a partial character at each end.
        let left: usize = pieces.iter().map(|p| p.len()).sum();
        assert!(
            left <= case.text.len() * 4 / 3 + 6,
            "{left} characters left of {encoded}"
        );
    }
});

/// Asserts that `out` exists and that no form of the secret is left; returns the pieces of
/// text between the markers. Each piece is searched alone: a secret made of the marker's
/// characters may appear to span a marker without revealing a byte.
fn assert_redacted<'o>(case: &Case, out: &'o Option<Vec<u8>>) -> Vec<&'o [u8]> {
    let out = out.as_deref().expect("an embedded secret is always found");
    let pieces = split(out, REDACTED);
    for form in case.forms() {
        let left = pieces
            .iter()
            .any(|p| p.windows(form.len()).any(|w| w == form));
        let lossy = String::from_utf8_lossy;
        assert!(!left, "{:?} left in {:?}", lossy(&form), lossy(out));
    }
    pieces
}

fn split<'o>(mut out: &'o [u8], marker: &[u8]) -> Vec<&'o [u8]> {
    let mut pieces = Vec::new();
    while let Some(i) = out.windows(marker.len()).position(|w| w == marker) {
        pieces.push(&out[..i]);
        out = &out[i + marker.len()..];
    }
    pieces.push(out);
    pieces
}
