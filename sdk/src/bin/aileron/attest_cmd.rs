//! `aileron attest …`: the verifier from the command line. The contract of `verify` is stable
//! (scripts depend on it): exit 0 and the verified claims as JSON; exit 1 and
//! `reject: <check>: <detail>`; exit 2 on a usage error.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aileron_attest::{
    FixedClock, Jwks, JwksSource, MAX_TOKEN_BYTES, Policy, TrustAnchor, Verifier,
};
use clap::{Args, Subcommand};

use crate::Failure;

#[derive(Subcommand)]
pub(crate) enum AttestCommand {
    /// Verify a token against a policy. Exit 0 with the claims as JSON, 1 with the failed check.
    Verify(VerifyArgs),
    /// Decode a token's header, claims and certificate chain WITHOUT verifying anything.
    Inspect {
        /// The token file.
        #[arg(long)]
        token: PathBuf,
    },
    /// Print a production policy (STABLE support required, debug images refused) to start from.
    Policy {
        /// Allowed image digest (`sha256:…`); repeat for several.
        #[arg(long = "image-digest", required = true)]
        image_digests: Vec<String>,
        /// Allowed GCP project id; repeat for several. Not checked when absent.
        #[arg(long = "project")]
        projects: Vec<String>,
        /// The audience the enclave requests its tokens for.
        #[arg(long, default_value = "aileron-enclave")]
        audience: String,
    },
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("keys").required(true).multiple(true).args(["root", "jwks"]))]
pub(crate) struct VerifyArgs {
    /// The token file (a compact JWS, at most 64 KiB).
    #[arg(long)]
    token: PathBuf,
    /// The policy file (TOML).
    #[arg(long)]
    policy: PathBuf,
    /// Pinned root certificate (PEM) for PKI tokens, or `google` for the built-in Google root.
    #[arg(long)]
    root: Option<String>,
    /// JWKS file for OIDC tokens.
    #[arg(long)]
    jwks: Option<PathBuf>,
    /// Verification time, Unix seconds (default: now).
    #[arg(long = "now", value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// A nonce `eat_nonce` must contain; repeat for several.
    #[arg(long = "nonce")]
    nonces: Vec<String>,
}

pub(crate) fn run(cmd: AttestCommand) -> Result<(), Failure> {
    match cmd {
        AttestCommand::Verify(args) => verify(args),
        AttestCommand::Inspect { token } => inspect(&token),
        AttestCommand::Policy {
            image_digests,
            projects,
            audience,
        } => {
            let projects = (!projects.is_empty()).then_some(projects);
            let policy = Policy::production(&audience, image_digests, projects)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            out!(
                "# Aileron attestation policy (production: debug refused, STABLE required).\n{}",
                policy.to_toml()
            );
            Ok(())
        }
    }
}

fn verify(args: VerifyArgs) -> Result<(), Failure> {
    let policy = Policy::load(&args.policy).map_err(|e| Failure::Usage(e.to_string()))?;
    let mut verifier = match args.root.as_deref() {
        Some("google") => Some(Verifier::google()),
        Some(path) => {
            let pem = read_file(Path::new(path), 1 << 20)?;
            let anchor = TrustAnchor::from_pem(&pem)
                .map_err(|e| Failure::Usage(format!("--root {path}: {e}")))?;
            Some(Verifier::new(anchor))
        }
        None => None,
    };
    if let Some(path) = &args.jwks {
        let jwks = Jwks::from_json(&read_file(path, 1 << 20)?)
            .map_err(|e| Failure::Usage(format!("--jwks {}: {e}", path.display())))?;
        let source = Arc::new(JwksSource::fixed(jwks));
        verifier = Some(match verifier {
            Some(v) => v.with_jwks(source),
            None => Verifier::oidc(source),
        });
    }
    // clap's group guarantees --root or --jwks.
    let Some(mut verifier) = verifier else {
        return Err(Failure::Usage("one of --root or --jwks is required".into()));
    };
    if let Some(now) = args.now {
        verifier = verifier.with_clock(Arc::new(FixedClock(now)));
    }
    let token = read_token(&args.token)?;
    let nonces: Vec<&str> = args.nonces.iter().map(String::as_str).collect();
    match verifier.verify(&token, &policy, &nonces) {
        Ok(verified) => {
            outln!("{}", pretty(&verified.raw_claims()));
            Ok(())
        }
        Err(rejection) => Err(Failure::Refused(format!("reject: {rejection}"))),
    }
}

fn inspect(path: &Path) -> Result<(), Failure> {
    let token = read_token(path)?;
    match aileron_attest::inspect(&token) {
        Ok(inspection) => {
            eprintln!("UNVERIFIED: decoded only; nothing in this output has been checked.");
            outln!("{}", pretty(&inspection));
            Ok(())
        }
        Err(rejection) => Err(Failure::Refused(format!("reject: {rejection}"))),
    }
}

/// Reads the token, refusing (exit 1, check `size`) one over the limit without reading it all.
fn read_token(path: &Path) -> Result<String, Failure> {
    let bytes = read_file(path, MAX_TOKEN_BYTES as u64 + 1)?;
    if bytes.len() > MAX_TOKEN_BYTES {
        return Err(Failure::Refused(format!(
            "reject: size: token is larger than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    String::from_utf8(bytes)
        .map(|t| t.trim().to_owned())
        .map_err(|_| Failure::Refused("reject: format: token is not UTF-8".into()))
}

fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
    Ok(bytes)
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
