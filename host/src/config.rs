//! Configuration: the environment, parsed once at start into a validated [`Config`].
//!
//! [`RawConfig`] holds the variables as strings; `Config::try_from(raw)` turns them into typed
//! values or fails with one [`ConfigError`] naming the variable and the accepted form. Empty values
//! count as unset, so `AILERON_TEE_PROVIDER=` means "disabled" as the seed says.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretBox, SecretString};
use url::Url;

/// Shortest accepted `AILERON_JWT_SIGNING_KEY`, in bytes.
pub const MIN_SIGNING_KEY_BYTES: usize = 32;

/// One bad configuration value. The `Display` form is the single line printed at start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A value did not parse; `expected` describes the accepted form.
    #[error("{var}: invalid value {value:?}; expected {expected}")]
    Invalid {
        var: &'static str,
        value: String,
        expected: &'static str,
    },
    /// A secret value did not parse (the value itself is never printed).
    #[error("{var}: invalid value; expected {expected}")]
    InvalidSecret {
        var: &'static str,
        expected: &'static str,
    },
    /// A variable required by another setting is missing.
    #[error("{var}: required {because}")]
    Missing {
        var: &'static str,
        because: &'static str,
    },
}

/// The environment as strings, before validation.
#[derive(Default)]
pub struct RawConfig {
    vars: HashMap<String, String>,
}

impl RawConfig {
    /// Reads the process environment.
    pub fn from_env() -> Self {
        Self::from_pairs(std::env::vars())
    }

    /// Builds a raw configuration from name/value pairs (tests, embedding).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self { vars }
    }

    fn get(&self, var: &str) -> Option<&str> {
        self.vars
            .get(var)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Where data lives.
#[derive(Clone)]
pub enum Database {
    /// No `AILERON_DATABASE_URL`: an in-memory SQLite database and auth disabled.
    InMemory,
    /// A `sqlite:` URL: a persistent embedded database, auth enabled.
    Sqlite(SecretString),
    /// A `postgres://` URL: PostgreSQL, auth enabled.
    Postgres(SecretString),
}

impl Database {
    /// True when requests must authenticate.
    pub fn auth_enabled(&self) -> bool {
        !matches!(self, Database::InMemory)
    }
}

/// The HMAC key for access tokens. Never printed.
pub struct SigningKey(SecretBox<[u8]>);

impl SigningKey {
    /// A key from raw bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(SecretBox::new(bytes.into_boxed_slice()))
    }
    /// The key bytes, for the narrowest scope.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// An OAuth client registration.
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: SecretString,
}

/// The generic OpenID provider (`OIDC_*`).
pub struct GenericOidc {
    pub issuer: Url,
    pub client: OAuthClient,
}

/// Which trusted execution environment the vault escrows into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeeProvider {
    Disabled,
    /// Local enclaves: at `enclave_urls` (then `image_digest` names their binary), else one
    /// started by the host on loopback.
    Local {
        enclave_urls: Vec<Url>,
        image_digest: Option<String>,
    },
    /// A fleet of Confidential Space enclaves (one or more).
    ConfidentialSpace {
        enclave_urls: Vec<Url>,
        image_digest: String,
        gcp_project_id: String,
    },
}

