//! The attestation policy: what a token must prove. TOML, parsed strictly.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Google's Confidential Space token issuer.
pub const GOOGLE_ISSUER: &str = "https://confidentialcomputing.googleapis.com";
/// The issuer of the local development issuer ([`crate::LocalIssuer`]).
pub const LOCAL_ISSUER: &str = "https://aileron.local/attestation";
/// The hardware model the local issuer claims.
pub const LOCAL_HWMODEL: &str = "LOCAL_INSECURE";
/// Default leeway on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 60;
/// Upper bound on the leeway a policy may ask for.
pub const MAX_LEEWAY_SECONDS: u64 = 3600;
/// Hardware models accepted unless the policy says otherwise.
pub const DEFAULT_HWMODELS: [&str; 3] = ["GCP_AMD_SEV", "GCP_AMD_SEV_ES", "GCP_INTEL_TDX"];

/// Why a policy was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    #[error("invalid policy: {0}")]
    Syntax(String),
    /// A key with a value outside what it accepts.
    #[error("invalid policy: `{key}` {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    audience: String,
    image_digests: Vec<String>,
    project_ids: Option<Vec<String>>,
    hwmodels: Option<Vec<String>>,
    support_attributes: Option<Vec<String>>,
    allow_debug: Option<bool>,
    leeway_seconds: Option<u64>,
    issuer: Option<String>,
    allow_dangerous_settings: Option<bool>,
}

/// A validated attestation policy. Build it with [`Policy::from_toml_str`], [`Policy::load`],
/// [`Policy::production`] or [`Policy::local`]; every instance holds valid values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    audience: String,
    image_digests: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_ids: Option<Vec<String>>,
    hwmodels: Vec<String>,
    support_attributes: Vec<String>,
    allow_debug: bool,
    leeway_seconds: u64,
    issuer: String,
    allow_dangerous_settings: bool,
}

/// Environment variables whose name starts with this are dangerous development settings of an
/// Aileron enclave (e.g. `AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS`): a token showing one turned
/// on is refused unless the policy sets `allow_dangerous_settings`.
pub const DANGEROUS_ENV_PREFIX: &str = "AILERON_DANGEROUS_";

impl Policy {
    /// Parses a TOML policy. Unknown keys are errors.
    pub fn from_toml_str(text: &str) -> Result<Policy, PolicyError> {
        let raw: RawPolicy =
            toml::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        Policy::try_from(raw)
    }

    /// Reads and parses a TOML policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Policy::from_toml_str(&text)
    }

    /// A production policy: Google's issuer, debug refused, `STABLE` support required.
    pub fn production(
        audience: &str,
        image_digests: Vec<String>,
        project_ids: Option<Vec<String>>,
    ) -> Result<Policy, PolicyError> {
        Policy::try_from(RawPolicy {
            audience: audience.to_owned(),
            image_digests,
            project_ids,
            hwmodels: None,
            support_attributes: Some(vec!["STABLE".to_owned()]),
            allow_debug: Some(false),
            leeway_seconds: None,
            issuer: None,
            allow_dangerous_settings: None,
        })
    }

    /// The policy for an enclave attested by the local development issuer: its issuer, its
    /// hardware model, debug allowed. Verification is otherwise identical.
    pub fn local(audience: &str, image_digests: Vec<String>) -> Result<Policy, PolicyError> {
        Policy::try_from(RawPolicy {
            audience: audience.to_owned(),
            image_digests,
            project_ids: None,
            hwmodels: Some(vec![LOCAL_HWMODEL.to_owned()]),
            support_attributes: None,
            allow_debug: Some(true),
            leeway_seconds: None,
            issuer: Some(LOCAL_ISSUER.to_owned()),
            allow_dangerous_settings: None,
        })
    }

    /// This policy, also accepting an enclave started with dangerous development settings
    /// (private upstreams). Development and tests only; never a default.
    pub fn dangerous_allowing_development_settings(mut self) -> Policy {
        self.allow_dangerous_settings = true;
        self
    }

    /// The policy as TOML, in the file format [`Policy::from_toml_str`] reads.
    pub fn to_toml(&self) -> String {
        // Serializing plain strings, arrays, bools and integers cannot fail.
        toml::to_string(self).unwrap_or_default()
    }

    /// The audience the token must name.
    pub fn audience(&self) -> &str {
        &self.audience
    }
    /// Allowed image digests.
    pub fn image_digests(&self) -> &[String] {
        &self.image_digests
    }
    /// Allowed GCP projects, when checked.
    pub fn project_ids(&self) -> Option<&[String]> {
        self.project_ids.as_deref()
    }
    /// Allowed hardware models.
    pub fn hwmodels(&self) -> &[String] {
        &self.hwmodels
    }
    /// Required support attributes.
    pub fn support_attributes(&self) -> &[String] {
        &self.support_attributes
    }
    /// Whether debug images are accepted.
    pub fn allow_debug(&self) -> bool {
        self.allow_debug
    }
    /// Leeway on time claims, in seconds.
    pub fn leeway_seconds(&self) -> u64 {
        self.leeway_seconds
    }
    /// The issuer the token must name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// Whether enclaves started with dangerous development settings are accepted.
    pub fn allow_dangerous_settings(&self) -> bool {
        self.allow_dangerous_settings
    }
}

impl TryFrom<RawPolicy> for Policy {
    type Error = PolicyError;

