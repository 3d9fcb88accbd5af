//! `aileron vault …`, `aileron credential …` and `aileron agent-token …`: the end-to-end vault
//! (docs/vault.md) and agent tokens, with the saved session (`aileron login`) or `--server` and
//! `AILERON_TOKEN`. The vault's cryptography happens here: passphrases and secrets (from an
//! echo-free prompt or standard input, never the command line) never leave this machine; the
//! server gets ciphertext, hashes and proofs. Answers are printed as JSON.

use std::path::PathBuf;

use aileron_sdk::HostClient;
use aileron_sdk::vault::client::{self as vault, Opened};
use aileron_sdk::vault::{CredentialPolicy, Kind};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;

use crate::Failure;
use crate::escrow_cmd::{parse_allow, print_json, refused};
use crate::session::Context;

/// The server to talk to (default: the saved session's).
#[derive(Args, Clone)]
pub(crate) struct ServerArgs {
    /// The server's base URL (default: the one `aileron login` saved).
    #[arg(long, env = "AILERON_SERVER")]
    server: Option<String>,
    /// The attestation policy (TOML) to verify the enclave against (default: the saved one).
    #[arg(long, env = "AILERON_POLICY")]
    policy: Option<PathBuf>,
    /// The pinned root: a PEM file or `google` (default: the saved one, else google).
    #[arg(long, env = "AILERON_ROOT")]
    root: Option<String>,
}

impl ServerArgs {
    async fn context(&self) -> Result<(Context, HostClient), Failure> {
        let context = Context::load(self.server.as_deref()).await?;
        let host = context.host()?;
        Ok((context, host))
    }
}

#[derive(Subcommand)]
pub(crate) enum VaultCommand {
    /// Make the vault: a new vault key, wrapped under a passphrase (refused when weak).
    Set(ServerArgs),
    /// Change the passphrase: the current one, then the new one (two lines on stdin).
    Change(ServerArgs),
    /// Open the vault here and escrow every credential into the attested enclave (server-trust
    /// mode: hand the server the credential key for AILERON_KEK_SESSION_TTL, and say so).
    Unlock(ServerArgs),
    /// Lock the vault now: every credential escrow is revoked.
    Lock(ServerArgs),
    /// Who brokers, and until when the vault is unlocked.
    Status(ServerArgs),
}

