//! The shared attestation cases (data/shared-cases.json, written by the example
//! `export_shared_cases`): the browser's verifier (ui/src/lib/attest) reads the same file, so the
//! two cannot drift. Each case is decided here at its own time, against its own root and policy.

use aileron_attest::{Check, Policy, TrustAnchor, Verifier};
use serde_json::Value;

fn cases() -> Value {
    serde_json::from_str(include_str!("data/shared-cases.json")).unwrap()
}

fn policy(value: &Value) -> Policy {
    // The file holds the policies as JSON with the TOML policy's keys.
    let table: toml::Value = serde_json::from_value(value.clone()).unwrap();
    Policy::from_toml_str(&toml::to_string(&table).unwrap()).unwrap()
}

#[test]
fn every_shared_case_is_decided_as_the_file_says() {
    let doc = cases();
    assert_eq!(doc["format"], 1);
    let cases = doc["cases"].as_array().unwrap();
    let mut decided = 0;
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let root = doc["roots"][case["root"].as_str().unwrap()]
            .as_str()
            .unwrap();
        let policy = policy(&doc["policies"][case["policy"].as_str().unwrap()]);
        let nonces: Vec<&str> = case["nonces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap())
            .collect();
        let verifier = Verifier::new(TrustAnchor::from_pem(root.as_bytes()).unwrap());
        let verdict = match verifier.verify_at(
            case["token"].as_str().unwrap(),
            &policy,
            &nonces,
            case["at"].as_u64().unwrap(),
        ) {
            Ok(_) => "accept",
            Err(rejection) => rejection.check.as_str(),
        };
        assert_eq!(verdict, case["expect"].as_str().unwrap(), "{name}");
        decided += 1;
    }
    assert_eq!(decided, cases.len());
}

#[test]
fn the_cases_cover_acceptance_the_real_google_tokens_and_every_check() {
    let doc = cases();
    let expected: Vec<&str> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["expect"].as_str().unwrap())
        .collect();
    assert!(expected.contains(&"accept"));
    for check in Check::ALL {
        assert!(
            expected.contains(&check.as_str()),
            "no case fails {}",
            check.as_str()
        );
    }
    let google = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["root"] == "google" && c["expect"] == "accept")
        .count();
    assert_eq!(google, 2, "both real Google tokens, at their valid times");
}
