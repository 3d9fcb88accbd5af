//! [`HostClient`]: the same operations through an Aileron host server instead of straight to the
//! enclave. Sealing still happens here: the host relays the enclave's attestation unchanged, this
//! client verifies it against the caller's policy with a fresh nonce and the binding of the
//! enclave's boot and keys, seals to the attested HPKE key, and the host only relays ciphertext.
//!
//! What a relay cannot give: this client does not see the enclave's TLS connection, so the
//! attested TLS key is pinned by the host, not here. Confidentiality does not depend on it: the
//! secret is sealed to the HPKE key the token binds.

use std::sync::Arc;

use aileron_attest::{Policy, VerifiedAttestation, Verifier};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::wire::{AttestationResponse, BrokeredRequest, BrokeredResponse, Scope};

/// An escrow registered on the host.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostEscrow {
    /// Its name.
    pub name: String,
    /// The enclave's id for it.
    pub escrow_id: String,
    /// The enclave boot it lives in.
    pub boot_id: String,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// `active`, `expired` or `lost`.
    pub status: String,
}

/// A signed-in session: both tokens are secrets (read straight into [`SecretString`]).
#[derive(Deserialize)]
pub struct Session {
    /// The access token (a JWT).
    pub access_token: SecretString,
    /// The refresh token (rotated on every use).
    pub refresh_token: SecretString,
    /// Seconds the access token lives.
    pub expires_in: i64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// The enclave as attested through the host.
#[derive(Debug)]
pub struct RelayedAttestation {
    /// The enclave's boot.
    pub boot_id: String,
    hpke_public_key: [u8; 32],
    /// The verified token.
    pub attestation: VerifiedAttestation,
}

impl RelayedAttestation {
    /// Seals `secret` with `scope` to this attested enclave (the `POST` body of an escrow).
    pub fn seal(&self, secret: &[u8], scope: &Scope) -> Result<crate::wire::EscrowRequest, Error> {
        crate::seal::escrow_request(&self.hpke_public_key, secret, scope)
    }
}

#[derive(Serialize)]
struct Register<'a> {
    name: &'a str,
    #[serde(flatten)]
    sealed: crate::wire::EscrowRequest,
}

// Bodies that carry a secret borrow it: it is serialized straight into the request body, never
// copied into an intermediate `String` or `serde_json::Value`.

#[derive(Serialize)]
struct Login<'a> {
    email: &'a str,
    password: &'a str,
    delivery: &'a str,
}

/// A credential or sealed escrow a token may use (`GET /v1/agent/credentials`).
#[derive(Debug, Clone, Deserialize)]
pub struct Usable {
    /// Its name.
    pub name: String,
    /// `credential` (a vault credential) or `escrow` (sealed without the vault).
    pub source: String,
    /// `bearer`, `header` or `basic`; unknown for a sealed escrow.
    pub kind: Option<String>,
    /// The requests it allows; unknown (the server keeps no copy) for a sealed escrow.
    pub allow: Option<Vec<crate::wire::AllowRule>>,
    /// Uses per escrow, when limited.
    pub max_uses: Option<u64>,
    /// Unix seconds, when escrowed.
    pub expires_at: Option<i64>,
    /// `active`, `not_escrowed`, `lost`, `expired` or `server`.
    pub status: String,
}

/// The answer of a scope check.
#[derive(Debug, Clone, Deserialize)]
pub struct ScopeVerdict {
    /// Whether the request is inside the scope.
    pub allowed: bool,
    /// When allowed: the URL as it would be called.
    pub url: Option<String>,
    /// When not allowed: why.
    pub reason: Option<String>,
}

/// A client of an Aileron host, authenticated by an access token or an agent token.
pub struct HostClient {
    base: String,
    token: SecretString,
    http: reqwest::Client,
}

