//! `aileron escrow put|ls|status|rm` and `aileron request`, straight to an enclave
//! (`--enclave URL`) or through an Aileron host (`--server URL`, token from `AILERON_TOKEN`).
//! The secret comes from standard input or an echo-free prompt, never from the command line.
//! Straight to an enclave, an escrow is saved as a small JSON file (mode 0600: it holds the
//! handle, the capability); through a host, it is registered there under a name.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aileron_attest::{Policy, Verifier};
use aileron_sdk::wire::{AllowRule, BrokeredRequest, Inject, Scope};
use aileron_sdk::{Client, Error, Escrow, HostClient};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Failure;
use crate::session::Context;

/// How to reach and verify the enclave.
#[derive(Args, Clone)]
pub(crate) struct EnclaveArgs {
    /// The enclave's base URL, e.g. https://127.0.0.1:8443 (with --server, only for `escrow put
    /// --direct`).
    #[arg(long, env = "AILERON_ENCLAVE_URL")]
    enclave: Option<String>,
    /// An Aileron server's base URL: go through it (default: the server `aileron login` saved,
    /// unless --enclave is given; token from AILERON_TOKEN, else the saved session).
    #[arg(long, env = "AILERON_SERVER")]
    server: Option<String>,
    /// The attestation policy (TOML) the enclave must satisfy (default: the saved one).
    #[arg(long, env = "AILERON_POLICY")]
    policy: Option<PathBuf>,
    /// The pinned root (PEM), or `google` for Google's Confidential Space root (default: the
    /// saved one, else google).
    #[arg(long, env = "AILERON_ROOT")]
    root: Option<String>,
}

#[derive(Subcommand)]
pub(crate) enum EscrowCommand {
    /// Seal a secret (from stdin or a prompt) to the attested enclave, with a scope.
    Put(PutArgs),
    /// List the escrows registered on the host (--server).
    Ls {
        #[command(flatten)]
        enclave: EnclaveArgs,
    },
    /// Show an escrow's use count and expiry (an escrow file) or its state on the host (--name).
    Status {
        #[command(flatten)]
        enclave: EnclaveArgs,
        #[command(flatten)]
        which: Which,
    },
    /// Revoke an escrow: the enclave forgets and zeroizes the secret.
    Rm {
        #[command(flatten)]
        enclave: EnclaveArgs,
        #[command(flatten)]
        which: Which,
    },
}

/// Which escrow: a file written by `escrow put` (straight to the enclave) or a name on the host.
#[derive(Args, Clone)]
pub(crate) struct Which {
    /// The escrow file written by `escrow put`.
    #[arg(long)]
    escrow: Option<PathBuf>,
    /// The escrow's name on the host (with --server).
    #[arg(long)]
    name: Option<String>,
}

#[derive(Args)]
pub(crate) struct PutArgs {
    #[command(flatten)]
    enclave: EnclaveArgs,
    /// An allow rule: `METHODS URL_PREFIX`, e.g. 'GET,POST https://api.github.com/'. Repeatable.
    #[arg(long = "allow", required = true)]
    allow: Vec<String>,
    /// Where the secret goes: 'Header: template with {secret}'.
    #[arg(long, default_value = "Authorization: Bearer {secret}")]
    inject: String,
    /// Lifetime, e.g. 1h, 7d (at most the enclave's AILERON_ESCROW_TTL).
    #[arg(long, default_value = "24h")]
    ttl: String,
    /// Maximum number of uses.
    #[arg(long = "max-uses")]
    max_uses: Option<u64>,
    /// Where to save the escrow (default: ~/.aileron/escrows/<id>.json). Not with --server.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The name to register the escrow under on the host (required with --server).
    #[arg(long)]
    name: Option<String>,
    /// Seal straight to the enclave at --enclave; the server (--server, or the saved session's)
    /// only signs the admission ticket, and the escrow is saved as a file.
    #[arg(long)]
    direct: bool,
    /// An admission ticket (a file) for a straight escrow, from a client the enclave's operator
    /// allowed; by default one is asked of --server.
    #[arg(long, env = "AILERON_ADMISSION_TICKET_FILE")]
    ticket: Option<PathBuf>,
}

