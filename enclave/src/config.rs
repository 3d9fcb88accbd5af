//! The enclave's configuration, from the environment, validated at start: a bad value stops the
//! enclave with one line naming the variable and the accepted form.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use aileron_attest::TokenType;
use aileron_broker::destination::{DANGEROUS_PRIVATE_VAR, Destinations};

/// The launcher's socket in a Confidential Space VM.
pub const LAUNCHER_SOCKET: &str = "/run/container_launcher/teeserver.sock";

/// Where attestation tokens come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// The local issuer (development and tests).
    Local,
    /// The Confidential Space launcher.
    ConfidentialSpace,
}

impl Provider {
    /// The name used in configuration and `/v1/health`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::ConfidentialSpace => "confidential-space",
        }
    }
}

/// A configuration error: the variable and what it accepts.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong and the accepted form.
    pub message: String,
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `AILERON_TEE_PROVIDER`: `local` (default) or `confidential-space`.
    pub provider: Provider,
    /// `AILERON_ENCLAVE_BIND` (default `0.0.0.0`) and `AILERON_ENCLAVE_PORT` (default 8443).
    pub addr: SocketAddr,
    /// `AILERON_ENCLAVE_AUDIENCE` (default `aileron-enclave`).
    pub audience: String,
    /// `AILERON_ATTESTATION_TOKEN_TYPE`: `PKI` (default) or `OIDC`.
    pub token_type: TokenType,
    /// `AILERON_LOCAL_CA_DIR` (default `.aileron/local-ca`).
    pub local_ca_dir: PathBuf,
    /// `AILERON_LAUNCHER_SOCKET` (default the Confidential Space launcher's).
    pub launcher_socket: PathBuf,
    /// `AILERON_ESCROW_TTL` (default `168h`): the longest expiry an escrow may ask for.
    pub escrow_ttl: Duration,
    /// `AILERON_ENCLAVE_MAX_ESCROWS` (default 100000).
    pub max_escrows: usize,
    /// `AILERON_ENCLAVE_MAX_SECRET_BYTES` (default 16384).
    pub max_secret_bytes: usize,
    /// `AILERON_ENCLAVE_UPSTREAM_TIMEOUT` (default `30s`).
    pub upstream_timeout: Duration,
    /// `AILERON_ENCLAVE_MAX_RESPONSE_BYTES` (default 10 MiB).
    pub max_response_bytes: usize,
    /// `AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS` (default off; refused in
    /// `confidential-space`): private destinations and plain `http`, for development.
    pub destinations: Destinations,
    /// `AILERON_ENCLAVE_ADMISSION_KEYS` (required): the Ed25519 public keys whose admission
    /// tickets may create escrows, comma-separated unpadded base64url.
    pub admission_keys: Vec<[u8; 32]>,
    /// `AILERON_ENCLAVE_MAX_ESCROWS_PER_SUBJECT` (default 1000): a ticket may grant less.
    pub max_escrows_per_subject: usize,
    /// `AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE` (default 60): fresh tokens for callers without
    /// an admission ticket; callers with one get ten times as many, apart.
    pub attestations_per_minute: u32,
    /// `AILERON_ENCLAVE_MAX_CONNECTIONS` (default 1024): open connections at once.
    pub max_connections: usize,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads variables through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let err = |var, message: &str| ConfigError {
            var,
            message: message.to_owned(),
        };
        let provider = match get("AILERON_TEE_PROVIDER").as_deref() {
            None | Some("local") => Provider::Local,
            Some("confidential-space") => Provider::ConfidentialSpace,
            Some(_) => {
                return Err(err(
                    "AILERON_TEE_PROVIDER",
                    "must be `local` or `confidential-space`",
                ));
            }
        };
        let bind: IpAddr = parse(
            get("AILERON_ENCLAVE_BIND"),
            "AILERON_ENCLAVE_BIND",
            "0.0.0.0",
            "an IP address such as 0.0.0.0 or 127.0.0.1",
        )?;
        let port: u16 = parse(
            get("AILERON_ENCLAVE_PORT"),
            "AILERON_ENCLAVE_PORT",
            "8443",
            "a TCP port, 0-65535",
        )?;
        let token_type = match get("AILERON_ATTESTATION_TOKEN_TYPE").as_deref() {
            None | Some("PKI") => TokenType::Pki,
            Some("OIDC") => TokenType::Oidc,
            Some(_) => {
                return Err(err(
                    "AILERON_ATTESTATION_TOKEN_TYPE",
                    "must be `PKI` or `OIDC`",
                ));
            }
        };
        let audience = get("AILERON_ENCLAVE_AUDIENCE").unwrap_or_else(|| "aileron-enclave".into());
        if audience.len() > aileron_attest::MAX_AUDIENCE_BYTES {
            return Err(err("AILERON_ENCLAVE_AUDIENCE", "must be at most 512 bytes"));
        }
        let destinations = Destinations::from_setting(get(DANGEROUS_PRIVATE_VAR).as_deref())
            .map_err(|m| err(DANGEROUS_PRIVATE_VAR, m.as_str()))?;
        if destinations.allows_private() && provider == Provider::ConfidentialSpace {
            return Err(err(
                DANGEROUS_PRIVATE_VAR,
                "is refused in confidential-space mode: an enclave must never reach private addresses",
            ));
        }
        Ok(Config {
            destinations,
            admission_keys: admission_keys(get("AILERON_ENCLAVE_ADMISSION_KEYS"))?,
            max_escrows_per_subject: positive(
                get("AILERON_ENCLAVE_MAX_ESCROWS_PER_SUBJECT"),
                "AILERON_ENCLAVE_MAX_ESCROWS_PER_SUBJECT",
                "1000",
            )?,
            attestations_per_minute: parse(
                get("AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE"),
                "AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE",
                "60",
                "a positive integer",
            )
            .and_then(|n: u32| match n {
                0 => Err(err(
                    "AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE",
                    "must be a positive integer",
                )),
                n => Ok(n),
            })?,
            max_connections: positive(
                get("AILERON_ENCLAVE_MAX_CONNECTIONS"),
                "AILERON_ENCLAVE_MAX_CONNECTIONS",
                "1024",
            )?,
            provider,
            addr: SocketAddr::new(bind, port),
            audience,
            token_type,
            local_ca_dir: get("AILERON_LOCAL_CA_DIR")
                .unwrap_or_else(|| ".aileron/local-ca".into())
                .into(),
            launcher_socket: get("AILERON_LAUNCHER_SOCKET")
                .unwrap_or_else(|| LAUNCHER_SOCKET.into())
                .into(),
            escrow_ttl: duration(get("AILERON_ESCROW_TTL"), "AILERON_ESCROW_TTL", "168h")?,
            max_escrows: positive(
                get("AILERON_ENCLAVE_MAX_ESCROWS"),
                "AILERON_ENCLAVE_MAX_ESCROWS",
                "100000",
            )?,
            max_secret_bytes: positive(
                get("AILERON_ENCLAVE_MAX_SECRET_BYTES"),
                "AILERON_ENCLAVE_MAX_SECRET_BYTES",
                "16384",
            )?,
            upstream_timeout: duration(
                get("AILERON_ENCLAVE_UPSTREAM_TIMEOUT"),
                "AILERON_ENCLAVE_UPSTREAM_TIMEOUT",
                "30s",
            )?,
            max_response_bytes: positive(
                get("AILERON_ENCLAVE_MAX_RESPONSE_BYTES"),
                "AILERON_ENCLAVE_MAX_RESPONSE_BYTES",
                "10485760",
            )?,
        })
    }
}

