//! `aileron vault …`, `aileron credential …` and `aileron agent-token …`: the host's vault and
//! agent tokens from the command line (`--server URL`, token from `AILERON_TOKEN`). Passphrases
//! and secrets come from an echo-free prompt or standard input, never from the command line.
//! Answers are printed as JSON.

use aileron_sdk::HostClient;
use clap::{Args, Subcommand};
use secrecy::SecretString;
use serde_json::json;

use crate::Failure;
use crate::escrow_cmd::{parse_allow, print_json, refused};

/// The host to talk to.
#[derive(Args, Clone)]
pub(crate) struct ServerArgs {
    /// The host's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "AILERON_SERVER")]
    server: String,
}

impl ServerArgs {
    fn connect(&self) -> Result<HostClient, Failure> {
        let token = std::env::var("AILERON_TOKEN").map_err(|_| {
            Failure::Usage("AILERON_TOKEN is not set: run `aileron login` first".into())
        })?;
        let roots = crate::escrow_cmd::extra_roots()?;
        HostClient::with_roots(&self.server, SecretString::from(token), roots.as_deref())
            .map_err(|e| Failure::Usage(e.to_string()))
    }
}

#[derive(Subcommand)]
pub(crate) enum VaultCommand {
    /// Set the vault passphrase (first time).
    Set(ServerArgs),
    /// Change the passphrase: the current one, then the new one (two lines on stdin).
    Change(ServerArgs),
    /// Unlock the vault for AILERON_KEK_SESSION_TTL; with an enclave, escrows every credential.
    Unlock(ServerArgs),
    /// Lock the vault now.
    Lock(ServerArgs),
    /// Whether the vault is unlocked, and until when.
    Status(ServerArgs),
}

#[derive(Subcommand)]
pub(crate) enum CredentialCommand {
    /// Store a credential in the vault (the secret from stdin or a prompt; vault unlocked).
    Add(AddArgs),
    /// List the vault's credentials (never their secrets).
    Ls(ServerArgs),
    /// Delete a credential and revoke its escrow.
    Rm {
        #[command(flatten)]
        server: ServerArgs,
        /// The credential's name.
        #[arg(long)]
        name: String,
    },
}

#[derive(Args)]
pub(crate) struct AddArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Unique name: 1 to 64 of A-Z a-z 0-9 . _ -
    #[arg(long)]
    name: String,
    /// bearer, header or basic.
    #[arg(long, default_value = "bearer")]
    kind: String,
    /// The header (required for `header`; default Authorization otherwise).
    #[arg(long)]
    header: Option<String>,
    /// For `header`: the value template with {secret} once (default {secret}).
    #[arg(long)]
    format: Option<String>,
    /// For `basic`: the user name (the secret is the password).
    #[arg(long)]
    username: Option<String>,
    /// An allow rule: `METHODS URL_PREFIX`, e.g. 'GET,POST https://api.github.com/'. Repeatable.
    #[arg(long = "allow", required = true)]
    allow: Vec<String>,
    /// Maximum uses per escrow.
    #[arg(long = "max-uses")]
    max_uses: Option<u64>,
}

#[derive(Subcommand)]
pub(crate) enum AgentTokenCommand {
    /// Create an agent token (printed once).
    Create {
        #[command(flatten)]
        server: ServerArgs,
        /// A label for the token.
        #[arg(long)]
        name: String,
        /// Lifetime, e.g. 1h, 7d (default 7d, at most 365d).
        #[arg(long)]
        ttl: Option<String>,
        /// Restrict the token to this credential or escrow name. Repeatable; all when absent.
        #[arg(long = "credential")]
        credentials: Vec<String>,
    },
    /// List agent tokens (never the tokens themselves).
    Ls(ServerArgs),
    /// Revoke an agent token.
    Rm {
        #[command(flatten)]
        server: ServerArgs,
        /// The token's id (from `ls`).
        #[arg(long)]
        id: String,
    },
}

pub(crate) async fn run_vault(cmd: VaultCommand) -> Result<(), Failure> {
    match cmd {
        VaultCommand::Set(server) => {
            let host = server.connect()?;
            let new = crate::input::hidden("new passphrase")?;
            host.set_passphrase(&new, None).await.map_err(refused)?;
            eprintln!("passphrase set; unlock the vault with `aileron vault unlock`");
            Ok(())
        }
        VaultCommand::Change(server) => {
            let host = server.connect()?;
            let [current, new]: [SecretString; 2] =
                crate::input::hidden_lines(&["current passphrase", "new passphrase"])?
                    .try_into()
                    .map_err(|_| Failure::Usage("two passphrases are needed".into()))?;
            host.set_passphrase(&new, Some(&current))
                .await
                .map_err(refused)?;
            eprintln!("passphrase changed; every credential stays readable");
            Ok(())
        }
        VaultCommand::Unlock(server) => {
            let host = server.connect()?;
            let passphrase = crate::input::hidden("passphrase")?;
            let answer = host.unlock(&passphrase).await.map_err(refused)?;
            if answer["valid"] != json!(true) {
                return Err(Failure::Refused(
                    "error: wrong_passphrase: the passphrase is not correct".into(),
                ));
            }
            print_json(&answer);
            Ok(())
        }
        VaultCommand::Lock(server) => {
            server.connect()?.lock().await.map_err(refused)?;
            eprintln!("vault locked");
            Ok(())
        }
        VaultCommand::Status(server) => {
            print_json(&server.connect()?.vault_session().await.map_err(refused)?);
            Ok(())
        }
    }
}

pub(crate) async fn run_credential(cmd: CredentialCommand) -> Result<(), Failure> {
    match cmd {
        CredentialCommand::Add(args) => {
            let host = args.server.connect()?;
            let allow = parse_allow(&args.allow)?;
            let body = json!({
                "name": args.name,
                "kind": args.kind,
                "header": args.header,
                "format": args.format,
                "username": args.username,
                "allow": allow,
                "max_uses": args.max_uses,
            });
            let secret = crate::input::hidden("secret")?;
            print_json(&host.add_credential(body, &secret).await.map_err(refused)?);
            Ok(())
        }
        CredentialCommand::Ls(server) => {
            print_json(&server.connect()?.credentials().await.map_err(refused)?);
            Ok(())
        }
        CredentialCommand::Rm { server, name } => {
            server
                .connect()?
                .remove_credential(&name)
                .await
                .map_err(refused)?;
            eprintln!("deleted {name}");
            Ok(())
        }
    }
}

pub(crate) async fn run_agent_token(cmd: AgentTokenCommand) -> Result<(), Failure> {
    match cmd {
        AgentTokenCommand::Create {
            server,
            name,
            ttl,
            credentials,
        } => {
            let host = server.connect()?;
            let secs = match ttl {
                Some(t) => Some(
                    humantime::parse_duration(&t)
                        .map_err(|e| Failure::Usage(format!("--ttl {t:?}: {e}")))?
                        .as_secs(),
                ),
                None => None,
            };
            let only = (!credentials.is_empty()).then_some(credentials.as_slice());
            let created = host
                .create_agent_token(&name, secs, only)
                .await
                .map_err(refused)?;
            print_json(&created);
            eprintln!("the token is shown once: give it to the agent as AILERON_TOKEN");
            Ok(())
        }
        AgentTokenCommand::Ls(server) => {
            print_json(&server.connect()?.agent_tokens().await.map_err(refused)?);
            Ok(())
        }
        AgentTokenCommand::Rm { server, id } => {
            server
                .connect()?
                .revoke_agent_token(&id)
                .await
                .map_err(refused)?;
            eprintln!("revoked {id}");
            Ok(())
        }
    }
}