/// The validated configuration.
pub struct Config {
    pub addr: SocketAddr,
    pub public_url: Url,
    pub database: Database,
    /// `None` only without a database (a random key is generated then).
    pub jwt_signing_key: Option<SigningKey>,
    pub jwt_issuer: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub ui_redirect_url: String,
    pub cors_origins: Vec<String>,
    pub auto_verify_email: bool,
    pub google: Option<OAuthClient>,
    pub google_issuer: Url,
    pub github: Option<OAuthClient>,
    pub github_oauth_base_url: Url,
    pub github_api_url: Url,
    pub oidc: Option<GenericOidc>,
    pub resend_api_key: Option<SecretString>,
    pub resend_api_url: Url,
    pub mail_from: String,
    pub kek_session_ttl: Duration,
    pub escrow_ttl: Duration,
    /// `AILERON_AUDIT_RETENTION`: audit events older than this are deleted; `None` keeps them.
    pub audit_retention: Option<Duration>,
    pub tee: TeeProvider,
    pub enclave_port: u16,
    pub enclave_audience: Option<String>,
    pub attestation_token_type: Option<String>,
    pub local_ca_dir: Option<String>,
    /// `AILERON_ATTESTATION_POLICY`: a policy file (TOML, DESIGN §3) for `confidential-space`.
    pub attestation_policy: Option<String>,
    /// Request limits (rate limits from the environment; sizes fixed, adjustable by tests).
    pub limits: Limits,
    /// `AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS`: private destinations and plain http for
    /// brokered requests (development only; refused with `confidential-space`).
    pub destinations: aileron_broker::destination::Destinations,
    /// Per-user quotas (`AILERON_MAX_CREDENTIALS_PER_USER`, `AILERON_MAX_ESCROWS_PER_USER`).
    pub quotas: Quotas,
    /// Largest number of database connections (`AILERON_DATABASE_POOL_SIZE`); by backend when
    /// unset.
    pub database_pool_size: Option<u32>,
    /// The docs service's base URL (`AILERON_DOCS_URL`): `/docs` redirects to its API reference.
    pub docs_url: Option<Url>,
    /// Proxies in front of the server that append the client's address to `X-Forwarded-For`
    /// (`AILERON_TRUSTED_PROXY_HOPS`, 0 to 10): 0 uses the TCP peer.
    pub trusted_proxy_hops: usize,
}

/// How much one user may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Vault credentials per user (default 200).
    pub credentials: u64,
    /// Escrows sealed through the host per user (default 200); the enclave admits a user
    /// `credentials + escrows + 1` live escrows (one replacement may be in flight).
    pub escrows: u64,
}

impl Quotas {
    /// The escrow slots a user's admission tickets grant at the enclave.
    pub fn enclave_slots(&self) -> u64 {
        self.credentials + self.escrows + 1
    }
}

/// Request budgets and sizes. The two rate limits come from `AILERON_RATE_LIMIT_PER_ADDR` and
/// `AILERON_RATE_LIMIT_PER_ACCOUNT`; the rest is fixed.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// Attempts per client address per minute on each auth endpoint.
    pub auth_per_addr_per_minute: u32,
    /// Attempts per account (email) per minute on each auth endpoint.
    pub auth_per_account_per_minute: u32,
    /// Open connections at once (`AILERON_MAX_CONNECTIONS`).
    pub max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            auth_per_addr_per_minute: 30,
            auth_per_account_per_minute: 10,
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

