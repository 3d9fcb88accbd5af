//! `aileron`: the command-line client of Aileron.
//!
//! Exit codes: 0 success, 1 a verification or request was refused (one line says why),
//! 2 a usage error (bad flags, unreadable files, an invalid policy).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `println!` that stops quietly when standard output is closed (`aileron … | head -3`), where
/// `println!` would panic with a backtrace.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::out::write(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!`, the same way.
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::write(format_args!($($arg)*)) };
}

mod attest_cmd;
mod escrow_cmd;
mod host_cmd;
mod input;
mod login_cmd;
mod mcp_cmd;
mod out;
mod session;

#[derive(Parser)]
#[command(
    name = "aileron",
    version,
    about = "Aileron: credentials used by agents, held only by an attested enclave"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify, inspect and write policies for Confidential Space attestation tokens.
    #[command(subcommand)]
    Attest(attest_cmd::AttestCommand),
    /// Escrow credentials into an attested enclave (straight, or through a host with --server), list, check and revoke them.
    #[command(subcommand)]
    Escrow(escrow_cmd::EscrowCommand),
    /// Make a request with an escrowed credential (the secret is injected by the enclave).
    Request(escrow_cmd::RequestArgs),
    /// Sign in to an Aileron server and save the session (and the attestation policy to use).
    Login(login_cmd::LoginArgs),
    /// The end-to-end vault: set, change, unlock, lock, status.
    #[command(subcommand)]
    Vault(host_cmd::VaultCommand),
    /// Credentials in the host's vault: add, ls, rm.
    #[command(subcommand)]
    Credential(host_cmd::CredentialCommand),
    /// Agent tokens: create, ls, rm.
    #[command(subcommand, name = "agent-token")]
    AgentToken(host_cmd::AgentTokenCommand),
    /// Serve the Model Context Protocol on stdio for an agent (AILERON_SERVER, AILERON_TOKEN):
    /// tools to list its credentials, make requests with them and check a scope.
    Mcp(mcp_cmd::McpArgs),
}

/// How a command ended; mapped to the exit code once, here.
pub(crate) enum Failure {
    /// Refused (exit 1): the line is printed as is.
    Refused(String),
    /// Usage error (exit 2).
    Usage(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Attest(cmd) => attest_cmd::run(cmd),
        Command::Escrow(cmd) => runtime().and_then(|rt| rt.block_on(escrow_cmd::run_escrow(cmd))),
        Command::Request(args) => {
            runtime().and_then(|rt| rt.block_on(escrow_cmd::run_request(args)))
        }
        Command::Login(args) => runtime().and_then(|rt| rt.block_on(login_cmd::run(args))),
        Command::Vault(cmd) => runtime().and_then(|rt| rt.block_on(host_cmd::run_vault(cmd))),
        Command::Credential(cmd) => {
            runtime().and_then(|rt| rt.block_on(host_cmd::run_credential(cmd)))
        }
        Command::AgentToken(cmd) => {
            runtime().and_then(|rt| rt.block_on(host_cmd::run_agent_token(cmd)))
        }
        Command::Mcp(args) => runtime().and_then(|rt| rt.block_on(mcp_cmd::run(args))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Refused(line)) => {
            outln!("{line}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Usage(format!("cannot start the async runtime: {e}")))
}
