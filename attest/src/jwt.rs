//! The compact JWS layer: size limit, splitting, base64url, and the strict header.
//!
//! Libraries such as `jsonwebtoken` ignore header parameters they do not know, `crit` included,
//! and keep the last of two duplicate keys. This layer is the thin strictness we need on top:
//! an allow-list of header parameters, `alg` bound to RS256 (the algorithm comes from our policy,
//! never from the header), and no duplicate keys anywhere.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value};

use crate::json::{JsonError, check_object, parse_object};
use crate::report::Check;

/// Tokens longer than this are rejected before any parsing.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// The only signature algorithm accepted.
pub const ALGORITHM: &str = "RS256";

/// A decoded JSON object.
pub(crate) type JsonObject = Map<String, Value>;

/// A failed step: which check, and why.
pub(crate) type StepError = (Check, String);

/// A token's three segments, still encoded.
pub(crate) struct Segments<'t> {
    pub header: &'t str,
    pub claims: &'t str,
    pub signature: &'t str,
    /// `header.claims`: what the signature covers.
    pub signing_input: &'t [u8],
}

/// Where the signing key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// `x5c`: the certificates, still base64 (standard alphabet), leaf first.
    X5c(Vec<String>),
    /// `kid`: a key id to look up in a JWKS.
    Kid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub key: KeyRef,
    pub kid: Option<String>,
}

/// Header parameters we understand. Anything else is a rejection: `crit` because we implement
/// no extensions, `jku`/`x5u`/`jwk` because keys never come from where the token points.
const ALLOWED_HEADER: [&str; 4] = ["alg", "typ", "kid", "x5c"];

/// Checks the size and splits the token into its three segments.
pub(crate) fn split(token: &str) -> Result<Segments<'_>, StepError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err((
            Check::Size,
            format!(
                "token is {} bytes, the limit is {MAX_TOKEN_BYTES}",
                token.len()
            ),
        ));
    }
    let token = token.trim_end_matches(['\n', '\r']);
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err((
            Check::Format,
            "a JWS has exactly three '.'-separated parts".into(),
        ));
    };
    Ok(Segments {
        header,
        claims,
        signature,
        signing_input: &token.as_bytes()[..header.len() + 1 + claims.len()],
    })
}

/// Decodes and checks the header segment.
pub(crate) fn decode_header(segment: &str) -> Result<Header, StepError> {
    let bytes = b64url(segment, "header")?;
    let map = parse_object(&bytes).map_err(|e| json_error("header", e))?;
    parse_header(map)
}

/// Decodes the claims segment and checks it is one object with no duplicate key anywhere.
pub(crate) fn decode_claims(segment: &str) -> Result<Vec<u8>, StepError> {
    let bytes = b64url(segment, "claims")?;
    check_object(&bytes).map_err(|e| json_error("claims", e))?;
    Ok(bytes)
}

/// Decodes the signature segment.
pub(crate) fn decode_signature(segment: &str) -> Result<Vec<u8>, StepError> {
    b64url(segment, "signature")
}

/// Splits and decodes a token without any check beyond the size limit and JSON syntax.
pub(crate) fn decode_unverified(token: &str) -> Result<(JsonObject, JsonObject), StepError> {
    let segments = split(token.trim())?;
    let header =
        parse_object(&b64url(segments.header, "header")?).map_err(|e| json_error("header", e))?;
    let claims =
        parse_object(&b64url(segments.claims, "claims")?).map_err(|e| json_error("claims", e))?;
    Ok((header, claims))
}

fn b64url(part: &str, what: &str) -> Result<Vec<u8>, StepError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|e| {
        (
            Check::Format,
            format!("{what} is not unpadded base64url: {e}"),
        )
    })
}

fn json_error(what: &str, e: JsonError) -> StepError {
    (Check::Format, format!("{what}: {e}"))
}

fn parse_header(mut map: Map<String, Value>) -> Result<Header, StepError> {
    if let Some(name) = map.keys().find(|k| !ALLOWED_HEADER.contains(&k.as_str())) {
        let why = match name.as_str() {
            "crit" => "`crit` names extensions this verifier does not implement".to_owned(),
            "jku" | "x5u" | "jwk" => {
                format!("`{name}` would take the key from the token itself; keys are pinned")
            }
            _ => format!("unknown header parameter `{name}`"),
        };
        return Err((Check::Header, why));
    }
    match map.get("alg") {
        Some(Value::String(alg)) if alg == ALGORITHM => {}
        Some(Value::String(alg)) => {
            return Err((
                Check::Algorithm,
                format!("`alg` is {alg}, only {ALGORITHM} is accepted"),
            ));
        }
        Some(_) => return Err((Check::Algorithm, "`alg` is not a string".into())),
        None => return Err((Check::Algorithm, "`alg` is missing".into())),
    }
    match map.get("typ") {
        None => {}
        Some(Value::String(typ)) if typ == "JWT" => {}
        Some(other) => return Err((Check::Header, format!("`typ` is {other}, expected \"JWT\""))),
    }
    let kid = match map.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err((Check::Header, "`kid` is not a string".into())),
    };
    let key = match (map.remove("x5c"), &kid) {
        (Some(Value::Array(certs)), _) => KeyRef::X5c(x5c_strings(certs)?),
        (Some(_), _) => return Err((Check::Header, "`x5c` is not an array".into())),
        (None, Some(kid)) => KeyRef::Kid(kid.clone()),
        (None, None) => return Err((Check::Header, "neither `x5c` nor `kid` is present".into())),
    };
    Ok(Header { key, kid })
}