#[derive(Subcommand)]
pub(crate) enum CredentialCommand {
    /// Store a credential: the passphrase, then the secret (two lines on stdin). Encrypted
    /// here; escrowed at once when the server has an enclave.
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
    #[arg(long, value_enum, default_value = "bearer")]
    kind: Kind,
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

/// The least zxcvbn score (0 to 4) a new passphrase needs.
const MIN_STRENGTH: u8 = 3;

/// Refuses an obviously weak passphrase, with the estimator's advice.
fn check_strength(passphrase: &SecretString, email: &str) -> Result<(), Failure> {
    let text = passphrase.expose_secret();
    if text.chars().count() < 12 {
        return Err(Failure::Usage(
            "the passphrase is too short: use at least 12 characters (several words are best)"
                .into(),
        ));
    }
    let estimate = zxcvbn::zxcvbn(text, &[email]);
    if u8::from(estimate.score()) >= MIN_STRENGTH {
        return Ok(());
    }
    let advice = estimate
        .feedback()
        .map(|f| {
            let mut lines: Vec<String> = f.warning().map(|w| w.to_string()).into_iter().collect();
            lines.extend(f.suggestions().iter().map(|s| s.to_string()));
            lines.join(" ")
        })
        .unwrap_or_default();
    Err(Failure::Usage(format!(
        "the passphrase is too weak to protect a vault against offline guessing: {advice}"
    )))
}

/// Opens the vault with the passphrase (first line of stdin, or a prompt).
async fn open(host: &HostClient, passphrase: SecretString) -> Result<Opened, Failure> {
    vault::open(host, passphrase).await.map_err(refused)
}

pub(crate) async fn run_vault(cmd: VaultCommand) -> Result<(), Failure> {
    match cmd {
        VaultCommand::Set(server) => {
            let (_, host) = server.context().await?;
            let me = host.me().await.map_err(refused)?;
            let passphrase = crate::input::hidden("new vault passphrase")?;
            check_strength(&passphrase, &me.email)?;
            vault::create(&host, passphrase).await.map_err(refused)?;
            eprintln!("vault made; unlock it with `aileron vault unlock`");
            Ok(())
        }
        VaultCommand::Change(server) => {
            let (_, host) = server.context().await?;
            let me = host.me().await.map_err(refused)?;
            let mut both = crate::input::hidden_lines(&["current passphrase", "new passphrase"])?;
            let new = both
                .pop()
                .ok_or_else(|| Failure::Usage("the new passphrase is missing".into()))?;
            let current = both
                .pop()
                .ok_or_else(|| Failure::Usage("the current passphrase is missing".into()))?;
            check_strength(&new, &me.email)?;
            let opened = open(&host, current).await?;
            opened
                .change_passphrase(&host, new)
                .await
                .map_err(refused)?;
            eprintln!("passphrase changed; every credential stays readable");
            Ok(())
        }
        VaultCommand::Unlock(server) => {
            let (context, host) = server.context().await?;
            let passphrase = crate::input::hidden("vault passphrase")?;
            let opened = open(&host, passphrase).await?;
            let unlocked = if opened.info().trust == "server" {
                // No enclave to attest: no policy needed.
                opened.unlock_server_trust(&host).await.map_err(refused)?
            } else {
                let (policy, verifier) =
                    context.trust(server.policy.as_ref(), server.root.as_deref())?;
                opened
                    .unlock(&host, &policy, &verifier)
                    .await
                    .map_err(refused)?
            };
            eprintln!("{}", unlocked.statement);
            print_json(&unlocked);
            Ok(())
        }
        VaultCommand::Lock(server) => {
            let (_, host) = server.context().await?;
            print_json(&host.lock_vault().await.map_err(refused)?);
            eprintln!("vault locked");
            Ok(())
        }
        VaultCommand::Status(server) => {
            let (_, host) = server.context().await?;
            let info = host.vault().await.map_err(refused)?;
            let credentials = host.credentials().await.map_err(refused)?;
            let escrowed = credentials
                .iter()
                .filter(|c| c.escrow.as_ref().is_some_and(|e| e.status == "active"))
                .count();
            print_json(&json!({
                "trust": info.trust,
                "credentials": credentials.len(),
                "escrowed": escrowed,
                "unlocked_until": info.unlocked_until,
            }));
            Ok(())
        }
    }
}

fn policy_of(args: &AddArgs) -> Result<CredentialPolicy, Failure> {
    let allow = parse_allow(&args.allow)?;
    let usage = |m: &str| Failure::Usage(m.to_owned());
    let mut policy = match args.kind {
        Kind::Bearer if args.format.is_some() || args.username.is_some() => {
            return Err(usage("a bearer credential takes no --format or --username"));
        }
        Kind::Bearer => CredentialPolicy::bearer(allow, args.header.clone()),
        Kind::Header => {
            let header = args
                .header
                .clone()
                .ok_or_else(|| usage("a header credential needs --header"))?;
            if args.username.is_some() {
                return Err(usage("a header credential takes no --username"));
            }
            CredentialPolicy::header(allow, header, args.format.clone())
        }
        Kind::Basic => {
            let username = args
                .username
                .clone()
                .ok_or_else(|| usage("a basic credential needs --username"))?;
            if args.format.is_some() || args.header.is_some() {
                return Err(usage("a basic credential takes no --format or --header"));
            }
            CredentialPolicy::basic(allow, username)
        }
    };
    policy.max_uses = args.max_uses;
    Ok(policy)
}

pub(crate) async fn run_credential(cmd: CredentialCommand) -> Result<(), Failure> {
    match cmd {
        CredentialCommand::Add(args) => {
            let policy = policy_of(&args)?;
            let (context, host) = args.server.context().await?;
            let mut lines = crate::input::hidden_lines(&["vault passphrase", "secret"])?;
            let secret = lines
                .pop()
                .ok_or_else(|| Failure::Usage("the secret is missing".into()))?;
            let passphrase = lines
                .pop()
                .ok_or_else(|| Failure::Usage("the passphrase is missing".into()))?;
            let opened = open(&host, passphrase).await?;
            let stored = opened
                .add_credential(
                    &host,
                    &args.name,
                    &policy,
                    secret.expose_secret().as_bytes(),
                )
                .await
                .map_err(refused)?;
            let name = stored.name.clone();
            if opened.info().trust == "enclave" {
                let (attest_policy, verifier) =
                    context.trust(args.server.policy.as_ref(), args.server.root.as_deref())?;
                opened
                    .escrow(&host, stored, &attest_policy, &verifier)
                    .await
                    .map_err(refused)?;
                eprintln!("stored and escrowed into the attested enclave");
            } else {
                eprintln!("stored; usable while the vault is unlocked (server-trust mode)");
            }
            print_json(&json!({"name": name, "kind": policy.kind, "policy": policy}));
            Ok(())
        }
        CredentialCommand::Ls(server) => {
            let (_, host) = server.context().await?;
            let credentials = host.credentials().await.map_err(refused)?;
            let shown: Vec<serde_json::Value> = credentials
                .iter()
                .map(|c| {
                    json!({
                        "name": c.name,
                        "kind": c.kind,
                        "version": c.version,
                        "policy": serde_json::from_str::<serde_json::Value>(&c.policy).unwrap_or_default(),
                        "escrow": c.escrow,
                    })
                })
                .collect();
            print_json(&shown);
            Ok(())
        }
        CredentialCommand::Rm { server, name } => {
            let (_, host) = server.context().await?;
            host.remove_credential(&name).await.map_err(refused)?;
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
            let (_, host) = server.context().await?;
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
            let (_, host) = server.context().await?;
            print_json(&host.agent_tokens().await.map_err(refused)?);
            Ok(())
        }
        AgentTokenCommand::Rm { server, id } => {
            let (_, host) = server.context().await?;
            host.revoke_agent_token(&id).await.map_err(refused)?;
            eprintln!("revoked {id}");
            Ok(())
        }
    }
}
