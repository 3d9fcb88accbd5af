//! `aileron-enclave`: configuration from the environment (see docs/enclave.md), then serve.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    for warning in aileron_enclave::hardening::apply() {
        tracing::warn!("{warning}");
    }
    let config = match aileron_enclave::config::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("aileron-enclave: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let provider = config.provider;
    let shutdown = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    match aileron_enclave::start(config, shutdown).await {
        Ok(running) => {
            println!(
                "aileron-enclave listening on https://{} (provider {}, boot {})",
                running.addr,
                provider.as_str(),
                hex::encode(running.enclave.boot_id)
            );
            let _ = running.task.await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aileron-enclave: cannot start: {e}");
            ExitCode::from(1)
        }
    }
}
