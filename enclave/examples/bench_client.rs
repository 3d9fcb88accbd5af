//! Helpers for `scripts/bench-enclave` (not a test):
//! - `bench_client upstream` serves `200 ok` on 127.0.0.1 (a fast loopback upstream) and prints
//!   its port;
//! - `bench_client admission-key` prints the public key of the benchmark's admission signer
//!   (the enclave is started with it);
//! - `bench_client escrows URL CA_DIR N UPSTREAM_URL` attests the enclave once, creates N escrows
//!   with 32-byte secrets (64 at a time), prints the creation rate, and prints the id and handle
//!   of the last one as JSON for the load tool.

use std::sync::Arc;
use std::time::Instant;

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_sdk::Client;
use aileron_sdk::admission::AdmissionSigner;
use aileron_sdk::wire::{AllowRule, Inject, Scope};

/// The benchmark's own admission key (a throwaway: it only admits into a loopback enclave).
fn signer() -> Result<AdmissionSigner, String> {
    AdmissionSigner::from_seed(&[7; 32]).map_err(|e| e.to_string())
}
use secrecy::ExposeSecret as _;

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("upstream") => upstream().await,
        Some("admission-key") => {
            println!("{}", signer()?.public_key());
            Ok(())
        }
        Some("escrows") if args.len() == 5 => escrows(&args[1], &args[2], &args[3], &args[4]).await,
        _ => Err("usage: bench_client upstream | escrows URL CA_DIR N UPSTREAM_URL".into()),
    }
}

async fn upstream() -> Result<(), String> {
    let app = axum::Router::new().fallback(|| async { "ok" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "{}",
        listener.local_addr().map_err(|e| e.to_string())?.port()
    );
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

async fn escrows(url: &str, ca_dir: &str, n: &str, upstream: &str) -> Result<(), String> {
    let n: usize = n.parse().map_err(|_| "N is a number")?;
    let digest = std::env::var("ENCLAVE_DIGEST").map_err(|_| "ENCLAVE_DIGEST is required")?;
    let root = std::fs::read(format!("{ca_dir}/root.pem")).map_err(|e| e.to_string())?;
    let verifier = Arc::new(Verifier::new(
        TrustAnchor::from_pem(&root).map_err(|e| e.to_string())?,
    ));
    let policy = Policy::local("aileron-enclave", vec![digest])
        .map_err(|e| e.to_string())?
        .dangerous_allowing_development_settings();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // Runs add up under one subject (the brokered escrow, then the memory run): the ticket sets
    // no limit of its own, AILERON_ENCLAVE_MAX_ESCROWS_PER_SUBJECT does.
    let ticket = Arc::new(
        signer()?
            .sign("aileron-enclave", "bench", u64::MAX, now)
            .map_err(|e| e.to_string())?,
    );
    let client = Arc::new(Client::new(url, policy, verifier));
    client.attest().await.map_err(|e| e.to_string())?;
    let scope = Scope {
        allow: vec![AllowRule {
            methods: vec!["GET".into()],
            url_prefix: format!("{upstream}/"),
        }],
        inject: Inject::bearer(),
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::hours(2),
        max_uses: None,
    };
    let started = Instant::now();
    let mut last = None;
    for batch in 0..n.div_ceil(64) {
        let size = 64.min(n - batch * 64);
        let tasks: Vec<_> = (0..size)
            .map(|i| {
                let (client, scope, ticket) = (client.clone(), scope.clone(), ticket.clone());
                tokio::spawn(async move {
                    let secret = format!("{:032}", batch * 64 + i);
                    client.escrow(secret.as_bytes(), &scope, &ticket).await
                })
            })
            .collect();
        for task in tasks {
            last = Some(
                task.await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?,
            );
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "created {n} escrows in {elapsed:.2} s: {:.0} escrows/s",
        n as f64 / elapsed
    );
    let last = last.ok_or("no escrow created")?;
    println!(
        "{}",
        serde_json::json!({"escrow_id": last.escrow_id, "handle": last.handle.expose_secret(), "rate": n as f64 / elapsed})
    );
    Ok(())
}
