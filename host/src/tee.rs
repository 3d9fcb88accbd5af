//! The trusted execution environment behind the host: none (brokered requests run in-process
//! with the enclave's own broker), a local enclave (started in-process on loopback, or at
//! `AILERON_ENCLAVE_URL`), or a Confidential Space enclave verified with Google's root.
//!
//! The host is a client like any other: it attests through the SDK, pins TLS to the attested
//! key, re-attests when the token nears expiry, and reports a changed `boot_id` as lost escrows.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_broker::destination::Destinations;
use aileron_broker::{Broker, BrokerLimits};
use aileron_sdk::Client;
use serde::Serialize;

use crate::admission::HostAdmission;

/// What the host brings to its TEE: where brokered requests may go (its own broker, and the
/// setting an in-process enclave starts with) and its admission signer.
#[derive(Clone)]
pub struct TeeAccess {
    /// `AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS`.
    pub destinations: Destinations,
    /// Signs the host's tickets; its public key admits them at an in-process enclave.
    pub admission: Arc<HostAdmission>,
}

/// What the host is configured to use.
#[derive(Debug, Clone)]
pub enum TeeSettings {
    /// No enclave.
    Disabled,
    /// A local enclave: `enclave_url` if given (then `image_digest` names its binary), else one
    /// started in this process.
    Local {
        /// An external local enclave.
        enclave_url: Option<String>,
        /// Its executable's digest (required with `enclave_url`).
        image_digest: Option<String>,
        /// The local CA directory (its `root.pem` is the trust anchor).
        local_ca_dir: PathBuf,
        /// Token audience.
        audience: String,
        /// Longest escrow expiry, for an in-process enclave.
        escrow_ttl: std::time::Duration,
    },
    /// Google Confidential Space.
    ConfidentialSpace {
        /// The enclave's URL.
        enclave_url: String,
        /// The policy the enclave must satisfy.
        policy: Policy,
    },
}

impl TeeSettings {
    /// The settings the server's configuration asks for. Confidential Space gets a production
    /// policy (Google's issuer, debug refused, `STABLE` required) for the configured image and
    /// project.
    pub fn from_config(config: &crate::config::Config) -> Result<TeeSettings, TeeError> {
        use crate::config::TeeProvider;
        let audience = config
            .enclave_audience
            .clone()
            .unwrap_or_else(|| "aileron-enclave".into());
        match &config.tee {
            TeeProvider::Disabled => Ok(TeeSettings::Disabled),
            TeeProvider::Local {
                enclave_url,
                image_digest,
            } => Ok(TeeSettings::Local {
                enclave_url: enclave_url
                    .as_ref()
                    .map(|u| u.as_str().trim_end_matches('/').to_owned()),
                image_digest: image_digest.clone(),
                local_ca_dir: config
                    .local_ca_dir
                    .clone()
                    .unwrap_or_else(|| ".aileron/local-ca".into())
                    .into(),
                audience,
                escrow_ttl: config.escrow_ttl,
            }),
            TeeProvider::ConfidentialSpace {
                enclave_url,
                image_digest,
                gcp_project_id,
            } => {
                let policy = match &config.attestation_policy {
                    None => Policy::production(
                        &audience,
                        vec![image_digest.clone()],
                        Some(vec![gcp_project_id.clone()]),
                    )
                    .map_err(|e| TeeError::Setup(e.to_string()))?,
                    Some(path) => policy_file(path, image_digest, gcp_project_id)?,
                };
                Ok(TeeSettings::ConfidentialSpace {
                    enclave_url: enclave_url.to_string(),
                    policy,
                })
            }
        }
    }
}

/// A policy file for Confidential Space (support attributes, hardware models, a second image
/// digest during a rollout…). The seed's variables stay authoritative: the file must allow
/// `AILERON_ENCLAVE_IMAGE_DIGEST` and pin `AILERON_GCP_PROJECT_ID`.
fn policy_file(path: &str, image_digest: &str, project: &str) -> Result<Policy, TeeError> {
    let setup = |m: String| TeeError::Setup(format!("AILERON_ATTESTATION_POLICY {path}: {m}"));
    let policy = Policy::load(std::path::Path::new(path)).map_err(|e| setup(e.to_string()))?;
    if !policy.image_digests().iter().any(|d| d == image_digest) {
        return Err(setup(format!(
            "image_digests does not include AILERON_ENCLAVE_IMAGE_DIGEST ({image_digest})"
        )));
    }
    if policy.project_ids() != Some(&[project.to_owned()][..]) {
        return Err(setup(format!(
            "project_ids must be exactly [AILERON_GCP_PROJECT_ID] ([\"{project}\"])"
        )));
    }
    if policy.allow_debug() {
        tracing::warn!("the attestation policy allows debug enclaves: never in production");
    }
    Ok(policy)
}