/// The admission keys: at least one, each an Ed25519 public key.
fn admission_keys(value: Option<String>) -> Result<Vec<[u8; 32]>, ConfigError> {
    const VAR: &str = "AILERON_ENCLAVE_ADMISSION_KEYS";
    let text = value.ok_or(ConfigError {
        var: VAR,
        message: "required: the public keys whose admission tickets may create escrows \
                  (a server prints its own with `aileron-server admission-key`)"
            .into(),
    })?;
    let keys = text
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            aileron_sdk::admission::parse_public_key(k).map_err(|e| ConfigError {
                var: VAR,
                message: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err(ConfigError {
            var: VAR,
            message: "must name at least one key".into(),
        });
    }
    Ok(keys)
}

fn parse<T: std::str::FromStr>(
    value: Option<String>,
    var: &'static str,
    default: &str,
    form: &str,
) -> Result<T, ConfigError> {
    let text = value.unwrap_or_else(|| default.to_owned());
    text.parse().map_err(|_| ConfigError {
        var,
        message: format!("{text:?} is not {form}"),
    })
}

fn positive(value: Option<String>, var: &'static str, default: &str) -> Result<usize, ConfigError> {
    match parse::<usize>(value, var, default, "a positive integer")? {
        0 => Err(ConfigError {
            var,
            message: "must be a positive integer".into(),
        }),
        n => Ok(n),
    }
}

/// Durations like `15m`, `168h`, `7d`.
pub fn duration(
    value: Option<String>,
    var: &'static str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let text = value.unwrap_or_else(|| default.to_owned());
    match humantime::parse_duration(&text) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(ConfigError {
            var,
            message: format!("{text:?} is not a duration such as 30s, 15m, 168h or 7d"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const KEY: &str = "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICA";

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        map.entry("AILERON_ENCLAVE_ADMISSION_KEYS".into())
            .or_insert_with(|| KEY.into());
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_documentation() {
        let c = config(&[]).unwrap();
        assert_eq!(c.provider, Provider::Local);
        assert_eq!(c.addr.port(), 8443);
        assert_eq!(c.audience, "aileron-enclave");
        assert_eq!(c.token_type, TokenType::Pki);
        assert_eq!(c.escrow_ttl, Duration::from_secs(168 * 3600));
        assert_eq!(c.launcher_socket, PathBuf::from(LAUNCHER_SOCKET));
        assert_eq!(c.destinations, Destinations::PUBLIC);
        assert_eq!(c.admission_keys, vec![[b' '; 32]]);
        assert_eq!(c.max_escrows_per_subject, 1000);
        assert_eq!(c.attestations_per_minute, 60);
        assert_eq!(c.max_connections, 1024);
    }

    #[test]
    fn admission_keys_are_required() {
        let e = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(e.var, "AILERON_ENCLAVE_ADMISSION_KEYS");
    }

    #[test]
    fn private_destinations_are_refused_in_confidential_space() {
        let e = config(&[
            ("AILERON_TEE_PROVIDER", "confidential-space"),
            (DANGEROUS_PRIVATE_VAR, "true"),
        ])
        .unwrap_err();
        assert_eq!(e.var, DANGEROUS_PRIVATE_VAR);
        let local = config(&[(DANGEROUS_PRIVATE_VAR, "true")]).unwrap();
        assert!(local.destinations.allows_private());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("AILERON_TEE_PROVIDER", "sgx"),
            ("AILERON_ENCLAVE_PORT", "99999"),
            ("AILERON_ENCLAVE_BIND", "localhost:1"),
            ("AILERON_ATTESTATION_TOKEN_TYPE", "pki"),
            ("AILERON_ESCROW_TTL", "forever"),
            ("AILERON_ESCROW_TTL", "0s"),
            ("AILERON_ENCLAVE_MAX_ESCROWS", "0"),
            ("AILERON_ENCLAVE_MAX_SECRET_BYTES", "-1"),
            ("AILERON_ENCLAVE_ADMISSION_KEYS", "not-a-key"),
            ("AILERON_ENCLAVE_ADMISSION_KEYS", ","),
            ("AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE", "0"),
            ("AILERON_ENCLAVE_MAX_CONNECTIONS", "0"),
            (DANGEROUS_PRIVATE_VAR, "yes"),
        ] {
            let e = config(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{value}");
            assert!(e.to_string().starts_with(var));
        }
    }
}
