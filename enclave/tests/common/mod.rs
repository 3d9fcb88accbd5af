//! Shared by the end-to-end tests: start a real enclave process, make an SDK client for it.
#![allow(dead_code)]

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_sdk::Client;
use aileron_sdk::admission::AdmissionSigner;

pub const SECRET: &str = "sk-planted-7f3a9c1e5b2d";
/// The admission key of these tests (the enclaves they start accept its tickets).
pub const ADMISSION_SEED: [u8; 32] = [42; 32];
pub const DANGEROUS: &str = "AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS";

pub fn admission_signer() -> AdmissionSigner {
    AdmissionSigner::from_seed(&ADMISSION_SEED).unwrap()
}

/// A ticket for subject `tests`, with room for 100 escrows.
pub fn ticket() -> String {
    ticket_for("tests", 100)
}

pub fn ticket_for(subject: &str, max: u64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    admission_signer()
        .sign("aileron-enclave", subject, max, now)
        .unwrap()
}

pub struct Enclave {
    pub child: Child,
    pub url: String,
    pub port: u16,
    pub log: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Drop for Enclave {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_aileron-enclave")
}

pub fn binary_digest() -> String {
    let bytes = std::fs::read(binary()).unwrap();
    format!(
        "sha256:{}",
        hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes))
    )
}

pub fn spawn_in(dir: tempfile::TempDir, port: u16, extra: &[(&str, &str)]) -> Enclave {
    let log = dir
        .path()
        .join(format!("enclave-{port}-{}.log", rand_suffix()));
    let mut cmd = Command::new(binary());
    cmd.env_clear()
        .env("AILERON_ENCLAVE_BIND", "127.0.0.1")
        .env("AILERON_ENCLAVE_PORT", port.to_string())
        .env("AILERON_LOCAL_CA_DIR", dir.path().join("ca"))
        .env(
            "AILERON_ENCLAVE_ADMISSION_KEYS",
            admission_signer().public_key(),
        )
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
    // The upstreams of these tests listen on loopback over plain http; confidential-space mode
    // refuses that setting (a test of its own).
    let confidential = extra
        .iter()
        .any(|(k, v)| *k == "AILERON_TEE_PROVIDER" && *v == "confidential-space");
    if !confidential {
        cmd.env(DANGEROUS, "true");
    }
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("https://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| {
            panic!(
                "enclave did not start: {line}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
    let port = addr.rsplit(':').next().unwrap().parse().unwrap();
    Enclave {
        child,
        url: format!("https://{addr}"),
        port,
        log,
        dir,
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

pub fn spawn_local() -> Enclave {
    spawn_in(tempfile::tempdir().unwrap(), 0, &[])
}

pub fn client_for(ca_dir: &Path, url: &str) -> Client {
    let root = std::fs::read(ca_dir.join("root.pem")).unwrap();
    let verifier = Arc::new(Verifier::new(TrustAnchor::from_pem(&root).unwrap()));
    Client::new(url, local_policy(), verifier)
}

/// The local policy, accepting an enclave with private upstreams allowed (as these tests run it).
pub fn local_policy() -> Policy {
    Policy::local("aileron-enclave", vec![binary_digest()])
        .unwrap()
        .dangerous_allowing_development_settings()
}

pub fn client(e: &Enclave) -> Client {
    client_for(&e.dir.path().join("ca"), &e.url)
}