/// Why the TEE could not be set up (start-up errors; attestation failures are a status).
#[derive(Debug, thiserror::Error)]
pub enum TeeError {
    /// The local enclave could not start.
    #[error("local enclave: {0}")]
    LocalEnclave(String),
    /// The trust anchor or policy is unusable.
    #[error("attestation setup: {0}")]
    Setup(String),
}

/// The attestation state, as `GET /v1/tee/status` reports it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeeStatus {
    /// `disabled`, `local` or `confidential-space`.
    pub provider: &'static str,
    /// Whether the enclave is attested now.
    pub attested: bool,
    /// Why not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The enclave's boot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The verified claims that matter to an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<StatusClaims>,
}

/// Verified claims shown in the status.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusClaims {
    /// Image digest.
    pub image_digest: String,
    /// GCP project.
    pub project_id: Option<String>,
    /// Hardware model.
    pub hwmodel: String,
    /// Debug status.
    pub dbgstat: String,
    /// Support attributes.
    pub support_attributes: Vec<String>,
    /// Confidential Space versions.
    pub swversion: Vec<String>,
    /// Token expiry (Unix seconds).
    pub expires_at: u64,
}

/// The TEE in use.
pub struct Tee {
    provider: &'static str,
    client: Option<Arc<Client>>,
    broker: Broker,
    last_error: RwLock<Option<String>>,
    _local: Option<aileron_enclave::Running>,
}

impl Tee {
    /// Sets the TEE up and attests once. An enclave that does not verify is not an error here:
    /// it is refused for every use and reported by [`Tee::status`].
    pub async fn start(settings: TeeSettings, access: TeeAccess) -> Result<Tee, TeeError> {
        let broker =
            Broker::new(BrokerLimits::default(), access.destinations).map_err(TeeError::Setup)?;
        let admission = access.admission.clone();
        let tickets: aileron_sdk::TicketSource = Arc::new(move || admission.for_host());
        let (provider, client, local) = match settings {
            TeeSettings::Disabled => ("disabled", None, None),
            TeeSettings::Local {
                enclave_url,
                image_digest,
                local_ca_dir,
                audience,
                escrow_ttl,
            } => {
                let (url, digest, local) = match (enclave_url, image_digest) {
                    (Some(url), Some(digest)) => (url, digest, None),
                    (Some(_), None) => {
                        return Err(TeeError::Setup(
                            "an external local enclave needs AILERON_ENCLAVE_IMAGE_DIGEST".into(),
                        ));
                    }
                    (None, _) => {
                        let running =
                            start_local(&local_ca_dir, &audience, escrow_ttl, &access).await?;
                        let digest = aileron_enclave::attester::executable_digest()
                            .map_err(|e| TeeError::LocalEnclave(e.to_string()))?;
                        (format!("https://{}", running.addr), digest, Some(running))
                    }
                };
                let root = std::fs::read(local_ca_dir.join("root.pem")).map_err(|e| {
                    TeeError::Setup(format!("{}: {e}", local_ca_dir.join("root.pem").display()))
                })?;
                let anchor =
                    TrustAnchor::from_pem(&root).map_err(|e| TeeError::Setup(e.to_string()))?;
                let mut policy = Policy::local(&audience, vec![digest])
                    .map_err(|e| TeeError::Setup(e.to_string()))?;
                // The host's own development setting is the only way it accepts an enclave
                // started with it.
                if access.destinations.allows_private() {
                    policy = policy.dangerous_allowing_development_settings();
                }
                (
                    "local",
                    Some(Arc::new(
                        Client::new(&url, policy, Arc::new(Verifier::new(anchor)))
                            .with_attestation_tickets(tickets),
                    )),
                    local,
                )
            }
            TeeSettings::ConfidentialSpace {
                enclave_url,
                policy,
            } => (
                "confidential-space",
                Some(Arc::new(
                    Client::new(&enclave_url, policy, Arc::new(Verifier::google()))
                        .with_attestation_tickets(tickets),
                )),
                None,
            ),
        };
        let tee = Tee {
            provider,
            client,
            broker,
            last_error: RwLock::new(None),
            _local: local,
        };
        tee.refresh().await;
        Ok(tee)
    }