impl TryFrom<RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(raw: RawConfig) -> Result<Self, ConfigError> {
        let addr: SocketAddr = parse_or(
            &raw,
            "AILERON_ADDR",
            "0.0.0.0:8080",
            "host:port, e.g. 0.0.0.0:8080",
        )?;
        let database = database(&raw)?;
        let jwt_signing_key = signing_key(&raw, &database)?;
        let default_public = format!("http://localhost:{}", addr.port());
        Ok(Config {
            addr,
            public_url: url(&raw, "AILERON_PUBLIC_URL", &default_public)?,
            jwt_signing_key,
            jwt_issuer: raw
                .get("AILERON_JWT_ISSUER")
                .unwrap_or("aileron")
                .to_owned(),
            access_token_ttl: duration(&raw, "AILERON_ACCESS_TOKEN_TTL", "15m")?,
            refresh_token_ttl: duration(&raw, "AILERON_REFRESH_TOKEN_TTL", "168h")?,
            ui_redirect_url: ui_redirect(&raw)?,
            cors_origins: cors_origins(&raw)?,
            auto_verify_email: boolean(&raw, "AILERON_AUTO_VERIFY_EMAIL", false)?,
            google: oauth_client(&raw, "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET")?,
            google_issuer: url(&raw, "GOOGLE_OIDC_ISSUER", "https://accounts.google.com")?,
            github: oauth_client(&raw, "GITHUB_OAUTH_CLIENT_ID", "GITHUB_OAUTH_CLIENT_SECRET")?,
            github_oauth_base_url: url(&raw, "GITHUB_OAUTH_BASE_URL", "https://github.com")?,
            github_api_url: url(&raw, "GITHUB_API_URL", "https://api.github.com")?,
            oidc: generic_oidc(&raw)?,
            resend_api_key: raw
                .get("RESEND_API_KEY")
                .map(|k| SecretString::from(k.to_owned())),
            resend_api_url: url(&raw, "RESEND_API_URL", "https://api.resend.com")?,
            mail_from: mail_from(&raw)?,
            kek_session_ttl: duration(&raw, "AILERON_KEK_SESSION_TTL", "24h")?,
            escrow_ttl: duration(&raw, "AILERON_ESCROW_TTL", "168h")?,
            audit_retention: audit_retention(&raw)?,
            tee: tee(&raw)?,
            enclave_port: parse_or(
                &raw,
                "AILERON_ENCLAVE_PORT",
                "8443",
                "a port number 1-65535",
            )?,
            enclave_audience: raw.get("AILERON_ENCLAVE_AUDIENCE").map(str::to_owned),
            attestation_token_type: attestation_token_type(&raw)?,
            local_ca_dir: raw.get("AILERON_LOCAL_CA_DIR").map(str::to_owned),
            attestation_policy: raw.get("AILERON_ATTESTATION_POLICY").map(str::to_owned),
            destinations: destinations(&raw)?,
            quotas: Quotas {
                credentials: count(&raw, "AILERON_MAX_CREDENTIALS_PER_USER", 200)?,
                escrows: count(&raw, "AILERON_MAX_ESCROWS_PER_USER", 200)?,
            },
            database_pool_size: match raw.get("AILERON_DATABASE_POOL_SIZE") {
                None => None,
                Some(v) => Some(
                    v.parse()
                        .ok()
                        .filter(|n| (1..=1000).contains(n))
                        .ok_or_else(|| {
                            invalid("AILERON_DATABASE_POOL_SIZE", v, "a whole number, 1 to 1000")
                        })?,
                ),
            },
            docs_url: match raw.get("AILERON_DOCS_URL") {
                None => None,
                Some(_) => Some(url(&raw, "AILERON_DOCS_URL", "")?),
            },
            trusted_proxy_hops: match raw.get("AILERON_TRUSTED_PROXY_HOPS") {
                None => 0,
                Some(v) => v.parse().ok().filter(|n| *n <= 10).ok_or_else(|| {
                    invalid("AILERON_TRUSTED_PROXY_HOPS", v, "a whole number, 0 to 10")
                })?,
            },
            database,
            limits: limits(&raw)?,
        })
    }
}

fn destinations(raw: &RawConfig) -> Result<aileron_broker::destination::Destinations, ConfigError> {
    use aileron_broker::destination::{DANGEROUS_PRIVATE_VAR, Destinations};
    let value = raw.get(DANGEROUS_PRIVATE_VAR);
    let destinations = Destinations::from_setting(value).map_err(|_| {
        invalid(
            DANGEROUS_PRIVATE_VAR,
            value.unwrap_or_default(),
            "true or false",
        )
    })?;
    if destinations.allows_private()
        && raw.get("AILERON_TEE_PROVIDER") == Some("confidential-space")
    {
        return Err(invalid(
            DANGEROUS_PRIVATE_VAR,
            value.unwrap_or_default(),
            "unset with AILERON_TEE_PROVIDER=confidential-space (development only)",
        ));
    }
    Ok(destinations)
}

/// A whole number of at least 1, with a default.
fn count<T>(raw: &RawConfig, var: &'static str, default: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    count_of(raw, var, default, "a whole number, at least 1")
}

fn count_of<T>(
    raw: &RawConfig,
    var: &'static str,
    default: T,
    expected: &'static str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    match raw.get(var) {
        None => Ok(default),
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| *n >= T::from(1))
            .ok_or_else(|| invalid(var, v, expected)),
    }
}

