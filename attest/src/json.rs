//! Strict JSON: `serde_json` keeps the last of two equal keys; a verifier must refuse them.
//!
//! [`parse_object`] builds a `serde_json::Value` through a visitor that rejects a duplicate key at
//! any depth, then requires the top level to be an object.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a JSON document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// Not JSON, or JSON with a duplicate key (the message names it).
    #[error("{0}")]
    Syntax(String),
    /// Valid JSON whose top level is not an object.
    #[error("not a JSON object")]
    NotAnObject,
}

/// Parses `bytes` as a JSON object, refusing duplicate keys anywhere in it.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(value) =
        StrictValue::deserialize(&mut de).map_err(|e| JsonError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::NotAnObject),
    }
}

/// Checks that `bytes` is one JSON object with no duplicate key at any depth, without building
/// it (the hot path: the typed claims are deserialized separately).
pub fn check_object(bytes: &[u8]) -> Result<(), JsonError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        // Either not JSON at all or not an object: let the full parser say which.
        return parse_object(bytes).map(|_| ());
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    Unique::deserialize(&mut de).map_err(|e| JsonError::Syntax(e.to_string()))?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))
}

/// A JSON value checked for duplicate keys and then dropped.
struct Unique;

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UniqueVisitor)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Unique;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_unit<E>(self) -> Result<Unique, E> {
        Ok(Unique)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
        while seq.next_element::<Unique>()?.is_some() {}
        Ok(Unique)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Unique, A::Error> {
        // Objects in tokens are small: a linear scan beats hashing.
        let mut seen: Vec<Key<'de>> = Vec::new();
        while let Some(key) = access.next_key::<Key<'de>>()? {
            if seen.iter().any(|k| k.0 == key.0) {
                return Err(de::Error::custom(format_args!("duplicate key `{}`", key.0)));
            }
            access.next_value::<Unique>()?;
            seen.push(key);
        }
        Ok(Unique)
    }
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let StrictValue(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_object_accepts_nested_objects_with_distinct_keys() {
        let map = parse_object(br#"{"a":1,"b":{"a":2,"c":[{"a":3}]}}"#).unwrap();
        assert_eq!(map["b"]["c"][0]["a"], 3);
    }

    #[test]
    fn parse_object_rejects_duplicate_top_level_key() {
        let err = parse_object(br#"{"aud":"a","aud":"b"}"#).unwrap_err();
        assert!(
            matches!(&err, JsonError::Syntax(m) if m.contains("duplicate key `aud`")),
            "{err}"
        );
    }

    #[test]
    fn parse_object_rejects_duplicate_key_deep_inside_an_array() {
        let err = parse_object(br#"{"x":[{"k":1,"k":2}]}"#).unwrap_err();
        assert!(
            matches!(&err, JsonError::Syntax(m) if m.contains("duplicate key `k`")),
            "{err}"
        );
    }

    #[test]
    fn parse_object_rejects_keys_equal_after_escape_decoding() {
        let err = parse_object(br#"{"iss":"a","i\u0073s":"b"}"#).unwrap_err();
        assert!(matches!(err, JsonError::Syntax(_)));
    }

    #[test]
    fn check_object_agrees_with_parse_object() {
        let cases: [&[u8]; 8] = [
            br#"{"a":1,"b":{"a":2,"c":[{"a":3}]}}"#,
            br#"{"aud":"a","aud":"b"}"#,
            br#"{"x":[{"k":1,"k":2}]}"#,
            br#"{"iss":"a","i\u0073s":"b"}"#,
            br#"{} {}"#,
            b"[1]",
            b"{",
            b"  {\"n\": null, \"f\": 1.5, \"t\": true}  ",
        ];
        for case in cases {
            assert_eq!(
                check_object(case).is_ok(),
                parse_object(case).is_ok(),
                "{}",
                String::from_utf8_lossy(case)
            );
        }
    }

    #[test]
    fn parse_object_rejects_trailing_data_and_non_objects() {
        assert!(matches!(
            parse_object(br#"{} {}"#),
            Err(JsonError::Syntax(_))
        ));
        assert_eq!(parse_object(b"[1]"), Err(JsonError::NotAnObject));
        assert!(matches!(parse_object(b"{"), Err(JsonError::Syntax(_))));
    }
}
