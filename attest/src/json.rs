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
    fn parse_object_rejects_trailing_data_and_non_objects() {
        assert!(matches!(
            parse_object(br#"{} {}"#),
            Err(JsonError::Syntax(_))
        ));
        assert_eq!(parse_object(b"[1]"), Err(JsonError::NotAnObject));
        assert!(matches!(parse_object(b"{"), Err(JsonError::Syntax(_))));
    }
}