    fn try_from(raw: RawPolicy) -> Result<Policy, PolicyError> {
        let invalid = |key, reason: &str| PolicyError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        if raw.audience.trim().is_empty() {
            return Err(invalid("audience", "must not be empty"));
        }
        if raw.image_digests.is_empty() {
            return Err(invalid("image_digests", "must name at least one digest"));
        }
        if let Some(bad) = raw.image_digests.iter().find(|d| !is_sha256_digest(d)) {
            return Err(PolicyError::Invalid {
                key: "image_digests",
                reason: format!(
                    "entry {bad:?} is not `sha256:` followed by 64 lowercase hex digits"
                ),
            });
        }
        if let Some(projects) = &raw.project_ids
            && (projects.is_empty() || projects.iter().any(|p| p.trim().is_empty()))
        {
            return Err(invalid(
                "project_ids",
                "must be absent (not checked) or list non-empty project ids",
            ));
        }
        let hwmodels = raw
            .hwmodels
            .unwrap_or_else(|| DEFAULT_HWMODELS.iter().map(|s| (*s).to_owned()).collect());
        if hwmodels.is_empty() {
            return Err(invalid("hwmodels", "must name at least one hardware model"));
        }
        let leeway_seconds = raw.leeway_seconds.unwrap_or(DEFAULT_LEEWAY_SECONDS);
        if leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(PolicyError::Invalid {
                key: "leeway_seconds",
                reason: format!("must be at most {MAX_LEEWAY_SECONDS}"),
            });
        }
        let issuer = raw.issuer.unwrap_or_else(|| GOOGLE_ISSUER.to_owned());
        if issuer != GOOGLE_ISSUER && issuer != LOCAL_ISSUER {
            return Err(PolicyError::Invalid {
                key: "issuer",
                reason: format!("must be {GOOGLE_ISSUER} or, for local mode, {LOCAL_ISSUER}"),
            });
        }
        Ok(Policy {
            audience: raw.audience,
            image_digests: raw.image_digests,
            project_ids: raw.project_ids,
            hwmodels,
            support_attributes: raw.support_attributes.unwrap_or_default(),
            allow_debug: raw.allow_debug.unwrap_or(false),
            leeway_seconds,
            issuer,
            allow_dangerous_settings: raw.allow_dangerous_settings.unwrap_or(false),
        })
    }
}

/// `sha256:` followed by 64 lowercase hex digits.
pub fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:e2e5e3672f416ac9ca71aa639abf86db0b713729a48c125a925af6c808b20b5d";

    fn minimal() -> String {
        format!("audience = \"aud\"\nimage_digests = [\"{DIGEST}\"]\n")
    }

    #[test]
    fn from_toml_str_applies_the_documented_defaults() {
        let p = Policy::from_toml_str(&minimal()).unwrap();
        assert_eq!(p.issuer(), GOOGLE_ISSUER);
        assert_eq!(p.hwmodels(), DEFAULT_HWMODELS);
        assert_eq!(p.leeway_seconds(), 60);
        assert!(!p.allow_debug());
        assert!(p.support_attributes().is_empty());
        assert_eq!(p.project_ids(), None);
    }

    #[test]
    fn from_toml_str_rejects_an_unknown_key() {
        let err =
            Policy::from_toml_str(&format!("{}allow_debugg = true\n", minimal())).unwrap_err();
        assert!(
            matches!(&err, PolicyError::Syntax(m) if m.contains("allow_debugg")),
            "{err}"
        );
    }

    #[test]
    fn from_toml_str_requires_audience_and_digests() {
        let err = Policy::from_toml_str(&format!("image_digests = [\"{DIGEST}\"]")).unwrap_err();
        assert!(matches!(err, PolicyError::Syntax(_)));
        let err = Policy::from_toml_str("audience = \"a\"\nimage_digests = []").unwrap_err();
        assert!(matches!(
            err,
            PolicyError::Invalid {
                key: "image_digests",
                ..
            }
        ));
        let err = Policy::from_toml_str(&minimal().replace("\"aud\"", "\" \"")).unwrap_err();
        assert!(matches!(
            err,
            PolicyError::Invalid {
                key: "audience",
                ..
            }
        ));
    }

    #[test]
    fn from_toml_str_rejects_malformed_values() {
        let cases = [
            ("image_digests = [\"sha256:XYZ\"]", "image_digests"),
            ("project_ids = []", "project_ids"),
            ("hwmodels = []", "hwmodels"),
            ("leeway_seconds = 100000", "leeway_seconds"),
            ("issuer = \"https://evil.example\"", "issuer"),
        ];
        for (line, key) in cases {
            let text = if line.starts_with("image_digests") {
                format!("audience = \"a\"\n{line}\n")
            } else {
                format!("{}{line}\n", minimal())
            };
            match Policy::from_toml_str(&text) {
                Err(PolicyError::Invalid { key: k, .. }) => assert_eq!(k, key, "{line}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        let err = Policy::from_toml_str(&format!("{}allow_debug = \"yes\"\n", minimal()));
        assert!(matches!(err, Err(PolicyError::Syntax(_))));
    }

    #[test]
    fn production_policy_round_trips_through_toml() {
        let p = Policy::production("aud", vec![DIGEST.into()], Some(vec!["proj".into()])).unwrap();
        assert_eq!(p.support_attributes(), ["STABLE"]);
        assert_eq!(Policy::from_toml_str(&p.to_toml()).unwrap(), p);
    }
}
