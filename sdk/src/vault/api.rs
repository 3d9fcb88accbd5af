//! The server's vault API (docs/vault.md, "API"), as [`HostClient`] methods. Everything sent here
//! is already ciphertext, a hash, or a proof; [`super::client`] produces it.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::host::HostClient;
use crate::wire::EscrowRequest;

/// The KDF of a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kdf {
    /// `argon2id`.
    pub algorithm: String,
    /// 19.
    pub version: u32,
    /// base64url of 16 bytes.
    pub salt: String,
    /// Memory, KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

/// `GET /v1/vault`.
#[derive(Debug, Clone, Deserialize)]
pub struct VaultInfo {
    /// 1.
    pub format: u32,
    /// How the passphrase is stretched.
    pub kdf: Kdf,
    /// base64url of the wrapped vault key.
    pub wrapped_key: String,
    /// `enclave` or `server` (server-trust mode).
    pub trust: String,
    /// The longest escrow the server accepts.
    pub escrow_ttl_secs: i64,
    /// How long a server-trust session lasts.
    pub session_ttl_secs: i64,
    /// Server-trust mode: the end of the open session (Unix seconds).
    pub unlocked_until: Option<i64>,
}

/// A credential as the server stores it.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredCredential {
    /// The client-chosen id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `bearer`, `header` or `basic`.
    pub kind: String,
    /// The policy JSON, verbatim.
    pub policy: String,
    /// Its version.
    pub version: i64,
    /// base64url of the envelope of the secret.
    pub ciphertext: String,
    /// Its escrow, if any.
    #[serde(default)]
    pub escrow: Option<EscrowState>,
}

/// A credential's escrow as the server indexes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EscrowState {
    /// The enclave's id for it.
    pub escrow_id: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// `active`, `expired` or `lost`.
    pub status: String,
}

#[derive(Serialize)]
pub(crate) struct NewVault<'a> {
    pub format: u32,
    pub kdf: &'a Kdf,
    pub wrapped_key: &'a str,
    pub verifier: &'a str,
}

#[derive(Serialize)]
pub(crate) struct Rewrap<'a> {
    pub verifier: &'a str,
    pub kdf: &'a Kdf,
    pub wrapped_key: &'a str,
}

#[derive(Serialize)]
pub(crate) struct NewCredential<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub policy: &'a str,
    pub ciphertext: &'a str,
}

#[derive(Serialize)]
struct Proof<'a> {
    verifier: &'a str,
}

#[derive(Serialize)]
struct SessionRequest<'a> {
    verifier: &'a str,
    credential_key: &'a str,
}

/// `GET /v1/users/me`, the part a vault needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    /// The user's id (bound into the vault's ciphertexts).
    pub id: String,
    /// The email address.
    pub email: String,
}

fn segment(name: &str) -> String {
    crate::host::segment(name)
}

impl HostClient {
    /// The signed-in user.
    pub async fn me(&self) -> Result<Me, Error> {
        self.call::<(), _>(reqwest::Method::GET, "/v1/users/me", None)
            .await
    }

    /// The vault's KDF, wrapped key and the server's trust mode.
    pub async fn vault(&self) -> Result<VaultInfo, Error> {
        self.call::<(), _>(reqwest::Method::GET, "/v1/vault", None)
            .await
    }

    pub(crate) async fn create_vault(&self, body: &NewVault<'_>) -> Result<(), Error> {
        self.call::<_, serde_json::Value>(reqwest::Method::PUT, "/v1/vault", Some(body))
            .await
            .map(|_| ())
    }

    pub(crate) async fn rewrap_vault(&self, body: &Rewrap<'_>) -> Result<(), Error> {
        self.call::<_, serde_json::Value>(reqwest::Method::POST, "/v1/vault/passphrase", Some(body))
            .await
            .map(|_| ())
    }

    /// Deletes the vault, every credential and their escrows (`verifier`: base64url).
    pub async fn delete_vault(&self, verifier: &SecretString) -> Result<(), Error> {
        let body = Proof {
            verifier: verifier.expose_secret(),
        };
        self.call::<_, serde_json::Value>(reqwest::Method::DELETE, "/v1/vault", Some(&body))
            .await
            .map(|_| ())
    }

    pub(crate) async fn open_session(
        &self,
        verifier: &str,
        credential_key: &str,
    ) -> Result<i64, Error> {
        #[derive(Deserialize)]
        struct Opened {
            expires_at: i64,
        }
        let body = SessionRequest {
            verifier,
            credential_key,
        };
        let opened: Opened = self
            .call(reqwest::Method::POST, "/v1/vault/session", Some(&body))
            .await?;
        Ok(opened.expires_at)
    }

    /// Locks the vault: every credential escrow is revoked (a server-trust session ends).
    pub async fn lock_vault(&self) -> Result<serde_json::Value, Error> {
        self.call::<(), _>(reqwest::Method::POST, "/v1/vault/lock", None)
            .await
    }

    /// The vault's credentials: policies and ciphertexts.
    pub async fn credentials(&self) -> Result<Vec<StoredCredential>, Error> {
        self.call::<(), _>(reqwest::Method::GET, "/v1/credentials", None)
            .await
    }

    pub(crate) async fn store_credential(
        &self,
        body: &NewCredential<'_>,
    ) -> Result<StoredCredential, Error> {
        self.call(reqwest::Method::POST, "/v1/credentials", Some(body))
            .await
    }

    /// Deletes a credential (and revokes its escrow).
    pub async fn remove_credential(&self, name: &str) -> Result<(), Error> {
        let path = format!("/v1/credentials/{}", segment(name));
        self.call::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    pub(crate) async fn escrow_credential(
        &self,
        name: &str,
        body: &EscrowRequest,
    ) -> Result<EscrowState, Error> {
        let path = format!("/v1/credentials/{}/escrow", segment(name));
        self.call(reqwest::Method::POST, &path, Some(body)).await
    }
}
