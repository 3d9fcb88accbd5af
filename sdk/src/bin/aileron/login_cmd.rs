//! `aileron login`: signs in with email and password (from stdin or an echo-free prompt, never
//! the command line) and saves the session, with the attestation policy and root later commands
//! verify the enclave against (see `session.rs`). `--local` saves a server that runs without
//! authentication (`scripts/dev`). `--print-token` also prints the access token, for scripts.

use std::path::PathBuf;

use aileron_sdk::HostClient;
use clap::Args;
use secrecy::ExposeSecret as _;

use crate::Failure;
use crate::session::{self, Saved};

#[derive(Args)]
pub(crate) struct LoginArgs {
    /// The server's base URL, e.g. https://api.example.com.
    #[arg(long, env = "AILERON_SERVER")]
    server: String,
    /// The account's email address.
    #[arg(long, env = "AILERON_EMAIL", required_unless_present = "local")]
    email: Option<String>,
    /// The server runs without authentication (local development): save it, sign in nobody.
    #[arg(long, conflicts_with = "email")]
    local: bool,
    /// The attestation policy (TOML) every later command verifies the enclave against.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The pinned root for that policy (a PEM file, or `google`; default google).
    #[arg(long)]
    root: Option<String>,
    /// Also print the access token on standard output.
    #[arg(long)]
    print_token: bool,
}

pub(crate) async fn run(args: LoginArgs) -> Result<(), Failure> {
    let policy = match &args.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("--policy {}: {e}", path.display())))?;
            aileron_attest::Policy::from_toml_str(&text)
                .map_err(|e| Failure::Usage(format!("--policy {}: {e}", path.display())))?;
            Some(text)
        }
        None => None,
    };
    let root = args.root.as_deref().map(session::root_pem).transpose()?;
    let mut saved = Saved {
        server: args.server.trim_end_matches('/').to_owned(),
        policy,
        root,
        local: args.local,
        access_token: None,
        refresh_token: None,
    };
    let who = match &args.email {
        Some(email) => {
            let password = crate::input::hidden("password")?;
            let roots = crate::escrow_cmd::extra_roots()?;
            let session = HostClient::login(&saved.server, email, &password, roots.as_deref())
                .await
                .map_err(crate::escrow_cmd::refused)?;
            if args.print_token {
                outln!("{}", session.access_token.expose_secret());
            }
            session::keep(&mut saved, &session);
            email.clone()
        }
        None => "the local user (no authentication)".into(),
    };
    let path = session::save(&saved)?;
    eprintln!(
        "signed in to {} as {who}; session saved in {}",
        saved.server,
        path.display()
    );
    if saved.policy.is_none() {
        eprintln!("no --policy given: commands that seal to the enclave will need --policy FILE");
    }
    Ok(())
}