    /// Attests (again) when needed; records why it failed.
    pub async fn refresh(&self) {
        let Some(client) = &self.client else { return };
        let error = client.attested().await.err().map(|e| e.to_string());
        if let Some(e) = &error {
            tracing::warn!(error = %e, "enclave not attested");
        }
        if let Ok(mut last) = self.last_error.write() {
            *last = error;
        }
    }

    /// The SDK client of the attested enclave, if there is an enclave.
    pub fn client(&self) -> Option<&Arc<Client>> {
        self.client.as_ref()
    }

    /// The in-process broker (used when no enclave is configured).
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// The status: the enclave is asked for its boot over the pinned connection (re-attesting when
    /// that fails or the token nears expiry), so an unreachable enclave is never reported attested.
    pub async fn status(&self) -> TeeStatus {
        let Some(client) = &self.client else {
            return TeeStatus {
                provider: self.provider,
                attested: false,
                reason: Some("no TEE configured: brokered requests run in the host".into()),
                boot_id: None,
                claims: None,
            };
        };
        // Reachable now, not merely attested earlier: a stopped enclave is reported as such.
        let attested = match client.current_boot().await {
            Ok(_) => client.attested().await,
            Err(e) => Err(e),
        };
        match attested {
            Ok(attested) => {
                let c = attested.attestation.claims();
                TeeStatus {
                    provider: self.provider,
                    attested: true,
                    reason: None,
                    boot_id: Some(attested.boot_id.clone()),
                    claims: Some(StatusClaims {
                        image_digest: c.submods.container.image_digest.clone(),
                        project_id: c.submods.gce.as_ref().map(|g| g.project_id.clone()),
                        hwmodel: c.hwmodel.clone(),
                        dbgstat: c.dbgstat.clone(),
                        support_attributes: c.support_attributes().to_vec(),
                        swversion: c.swversion.clone(),
                        expires_at: c.exp,
                    }),
                }
            }
            Err(e) => TeeStatus {
                provider: self.provider,
                attested: false,
                reason: Some(e.to_string()),
                boot_id: None,
                claims: None,
            },
        }
    }
}

