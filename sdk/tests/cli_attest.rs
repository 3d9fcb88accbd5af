//! The `aileron attest` contract, through the real binary.

use assert_cmd::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../attest/tests/data");

fn aileron() -> Command {
    Command::cargo_bin("aileron").unwrap()
}

fn verify_tdx(extra: &[&str]) -> assert_cmd::assert::Assert {
    let mut args = vec![
        "attest".to_owned(),
        "verify".into(),
        "--token".into(),
        format!("{DATA}/oak_ctf_sha2_sample.jwt"),
        "--policy".into(),
        format!("{DATA}/policies/oak_ctf_tdx.toml"),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    aileron().args(args).assert()
}

#[test]
fn verify_prints_the_claims_and_exits_0_on_acceptance() {
    let root = format!("{DATA}/confidential_space_root.pem");
    let out = verify_tdx(&[
        "--root",
        &root,
        "--now",
        "1757061000",
        "--nonce",
        "75a91c8dbe289f190d5e70ab1cb70c93cc14d7243f0ef3ff5326a622ead220a6",
    ])
    .code(0);
    let claims: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(claims["hwmodel"], "GCP_INTEL_TDX");
}

#[test]
fn verify_accepts_the_built_in_google_root() {
    verify_tdx(&["--root", "google", "--now", "1757061000"]).code(0);
}

#[test]
fn verify_prints_one_reject_line_and_exits_1_on_rejection() {
    let out = verify_tdx(&["--root", "google", "--now", "1757161000"]).code(1);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.starts_with("reject: expiry: "), "{stdout}");
    let out = verify_tdx(&[
        "--root",
        "google",
        "--now",
        "1757061000",
        "--nonce",
        "wrong-nonce-1234",
    ])
    .code(1);
    assert!(String::from_utf8_lossy(&out.get_output().stdout).starts_with("reject: nonce: "));
}

#[test]
fn verify_exits_2_on_usage_errors() {
    verify_tdx(&[]).code(2); // neither --root nor --jwks
    verify_tdx(&["--root", "/nonexistent.pem"]).code(2);
    verify_tdx(&["--root", "google", "--now", "yesterday"]).code(2);
    let dir = tempfile::tempdir().unwrap();
    let bad_policy = dir.path().join("p.toml");
    std::fs::write(
        &bad_policy,
        "audience = \"a\"\nimage_digests = [\"sha256:00\"]\n",
    )
    .unwrap();
    aileron()
        .args([
            "attest",
            "verify",
            "--token",
            &format!("{DATA}/oak_ctf_sha2_sample.jwt"),
        ])
        .args(["--policy", bad_policy.to_str().unwrap(), "--root", "google"])
        .assert()
        .code(2);
}

#[test]
fn verify_rejects_a_token_over_64_kib_and_never_panics_on_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("big", vec![b'a'; 64 * 1024 + 1], "reject: size: "),
        ("empty", Vec::new(), "reject: format: "),
        (
            "binary",
            (0..=255u8).cycle().take(5000).collect(),
            "reject: format: ",
        ),
        ("dots", b"....".to_vec(), "reject: format: "),
        (
            "json",
            b"eyJhbGciOiJub25lIn0.e30.".to_vec(),
            "reject: algorithm: ",
        ),
    ];
    for (name, bytes, prefix) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = aileron()
            .args(["attest", "verify", "--token", path.to_str().unwrap()])
            .args([
                "--policy",
                &format!("{DATA}/policies/oak_ctf_tdx.toml"),
                "--root",
                "google",
            ])
            .assert()
            .code(1);
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(stdout.starts_with(prefix), "{name}: {stdout}");
    }
}

#[test]
fn inspect_marks_its_output_unverified() {
    let out = aileron()
        .args([
            "attest",
            "inspect",
            "--token",
            &format!("{DATA}/oak_confidential_space_valid_old.jwt"),
        ])
        .assert()
        .code(0);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("UNVERIFIED"));
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(json["verified"], false);
    assert_eq!(json["certificates"].as_array().unwrap().len(), 1);
}

#[test]
fn policy_prints_a_production_policy_that_the_verifier_reads_back() {
    let digest = format!("sha256:{}", "e".repeat(64));
    let out = aileron()
        .args([
            "attest",
            "policy",
            "--image-digest",
            &digest,
            "--project",
            "p1",
        ])
        .assert()
        .code(0);
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let policy = aileron_attest::Policy::from_toml_str(&text).unwrap();
    assert_eq!(policy.support_attributes(), ["STABLE"]);
    assert!(!policy.allow_debug());
    assert_eq!(policy.project_ids(), Some(&["p1".to_owned()][..]));
    aileron()
        .args(["attest", "policy", "--image-digest", "sha256:bad"])
        .assert()
        .code(2);
}

#[test]
fn output_into_a_closed_pipe_stops_quietly() {
    use std::process::{Command as Process, Stdio};
    let binary = assert_cmd::cargo::cargo_bin("aileron");
    // The reader is gone before the first byte is written, as when `head` has exited.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = Process::new(binary)
        .args([
            "attest",
            "inspect",
            "--token",
            &format!("{DATA}/oak_ctf_sha2_sample.jwt"),
        ])
        .stdout(writer)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}
