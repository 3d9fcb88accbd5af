//! # aileron-enclave
//!
//! The enclave service: it attests itself (Confidential Space launcher, or the local issuer),
//! takes credentials sealed to its per-boot HPKE key, and makes requests with them inside the
//! scope sealed with each, never returning them. HTTPS only, with a per-boot key whose hash is
//! bound into every attestation token. Everything secret lives in zeroizing memory and is gone
//! with the process: a restart (new `boot_id`) loses every escrow, by design.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod admission;
pub mod attester;
pub mod config;
mod error;
pub mod hardening;
mod http;
pub mod serve;
mod store;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use aileron_broker::{Broker, BrokerLimits};
use aileron_sdk::seal;
use ring::rand::SecureRandom as _;

use crate::admission::Gate;
use crate::attester::Attester;
use crate::config::{Config, Provider};
use crate::serve::ConnLimits;
use crate::store::Store;

/// Largest request body accepted (an escrow of the largest secret, or a brokered request body).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Everything one boot of the enclave holds.
pub struct Enclave {
    /// Configuration.
    pub config: Config,
    /// This boot's id.
    pub boot_id: [u8; 16],
    hpke_private_key: seal::PrivateKey,
    /// This boot's HPKE public key.
    pub hpke_public_key: [u8; 32],
    /// SHA-256 of this boot's TLS SPKI.
    pub tls_spki_sha256: [u8; 32],
    store: Store,
    broker: Broker,
    attester: Attester,
    gate: Gate,
}

impl Enclave {
    /// Opens a credential sealed to this boot's HPKE key.
    fn open(
        &self,
        enc: &[u8],
        ciphertext: &[u8],
        aad: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, seal::SealError> {
        seal::open(&self.hpke_private_key, enc, ciphertext, aad)
    }

    /// Number of escrows held (for tests and benchmarks).
    pub fn escrow_count(&self) -> usize {
        self.store.len()
    }
}

/// A running enclave: its address and how to stop it.
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// The boot.
    pub enclave: Arc<Enclave>,
    /// Resolves when the server has stopped.
    pub task: tokio::task::JoinHandle<()>,
}

/// Starts the enclave: keys, attester, listener, the expiry sweep. Returns once listening.
pub async fn start(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Running, String> {
    let mut boot_id = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut boot_id)
        .map_err(|_| "system random failed".to_owned())?;
    let (hpke_private_key, public) = seal::generate();
    let tls = tls::generate()?;
    let attester = match config.provider {
        Provider::Local => {
            let issuer = aileron_attest::LocalIssuer::open(&config.local_ca_dir)
                .map_err(|e| e.to_string())?;
            let image_digest = attester::executable_digest()
                .map_err(|e| format!("cannot hash the executable: {e}"))?;
            tracing::info!(root = %config.local_ca_dir.join("root.pem").display(), %image_digest, "local attestation (insecure, for development)");
            Attester::Local {
                issuer: Box::new(issuer),
                image_digest,
                env: attester::reported_env(&config),
            }
        }
        Provider::ConfidentialSpace => Attester::Launcher {
            socket: config.launcher_socket.clone(),
        },
    };
    if config.destinations.allows_private() {
        tracing::warn!(
            "{}=true: the broker may reach private addresses and plain http (development only; clients' default policies refuse this enclave)",
            aileron_broker::destination::DANGEROUS_PRIVATE_VAR
        );
    }
    let broker = Broker::new(
        BrokerLimits {
            timeout: config.upstream_timeout,
            max_response_bytes: config.max_response_bytes,
        },
        config.destinations,
    )?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("{}: {e}", config.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let enclave = Arc::new(Enclave {
        store: Store::new(config.max_escrows, config.max_escrows_per_subject),
        gate: Gate::new(
            &config.audience,
            &config.admission_keys,
            config.attestations_per_minute,
        ),
        config,
        boot_id,
        hpke_private_key,
        hpke_public_key: seal::public_bytes(&public),
        tls_spki_sha256: tls.spki_sha256,
        broker,
        attester,
    });
    let app = http::router(enclave.clone(), BODY_LIMIT);
    // The sweeper holds the boot weakly and stops with the server, so nothing keeps the HPKE
    // private key alive after a stop.
    let sweeper = tokio::spawn(sweep(Arc::downgrade(&enclave)));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config);
    let limits = ConnLimits {
        max_connections: enclave.config.max_connections,
        ..ConnLimits::default()
    };
    let held = enclave.clone();
    let task = tokio::spawn(async move {
        serve::serve(listener, Some(acceptor), app, limits, shutdown).await;
        sweeper.abort();
        held.store.clear();
        tracing::info!("enclave stopped; every escrow zeroized");
    });
    Ok(Running {
        addr,
        enclave,
        task,
    })
}

/// Every 30 s, drops expired escrows (their secrets zeroized), while the boot lives.
async fn sweep(enclave: std::sync::Weak<Enclave>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
    loop {
        tick.tick().await;
        let Some(enclave) = enclave.upgrade() else {
            return;
        };
        let dropped = enclave.store.sweep(time::OffsetDateTime::now_utc());
        if dropped > 0 {
            tracing::info!(dropped, "expired escrows zeroized");
        }
    }
}