fn limits(raw: &RawConfig) -> Result<Limits, ConfigError> {
    const PER_MINUTE: &str = "a whole number of attempts per minute, at least 1";
    let defaults = Limits::default();
    Ok(Limits {
        auth_per_addr_per_minute: count_of(
            raw,
            "AILERON_RATE_LIMIT_PER_ADDR",
            defaults.auth_per_addr_per_minute,
            PER_MINUTE,
        )?,
        auth_per_account_per_minute: count_of(
            raw,
            "AILERON_RATE_LIMIT_PER_ACCOUNT",
            defaults.auth_per_account_per_minute,
            PER_MINUTE,
        )?,
        max_connections: count(raw, "AILERON_MAX_CONNECTIONS", defaults.max_connections)?,
        ..defaults
    })
}

fn invalid(var: &'static str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::Invalid {
        var,
        value: value.to_owned(),
        expected,
    }
}

fn parse_or<T: std::str::FromStr>(
    raw: &RawConfig,
    var: &'static str,
    default: &str,
    expected: &'static str,
) -> Result<T, ConfigError> {
    let value = raw.get(var).unwrap_or(default);
    value.parse().map_err(|_| invalid(var, value, expected))
}

fn duration(raw: &RawConfig, var: &'static str, default: &str) -> Result<Duration, ConfigError> {
    const EXPECTED: &str = "a positive duration such as 30s, 15m, 24h or 7d";
    let value = raw.get(var).unwrap_or(default);
    match humantime::parse_duration(value) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(invalid(var, value, EXPECTED)),
    }
}

/// How long audit events are kept: unset keeps them; else at least one day.
fn audit_retention(raw: &RawConfig) -> Result<Option<Duration>, ConfigError> {
    const VAR: &str = "AILERON_AUDIT_RETENTION";
    match raw.get(VAR) {
        None => Ok(None),
        Some(value) => match humantime::parse_duration(value) {
            Ok(d) if d >= Duration::from_secs(24 * 3600) => Ok(Some(d)),
            _ => Err(invalid(
                VAR,
                value,
                "unset (keep every event) or a duration of at least 1d, such as 90d",
            )),
        },
    }
}

fn boolean(raw: &RawConfig, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match raw.get(var).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(default),
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        Some(_) => Err(invalid(
            var,
            raw.get(var).unwrap_or_default(),
            "true or false",
        )),
    }
}

fn url(raw: &RawConfig, var: &'static str, default: &str) -> Result<Url, ConfigError> {
    const EXPECTED: &str = "an absolute http:// or https:// URL";
    let value = raw.get(var).unwrap_or(default);
    match Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(u),
        _ => Err(invalid(var, value, EXPECTED)),
    }
}

/// The most enclaves one server attests and routes to.
pub const MAX_ENCLAVES: usize = 64;

/// An enclave's URL: https only, since the host pins the TLS key the attestation binds.
fn enclave_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    match Url::parse(value) {
        Ok(u) if u.scheme() == "https" && u.has_host() => Ok(u),
        _ => Err(invalid(
            var,
            value,
            "an absolute https:// URL (the enclave's attested TLS key is pinned)",
        )),
    }
}

/// The enclave fleet: `AILERON_ENCLAVE_URLS` (URLs separated by commas or spaces) or the
/// one-enclave form `AILERON_ENCLAVE_URL`; not both. Empty when neither is set.
fn enclave_urls(raw: &RawConfig) -> Result<Vec<Url>, ConfigError> {
    const ONE: &str = "AILERON_ENCLAVE_URL";
    const MANY: &str = "AILERON_ENCLAVE_URLS";
    match (raw.get(ONE), raw.get(MANY)) {
        (Some(_), Some(list)) => Err(invalid(
            MANY,
            list,
            "unset when AILERON_ENCLAVE_URL is set (use one of the two)",
        )),
        (Some(one), None) => Ok(vec![enclave_url(ONE, one)?]),
        (None, Some(list)) => {
            let mut urls: Vec<Url> = Vec::new();
            for item in list.split([',', ' ', '\n', '\t']).filter(|i| !i.is_empty()) {
                let url = enclave_url(MANY, item)?;
                if urls.contains(&url) {
                    return Err(invalid(MANY, list, "each enclave URL once"));
                }
                urls.push(url);
            }
            if urls.is_empty() || urls.len() > MAX_ENCLAVES {
                return Err(invalid(
                    MANY,
                    list,
                    "1 to 64 https:// URLs separated by commas or spaces",
                ));
            }
            Ok(urls)
        }
        (None, None) => Ok(Vec::new()),
    }
}

