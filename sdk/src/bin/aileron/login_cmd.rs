//! `aileron login`: signs in to a host with email and password and prints the access token, so
//! that `export AILERON_TOKEN=$(aileron login --server URL --email ME)` works. The password comes
//! from standard input or an echo-free prompt, never from the command line.

use std::io::IsTerminal as _;

use aileron_sdk::HostClient;
use clap::Args;
use secrecy::ExposeSecret as _;

use crate::Failure;

#[derive(Args)]
pub(crate) struct LoginArgs {
    /// The host's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "AILERON_SERVER")]
    server: String,
    /// The account's email address.
    #[arg(long, env = "AILERON_EMAIL")]
    email: String,
}

pub(crate) async fn run(args: LoginArgs) -> Result<(), Failure> {
    let password = crate::input::hidden("password")?;
    let roots = crate::escrow_cmd::extra_roots()?;
    let token = HostClient::login(&args.server, &args.email, &password, roots.as_deref())
        .await
        .map_err(|e| match e {
            aileron_sdk::Error::Api { code, message, .. } => {
                Failure::Refused(format!("error: {code}: {message}"))
            }
            other => Failure::Refused(format!("error: {other}")),
        })?;
    outln!("{}", token.expose_secret());
    if std::io::stdout().is_terminal() {
        eprintln!("signed in; use it with: export AILERON_TOKEN=<the token above>");
    }
    Ok(())
}