async fn start_local(
    ca_dir: &std::path::Path,
    audience: &str,
    escrow_ttl: std::time::Duration,
    access: &TeeAccess,
) -> Result<aileron_enclave::Running, TeeError> {
    let key = access.admission.public_key();
    let mut config = aileron_enclave::config::Config::from_lookup(|var| match var {
        "AILERON_ENCLAVE_ADMISSION_KEYS" => Some(key.clone()),
        _ => None,
    })
    .map_err(|e| TeeError::LocalEnclave(e.to_string()))?;
    config.addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    config.local_ca_dir = ca_dir.to_owned();
    config.audience = audience.to_owned();
    config.escrow_ttl = escrow_ttl;
    config.destinations = access.destinations;
    aileron_enclave::start(config, std::future::pending())
        .await
        .map_err(TeeError::LocalEnclave)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local_settings(dir: &tempfile::TempDir, enclave_url: Option<String>) -> TeeSettings {
        TeeSettings::Local {
            enclave_url,
            image_digest: None,
            local_ca_dir: dir.path().join("ca"),
            audience: "aileron-enclave".into(),
            escrow_ttl: std::time::Duration::from_secs(3600),
        }
    }

    fn access() -> TeeAccess {
        let quotas = crate::config::Quotas {
            credentials: 1,
            escrows: 1,
        };
        TeeAccess {
            destinations: Destinations::PUBLIC,
            admission: Arc::new(
                HostAdmission::derive(&[1; 32], "aileron-enclave", quotas).unwrap(),
            ),
        }
    }

    async fn local_tee(dir: &tempfile::TempDir) -> Tee {
        Tee::start(local_settings(dir, None), access())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_external_local_enclave_needs_its_image_digest() {
        let dir = tempfile::tempdir().unwrap();
        let result = Tee::start(
            local_settings(&dir, Some("https://127.0.0.1:8443".into())),
            access(),
        )
        .await;
        assert!(
            matches!(result, Err(TeeError::Setup(m)) if m.contains("AILERON_ENCLAVE_IMAGE_DIGEST"))
        );
    }

    #[tokio::test]
    async fn an_in_process_local_enclave_is_attested_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let tee = local_tee(&dir).await;
        let status = tee.status().await;
        assert!(status.attested, "{status:?}");
        assert_eq!(status.provider, "local");
        assert_eq!(status.claims.unwrap().hwmodel, "LOCAL_INSECURE");
    }

    #[tokio::test]
    async fn an_enclave_that_does_not_verify_is_reported_not_attested() {
        let dir = tempfile::tempdir().unwrap();
        let local = local_tee(&dir).await;
        let url = local.client().unwrap().base_url().to_owned();
        // The same enclave under a production policy: Google's root refuses the local chain.
        let policy = Policy::production(
            "aileron-enclave",
            vec![format!("sha256:{}", "a".repeat(64))],
            Some(vec!["p".into()]),
        )
        .unwrap();
        let tee = Tee::start(
            TeeSettings::ConfidentialSpace {
                enclave_url: url,
                policy,
            },
            access(),
        )
        .await
        .unwrap();
        let status = tee.status().await;
        assert!(!status.attested);
        assert!(status.reason.unwrap().contains("chain"));
    }

    #[test]
    fn confidential_space_settings_pin_the_configured_image_and_project() {
        let digest = format!("sha256:{}", "b".repeat(64));
        let raw = crate::config::RawConfig::from_pairs([
            ("AILERON_TEE_PROVIDER", "confidential-space"),
            ("AILERON_ENCLAVE_URL", "https://enclave.example:8443"),
            ("AILERON_ENCLAVE_IMAGE_DIGEST", digest.as_str()),
            ("AILERON_GCP_PROJECT_ID", "my-project"),
        ]);
        let config = crate::config::Config::try_from(raw).unwrap();
        match TeeSettings::from_config(&config).unwrap() {
            TeeSettings::ConfidentialSpace {
                enclave_url,
                policy,
            } => {
                assert_eq!(enclave_url, "https://enclave.example:8443/");
                assert_eq!(policy.image_digests(), [digest]);
                assert_eq!(policy.project_ids(), Some(&["my-project".to_owned()][..]));
                assert_eq!(policy.support_attributes(), ["STABLE"]);
                assert!(!policy.allow_debug());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_policy_file_adds_to_the_seed_variables_and_must_agree_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let digest = format!("sha256:{}", "c".repeat(64));
        let other = format!("sha256:{}", "d".repeat(64));
        let write = |digests: &[&str], project: &str| {
            let path = dir.path().join("policy.toml");
            std::fs::write(
                &path,
                format!(
                    "audience = \"aileron-enclave\"\nimage_digests = {digests:?}\nproject_ids = [\"{project}\"]\nsupport_attributes = [\"STABLE\", \"USABLE\"]\n"
                ),
            )
            .unwrap();
            path.display().to_string()
        };
        let settings = |path: String| {
            let raw = crate::config::RawConfig::from_pairs([
                ("AILERON_TEE_PROVIDER", "confidential-space"),
                ("AILERON_ENCLAVE_URL", "https://enclave.example:8443"),
                ("AILERON_ENCLAVE_IMAGE_DIGEST", digest.as_str()),
                ("AILERON_GCP_PROJECT_ID", "my-project"),
                ("AILERON_ATTESTATION_POLICY", path.as_str()),
            ]);
            TeeSettings::from_config(&crate::config::Config::try_from(raw).unwrap())
        };
        match settings(write(&[&digest, &other], "my-project")).unwrap() {
            TeeSettings::ConfidentialSpace { policy, .. } => {
                assert_eq!(policy.support_attributes(), ["STABLE", "USABLE"]);
                assert_eq!(policy.image_digests().len(), 2);
            }
            other => panic!("{other:?}"),
        }
        let err = settings(write(&[&other], "my-project"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("AILERON_ENCLAVE_IMAGE_DIGEST"), "{err}");
        let err = settings(write(&[&digest], "someone-else"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("AILERON_GCP_PROJECT_ID"), "{err}");
        let err = settings(dir.path().join("missing.toml").display().to_string())
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.toml"), "{err}");
    }

    #[tokio::test]
    async fn disabled_reports_no_tee() {
        let status = Tee::start(TeeSettings::Disabled, access())
            .await
            .unwrap()
            .status()
            .await;
        assert_eq!(status.provider, "disabled");
        assert!(!status.attested);
    }
}