fn database(raw: &RawConfig) -> Result<Database, ConfigError> {
    const VAR: &str = "AILERON_DATABASE_URL";
    let Some(value) = raw.get(VAR) else {
        return Ok(Database::InMemory);
    };
    let secret = SecretString::from(value.to_owned());
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        Ok(Database::Postgres(secret))
    } else if value.starts_with("sqlite:") {
        Ok(Database::Sqlite(secret))
    } else {
        // The URL may hold a password: never echo it.
        Err(ConfigError::InvalidSecret {
            var: VAR,
            expected: "a postgres://, postgresql:// or sqlite: URL",
        })
    }
}

fn signing_key(raw: &RawConfig, db: &Database) -> Result<Option<SigningKey>, ConfigError> {
    const VAR: &str = "AILERON_JWT_SIGNING_KEY";
    match raw.get(VAR) {
        None if db.auth_enabled() => Err(ConfigError::Missing {
            var: VAR,
            because: "when AILERON_DATABASE_URL is set (generate one with: openssl rand -hex 32)",
        }),
        None => Ok(None),
        Some(key) if key.len() < MIN_SIGNING_KEY_BYTES => Err(ConfigError::InvalidSecret {
            var: VAR,
            expected: "at least 32 bytes (generate one with: openssl rand -hex 32)",
        }),
        Some(key) => Ok(Some(SigningKey::new(key.as_bytes().to_vec()))),
    }
}

fn ui_redirect(raw: &RawConfig) -> Result<String, ConfigError> {
    const VAR: &str = "AILERON_UI_REDIRECT_URL";
    const EXPECTED: &str = "a path starting with / or an absolute http(s) URL";
    let value = raw.get(VAR).unwrap_or("/");
    let is_path = value.starts_with('/') && !value.starts_with("//");
    let is_url = Url::parse(value).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if is_path || is_url {
        Ok(value.to_owned())
    } else {
        Err(invalid(VAR, value, EXPECTED))
    }
}

/// The origin (`scheme://host[:port]`) of an absolute URL.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn cors_origins(raw: &RawConfig) -> Result<Vec<String>, ConfigError> {
    const VAR: &str = "AILERON_CORS_ORIGINS";
    const EXPECTED: &str = "a comma-separated list of origins such as https://app.example.com";
    let mut origins = Vec::new();
    if let Some(ui) = raw
        .get("AILERON_UI_REDIRECT_URL")
        .and_then(|v| Url::parse(v).ok())
    {
        origins.push(origin_of(&ui));
    }
    for item in raw.get(VAR).unwrap_or_default().split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        match Url::parse(item) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.path() == "/" => {
                origins.push(origin_of(&u))
            }
            _ => return Err(invalid(VAR, item, EXPECTED)),
        }
    }
    origins.dedup();
    Ok(origins)
}

fn oauth_client(
    raw: &RawConfig,
    id_var: &'static str,
    secret_var: &'static str,
) -> Result<Option<OAuthClient>, ConfigError> {
    match (raw.get(id_var), raw.get(secret_var)) {
        (None, None) => Ok(None),
        (Some(id), Some(secret)) => Ok(Some(OAuthClient {
            client_id: id.to_owned(),
            client_secret: SecretString::from(secret.to_owned()),
        })),
        (Some(_), None) => Err(ConfigError::Missing {
            var: secret_var,
            because: "when its client ID is set",
        }),
        (None, Some(_)) => Err(ConfigError::Missing {
            var: id_var,
            because: "when its client secret is set",
        }),
    }
}

