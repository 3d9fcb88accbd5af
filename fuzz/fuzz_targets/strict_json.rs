//! The strict JSON layer of the verifier. `check_object` (the hot path, which builds nothing)
//! and `parse_object` give the same answer, error included; what they accept serde_json reads
//! as the same object; what they refuse of a document serde_json reads as an object is a
//! duplicate key, which serde_json would have silently resolved to the last value.
#![no_main]

use aileron_attest::{JsonError, check_object, parse_object};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let strict = parse_object(data);
    let checked = check_object(data).err();
    assert_eq!(checked.as_ref(), strict.as_ref().err(), "{:?}", lossy(data));
    match (strict, serde_json::from_slice::<Value>(data)) {
        (Ok(map), lenient) => assert_eq!(lenient.ok(), Some(Value::Object(map))),
        (Err(JsonError::Syntax(why)), Ok(Value::Object(_))) => {
            assert!(
                why.contains("duplicate key"),
                "refused {:?}: {why}",
                lossy(data)
            );
        }
        (Err(JsonError::NotAnObject), lenient) => {
            assert!(lenient.is_ok_and(|v| !v.is_object()), "{:?}", lossy(data));
        }
        (Err(JsonError::Syntax(_)), _) => {}
    }
});

fn lossy(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}
