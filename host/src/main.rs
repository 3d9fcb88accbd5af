//! `aileron-server`: reads the environment, starts, serves until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use aileron_host::clock::Clock;
use aileron_host::config::{Config, Database, RawConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = match Config::try_from(RawConfig::from_env()) {
        Ok(config) => config,
        Err(e) => {
            // One line, naming the variable and the accepted form.
            eprintln!("aileron-server: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "aileron-server stopped");
            eprintln!("aileron-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), aileron_host::StartError> {
    if matches!(config.database, Database::InMemory) {
        tracing::warn!(
            "AILERON_DATABASE_URL is unset: in-memory database, authentication DISABLED (local development only)"
        );
    }
    if config.auto_verify_email {
        tracing::warn!(
            "AILERON_AUTO_VERIFY_EMAIL=true: emails are not verified; never enable in production"
        );
    }
    let state = aileron_host::build_state(&config, Clock::default()).await?;
    let app = aileron_host::router(state, &config);
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %config.addr, version = env!("CARGO_PKG_VERSION"), "aileron-server listening");
    aileron_host::serve(listener, app, &config.limits, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}