/// `aileron request`.
#[derive(Args)]
pub(crate) struct RequestArgs {
    #[command(flatten)]
    enclave: EnclaveArgs,
    /// HTTP method.
    method: String,
    /// Absolute URL inside the escrow's scope.
    url: String,
    #[command(flatten)]
    which: Which,
    /// A vault credential on the host, by name (with --server).
    #[arg(long, conflicts_with_all = ["escrow", "name"])]
    credential: Option<String>,
    /// An extra header, 'Name: value'. Repeatable.
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Request body; `@FILE` reads a file.
    #[arg(long)]
    data: Option<String>,
}

/// The saved form of an escrow.
#[derive(Serialize, Deserialize)]
struct SavedEscrow {
    escrow_id: String,
    handle: String,
    boot_id: String,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: time::OffsetDateTime,
    enclave: String,
}

pub(crate) async fn run_escrow(cmd: EscrowCommand) -> Result<(), Failure> {
    match cmd {
        EscrowCommand::Put(args) => put(args).await,
        EscrowCommand::Ls { enclave } => {
            let (_, host) = host(&enclave)
                .await?
                .ok_or_else(|| usage("escrow ls needs a server (--server, or `aileron login`)"))?;
            let escrows = host.escrows().await.map_err(refused)?;
            print_json(&escrows);
            Ok(())
        }
        EscrowCommand::Status { enclave, which } => match host(&enclave).await? {
            Some((_, host)) => {
                let name = host_name(&which)?;
                let escrows = host.escrows().await.map_err(refused)?;
                let found = escrows.iter().find(|e| e.name == name);
                let escrow = found.ok_or_else(|| {
                    Failure::Refused(format!("error: not_found: no escrow named {name:?}"))
                })?;
                print_json(escrow);
                Ok(())
            }
            None => {
                let (client, escrow) = (client(&enclave)?, load(&escrow_file(&which)?)?);
                let status = client.status(&escrow).await.map_err(refused)?;
                print_json(&status);
                Ok(())
            }
        },
        EscrowCommand::Rm { enclave, which } => match host(&enclave).await? {
            Some((_, host)) => {
                let name = host_name(&which)?;
                host.remove(&name).await.map_err(refused)?;
                eprintln!("revoked {name}");
                Ok(())
            }
            None => {
                let path = escrow_file(&which)?;
                let (client, escrow) = (client(&enclave)?, load(&path)?);
                client.revoke(&escrow).await.map_err(refused)?;
                let _ = std::fs::remove_file(&path);
                eprintln!("revoked {}", escrow.escrow_id);
                Ok(())
            }
        },
    }
}