fn x5c_strings(certs: Vec<Value>) -> Result<Vec<String>, StepError> {
    if certs.is_empty() || certs.len() > 3 {
        return Err((
            Check::Header,
            format!("`x5c` has {} certificates, expected 2 or 3", certs.len()),
        ));
    }
    certs
        .into_iter()
        .map(|c| match c {
            Value::String(s) => Ok(s),
            _ => Err((Check::Header, "`x5c` entry is not a string".into())),
        })
        .collect()
}

/// Decodes one `x5c` entry (RFC 7515: standard base64, not URL-safe).
pub(crate) fn x5c_der(entry: &str) -> Result<Vec<u8>, StepError> {
    STANDARD.decode(entry).map_err(|e| {
        (
            Check::Chain,
            format!("`x5c` entry is not standard base64: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims),
            URL_SAFE_NO_PAD.encode(b"sig")
        )
    }

    fn parse(t: &str) -> Result<(Header, Vec<u8>), StepError> {
        let segments = split(t)?;
        let header = decode_header(segments.header)?;
        decode_claims(segments.claims)?;
        Ok((header, decode_signature(segments.signature)?))
    }

    fn check_of(t: &str) -> Check {
        match parse(t) {
            Ok(_) => panic!("accepted"),
            Err((check, _)) => check,
        }
    }

    #[test]
    fn parse_accepts_a_kid_header() {
        let t = token(r#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#, "{}");
        let (header, signature) = parse(&t).unwrap();
        assert_eq!(header.key, KeyRef::Kid("k1".into()));
        assert_eq!(signature, b"sig");
    }

    #[test]
    fn parse_rejects_each_forbidden_header_parameter() {
        for extra in [
            r#""crit":["exp"]"#,
            r#""jku":"https://evil.example/jwks""#,
            r#""x5u":"https://evil.example/c.pem""#,
            r#""jwk":{}"#,
            r#""zip":"DEF""#,
        ] {
            let t = token(&format!(r#"{{"alg":"RS256","kid":"k",{extra}}}"#), "{}");
            assert_eq!(check_of(&t), Check::Header, "{extra}");
        }
    }

    #[test]
    fn parse_rejects_algorithms_other_than_rs256() {
        for alg in [
            r#""none""#,
            r#""HS256""#,
            r#""RS384""#,
            r#""RS512""#,
            r#""rs256""#,
            "256",
        ] {
            let t = token(&format!(r#"{{"alg":{alg},"kid":"k"}}"#), "{}");
            assert_eq!(check_of(&t), Check::Algorithm, "{alg}");
        }
        assert_eq!(check_of(&token(r#"{"kid":"k"}"#, "{}")), Check::Algorithm);
    }

    #[test]
    fn parse_rejects_duplicate_header_keys() {
        let t = token(r#"{"alg":"RS256","alg":"none","kid":"k"}"#, "{}");
        assert_eq!(check_of(&t), Check::Format);
    }

    #[test]
    fn parse_rejects_oversized_and_malformed_tokens() {
        assert_eq!(check_of(&"a".repeat(MAX_TOKEN_BYTES + 1)), Check::Size);
        assert_eq!(check_of("a.b"), Check::Format);
        assert_eq!(check_of("a.b.c.d"), Check::Format);
        assert_eq!(check_of("!!.e30.c2ln"), Check::Format);
        let padded = format!("{}=", token(r#"{"alg":"RS256","kid":"k"}"#, "{}"));
        assert_eq!(check_of(&padded), Check::Format);
    }

    #[test]
    fn parse_requires_a_key_reference() {
        assert_eq!(check_of(&token(r#"{"alg":"RS256"}"#, "{}")), Check::Header);
        assert_eq!(
            check_of(&token(r#"{"alg":"RS256","x5c":[]}"#, "{}")),
            Check::Header
        );
        assert_eq!(
            check_of(&token(r#"{"alg":"RS256","x5c":"abc"}"#, "{}")),
            Check::Header
        );
    }
}