impl std::fmt::Debug for HostClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl HostClient {
    /// A client of the host at `base_url`, presenting `token` (an access or agent token).
    pub fn new(base_url: &str, token: SecretString) -> Result<HostClient, Error> {
        Self::with_roots(base_url, token, None)
    }

    /// As [`HostClient::new`], also trusting the CA certificates in `roots_pem` (a host behind
    /// a private CA; `AILERON_CA_CERT` for the CLI).
    pub fn with_roots(
        base_url: &str,
        token: SecretString,
        roots_pem: Option<&[u8]>,
    ) -> Result<HostClient, Error> {
        let http = http_client(roots_pem)?;
        Ok(HostClient {
            base: base_url.trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    /// Signs in with email and password; returns the session's tokens.
    pub async fn login(
        base_url: &str,
        email: &str,
        password: &SecretString,
        roots_pem: Option<&[u8]>,
    ) -> Result<Session, Error> {
        let response = http_client(roots_pem)?
            .post(format!("{}/auth/login", base_url.trim_end_matches('/')))
            .json(&Login {
                email,
                password: password.expose_secret(),
                delivery: "body",
            })
            .send()
            .await
            .map_err(|e| Error::Host(crate::error::transport(e)))?;
        read_json::<Session>(response).await
    }

    /// Rotates a refresh token; returns the new session's tokens.
    pub async fn refresh(
        base_url: &str,
        refresh_token: &SecretString,
        roots_pem: Option<&[u8]>,
    ) -> Result<Session, Error> {
        #[derive(Serialize)]
        struct Refresh<'a> {
            refresh_token: &'a str,
            delivery: &'a str,
        }
        let response = http_client(roots_pem)?
            .post(format!("{}/auth/refresh", base_url.trim_end_matches('/')))
            .json(&Refresh {
                refresh_token: refresh_token.expose_secret(),
                delivery: "body",
            })
            .send()
            .await
            .map_err(|e| Error::Host(crate::error::transport(e)))?;
        read_json::<Session>(response).await
    }

    /// Attests the host's enclave through the relay: a fresh nonce, the token verified against
    /// `policy` with nonces `[nonce, binding]`.
    pub async fn attest(
        &self,
        policy: &Policy,
        verifier: &Arc<Verifier>,
    ) -> Result<RelayedAttestation, Error> {
        let nonce = crate::attestation::fresh_nonce()?;
        let answer: AttestationResponse = self
            .call(
                reqwest::Method::POST,
                "/v1/tee/attestation",
                Some(&crate::wire::AttestationRequest {
                    nonce: nonce.clone(),
                }),
            )
            .await?;
        // The relay hides the enclave's TLS connection: the host pins it, not this client.
        let bound = crate::attestation::verify(&answer, &nonce, policy, verifier).await?;
        Ok(RelayedAttestation {
            boot_id: bound.boot_id,
            hpke_public_key: bound.hpke_public_key,
            attestation: bound.attestation,
        })
    }

    /// Seals `secret` with `scope` to the attested enclave and registers it on the host as
    /// `name` (replacing an escrow of that name).
    pub async fn escrow(
        &self,
        name: &str,
        secret: &[u8],
        scope: &Scope,
        policy: &Policy,
        verifier: &Arc<Verifier>,
    ) -> Result<HostEscrow, Error> {
        let attested = self.attest(policy, verifier).await?;
        let body = Register {
            name,
            sealed: attested.seal(secret, scope)?,
        };
        self.call(reqwest::Method::POST, "/v1/escrows", Some(&body))
            .await
    }

    /// An admission ticket for the signed-in user, to create escrows straight at the host's
    /// enclave (`POST /v1/escrows/admission`).
    pub async fn admission_ticket(&self) -> Result<SecretString, Error> {
        #[derive(Deserialize)]
        struct Ticket {
            ticket: SecretString,
        }
        let answer: Ticket = self
            .call::<(), _>(reqwest::Method::POST, "/v1/escrows/admission", None)
            .await?;
        Ok(answer.ticket)
    }

    /// The caller's escrows on the host.
    pub async fn escrows(&self) -> Result<Vec<HostEscrow>, Error> {
        self.call::<(), _>(reqwest::Method::GET, "/v1/escrows", None)
            .await
    }

    /// Revokes an escrow.
    pub async fn remove(&self, name: &str) -> Result<(), Error> {
        self.call::<(), serde_json::Value>(
            reqwest::Method::DELETE,
            &format!("/v1/escrows/{}", segment(name)),
            None,
        )
        .await
        .map(|_| ())
    }

    /// A brokered request with a named escrow.
    pub async fn request_escrow(
        &self,
        name: &str,
        request: &BrokeredRequest,
    ) -> Result<BrokeredResponse, Error> {
        let path = format!("/v1/escrows/{}/requests", segment(name));
        self.call(reqwest::Method::POST, &path, Some(request)).await
    }

    /// A brokered request with a vault credential.
    pub async fn request_credential(
        &self,
        name: &str,
        request: &BrokeredRequest,
    ) -> Result<BrokeredResponse, Error> {
        let path = format!("/v1/credentials/{}/requests", segment(name));
        self.call(reqwest::Method::POST, &path, Some(request)).await
    }

    /// What this token may make requests with (`GET /v1/agent/credentials`): names, sources,
    /// rules and state. Agent tokens and users.
    pub async fn usable(&self) -> Result<Vec<Usable>, Error> {
        self.call::<(), _>(reqwest::Method::GET, "/v1/agent/credentials", None)
            .await
    }

    /// Whether the vault credential `name` allows `method url`, answered by the broker's own
    /// scope code without making the request (`POST /v1/scope/check`).
    pub async fn check_scope(
        &self,
        name: &str,
        method: &str,
        url: &str,
    ) -> Result<ScopeVerdict, Error> {
        let body = serde_json::json!({"credential": name, "method": method, "url": url});
        self.call(reqwest::Method::POST, "/v1/scope/check", Some(&body))
            .await
    }

    /// Creates an agent token; the answer holds the token, shown this once.
    pub async fn create_agent_token(
        &self,
        name: &str,
        expires_in_secs: Option<u64>,
        credentials: Option<&[String]>,
    ) -> Result<serde_json::Value, Error> {
        let body = serde_json::json!({
            "name": name,
            "expires_in": expires_in_secs,
            "credentials": credentials,
        });
        self.call(reqwest::Method::POST, "/v1/agent-tokens", Some(&body))
            .await
    }

    /// The agent tokens (never the tokens themselves).
    pub async fn agent_tokens(&self) -> Result<serde_json::Value, Error> {
        self.call::<(), _>(reqwest::Method::GET, "/v1/agent-tokens", None)
            .await
    }

    /// Revokes an agent token.
    pub async fn revoke_agent_token(&self, id: &str) -> Result<(), Error> {
        let path = format!("/v1/agent-tokens/{}", segment(id));
        self.call::<(), serde_json::Value>(reqwest::Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    pub(crate) async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let mut builder = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret());
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| Error::Host(crate::error::transport(e)))?;
        read_json(response).await
    }
}

/// HTTPS to a host is checked against the public web PKI (rustls with ring), plus the CA
/// certificates of `extra_pem` when given.
fn http_client(extra_pem: Option<&[u8]>) -> Result<reqwest::Client, Error> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| Error::Invalid(format!("CA certificates: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::Invalid(format!("CA certificate: {e}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(Error::Invalid("no certificate in the CA file".into()));
        }
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(crate::tls_pin::provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Host(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .map_err(|e| Error::Host(e.to_string()))
}

/// Names are `[A-Za-z0-9._-]`; anything else is percent-encoded rather than trusted.
pub(crate) fn segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Error> {
    crate::client::read_answer(response, Error::Host).await
}