pub(crate) async fn run_request(args: RequestArgs) -> Result<(), Failure> {
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| Failure::Usage(format!("header {h:?} is not 'Name: value'")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let body = match args.data.as_deref() {
        None => None,
        Some(d) => Some(match d.strip_prefix('@') {
            Some(path) => {
                std::fs::read(path).map_err(|e| Failure::Usage(format!("{path}: {e}")))?
            }
            None => d.as_bytes().to_vec(),
        }),
    };
    let request = BrokeredRequest {
        method: args.method.to_uppercase(),
        url: args.url,
        headers,
        body: body.map(|b| aileron_sdk::wire::b64u(&b)),
    };
    let response = match host(&args.enclave).await? {
        Some((_, host)) => match (&args.credential, &args.which.name) {
            (Some(credential), _) => host.request_credential(credential, &request).await,
            (None, Some(name)) => host.request_escrow(name, &request).await,
            (None, None) => {
                return Err(usage("with --server, name the escrow (--name) or the vault credential (--credential)"));
            }
        },
        None => {
            if args.credential.is_some() {
                return Err(usage("--credential needs --server"));
            }
            let (client, escrow) = (client(&args.enclave)?, load(&escrow_file(&args.which)?)?);
            client.request(&escrow, &request).await
        }
    }
    .map_err(refused)?;
    eprintln!("HTTP {}", response.status);
    let bytes = aileron_sdk::wire::from_b64u(&response.body).unwrap_or_default();
    crate::out::write_bytes(&bytes);
    Ok(())
}

async fn put(args: PutArgs) -> Result<(), Failure> {
    let scope = scope(&args)?;
    // Straight to the enclave, the server (--server or the saved session's) only signs the
    // admission ticket, unless the ticket comes from a file.
    let host = match (args.direct, &args.ticket) {
        (true, None) => {
            let context = Context::load(args.enclave.server.as_deref()).await?;
            let host = context.host()?;
            Some((context, host))
        }
        _ => host(&args.enclave).await?,
    };
    if let Some((context, host)) = host.as_ref().filter(|_| !args.direct) {
        let name = args
            .name
            .as_deref()
            .ok_or_else(|| usage("with --server, escrow put needs --name"))?;
        if args.out.is_some() {
            return Err(usage(
                "--out is for escrows straight to an enclave, not with --server",
            ));
        }
        let (policy, verifier) =
            context.trust(args.enclave.policy.as_ref(), args.enclave.root.as_deref())?;
        let secret = crate::input::hidden("secret")?;
        let escrow = host
            .escrow(
                name,
                secret.expose_secret().as_bytes(),
                &scope,
                &policy,
                &verifier,
            )
            .await
            .map_err(refused)?;
        print_json(&escrow);
        return Ok(());
    }
    let client = client(&args.enclave)?;
    let ticket = match (&args.ticket, &host) {
        (Some(path), _) => std::fs::read_to_string(path)
            .map(|t| SecretString::from(t.trim().to_owned()))
            .map_err(|e| usage(&format!("--ticket {}: {e}", path.display())))?,
        (None, Some((_, host))) => host.admission_ticket().await.map_err(refused)?,
        (None, None) => {
            return Err(usage(
                "an escrow straight to an enclave needs an admission ticket: give --server (with \
                 AILERON_TOKEN) and --direct to have the server sign one, or --ticket FILE",
            ));
        }
    };
    let secret = crate::input::hidden("secret")?;
    let escrow = client
        .escrow(
            secret.expose_secret().as_bytes(),
            &scope,
            ticket.expose_secret(),
        )
        .await
        .map_err(refused)?;
    let saved = SavedEscrow {
        escrow_id: escrow.escrow_id.clone(),
        handle: escrow.handle.expose_secret().to_owned(),
        boot_id: escrow.boot_id.clone(),
        expires_at: escrow.expires_at,
        enclave: client.base_url().to_owned(),
    };
    let path = args
        .out
        .unwrap_or_else(|| default_dir().join(format!("{}.json", escrow.escrow_id)));
    save(&path, &saved)?;
    outln!(
        "{}",
        serde_json::json!({"escrow_id": escrow.escrow_id, "boot_id": escrow.boot_id,
            "expires_at": escrow.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "file": path.display().to_string()})
    );
    Ok(())
}

fn usage(message: &str) -> Failure {
    Failure::Usage(message.to_owned())
}

pub(crate) fn print_json<T: Serialize>(value: &T) {
    outln!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

fn host_name(which: &Which) -> Result<String, Failure> {
    which
        .name
        .clone()
        .ok_or_else(|| usage("with --server, name the escrow with --name"))
}

fn escrow_file(which: &Which) -> Result<PathBuf, Failure> {
    which
        .escrow
        .clone()
        .ok_or_else(|| usage("name the escrow file with --escrow (or use --server and --name)"))
}

/// The server to go through: `--server`, else the saved session unless `--enclave` names an
/// enclave to talk to straight.
async fn host(args: &EnclaveArgs) -> Result<Option<(Context, HostClient)>, Failure> {
    if args.server.is_none() && (args.enclave.is_some() || crate::session::load()?.is_none()) {
        return Ok(None);
    }
    let context = Context::load(args.server.as_deref()).await?;
    let host = context.host()?;
    Ok(Some((context, host)))
}

/// `AILERON_CA_CERT`: a PEM file of CA certificates to trust for a host behind a private CA.
pub(crate) fn extra_roots() -> Result<Option<Vec<u8>>, Failure> {
    match std::env::var_os("AILERON_CA_CERT") {
        None => Ok(None),
        Some(path) => std::fs::read(&path).map(Some).map_err(|e| {
            Failure::Usage(format!("AILERON_CA_CERT {}: {e}", path.to_string_lossy()))
        }),
    }
}

/// `--allow 'METHODS URL_PREFIX'` rules.
pub(crate) fn parse_allow(rules: &[String]) -> Result<Vec<AllowRule>, Failure> {
    rules
        .iter()
        .map(|rule| {
            let (methods, prefix) =
                rule.trim().split_once(char::is_whitespace).ok_or_else(|| {
                    Failure::Usage(format!("--allow {rule:?}: expected 'METHODS URL_PREFIX'"))
                })?;
            Ok(AllowRule {
                methods: methods
                    .split(',')
                    .map(|m| m.trim().to_uppercase())
                    .collect(),
                url_prefix: prefix.trim().to_owned(),
            })
        })
        .collect()
}

fn scope(args: &PutArgs) -> Result<Scope, Failure> {
    let usage = |m: String| Failure::Usage(m);
    let allow = parse_allow(&args.allow)?;
    let (header, format) = args.inject.split_once(':').ok_or_else(|| {
        usage(format!(
            "--inject {:?}: expected 'Header: template with {{secret}}'",
            args.inject
        ))
    })?;
    let ttl = humantime::parse_duration(&args.ttl)
        .map_err(|e| usage(format!("--ttl {:?}: {e}", args.ttl)))?;
    let ttl = time::Duration::try_from(ttl).map_err(|e| usage(format!("--ttl: {e}")))?;
    Ok(Scope {
        allow,
        inject: Inject {
            header: header.trim().to_owned(),
            format: format.trim_start().to_owned(),
            username: None,
        },
        expires_at: time::OffsetDateTime::now_utc() + ttl,
        max_uses: args.max_uses,
    })
}

fn client(args: &EnclaveArgs) -> Result<Client, Failure> {
    let enclave = args.enclave.as_deref().ok_or_else(|| {
        usage("name the enclave (--enclave or AILERON_ENCLAVE_URL) or a host (--server)")
    })?;
    let (policy, verifier) = trust(args)?;
    Ok(Client::new(enclave, policy, verifier))
}

/// Straight to an enclave: the policy and the verifier with its pinned root, from the flags.
fn trust(args: &EnclaveArgs) -> Result<(Policy, Arc<Verifier>), Failure> {
    let path = args
        .policy
        .as_ref()
        .ok_or_else(|| usage("an attestation policy is needed (--policy or AILERON_POLICY)"))?;
    let policy = Policy::load(path).map_err(|e| Failure::Usage(e.to_string()))?;
    let root = crate::session::root_pem(args.root.as_deref().unwrap_or("google"))?;
    Ok((policy, Arc::new(crate::session::verifier(&root)?)))
}

pub(crate) fn refused(e: Error) -> Failure {
    match &e {
        Error::Api { code, message, .. } => Failure::Refused(format!("error: {code}: {message}")),
        Error::Attestation(rejection) => {
            Failure::Refused(format!("error: attestation rejected: {rejection}"))
        }
        other => Failure::Refused(format!("error: {other}")),
    }
}

fn default_dir() -> PathBuf {
    let home = std::env::var_os("AILERON_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".aileron")));
    home.unwrap_or_else(|| PathBuf::from(".aileron"))
        .join("escrows")
}

fn save(path: &Path, saved: &SavedEscrow) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::Usage(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let json = Zeroizing::new(serde_json::to_vec_pretty(saved).unwrap_or_default());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(&json))
        .map_err(fail)
}

fn load(path: &Path) -> Result<Escrow, Failure> {
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?,
    );
    let saved: SavedEscrow = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::Usage(format!("{}: not an escrow file: {e}", path.display())))?;
    Ok(Escrow {
        escrow_id: saved.escrow_id,
        handle: SecretString::from(saved.handle),
        boot_id: saved.boot_id,
        expires_at: saved.expires_at,
    })
}
