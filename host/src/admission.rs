//! The admission tickets the host signs for its enclave (see `aileron_sdk::admission`): one per
//! escrow a user creates, naming the user and their quota, and one for the host's own
//! attestation requests. The key is derived from `AILERON_JWT_SIGNING_KEY`; its public half is
//! what an enclave is configured with (`aileron-server admission-key` prints it).

use aileron_sdk::admission::AdmissionSigner;
use secrecy::SecretString;

use crate::config::Quotas;
use crate::error::Error;
use crate::ids::UserId;
use crate::keys::{self, Purpose};

/// The subject of the host's own tickets (attestation only: it holds no escrow slots).
pub const HOST_SUBJECT: &str = "aileron-host";

/// Signs admission tickets.
pub struct HostAdmission {
    signer: AdmissionSigner,
    audience: String,
    quotas: Quotas,
}

/// Tickets are checked by the enclave against its own clock, so they carry real time (not the
/// host's injectable clock, which tests move forward).
fn wall_clock() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl HostAdmission {
    /// The host's signer, derived from its signing key, for tickets to `audience`.
    pub fn derive(
        signing_key: &[u8],
        audience: &str,
        quotas: Quotas,
    ) -> Result<HostAdmission, Error> {
        let seed = keys::derive(signing_key, Purpose::Admission);
        let signer = AdmissionSigner::from_seed(seed.expose())
            .map_err(|e| Error::Internal(e.to_string()))?;
        Ok(HostAdmission {
            signer,
            audience: audience.to_owned(),
            quotas,
        })
    }

    /// The public key to configure the enclave with (`AILERON_ENCLAVE_ADMISSION_KEYS`).
    pub fn public_key(&self) -> String {
        self.signer.public_key()
    }

    /// A ticket admitting `user`'s escrows, up to their quota.
    pub fn for_user(&self, user: &UserId) -> Result<SecretString, Error> {
        self.signer
            .sign(
                &self.audience,
                user.as_str(),
                self.quotas.enclave_slots(),
                wall_clock(),
            )
            .map(SecretString::from)
            .map_err(|e| Error::Internal(e.to_string()))
    }

    /// A ticket for the host's own attestation requests.
    pub fn for_host(&self) -> Option<String> {
        self.signer
            .sign(&self.audience, HOST_SUBJECT, 0, wall_clock())
            .ok()
    }
}
