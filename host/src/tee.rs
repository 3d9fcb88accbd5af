//! The trusted execution environment behind the host: none (brokered requests run in-process
//! with the enclave's own broker), local enclaves (one started in-process on loopback, or a
//! fleet at `AILERON_ENCLAVE_URLS`), or a fleet of Confidential Space enclaves verified with
//! Google's root.
//!
//! The host is a client like any other: it attests every enclave on its own through the SDK,
//! pins TLS to each attested key, re-attests when a token nears expiry, and reports a changed
//! `boot_id` as the lost escrows of that enclave. Each user's escrows go to one enclave, chosen
//! by rendezvous hashing over the healthy ones (docs/scale.md).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use aileron_attest::{Policy, TrustAnchor, Verifier};
use aileron_broker::destination::Destinations;
use aileron_broker::{Broker, BrokerLimits};
use aileron_sdk::Client;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::admission::HostAdmission;
use crate::ids::UserId;

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
    /// Local enclaves: `enclave_urls` if given (then `image_digest` names their binary), else one
    /// started in this process.
    Local {
        /// External local enclaves (a fleet of one or more).
        enclave_urls: Vec<String>,
        /// Their executable's digest (required with `enclave_urls`).
        image_digest: Option<String>,
        /// The local CA directory (its `root.pem` is the trust anchor).
        local_ca_dir: PathBuf,
        /// Token audience.
        audience: String,
        /// Longest escrow expiry, for an in-process enclave.
        escrow_ttl: std::time::Duration,
    },
    /// Google Confidential Space: a fleet of one or more enclaves of the same image.
    ConfidentialSpace {
        /// The enclaves' URLs.
        enclave_urls: Vec<String>,
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
                enclave_urls,
                image_digest,
            } => Ok(TeeSettings::Local {
                enclave_urls: enclave_urls
                    .iter()
                    .map(|u| u.as_str().trim_end_matches('/').to_owned())
                    .collect(),
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
                enclave_urls,
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
                    enclave_urls: enclave_urls.iter().map(|u| u.to_string()).collect(),
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

/// The attestation state, as `GET /v1/tee/status` reports it. The top-level fields describe the
/// enclave that holds the caller's escrows (or would, at their next unlock); `enclaves` lists
/// every enclave of the fleet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TeeStatus {
    /// `disabled`, `local` or `confidential-space`.
    pub provider: &'static str,
    /// Whether the caller's enclave is attested and reachable now.
    pub attested: bool,
    /// Why not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The caller's enclave's boot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The verified claims that matter to an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<StatusClaims>,
    /// The id of the caller's enclave in `enclaves`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enclave: Option<String>,
    /// Every enclave of the fleet, in configuration order (empty without an enclave).
    pub enclaves: Vec<EnclaveStatus>,
}

/// One enclave of the fleet, as this replica sees it now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EnclaveStatus {
    /// A short name: the first 12 hex digits of SHA-256 of its configured URL (the URL itself is
    /// an internal address and is not shown).
    pub id: String,
    /// Attested and reachable: new escrows may be placed on it.
    pub attested: bool,
    /// Why not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its boot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    /// The verified claims.
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

/// One enclave of the fleet, attested and pinned by this replica on its own.
pub struct Enclave {
    /// Its configured URL: the escrow index names the enclave holding each escrow by it.
    pub url: String,
    /// The short name the API shows (see [`EnclaveStatus::id`]).
    pub id: String,
    client: Arc<Client>,
    /// Attested and reachable at the last check: new escrows may be placed on it.
    healthy: AtomicBool,
}

impl Enclave {
    fn new(url: String, client: Client) -> Enclave {
        Enclave {
            id: enclave_id(&url),
            url,
            client: Arc::new(client),
            healthy: AtomicBool::new(false),
        }
    }

    /// The SDK client pinned to this enclave.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Whether new escrows may be placed on it.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Records the outcome of a check or a call; a change is logged.
    pub fn set_health(&self, result: Result<(), &str>) {
        let now = result.is_ok();
        if self.healthy.swap(now, Ordering::Relaxed) != now {
            match result {
                Ok(()) => {
                    tracing::info!(enclave = %self.id, url = %self.url, "enclave attested and reachable: it takes escrows")
                }
                Err(e) => {
                    tracing::warn!(enclave = %self.id, url = %self.url, error = %e, "enclave unreachable or not attested: its users' escrows move to the others at their next unlock")
                }
            }
        }
    }

    /// Asks the enclave for its boot over the pinned connection (re-attesting when that fails or
    /// the token nears expiry) and records its health. Returns its boot and the attestation.
    pub async fn check(&self) -> Result<Arc<aileron_sdk::Attested>, aileron_sdk::Error> {
        let result = match self.client.current_boot().await {
            Ok(_) => self.client.attested().await,
            Err(e) => Err(e),
        };
        match &result {
            Ok(_) => self.set_health(Ok(())),
            Err(e) => self.set_health(Err(&e.to_string())),
        }
        result
    }

    async fn status(&self) -> EnclaveStatus {
        match self.check().await {
            Ok(attested) => {
                let c = attested.attestation.claims();
                EnclaveStatus {
                    id: self.id.clone(),
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
            Err(e) => EnclaveStatus {
                id: self.id.clone(),
                attested: false,
                reason: Some(e.to_string()),
                boot_id: None,
                claims: None,
            },
        }
    }
}

/// The public name of an enclave URL.
fn enclave_id(url: &str) -> String {
    hex::encode(&Sha256::digest(url.as_bytes())[..6])
}

/// Rendezvous (highest random weight) score of `user` on the enclave at `url`: each user's
/// enclave is the healthy one with the highest score, so when an enclave leaves only its users
/// move, and every replica places a user alike without sharing any state.
fn score(url: &str, user: &UserId) -> u64 {
    let mut h = Sha256::new();
    h.update(url.as_bytes());
    h.update([0]);
    h.update(user.as_str().as_bytes());
    let d = h.finalize();
    u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The TEE in use.
pub struct Tee {
    provider: &'static str,
    enclaves: Vec<Enclave>,
    broker: Broker,
    _local: Option<aileron_enclave::Running>,
}

impl Tee {
    /// Sets the TEE up and attests every enclave once. An enclave that does not verify is not an
    /// error here: it takes no escrow and is reported by [`Tee::status`].
    pub async fn start(settings: TeeSettings, access: TeeAccess) -> Result<Tee, TeeError> {
        let broker =
            Broker::new(BrokerLimits::default(), access.destinations).map_err(TeeError::Setup)?;
        let admission = access.admission.clone();
        let tickets: aileron_sdk::TicketSource = Arc::new(move || admission.for_host());
        let (provider, enclaves, local) = match settings {
            TeeSettings::Disabled => ("disabled", Vec::new(), None),
            TeeSettings::Local {
                enclave_urls,
                image_digest,
                local_ca_dir,
                audience,
                escrow_ttl,
            } => {
                let (urls, digest, local) = match (enclave_urls.is_empty(), image_digest) {
                    (false, Some(digest)) => (enclave_urls, digest, None),
                    (false, None) => {
                        return Err(TeeError::Setup(
                            "an external local enclave needs AILERON_ENCLAVE_IMAGE_DIGEST".into(),
                        ));
                    }
                    (true, _) => {
                        let running =
                            start_local(&local_ca_dir, &audience, escrow_ttl, &access).await?;
                        let digest = aileron_enclave::attester::executable_digest()
                            .map_err(|e| TeeError::LocalEnclave(e.to_string()))?;
                        (
                            vec![format!("https://{}", running.addr)],
                            digest,
                            Some(running),
                        )
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
                let verifier = Arc::new(Verifier::new(anchor));
                let enclaves = urls
                    .into_iter()
                    .map(|url| {
                        let client = Client::new(&url, policy.clone(), verifier.clone())
                            .with_attestation_tickets(tickets.clone());
                        Enclave::new(url, client)
                    })
                    .collect();
                ("local", enclaves, local)
            }
            TeeSettings::ConfidentialSpace {
                enclave_urls,
                policy,
            } => {
                let verifier = Arc::new(Verifier::google());
                let enclaves = enclave_urls
                    .into_iter()
                    .map(|url| {
                        let client = Client::new(&url, policy.clone(), verifier.clone())
                            .with_attestation_tickets(tickets.clone());
                        Enclave::new(url, client)
                    })
                    .collect();
                ("confidential-space", enclaves, None)
            }
        };
        let tee = Tee {
            provider,
            enclaves,
            broker,
            _local: local,
        };
        tee.refresh().await;
        Ok(tee)
    }

    /// Attests (again) every enclave that needs it, all at once; records which are usable.
    async fn refresh(&self) {
        let checks = self.enclaves.iter().map(|e| async move {
            match e.client.attested().await {
                Ok(_) => e.set_health(Ok(())),
                Err(err) => {
                    tracing::warn!(enclave = %e.id, url = %e.url, error = %err, "enclave not attested");
                    e.set_health(Err(&err.to_string()));
                }
            }
        });
        futures_util::future::join_all(checks).await;
    }

    /// Whether there is an enclave (else brokered requests run in this process: server trust).
    pub fn enabled(&self) -> bool {
        !self.enclaves.is_empty()
    }

    /// Every enclave, in configuration order.
    pub fn enclaves(&self) -> &[Enclave] {
        &self.enclaves
    }

    /// The enclaves in the order `user`'s escrows go to them: healthy ones by rendezvous score,
    /// then the others (tried last, so that an enclave that answers again is used).
    pub fn placement(&self, user: &UserId) -> Vec<&Enclave> {
        let mut order: Vec<&Enclave> = self.enclaves.iter().collect();
        order.sort_by_key(|e| {
            (
                std::cmp::Reverse(e.healthy()),
                std::cmp::Reverse(score(&e.url, user)),
            )
        });
        order
    }

    /// The enclave an index row names; rows from before the fleet name none and belong to the
    /// first. `None` when that enclave is no longer configured.
    pub fn holding(&self, stored: &str) -> Option<&Enclave> {
        if stored.is_empty() {
            return self.enclaves.first();
        }
        self.enclaves.iter().find(|e| e.url == stored)
    }

    /// The in-process broker (used when no enclave is configured).
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// The status for `user`: every enclave is asked for its boot over its pinned connection
    /// (re-attesting when that fails or the token nears expiry), so an unreachable enclave is never
    /// reported attested; the top level describes the user's enclave.
    pub async fn status(&self, user: &UserId) -> TeeStatus {
        if self.enclaves.is_empty() {
            return TeeStatus {
                provider: self.provider,
                attested: false,
                reason: Some("no TEE configured: brokered requests run in the host".into()),
                boot_id: None,
                claims: None,
                enclave: None,
                enclaves: Vec::new(),
            };
        }
        let enclaves =
            futures_util::future::join_all(self.enclaves.iter().map(Enclave::status)).await;
        // After the checks: the placement sees the health they recorded.
        let mine = self.placement(user)[0];
        let top = enclaves
            .iter()
            .find(|e| e.id == mine.id)
            .cloned()
            .unwrap_or_else(|| enclaves[0].clone());
        TeeStatus {
            provider: self.provider,
            attested: top.attested,
            reason: top.reason,
            boot_id: top.boot_id,
            claims: top.claims,
            enclave: Some(top.id),
            enclaves,
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

    fn local_settings(dir: &tempfile::TempDir, enclave_urls: Vec<String>) -> TeeSettings {
        TeeSettings::Local {
            enclave_urls,
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
        Tee::start(local_settings(dir, Vec::new()), access())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn an_external_local_enclave_needs_its_image_digest() {
        let dir = tempfile::tempdir().unwrap();
        let result = Tee::start(
            local_settings(&dir, vec!["https://127.0.0.1:8443".into()]),
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
        let status = tee.status(&UserId::random()).await;
        assert!(status.attested, "{status:?}");
        assert_eq!(status.provider, "local");
        assert_eq!(status.enclaves.len(), 1);
        assert_eq!(
            status.enclave.as_deref(),
            Some(status.enclaves[0].id.as_str())
        );
        assert_eq!(status.claims.unwrap().hwmodel, "LOCAL_INSECURE");
    }

    #[tokio::test]
    async fn an_enclave_that_does_not_verify_is_reported_not_attested() {
        let dir = tempfile::tempdir().unwrap();
        let local = local_tee(&dir).await;
        let url = local.enclaves()[0].client().base_url().to_owned();
        // The same enclave under a production policy: Google's root refuses the local chain.
        let policy = Policy::production(
            "aileron-enclave",
            vec![format!("sha256:{}", "a".repeat(64))],
            Some(vec!["p".into()]),
        )
        .unwrap();
        let tee = Tee::start(
            TeeSettings::ConfidentialSpace {
                enclave_urls: vec![url],
                policy,
            },
            access(),
        )
        .await
        .unwrap();
        assert!(!tee.enclaves()[0].healthy(), "it takes no escrow");
        let status = tee.status(&UserId::random()).await;
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
                enclave_urls,
                policy,
            } => {
                assert_eq!(enclave_urls, ["https://enclave.example:8443/"]);
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
            .status(&UserId::random())
            .await;
        assert_eq!(status.provider, "disabled");
        assert!(!status.attested);
    }

    #[test]
    fn rendezvous_moves_only_the_users_of_an_enclave_that_leaves() {
        let urls: Vec<String> = (1..=3)
            .map(|i| format!("https://10.0.0.{i}:8443"))
            .collect();
        let users: Vec<UserId> = (0..3000).map(|_| UserId::random()).collect();
        let pick = |pool: &[String], user: &UserId| -> String {
            pool.iter().max_by_key(|u| score(u, user)).unwrap().clone()
        };
        let before: Vec<String> = users.iter().map(|u| pick(&urls, u)).collect();
        // Spread: each of three enclaves gets roughly a third.
        for url in &urls {
            let n = before.iter().filter(|b| *b == url).count();
            assert!((800..1200).contains(&n), "{url}: {n} of 3000");
        }
        let remaining = &urls[1..];
        for (user, was) in users.iter().zip(&before) {
            let now = pick(remaining, user);
            if was != &urls[0] {
                assert_eq!(&now, was, "a user of a remaining enclave stays");
            }
        }
    }

    #[tokio::test]
    async fn placement_puts_healthy_enclaves_first_in_each_users_order() {
        let dir = tempfile::tempdir().unwrap();
        let local = local_tee(&dir).await;
        let live = local.enclaves()[0].client().base_url().to_owned();
        let digest = aileron_enclave::attester::executable_digest().unwrap();
        // A fleet of the live enclave and one nobody listens at.
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("https://{}", l.local_addr().unwrap())
        };
        let tee = Tee::start(
            TeeSettings::Local {
                enclave_urls: vec![dead.clone(), live.trim_end_matches('/').to_owned()],
                image_digest: Some(digest),
                local_ca_dir: dir.path().join("ca"),
                audience: "aileron-enclave".into(),
                escrow_ttl: std::time::Duration::from_secs(3600),
            },
            access(),
        )
        .await
        .unwrap();
        assert!(!tee.enclaves()[0].healthy() && tee.enclaves()[1].healthy());
        for _ in 0..50 {
            let user = UserId::random();
            assert_eq!(tee.placement(&user)[0].url, tee.enclaves()[1].url);
        }
        let status = tee.status(&UserId::random()).await;
        assert_eq!(status.enclaves.len(), 2);
        assert!(!status.enclaves[0].attested && status.enclaves[1].attested);
        assert!(status.attested, "the caller's enclave is the live one");
        assert!(
            !status.enclaves[0].id.contains("127.0.0.1"),
            "no address is shown"
        );
        assert_eq!(
            tee.holding("").unwrap().url,
            dead,
            "rows from before the fleet: the first"
        );
        assert!(tee.holding("https://elsewhere:1").is_none());
    }
}
