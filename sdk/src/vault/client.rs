//! The vault's client side, end to end: make a vault, open it with the passphrase (here, never on
//! the server), add credentials encrypted here, and unlock (escrow every credential into the
//! attested enclave, or in server-trust mode hand the server the credential key, and say so).

use std::sync::Arc;

use aileron_attest::{Policy, Verifier};
use secrecy::SecretString;
use zeroize::Zeroizing;

use super::api::{Kdf, NewCredential, NewVault, Rewrap, StoredCredential, VaultInfo};
use super::format::{self, Binding, KdfParams, Key, VaultError};
use super::policy::CredentialPolicy;
use crate::error::Error;
use crate::host::HostClient;
use crate::wire;

fn kdf_of(params: KdfParams, salt: &[u8]) -> Kdf {
    Kdf {
        algorithm: "argon2id".into(),
        version: 19,
        salt: wire::b64u(salt),
        m_cost_kib: params.m_cost_kib,
        t_cost: params.t_cost,
        p_cost: params.p_cost,
    }
}

/// Checks a served KDF before any work: the algorithm, and the parameters within the floor and
/// ceiling (a server cannot weaken the passphrase or make the client allocate gigabytes).
fn params_of(kdf: &Kdf) -> Result<(KdfParams, Vec<u8>), Error> {
    if kdf.algorithm != "argon2id" || kdf.version != 19 {
        return Err(Error::Vault(VaultError::Parameters(format!(
            "{} version {} is not Argon2id v1.3",
            kdf.algorithm, kdf.version
        ))));
    }
    let params = KdfParams {
        m_cost_kib: kdf.m_cost_kib,
        t_cost: kdf.t_cost,
        p_cost: kdf.p_cost,
    }
    .checked()?;
    let salt = wire::from_b64u(&kdf.salt).ok_or(VaultError::Malformed("salt"))?;
    Ok((params, salt))
}

/// Argon2id off the async runtime.
async fn stretch(passphrase: SecretString, salt: Vec<u8>, params: KdfParams) -> Result<Key, Error> {
    tokio::task::spawn_blocking(move || format::derive_kek(&passphrase, &salt, params))
        .await
        .map_err(|e| Error::Invalid(e.to_string()))?
        .map_err(Error::from)
}

/// Makes a vault for the signed-in user under `passphrase` (the caller checks its strength).
pub async fn create(host: &HostClient, passphrase: SecretString) -> Result<(), Error> {
    let me = host.me().await?;
    let salt = format::new_salt()?;
    let params = KdfParams::DEFAULT;
    let kek = stretch(passphrase, salt.to_vec(), params).await?;
    let vault_key = Key::generate()?;
    let wrapped = wire::b64u(&format::wrap(&kek, &vault_key, &me.id)?);
    let verifier = Zeroizing::new(wire::b64u(format::verifier(&vault_key).expose()));
    let kdf = kdf_of(params, &salt);
    host.create_vault(&NewVault {
        format: format::FORMAT,
        kdf: &kdf,
        wrapped_key: &wrapped,
        verifier: &verifier,
    })
    .await
}

/// A vault opened on this machine.
pub struct Opened {
    user_id: String,
    vault_key: Key,
    info: VaultInfo,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("user_id", &self.user_id)
            .field("trust", &self.info.trust)
            .finish_non_exhaustive()
    }
}

/// Opens the vault with `passphrase`, here: a wrong passphrase is known without asking the
/// server anything beyond the vault's public material.
pub async fn open(host: &HostClient, passphrase: SecretString) -> Result<Opened, Error> {
    let me = host.me().await?;
    let info = host.vault().await?;
    if info.format != format::FORMAT {
        return Err(Error::Vault(VaultError::Malformed("unknown vault format")));
    }
    let (params, salt) = params_of(&info.kdf)?;
    let wrapped = wire::from_b64u(&info.wrapped_key).ok_or(VaultError::Malformed("wrapped key"))?;
    let kek = stretch(passphrase, salt, params).await?;
    let vault_key = format::unwrap(&kek, &wrapped, &me.id)?;
    Ok(Opened {
        user_id: me.id,
        vault_key,
        info,
    })
}

/// One credential, opened and checked.
pub struct OpenCredential {
    /// As stored.
    pub stored: StoredCredential,
    /// Its policy, parsed from the bytes its ciphertext is bound to.
    pub policy: CredentialPolicy,
    /// The secret.
    pub secret: Zeroizing<Vec<u8>>,
}

/// What unlocking did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unlocked {
    /// `enclave` or `server`.
    pub trust: String,
    /// Credentials escrowed into the enclave (enclave mode).
    pub escrowed: usize,
    /// When the escrows or the server-trust session end (Unix seconds).
    pub until: i64,
    /// What the server can read now, in words.
    pub statement: &'static str,
}

/// What the CLI and the UI say after a server-trust unlock.
pub const SERVER_TRUST: &str = "this server has no enclave: it now holds the key that opens your credentials and CAN READ them until the vault is locked or the session ends (server-trust mode)";
/// What they say after an enclave unlock.
pub const ENCLAVE_TRUST: &str = "every credential is sealed to the attested enclave; the server relays ciphertext it cannot open";

impl Opened {
    /// The server's vault information as served when it was opened.
    pub fn info(&self) -> &VaultInfo {
        &self.info
    }

