//! The signed-in session `aileron login` saves (as `gh` and `vault` do): the server, the access
//! and refresh tokens, and the attestation policy and root the enclave is verified against. One
//! JSON file, mode 0600, in `AILERON_CONFIG_DIR`, else `$XDG_CONFIG_HOME/aileron`, else
//! `~/.config/aileron`. `AILERON_SERVER`, `AILERON_TOKEN`, `AILERON_POLICY` and `AILERON_ROOT`
//! override what is saved. The access token is refreshed when it nears expiry.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_sdk::{HostClient, Session};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::Failure;

/// Refresh the access token when it has less than this left.
const REFRESH_BEFORE_SECS: i64 = 60;

/// What is saved. Tokens are secrets: the file is the user's alone.
#[derive(Serialize, Deserialize)]
pub(crate) struct Saved {
    pub server: String,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose"
    )]
    pub access_token: Option<SecretString>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "expose"
    )]
    pub refresh_token: Option<SecretString>,
    /// The attestation policy (TOML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The pinned root: PEM, or `google`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
    /// A server without authentication (local development).
    #[serde(default)]
    pub local: bool,
}

/// Writes a token into the session file (the one place it is exposed).
fn expose<S: serde::Serializer>(token: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match token {
        Some(token) => s.serialize_some(token.expose_secret()),
        None => s.serialize_none(),
    }
}

/// Where the session lives.
pub(crate) fn path() -> PathBuf {
    let dir = std::env::var_os("AILERON_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CONFIG_HOME").map(|d| PathBuf::from(d).join("aileron")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/aileron")))
        .unwrap_or_else(|| PathBuf::from(".aileron"));
    dir.join("session.json")
}

pub(crate) fn load() -> Result<Option<Saved>, Failure> {
    let path = path();
    match std::fs::read(&path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Failure::Usage(format!(
                    "{}: not a session file ({e}); run `aileron login`",
                    path.display()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::Usage(format!("{}: {e}", path.display()))),
    }
}

pub(crate) fn save(saved: &Saved) -> Result<PathBuf, Failure> {
    let path = path();
    let fail = |e: std::io::Error| Failure::Usage(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let json = Zeroizing::new(serde_json::to_vec_pretty(saved).unwrap_or_default());
    // Written to a fresh 0600 file, then moved into place: never readable by others, never
    // half-written.
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(&tmp)
        .and_then(|mut f| f.write_all(&json))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(fail)?;
    Ok(path)
}

/// The `exp` of a JWT we were given (our own session's; read, not verified: the server checks).
fn expires_at(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = aileron_sdk::wire::from_b64u(payload)?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?["exp"].as_i64()
}

/// The context every command runs in.
pub(crate) struct Context {
    pub server: String,
    token: SecretString,
    saved: Option<Saved>,
}

impl Context {
    /// The server (flag or `AILERON_SERVER`, else saved) and a fresh token (`AILERON_TOKEN`,
    /// else the saved one, refreshed when it nears expiry).
    pub(crate) async fn load(server: Option<&str>) -> Result<Context, Failure> {
        let mut saved = load()?;
        let server = match (server, &saved) {
            (Some(s), _) => s.to_owned(),
            (None, Some(saved)) => saved.server.clone(),
            (None, None) => {
                return Err(Failure::Usage(
                    "no server: run `aileron login --server URL …` (or set AILERON_SERVER)".into(),
                ));
            }
        };
        let same_server = saved.as_ref().is_some_and(|s| s.server == server);
        let mine = saved.as_mut().filter(|_| same_server);
        let token = match (std::env::var("AILERON_TOKEN"), mine) {
            (Ok(token), _) => SecretString::from(token),
            (Err(_), Some(s)) if s.local => SecretString::from("local".to_owned()),
            (Err(_), Some(s)) => fresh_token(s).await?,
            (Err(_), None) => {
                return Err(Failure::Usage(format!(
                    "not signed in to {server}: run `aileron login --server {server} …` (or set AILERON_TOKEN)"
                )));
            }
        };
        Ok(Context {
            server,
            token,
            saved: saved.filter(|_| same_server),
        })
    }

    /// A client of the server with the context's token.
    pub(crate) fn host(&self) -> Result<HostClient, Failure> {
        let roots = crate::escrow_cmd::extra_roots()?;
        HostClient::with_roots(&self.server, self.token.clone(), roots.as_deref())
            .map_err(|e| Failure::Usage(e.to_string()))
    }

    /// The attestation policy and pinned root: `AILERON_POLICY`/`AILERON_ROOT` (files), flags,
    /// else the saved ones.
    pub(crate) fn trust(
        &self,
        policy_file: Option<&PathBuf>,
        root: Option<&str>,
    ) -> Result<(Policy, Arc<Verifier>), Failure> {
        let policy_text = match policy_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("--policy {}: {e}", path.display())))?,
            None => self
                .saved
                .as_ref()
                .and_then(|s| s.policy.clone())
                .ok_or_else(|| {
                    Failure::Usage(
                        "no attestation policy: give --policy FILE, or save one with `aileron login --policy FILE`".into(),
                    )
                })?,
        };
        let policy =
            Policy::from_toml_str(&policy_text).map_err(|e| Failure::Usage(e.to_string()))?;
        let root = match root {
            Some(r) => root_pem(r)?,
            None => self
                .saved
                .as_ref()
                .and_then(|s| s.root.clone())
                .unwrap_or_else(|| "google".into()),
        };
        Ok((policy, Arc::new(verifier(&root)?)))
    }
}

/// The verifier pinning `root`: `google`, or the PEM text of a root.
pub(crate) fn verifier(root: &str) -> Result<Verifier, Failure> {
    if root == "google" {
        return Ok(Verifier::google());
    }
    TrustAnchor::from_pem(root.as_bytes())
        .map(Verifier::new)
        .map_err(|e| Failure::Usage(format!("the pinned root: {e}")))
}

/// `google`, or the PEM text of a root file.
pub(crate) fn root_pem(root: &str) -> Result<String, Failure> {
    if root == "google" {
        return Ok(root.into());
    }
    std::fs::read_to_string(root).map_err(|e| Failure::Usage(format!("--root {root}: {e}")))
}

/// The saved access token, refreshed (and the session saved again) when it nears expiry.
async fn fresh_token(saved: &mut Saved) -> Result<SecretString, Failure> {
    let access = saved.access_token.clone().ok_or_else(|| {
        Failure::Usage("the saved session has no token: run `aileron login`".into())
    })?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if expires_at(access.expose_secret()).is_some_and(|exp| exp - now > REFRESH_BEFORE_SECS) {
        return Ok(access);
    }
    let refresh = saved
        .refresh_token
        .clone()
        .ok_or_else(|| Failure::Usage("the session expired: run `aileron login`".into()))?;
    let roots = crate::escrow_cmd::extra_roots()?;
    let session = HostClient::refresh(&saved.server, &refresh, roots.as_deref())
        .await
        .map_err(|e| {
            Failure::Refused(format!(
                "error: the session could not be refreshed ({e}): run `aileron login`"
            ))
        })?;
    keep(saved, &session);
    save(saved)?;
    Ok(session.access_token)
}

/// Puts a session's tokens into what is saved.
pub(crate) fn keep(saved: &mut Saved, session: &Session) {
    saved.access_token = Some(session.access_token.clone());
    saved.refresh_token = Some(session.refresh_token.clone());
}
