//! `aileron-server`: reads the environment, starts, serves until SIGTERM or Ctrl-C. Two operator
//! commands share the same environment: `admission-key` and `admin suspend|restore`; `openapi`
//! prints the API's OpenAPI document.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;

use aileron_host::clock::Clock;
use aileron_host::config::{Config, Database, RawConfig};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The Aileron API server. Configured by the environment (docs/host.md).
#[derive(Parser)]
#[command(name = "aileron-server", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Print the public key of the admission tickets this server signs (derived from
    /// AILERON_JWT_SIGNING_KEY): the enclave's AILERON_ENCLAVE_ADMISSION_KEYS.
    AdmissionKey,
    /// Print the OpenAPI document of the API (the one served at /openapi.json); needs no
    /// configuration. The UI's API types and the docs site are generated from it.
    Openapi,
    /// Operator actions on accounts (AILERON_DATABASE_URL).
    #[command(subcommand)]
    Admin(Admin),
}

#[derive(Subcommand)]
enum Admin {
    /// Suspend an account: every token it holds (access, refresh, agent) stops working now.
    Suspend {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
    /// Restore a suspended account.
    Restore {
        /// The account's email address.
        #[arg(long)]
        email: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        return openapi();
    }
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
    match cli.command {
        None | Some(Command::Serve) => serve(config).await,
        Some(Command::AdmissionKey) => admission_key(&config),
        Some(Command::Openapi) => openapi(),
        Some(Command::Admin(admin)) => run_admin(&config, admin).await,
    }
}

fn openapi() -> ExitCode {
    match aileron_host::http::openapi::document() {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aileron-server: the OpenAPI document does not serialise: {e}");
            ExitCode::FAILURE
        }
    }
}

fn admission_key(config: &Config) -> ExitCode {
    let Some(key) = &config.jwt_signing_key else {
        eprintln!(
            "aileron-server: AILERON_JWT_SIGNING_KEY is required to derive the admission key"
        );
        return ExitCode::from(2);
    };
    let audience = config
        .enclave_audience
        .as_deref()
        .unwrap_or("aileron-enclave");
    match aileron_host::admission::HostAdmission::derive(key.expose(), audience, config.quotas) {
        Ok(admission) => {
            println!("{}", admission.public_key());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("aileron-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_admin(config: &Config, admin: Admin) -> ExitCode {
    if !config.database.auth_enabled() {
        eprintln!("aileron-server: admin commands need AILERON_DATABASE_URL");
        return ExitCode::from(2);
    }
    let (email, suspend) = match &admin {
        Admin::Suspend { email } => (email, true),
        Admin::Restore { email } => (email, false),
    };
    let Some(email) = aileron_host::auth::email::Email::parse(email) else {
        eprintln!("aileron-server: {email:?} is not an email address");
        return ExitCode::from(2);
    };
    let result = async {
        let db = aileron_host::db::Db::connect(&config.database, config.database_pool_size).await?;
        db.migrate().await?;
        aileron_host::db::users::set_suspended(&db.pool, email.as_str(), suspend).await
    }
    .await;
    let done = if suspend { "suspended" } else { "restored" };
    match result {
        Ok(true) => {
            println!("{done} {}", email.as_str());
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!(
                "aileron-server: no account with the address {}",
                email.as_str()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("aileron-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> ExitCode {
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
    let app = aileron_host::router(state.clone(), &config);
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %config.addr, replica = state.instance.id(), version = env!("CARGO_PKG_VERSION"), "aileron-server listening");
    aileron_host::serve(listener, app, &config.limits, shutdown_signal()).await?;
    // The other replicas stop counting this one at once rather than after FRESH_SECS.
    if let Err(e) = state.instance.leave(&state.db).await {
        tracing::warn!(error = %e, "could not remove this replica's announcement");
    }
    Ok(())
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