    /// Encrypts and stores a credential; returns it as stored.
    pub async fn add_credential(
        &self,
        host: &HostClient,
        name: &str,
        policy: &CredentialPolicy,
        secret: &[u8],
    ) -> Result<StoredCredential, Error> {
        let id = uuid::Uuid::new_v4().hyphenated().to_string();
        let policy_bytes = policy.to_bytes();
        let binding = Binding {
            user_id: &self.user_id,
            credential_id: &id,
            version: 1,
            policy: &policy_bytes,
        };
        let key = format::credential_key(&self.vault_key);
        let sealed = format::seal_credential(&key, secret, &binding)?;
        let policy_text = String::from_utf8_lossy(&policy_bytes);
        host.store_credential(&NewCredential {
            id: &id,
            name,
            policy: &policy_text,
            ciphertext: &wire::b64u(&sealed),
        })
        .await
    }

    /// Every credential, opened, each checked against its binding. One the server altered
    /// (policy, version, ciphertext, or moved from another credential or user) is an error
    /// naming it: nothing is trusted then.
    pub async fn read_credentials(&self, host: &HostClient) -> Result<Vec<OpenCredential>, Error> {
        let key = format::credential_key(&self.vault_key);
        let mut opened = Vec::new();
        for stored in host.credentials().await? {
            opened.push(self.open_credential(&key, stored)?);
        }
        Ok(opened)
    }

    fn open_credential(
        &self,
        key: &Key,
        stored: StoredCredential,
    ) -> Result<OpenCredential, Error> {
        let tampered = || Error::Vault(VaultError::Tampered(stored.name.clone()));
        let version = u32::try_from(stored.version).map_err(|_| tampered())?;
        let sealed = wire::from_b64u(&stored.ciphertext).ok_or_else(tampered)?;
        let binding = Binding {
            user_id: &self.user_id,
            credential_id: &stored.id,
            version,
            policy: stored.policy.as_bytes(),
        };
        let secret = format::open_credential(key, &sealed, &binding, &stored.name)?;
        // The bytes are authentic (bound above); parse what they say.
        let policy: CredentialPolicy =
            serde_json::from_str(&stored.policy).map_err(|_| tampered())?;
        Ok(OpenCredential {
            stored,
            policy,
            secret,
        })
    }

    /// Changes the passphrase: the same vault key, wrapped under the new one.
    pub async fn change_passphrase(
        &self,
        host: &HostClient,
        new: SecretString,
    ) -> Result<(), Error> {
        let salt = format::new_salt()?;
        let params = KdfParams::DEFAULT;
        let kek = stretch(new, salt.to_vec(), params).await?;
        let wrapped = wire::b64u(&format::wrap(&kek, &self.vault_key, &self.user_id)?);
        let verifier = Zeroizing::new(wire::b64u(format::verifier(&self.vault_key).expose()));
        host.rewrap_vault(&Rewrap {
            verifier: &verifier,
            kdf: &kdf_of(params, &salt),
            wrapped_key: &wrapped,
        })
        .await
    }

    /// The proof of the vault key the server asks for to delete the vault.
    pub fn verifier(&self) -> SecretString {
        SecretString::from(wire::b64u(format::verifier(&self.vault_key).expose()))
    }

    /// Unlocks: with an enclave, attests it through the server's relay against `policy` and
    /// escrows every credential (checked first); without one, hands the server the credential
    /// key for its session.
    pub async fn unlock(
        &self,
        host: &HostClient,
        policy: &Policy,
        verifier: &Arc<Verifier>,
    ) -> Result<Unlocked, Error> {
        if self.info.trust == "server" {
            return self.unlock_server_trust(host).await;
        }
        let credentials = self.read_credentials(host).await?;
        self.escrow_all(host, &credentials, policy, verifier).await
    }

    /// Escrows one credential (just added) into the attested enclave.
    pub async fn escrow(
        &self,
        host: &HostClient,
        stored: StoredCredential,
        policy: &Policy,
        verifier: &Arc<Verifier>,
    ) -> Result<(), Error> {
        let credential = self.open_credential(&format::credential_key(&self.vault_key), stored)?;
        self.escrow_all(host, &[credential], policy, verifier)
            .await
            .map(|_| ())
    }

    /// Attests the enclave once, then seals and escrows each credential (checked by the caller)
    /// for the server's escrow lifetime.
    async fn escrow_all(
        &self,
        host: &HostClient,
        credentials: &[OpenCredential],
        policy: &Policy,
        verifier: &Arc<Verifier>,
    ) -> Result<Unlocked, Error> {
        let attested = host.attest(policy, verifier).await?;
        let ttl = time::Duration::seconds(self.info.escrow_ttl_secs);
        let expires_at = time::OffsetDateTime::now_utc() + ttl;
        for credential in credentials {
            let scope = credential.policy.scope(expires_at);
            let body = attested.seal(&credential.secret, &scope)?;
            host.escrow_credential(&credential.stored.name, &body)
                .await?;
        }
        Ok(Unlocked {
            trust: self.info.trust.clone(),
            escrowed: credentials.len(),
            until: expires_at.unix_timestamp(),
            statement: ENCLAVE_TRUST,
        })
    }

    /// Server-trust mode (no enclave): checks every credential, then hands the server the
    /// credential key (never the passphrase or the vault key) for its session.
    pub async fn unlock_server_trust(&self, host: &HostClient) -> Result<Unlocked, Error> {
        self.read_credentials(host).await?;
        let verifier = Zeroizing::new(wire::b64u(format::verifier(&self.vault_key).expose()));
        let key = Zeroizing::new(wire::b64u(format::credential_key(&self.vault_key).expose()));
        let until = host.open_session(&verifier, &key).await?;
        Ok(Unlocked {
            trust: "server".into(),
            escrowed: 0,
            until,
            statement: SERVER_TRUST,
        })
    }
}

impl From<VaultError> for Error {
    fn from(e: VaultError) -> Error {
        Error::Vault(e)
    }
}
