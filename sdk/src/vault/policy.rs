//! A credential's policy: how the secret is presented and where it may be used. Not secret, so
//! the host stores it in the clear (and checks it), but it is bound into the credential's
//! ciphertext by hash, exactly as stored: a host that widens it is caught by the client.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::wire::{AllowRule, Inject, Scope};

/// How the secret is presented upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `Authorization: Bearer <secret>` (or another header, same format).
    Bearer,
    /// A header of the owner's choice, with a `{secret}` template.
    Header,
    /// `Authorization: Basic base64(username ":" secret)`.
    Basic,
}

impl Kind {
    /// The name used in policies.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Bearer => "bearer",
            Kind::Header => "header",
            Kind::Basic => "basic",
        }
    }
}

/// The policy of a vault credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialPolicy {
    /// How the secret is presented.
    pub kind: Kind,
    /// Where it goes (header, template, and for Basic the user name).
    pub inject: Inject,
    /// Allowed requests (DESIGN §4).
    pub allow: Vec<AllowRule>,
    /// Use limit per escrow; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
}

impl CredentialPolicy {
    /// A bearer token in `header` (default `Authorization`).
    pub fn bearer(allow: Vec<AllowRule>, header: Option<String>) -> CredentialPolicy {
        CredentialPolicy {
            kind: Kind::Bearer,
            inject: match header {
                Some(header) => Inject {
                    header,
                    ..Inject::bearer()
                },
                None => Inject::bearer(),
            },
            allow,
            max_uses: None,
        }
    }

    /// A secret in `header`, formatted by `format` (default `{secret}`).
    pub fn header(
        allow: Vec<AllowRule>,
        header: String,
        format: Option<String>,
    ) -> CredentialPolicy {
        CredentialPolicy {
            kind: Kind::Header,
            inject: Inject {
                header,
                format: format.unwrap_or_else(|| "{secret}".into()),
                username: None,
            },
            allow,
            max_uses: None,
        }
    }

    /// HTTP Basic for `username` (the secret is the password).
    pub fn basic(allow: Vec<AllowRule>, username: String) -> CredentialPolicy {
        CredentialPolicy {
            kind: Kind::Basic,
            inject: Inject::basic(username),
            allow,
            max_uses: None,
        }
    }

    /// Whether the injection matches the kind (the host refuses a policy where it does not).
    pub fn consistent(&self) -> Result<(), &'static str> {
        match self.kind {
            Kind::Bearer if self.inject.format != "Bearer {secret}" => {
                Err("a bearer credential's format is `Bearer {secret}`")
            }
            Kind::Bearer | Kind::Header if self.inject.username.is_some() => {
                Err("only basic credentials take a username")
            }
            Kind::Basic if self.inject.username.is_none() => {
                Err("a basic credential needs inject.username")
            }
            Kind::Basic if self.inject.format != "Basic {secret}" => {
                Err("a basic credential's format is `Basic {secret}`")
            }
            _ => Ok(()),
        }
    }

    /// The JSON bytes that are stored and bound (produced once, by the client).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain strings, arrays and integers always serialize.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The escrow scope for this policy, expiring at `expires_at`.
    pub fn scope(&self, expires_at: OffsetDateTime) -> Scope {
        Scope {
            allow: self.allow.clone(),
            inject: self.inject.clone(),
            expires_at,
            max_uses: self.max_uses,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<AllowRule> {
        vec![AllowRule {
            methods: vec!["GET".into()],
            url_prefix: "https://api.example.com/".into(),
        }]
    }

    #[test]
    fn built_policies_are_consistent_and_round_trip_byte_for_byte() {
        for policy in [
            CredentialPolicy::bearer(rules(), None),
            CredentialPolicy::header(rules(), "X-Api-Key".into(), None),
            CredentialPolicy::basic(rules(), "alice".into()),
        ] {
            policy.consistent().unwrap();
            let bytes = policy.to_bytes();
            let back: CredentialPolicy = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back, policy);
            assert_eq!(back.to_bytes(), bytes);
        }
    }

    #[test]
    fn inconsistent_policies_are_named() {
        let mut p = CredentialPolicy::bearer(rules(), None);
        p.inject.format = "{secret}".into();
        assert!(p.consistent().is_err());
        let mut p = CredentialPolicy::basic(rules(), "a".into());
        p.inject.username = None;
        assert!(p.consistent().is_err());
        let mut p = CredentialPolicy::header(rules(), "X".into(), None);
        p.inject.username = Some("a".into());
        assert!(p.consistent().is_err());
        assert!(
            serde_json::from_str::<CredentialPolicy>(
                r#"{"kind":"bearer","inject":{"header":"a","format":"b"},"allow":[],"secret":"x"}"#
            )
            .is_err()
        );
    }
}
