//! Arbitrary bytes as a token: parsing and verification must never panic, and must never
//! accept (the fuzzer cannot forge a Google signature).
#![no_main]

use std::sync::LazyLock;

use aileron_attest::{Policy, Verifier};
use libfuzzer_sys::fuzz_target;

static VERIFIER: LazyLock<Verifier> = LazyLock::new(Verifier::google);
static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    Policy::from_toml_str(
        "audience = \"fuzz\"\nimage_digests = [\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"]\nallow_debug = true\n",
    )
    .unwrap()
});

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        assert!(
            VERIFIER
                .verify_at(token, &POLICY, &[], 1_757_061_000)
                .is_err()
        );
        let _ = aileron_attest::inspect(token);
    }
});
