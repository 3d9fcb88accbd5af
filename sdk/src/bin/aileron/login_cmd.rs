//! `aileron login`: signs in to a host with email and password and prints the access token, so
//! that `export AILERON_TOKEN=$(aileron login --server URL --email ME)` works. The password comes
//! from standard input or an echo-free prompt, never from the command line.

use std::io::{IsTerminal as _, Read as _};

use aileron_sdk::HostClient;
use clap::Args;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroizing;

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
    let password = read_password()?;
    let token = HostClient::login(&args.server, &args.email, &password)
        .await
        .map_err(|e| match e {
            aileron_sdk::Error::Api { code, message, .. } => {
                Failure::Refused(format!("error: {code}: {message}"))
            }
            other => Failure::Refused(format!("error: {other}")),
        })?;
    println!("{}", token.expose_secret());
    if std::io::stdout().is_terminal() {
        eprintln!("signed in; use it with: export AILERON_TOKEN=<the token above>");
    }
    Ok(())
}

fn read_password() -> Result<SecretString, Failure> {
    let mut password = Zeroizing::new(String::new());
    if std::io::stdin().is_terminal() {
        let typed = rpassword::prompt_password("password (not echoed): ")
            .map_err(|e| Failure::Usage(format!("cannot read the password: {e}")))?;
        password.push_str(&typed);
        drop(Zeroizing::new(typed));
    } else {
        std::io::stdin()
            .take(4096)
            .read_to_string(&mut password)
            .map_err(|e| Failure::Usage(format!("cannot read the password from stdin: {e}")))?;
    }
    let trimmed = password.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        return Err(Failure::Usage("the password is empty".into()));
    }
    Ok(SecretString::from(trimmed.to_owned()))
}
