//! Typed Confidential Space claims, as Google's tokens carry them (see the test vectors).

use serde::{Deserialize, Serialize};

/// A claim that is one string or an array of strings (`aud`, `eat_nonce`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single string.
    One(String),
    /// An array of strings.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values as a slice.
    pub fn as_slice(&self) -> &[String] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }

    /// Whether `value` is one of the values.
    pub fn contains(&self, value: &str) -> bool {
        self.as_slice().iter().any(|v| v == value)
    }
}

/// The claims of a Confidential Space attestation token that the verifier checks and callers
/// use. Unknown claims are kept in [`crate::VerifiedAttestation::raw_claims`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: OneOrMany,
    /// Subject: the VM instance.
    #[serde(default)]
    pub sub: Option<String>,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Not before (Unix seconds).
    pub nbf: u64,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// The nonces the token was requested with.
    pub eat_nonce: OneOrMany,
    /// Software name: `CONFIDENTIAL_SPACE`.
    pub swname: String,
    /// Confidential Space image versions, `YYMMNN`.
    #[serde(default)]
    pub swversion: Vec<String>,
    /// Secure boot was on.
    pub secboot: bool,
    /// Debug status: `disabled-since-boot` for production images.
    pub dbgstat: String,
    /// Hardware model, e.g. `GCP_INTEL_TDX`.
    pub hwmodel: String,
    /// Sub-modules: the container, the VM and Confidential Space itself.
    pub submods: Submods,
}

/// `submods`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submods {
    /// The workload container.
    pub container: Container,
    /// The Compute Engine VM, when the token names it.
    #[serde(default)]
    pub gce: Option<Gce>,
    /// Confidential Space attributes.
    #[serde(default)]
    pub confidential_space: Option<ConfidentialSpace>,
}

/// `submods.container`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Container {
    /// `sha256:` digest of the image that runs.
    pub image_digest: String,
    /// The reference the image was pulled by.
    #[serde(default)]
    pub image_reference: Option<String>,
    /// Image id.
    #[serde(default)]
    pub image_id: Option<String>,
    /// Restart policy.
    #[serde(default)]
    pub restart_policy: Option<String>,
    /// The container's environment variables (the image's and the operator's overrides).
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    /// The variables the operator set at launch (`tee-env-*`), when the token lists them apart.
    #[serde(default)]
    pub env_override: std::collections::BTreeMap<String, String>,
}

/// `submods.gce`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gce {
    /// Project id.
    pub project_id: String,
    /// Project number.
    #[serde(default)]
    pub project_number: Option<String>,
    /// Zone.
    #[serde(default)]
    pub zone: Option<String>,
    /// Instance name.
    #[serde(default)]
    pub instance_name: Option<String>,
    /// Instance id.
    #[serde(default)]
    pub instance_id: Option<String>,
}

/// `submods.confidential_space`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfidentialSpace {
    /// Support attributes of the image, e.g. `STABLE`.
    #[serde(default)]
    pub support_attributes: Vec<String>,
}

impl Claims {
    /// Types the claims from their JSON bytes; a missing claim or a claim of the wrong JSON
    /// type is an error. (Duplicate keys are refused before this, by [`crate::json`].)
    pub(crate) fn from_slice(bytes: &[u8]) -> Result<Claims, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }

    /// The support attributes, empty when the token has none.
    pub fn support_attributes(&self) -> &[String] {
        self.submods
            .confidential_space
            .as_ref()
            .map_or(&[], |cs| cs.support_attributes.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"iss":"i","aud":"a","iat":1,"nbf":1,"exp":2,"eat_nonce":["n1","n2"],
        "swname":"CONFIDENTIAL_SPACE","secboot":true,"dbgstat":"disabled-since-boot",
        "hwmodel":"GCP_INTEL_TDX","submods":{"container":{"image_digest":"sha256:00"}}}"#;

    fn typed(json: &str) -> Result<Claims, String> {
        Claims::from_slice(json.as_bytes())
    }

    #[test]
    fn from_map_types_a_minimal_token() {
        let claims = typed(MINIMAL).unwrap();
        assert!(claims.eat_nonce.contains("n2"));
        assert!(claims.aud.contains("a"));
        assert!(claims.support_attributes().is_empty());
    }

    #[test]
    fn from_map_rejects_numeric_claim_given_as_string() {
        let err = typed(&MINIMAL.replace(r#""exp":2"#, r#""exp":"2""#)).unwrap_err();
        assert!(err.contains("invalid type"), "{err}");
    }

    #[test]
    fn from_map_rejects_fractional_and_negative_times() {
        assert!(typed(&MINIMAL.replace(r#""exp":2"#, r#""exp":2.5"#)).is_err());
        assert!(typed(&MINIMAL.replace(r#""iat":1"#, r#""iat":-1"#)).is_err());
    }

    #[test]
    fn from_map_rejects_boolean_claim_given_as_string() {
        assert!(typed(&MINIMAL.replace(r#""secboot":true"#, r#""secboot":"true""#)).is_err());
    }

    #[test]
    fn from_map_names_a_missing_claim() {
        let err = typed(&MINIMAL.replace(r#""swname":"CONFIDENTIAL_SPACE","#, "")).unwrap_err();
        assert!(err.contains("swname"), "{err}");
    }
}
