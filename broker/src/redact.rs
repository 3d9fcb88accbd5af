//! Removing a secret from what an upstream sends back.
//!
//! Every form an echo is likely to take is looked for, in one pass (Aho-Corasick, leftmost
//! longest): the raw bytes; base64 (standard and URL-safe, padded or not) of the whole value;
//! the base64 characters that encode the value inside a *larger* base64 text, at each of the
//! three byte alignments it can start at; percent-encoding (upper- and lower-case hex); JSON
//! string escaping; hex. The broker calls this with every value it injects (the secret, the
//! whole header value and, for HTTP Basic, the `user:password` pair).
//!
//! What it cannot catch: an upstream that transforms the value in any other way (hashes it,
//! reverses it, splits it across responses, encodes it twice, compresses it itself inside the
//! body). The broker also refuses compressed answers (it never lets the caller ask for them),
//! so an echo is seen in the form the caller will read.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Match, MatchKind, packed};
use base64::Engine as _;
use base64::engine::GeneralPurpose;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

/// What a secret is replaced with.
pub const REDACTED: &[u8] = b"[REDACTED]";

/// Values shorter than this are redacted in their raw form only: derived forms of a 1-3 byte
/// value would match noise.
const MIN_DERIVED: usize = 4;

/// Every form of the injected values, ready to search for.
pub struct Needles {
    searcher: Option<Searcher>,
    // Kept to zeroize on drop (the searcher's own copy cannot be wiped; it lives no longer).
    _forms: Vec<Zeroizing<Vec<u8>>>,
}

/// The searcher is built for every request. A packed (SIMD, Teddy) searcher builds in about
/// 6 µs where an automaton takes 43 µs (the default, a DFA, 320 µs) and searches as fast here;
/// the automaton serves where the packed one cannot (no SIMD, over 128 forms).
/// Figures: `cargo bench -p aileron-broker --bench redact`.
enum Searcher {
    Packed(packed::Searcher),
    Automaton(AhoCorasick),
}

impl Searcher {
    fn build(forms: &[Zeroizing<Vec<u8>>]) -> Option<Searcher> {
        Searcher::packed(forms).or_else(|| Searcher::automaton(forms))
    }

    fn packed(forms: &[Zeroizing<Vec<u8>>]) -> Option<Searcher> {
        packed::Config::new()
            .match_kind(packed::MatchKind::LeftmostLongest)
            .heuristic_pattern_limits(false)
            .builder()
            .extend(forms.iter().map(|f| f.as_slice()))
            .build()
            .map(Searcher::Packed)
    }

    fn automaton(forms: &[Zeroizing<Vec<u8>>]) -> Option<Searcher> {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::NoncontiguousNFA))
            .build(forms.iter().map(|f| f.as_slice()))
            .ok()
            .map(Searcher::Automaton)
    }

    fn find(&self, haystack: &[u8]) -> Option<Match> {
        match self {
            Searcher::Packed(s) => s.find(haystack),
            Searcher::Automaton(s) => s.find(haystack),
        }
    }

    fn find_all(&self, haystack: &[u8]) -> Vec<Match> {
        match self {
            Searcher::Packed(s) => s.find_iter(haystack).collect(),
            Searcher::Automaton(s) => s.find_iter(haystack).collect(),
        }
    }
}

impl Needles {
    /// The forms of one secret.
    pub fn new(secret: &[u8]) -> Needles {
        Needles::for_values(&[secret])
    }

    /// The forms of each value.
    pub fn for_values(values: &[&[u8]]) -> Needles {
        let mut forms: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for value in values.iter().filter(|v| !v.is_empty()) {
            forms.push(Zeroizing::new(value.to_vec()));
            if value.len() >= MIN_DERIVED {
                derived_forms(value, &mut forms);
            }
        }
        forms.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        forms.dedup_by(|a, b| a.as_slice() == b.as_slice());
        Needles {
            searcher: Searcher::build(&forms),
            _forms: forms,
        }
    }

    /// `haystack` with every form replaced by [`REDACTED`]; `None` when nothing was found.
    pub fn redact(&self, haystack: &[u8]) -> Option<Vec<u8>> {
        let searcher = self.searcher.as_ref()?;
        searcher.find(haystack)?;
        let mut out = Vec::with_capacity(haystack.len());
        let mut copied = 0;
        for found in searcher.find_all(haystack) {
            out.extend_from_slice(&haystack[copied..found.start()]);
            out.extend_from_slice(REDACTED);
            copied = found.end();
        }
        out.extend_from_slice(&haystack[copied..]);
        Some(out)
    }
}

fn derived_forms(value: &[u8], forms: &mut Vec<Zeroizing<Vec<u8>>>) {
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        forms.push(Zeroizing::new(engine.encode(value).into_bytes()));
    }
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for offset in 0..3 {
            if let Some(core) = aligned_base64(engine, value, offset) {
                forms.push(core);
            }
        }
    }
    forms.push(Zeroizing::new(percent_encode(value, b"0123456789ABCDEF")));
    forms.push(Zeroizing::new(percent_encode(value, b"0123456789abcdef")));
    forms.push(Zeroizing::new(hex::encode(value).into_bytes()));
    forms.push(Zeroizing::new(hex::encode_upper(value).into_bytes()));
    if let Ok(text) = std::str::from_utf8(value)
        && let Ok(json) = serde_json::to_string(text).map(Zeroizing::new)
    {
        // The escaped string without its quotes.
        let inner = &json.as_bytes()[1..json.len() - 1];
        forms.push(Zeroizing::new(inner.to_vec()));
    }
}

