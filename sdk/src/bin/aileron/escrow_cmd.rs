//! `aileron escrow put|status|rm` and `aileron request`, against an enclave (`--enclave URL`).
//! The secret comes from standard input or an echo-free prompt, never from the command line.
//! An escrow is saved as a small JSON file (mode 0600: it holds the handle, the capability).

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_sdk::wire::{AllowRule, BrokeredRequest, Inject, Scope};
use aileron_sdk::{Client, Error, Escrow};
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Failure;

/// How to reach and verify the enclave.
#[derive(Args, Clone)]
pub(crate) struct EnclaveArgs {
    /// The enclave's base URL, e.g. https://127.0.0.1:8443.
    #[arg(long, env = "AILERON_ENCLAVE_URL")]
    enclave: String,
    /// The attestation policy (TOML) the enclave must satisfy.
    #[arg(long, env = "AILERON_POLICY")]
    policy: PathBuf,
    /// The pinned root (PEM), or `google` for Google's Confidential Space root.
    #[arg(long, env = "AILERON_ROOT", default_value = "google")]
    root: String,
}

#[derive(Subcommand)]
pub(crate) enum EscrowCommand {
    /// Seal a secret (from stdin or a prompt) to the attested enclave, with a scope.
    Put(PutArgs),
    /// Show an escrow's use count and expiry.
    Status {
        #[command(flatten)]
        enclave: EnclaveArgs,
        /// The escrow file written by `escrow put`.
        #[arg(long)]
        escrow: PathBuf,
    },
    /// Revoke an escrow: the enclave forgets and zeroizes the secret.
    Rm {
        #[command(flatten)]
        enclave: EnclaveArgs,
        /// The escrow file written by `escrow put`.
        #[arg(long)]
        escrow: PathBuf,
    },
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
    /// Where to save the escrow (default: ~/.aileron/escrows/<id>.json).
    #[arg(long)]
    out: Option<PathBuf>,
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
    /// The escrow file written by `escrow put`.
    #[arg(long)]
    escrow: PathBuf,
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
        EscrowCommand::Status { enclave, escrow } => {
            let (client, escrow) = (client(&enclave)?, load(&escrow)?);
            let status = client.status(&escrow).await.map_err(refused)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&status).unwrap_or_default()
            );
            Ok(())
        }
        EscrowCommand::Rm {
            enclave,
            escrow: path,
        } => {
            let (client, escrow) = (client(&enclave)?, load(&path)?);
            client.revoke(&escrow).await.map_err(refused)?;
            let _ = std::fs::remove_file(&path);
            eprintln!("revoked {}", escrow.escrow_id);
            Ok(())
        }
    }
}

pub(crate) async fn run_request(args: RequestArgs) -> Result<(), Failure> {
    let (client, escrow) = (client(&args.enclave)?, load(&args.escrow)?);
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
    let response = client.request(&escrow, &request).await.map_err(refused)?;
    eprintln!("HTTP {}", response.status);
    let bytes = aileron_sdk::wire::from_b64u(&response.body).unwrap_or_default();
    let _ = std::io::stdout().write_all(&bytes);
    Ok(())
}

async fn put(args: PutArgs) -> Result<(), Failure> {
    let scope = scope(&args)?;
    let client = client(&args.enclave)?;
    let secret = read_secret()?;
    let escrow = client
        .escrow(secret.expose_secret().as_bytes(), &scope)
        .await
        .map_err(refused)?;
    let saved = SavedEscrow {
        escrow_id: escrow.escrow_id.clone(),
        handle: escrow.handle.expose_secret().to_owned(),
        boot_id: escrow.boot_id.clone(),
        expires_at: escrow.expires_at,
        enclave: args.enclave.enclave.clone(),
    };
    let path = args
        .out
        .unwrap_or_else(|| default_dir().join(format!("{}.json", escrow.escrow_id)));
    save(&path, &saved)?;
    println!(
        "{}",
        serde_json::json!({"escrow_id": escrow.escrow_id, "boot_id": escrow.boot_id,
            "expires_at": escrow.expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "file": path.display().to_string()})
    );
    Ok(())
}

fn scope(args: &PutArgs) -> Result<Scope, Failure> {
    let usage = |m: String| Failure::Usage(m);
    let allow = args
        .allow
        .iter()
        .map(|rule| {
            let (methods, prefix) = rule
                .trim()
                .split_once(char::is_whitespace)
                .ok_or_else(|| usage(format!("--allow {rule:?}: expected 'METHODS URL_PREFIX'")))?;
            Ok(AllowRule {
                methods: methods
                    .split(',')
                    .map(|m| m.trim().to_uppercase())
                    .collect(),
                url_prefix: prefix.trim().to_owned(),
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
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
        },
        expires_at: time::OffsetDateTime::now_utc() + ttl,
        max_uses: args.max_uses,
    })
}

/// The secret from stdin when it is not a terminal, else from an echo-free prompt.
fn read_secret() -> Result<SecretString, Failure> {
    let mut secret = Zeroizing::new(String::new());
    if std::io::stdin().is_terminal() {
        let typed = rpassword::prompt_password("secret (not echoed): ")
            .map_err(|e| Failure::Usage(format!("cannot read the secret: {e}")))?;
        secret.push_str(&typed);
        drop(Zeroizing::new(typed));
    } else {
        std::io::stdin()
            .take(1 << 20)
            .read_to_string(&mut secret)
            .map_err(|e| Failure::Usage(format!("cannot read the secret from stdin: {e}")))?;
    }
    let trimmed = secret.trim_end_matches(['\n', '\r']);
    if trimmed.is_empty() {
        return Err(Failure::Usage("the secret is empty".into()));
    }
    Ok(SecretString::from(trimmed.to_owned()))
}

fn client(args: &EnclaveArgs) -> Result<Client, Failure> {
    let policy = Policy::load(&args.policy).map_err(|e| Failure::Usage(e.to_string()))?;
    let verifier = if args.root == "google" {
        Verifier::google()
    } else {
        let pem = std::fs::read(&args.root)
            .map_err(|e| Failure::Usage(format!("--root {}: {e}", args.root)))?;
        Verifier::new(
            TrustAnchor::from_pem(&pem)
                .map_err(|e| Failure::Usage(format!("--root {}: {e}", args.root)))?,
        )
    };
    Ok(Client::new(&args.enclave, policy, Arc::new(verifier)))
}

fn refused(e: Error) -> Failure {
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
