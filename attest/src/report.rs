//! The structured verification report: every check by name, with its outcome.

use std::fmt;

use serde::Serialize;

/// One check the verifier performs. The `as_str` names are stable: scripts match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The token is at most [`crate::MAX_TOKEN_BYTES`] long.
    Size,
    /// Three base64url segments; header and claims are JSON objects without duplicate keys.
    Format,
    /// Only `alg`, `typ`, `kid` and `x5c` are present; no `crit`, `jku`, `x5u`, `jwk`.
    Header,
    /// `alg` is `RS256`, the only algorithm the verifier accepts.
    Algorithm,
    /// The signing key was found: an `x5c` chain to the pinned root, or a JWKS `kid`.
    Key,
    /// Each certificate of the chain is valid now and signed by the next; it ends at the pinned root.
    Chain,
    /// The RS256 signature over the token verifies with the signing key.
    Signature,
    /// Every claim the checks need is present with its JSON type.
    Claims,
    /// `iss` is the policy's issuer.
    Issuer,
    /// `aud` is the policy's audience.
    Audience,
    /// `exp` is in the future (with leeway).
    Expiry,
    /// `nbf` is in the past (with leeway).
    NotBefore,
    /// `iat` is not in the future (with leeway).
    IssuedAt,
    /// `eat_nonce` contains every nonce the caller requires.
    Nonce,
    /// `swname` is `CONFIDENTIAL_SPACE`.
    Swname,
    /// `secboot` is `true`.
    Secboot,
    /// `dbgstat` is `disabled-since-boot`, unless the policy allows debug images.
    Dbgstat,
    /// `hwmodel` is in the policy's allowed set.
    Hwmodel,
    /// `submods.container.image_digest` is an allowed digest.
    ImageDigest,
    /// `submods.gce.project_id` is an allowed project, when the policy names projects.
    ProjectId,
    /// Every required support attribute is present.
    SupportAttributes,
    /// The container was not started with a dangerous setting (an `AILERON_DANGEROUS_*`
    /// variable turned on), unless the policy sets `allow_dangerous_settings`.
    Environment,
}

impl Check {
    /// Every check, in the order the verifier runs them.
    pub const ALL: [Check; 22] = [
        Check::Size,
        Check::Format,
        Check::Header,
        Check::Algorithm,
        Check::Key,
        Check::Chain,
        Check::Signature,
        Check::Claims,
        Check::Issuer,
        Check::Audience,
        Check::Expiry,
        Check::NotBefore,
        Check::IssuedAt,
        Check::Nonce,
        Check::Swname,
        Check::Secboot,
        Check::Dbgstat,
        Check::Hwmodel,
        Check::ImageDigest,
        Check::ProjectId,
        Check::SupportAttributes,
        Check::Environment,
    ];

    /// The stable name of the check.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Size => "size",
            Check::Format => "format",
            Check::Header => "header",
            Check::Algorithm => "algorithm",
            Check::Key => "key",
            Check::Chain => "chain",
            Check::Signature => "signature",
            Check::Claims => "claims",
            Check::Issuer => "issuer",
            Check::Audience => "audience",
            Check::Expiry => "expiry",
            Check::NotBefore => "not_before",
            Check::IssuedAt => "issued_at",
            Check::Nonce => "nonce",
            Check::Swname => "swname",
            Check::Secboot => "secboot",
            Check::Dbgstat => "dbgstat",
            Check::Hwmodel => "hwmodel",
            Check::ImageDigest => "image_digest",
            Check::ProjectId => "project_id",
            Check::SupportAttributes => "support_attributes",
            Check::Environment => "environment",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What became of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// The check ran and held.
    Passed,
    /// The check ran and failed, for the reason given.
    Failed(String),
    /// The policy does not ask for this check (e.g. no `project_ids`).
    NotRequired,
    /// The check could not run because an earlier one failed.
    NotRun,
}

/// Every check with its outcome, in the order they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    entries: Vec<(Check, Outcome)>,
}

impl Report {
    pub(crate) fn new() -> Self {
        Report {
            entries: Vec::with_capacity(Check::ALL.len()),
        }
    }

    pub(crate) fn record(&mut self, check: Check, outcome: Outcome) {
        self.entries.push((check, outcome));
    }

    pub(crate) fn pass(&mut self, check: Check) {
        self.record(check, Outcome::Passed);
    }

    /// Marks every check not yet recorded as not run.
    pub(crate) fn finish(mut self) -> Self {
        for check in Check::ALL {
            if self.outcome(check).is_none() {
                self.entries.push((check, Outcome::NotRun));
            }
        }
        self
    }

    /// The outcome of `check`, if it was recorded.
    pub fn outcome(&self, check: Check) -> Option<&Outcome> {
        self.entries
            .iter()
            .find(|(c, _)| *c == check)
            .map(|(_, outcome)| outcome)
    }

    /// The entries in the order they ran.
    pub fn entries(&self) -> &[(Check, Outcome)] {
        &self.entries
    }

    /// The first failed check and its reason.
    pub fn first_failure(&self) -> Option<(Check, &str)> {
        self.entries
            .iter()
            .find_map(|(check, outcome)| match outcome {
                Outcome::Failed(detail) => Some((*check, detail.as_str())),
                _ => None,
            })
    }
}

/// Why a token was rejected: the first failed check, its reason, and the full report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{check}: {detail}")]
pub struct Rejection {
    /// The first check that failed.
    pub check: Check,
    /// A one-line human reason.
    pub detail: String,
    /// Every check with its outcome.
    pub report: Report,
}

impl Rejection {
    pub(crate) fn from_step((check, detail): (Check, String)) -> Self {
        let mut report = Report::new();
        report.record(check, Outcome::Failed(detail));
        Rejection::from_report(report)
    }

    pub(crate) fn from_report(report: Report) -> Self {
        let report = report.finish();
        let (check, detail) = match report.first_failure() {
            Some((check, detail)) => (check, detail.to_owned()),
            // Unreachable by construction (callers only reject after recording a failure), but a
            // verifier must never turn "no failure recorded" into acceptance: reject anyway.
            None => (Check::Format, "verification did not complete".to_owned()),
        };
        Rejection {
            check,
            detail,
            report,
        }
    }
}