fn generic_oidc(raw: &RawConfig) -> Result<Option<GenericOidc>, ConfigError> {
    let Some(client) = oauth_client(raw, "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")? else {
        return match raw.get("OIDC_ISSUER_URL") {
            None => Ok(None),
            Some(_) => Err(ConfigError::Missing {
                var: "OIDC_CLIENT_ID",
                because: "when OIDC_ISSUER_URL is set",
            }),
        };
    };
    if raw.get("OIDC_ISSUER_URL").is_none() {
        return Err(ConfigError::Missing {
            var: "OIDC_ISSUER_URL",
            because: "when OIDC_CLIENT_ID is set",
        });
    }
    let issuer = url(raw, "OIDC_ISSUER_URL", "")?;
    Ok(Some(GenericOidc { issuer, client }))
}

fn mail_from(raw: &RawConfig) -> Result<String, ConfigError> {
    const VAR: &str = "MAIL_FROM";
    // The seed's default is an obfuscated address; see docs/host.md.
    let value = raw.get(VAR).unwrap_or("noreply@aileron.dev");
    let addr = value
        .rsplit_once('<')
        .map_or(value, |(_, a)| a.trim_end_matches('>'));
    match addr.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') => Ok(value.to_owned()),
        _ => Err(invalid(
            VAR,
            value,
            "an email address, optionally as Name <addr@domain>",
        )),
    }
}

fn tee(raw: &RawConfig) -> Result<TeeProvider, ConfigError> {
    const VAR: &str = "AILERON_TEE_PROVIDER";
    const BECAUSE: &str = "when AILERON_TEE_PROVIDER=confidential-space";
    match raw.get(VAR) {
        None => Ok(TeeProvider::Disabled),
        Some("local") => {
            let enclave_urls = enclave_urls(raw)?;
            let image_digest = raw.get("AILERON_ENCLAVE_IMAGE_DIGEST").map(str::to_owned);
            match (enclave_urls.first(), &image_digest) {
                (_, Some(d)) if !is_sha256_digest(d) => Err(invalid(
                    "AILERON_ENCLAVE_IMAGE_DIGEST",
                    d,
                    "sha256: followed by 64 lowercase hex digits",
                )),
                (Some(_), None) => Err(ConfigError::Missing {
                    var: "AILERON_ENCLAVE_IMAGE_DIGEST",
                    because: "when AILERON_TEE_PROVIDER=local with AILERON_ENCLAVE_URL or AILERON_ENCLAVE_URLS (the sha256 of the enclave binary)",
                }),
                _ => Ok(TeeProvider::Local {
                    enclave_urls,
                    image_digest,
                }),
            }
        }
        Some("confidential-space") => {
            let required = |var: &'static str| {
                raw.get(var).map(str::to_owned).ok_or(ConfigError::Missing {
                    var,
                    because: BECAUSE,
                })
            };
            let enclave_urls = enclave_urls(raw)?;
            if enclave_urls.is_empty() {
                return Err(ConfigError::Missing {
                    var: "AILERON_ENCLAVE_URL",
                    because: "(or AILERON_ENCLAVE_URLS) when AILERON_TEE_PROVIDER=confidential-space",
                });
            }
            let image_digest = required("AILERON_ENCLAVE_IMAGE_DIGEST")?;
            if !is_sha256_digest(&image_digest) {
                return Err(invalid(
                    "AILERON_ENCLAVE_IMAGE_DIGEST",
                    &image_digest,
                    "sha256: followed by 64 lowercase hex digits",
                ));
            }
            let gcp_project_id = required("AILERON_GCP_PROJECT_ID")?;
            Ok(TeeProvider::ConfidentialSpace {
                enclave_urls,
                image_digest,
                gcp_project_id,
            })
        }
        Some(other) => Err(invalid(
            VAR,
            other,
            "empty (disabled), local or confidential-space",
        )),
    }
}

fn is_sha256_digest(value: &str) -> bool {
    value.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn attestation_token_type(raw: &RawConfig) -> Result<Option<String>, ConfigError> {
    const VAR: &str = "AILERON_ATTESTATION_TOKEN_TYPE";
    match raw.get(VAR) {
        None => Ok(None),
        Some(v @ ("OIDC" | "PKI")) => Ok(Some(v.to_owned())),
        Some(other) => Err(invalid(VAR, other, "OIDC or PKI")),
    }
}

#[cfg(test)]
mod tests;