/// The base64 characters that encode only bits of `value` when it starts `offset` bytes (0-2)
/// into a 3-byte group of a larger text: whatever surrounds it, these characters appear.
fn aligned_base64(
    engine: &GeneralPurpose,
    value: &[u8],
    offset: usize,
) -> Option<Zeroizing<Vec<u8>>> {
    let mut padded = Zeroizing::new(vec![0u8; offset]);
    padded.extend_from_slice(value);
    let encoded = Zeroizing::new(engine.encode(&*padded).into_bytes());
    // Character i carries bits [6i, 6i + 6) of the stream; the value holds bits
    // [8 * offset, 8 * (offset + len)).
    let start = (8 * offset).div_ceil(6);
    let end = (8 * (offset + value.len())) / 6;
    let core = encoded.get(start..end)?;
    (core.len() >= MIN_DERIVED).then(|| Zeroizing::new(core.to_vec()))
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

    fn redacted(needles: &Needles, text: &str) -> String {
        String::from_utf8(
            needles
                .redact(text.as_bytes())
                .unwrap_or(text.as_bytes().to_vec()),
        )
        .unwrap()
    }

    #[test]
    fn the_packed_searcher_and_the_automaton_redact_alike() {
        let secret = b"sk-live-\"quoted\" / 0123456789";
        let header = [b"Bearer ".as_slice(), secret].concat();
        let mut needles = Needles::for_values(&[secret, &header]);
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("ssse3") {
            assert!(matches!(needles.searcher, Some(Searcher::Packed(_))));
        }
        let text = String::from_utf8_lossy(secret).into_owned();
        let haystacks = [
            format!("a {text} b {text}"),
            format!("{{\"h\":\"Bearer {text}\"}}"),
            format!("{}..{}", STANDARD.encode(secret), hex::encode(secret)),
            format!(
                "x{}y",
                STANDARD.encode([b"pad-".as_slice(), secret].concat())
            ),
            "nothing here".to_owned(),
        ];
        let packed: Vec<_> = haystacks
            .iter()
            .map(|h| needles.redact(h.as_bytes()))
            .collect();
        needles.searcher = Searcher::automaton(&needles._forms);
        assert!(matches!(needles.searcher, Some(Searcher::Automaton(_))));
        let automaton: Vec<_> = haystacks
            .iter()
            .map(|h| needles.redact(h.as_bytes()))
            .collect();
        assert_eq!(packed, automaton);
        assert_eq!(
            packed.iter().filter(|r| r.is_some()).count(),
            4,
            "{packed:?}"
        );
    }

    #[test]
    fn redact_removes_raw_base64_percent_hex_and_json_forms() {
        let secret = b"sk live/+=?\"";
        let needles = Needles::new(secret);
        let json = serde_json::to_string(std::str::from_utf8(secret).unwrap()).unwrap();
        let body = format!(
            "raw={} std={} url={} pct={} lower={} hex={} json={}",
            String::from_utf8_lossy(secret),
            STANDARD.encode(secret),
            URL_SAFE_NO_PAD.encode(secret),
            String::from_utf8(percent_encode(secret, b"0123456789ABCDEF")).unwrap(),
            String::from_utf8(percent_encode(secret, b"0123456789abcdef")).unwrap(),
            hex::encode(secret),
            json,
        );
        assert_eq!(
            redacted(&needles, &body),
            "raw=[REDACTED] std=[REDACTED] url=[REDACTED] pct=[REDACTED] lower=[REDACTED] \
             hex=[REDACTED] json=\"[REDACTED]\""
        );
    }

    #[test]
    fn redact_finds_the_secret_inside_a_larger_base64_text_at_every_alignment() {
        let secret = b"ghp_0123456789abcdefghij";
        let needles = Needles::new(secret);
        for prefix_len in 0..6 {
            for suffix_len in 0..4 {
                let mut doc = vec![b'{'; prefix_len];
                doc.extend_from_slice(secret);
                doc.extend(std::iter::repeat_n(b'}', suffix_len));
                for engine in [&STANDARD, &URL_SAFE_NO_PAD] {
                    let encoded = engine.encode(&doc);
                    let out = needles.redact(encoded.as_bytes());
                    assert!(out.is_some(), "prefix {prefix_len} suffix {suffix_len}");
                    // What is left is the surrounding text and a partial character at each end.
                    let left = String::from_utf8(out.unwrap())
                        .unwrap()
                        .replace("[REDACTED]", "");
                    let bound = (prefix_len + suffix_len) * 4 / 3 + 6;
                    assert!(left.len() <= bound, "{left}");
                }
            }
        }
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

    #[test]
    fn short_values_are_redacted_raw_only() {
        let needles = Needles::new(b"ab");
        assert_eq!(redacted(&needles, "xaby YWI="), "x[REDACTED]y YWI=");
    }
}
