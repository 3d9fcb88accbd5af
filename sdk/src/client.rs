//! [`Client`]: attest an enclave, seal credentials to it, use them, revoke them.

use std::sync::{Arc, Mutex, RwLock};

use aileron_attest::{Policy, VerifiedAttestation, Verifier};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::error::Error;
use crate::tls_pin::{SpkiVerifier, client_with};
use crate::wire::{
    self, AttestationRequest, AttestationResponse, BrokeredRequest, BrokeredResponse, ErrorBody,
    EscrowCreated, EscrowRequest, EscrowStatus, Scope,
};

/// Re-attest when the token has less than this left.
const REATTEST_BEFORE_EXPIRY: i64 = 300;

/// An enclave that passed attestation, and the connection pinned to its TLS key.
pub struct Attested {
    /// The enclave's boot.
    pub boot_id: String,
    hpke_public_key: [u8; 32],
    http: reqwest::Client,
    /// The verified token.
    pub attestation: VerifiedAttestation,
}

impl std::fmt::Debug for Attested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attested")
            .field("boot_id", &self.boot_id)
            .finish_non_exhaustive()
    }
}

/// A credential held by the enclave: its id, the capability to use it, and its boot.
pub struct Escrow {
    /// The escrow's id.
    pub escrow_id: String,
    /// The capability (b64u of 32 bytes). Whoever holds it can use the credential.
    pub handle: SecretString,
    /// The enclave boot the escrow lives in.
    pub boot_id: String,
    /// Expiry.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for Escrow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Escrow")
            .field("escrow_id", &self.escrow_id)
            .field("handle", &"[REDACTED]")
            .field("boot_id", &self.boot_id)
            .finish()
    }
}

/// Gives the client an admission ticket for its own attestation requests (optional: with one,
/// they draw from the enclave's budget for admitted callers, which strangers cannot exhaust).
pub type TicketSource = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// A client of one enclave, verifying it with one policy.
pub struct Client {
    base: String,
    policy: Policy,
    verifier: Arc<Verifier>,
    attested: RwLock<Option<Arc<Attested>>>,
    tickets: Option<TicketSource>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the enclave at `base_url` (`https://host:port`).
    pub fn new(base_url: &str, policy: Policy, verifier: Arc<Verifier>) -> Client {
        Client {
            base: base_url.trim_end_matches('/').to_owned(),
            policy,
            verifier,
            attested: RwLock::new(None),
            tickets: None,
        }
    }

    /// Presents a ticket from `tickets` with every attestation request.
    pub fn with_attestation_tickets(mut self, tickets: TicketSource) -> Client {
        self.tickets = Some(tickets);
        self
    }

    fn ticket_header(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.tickets.as_ref().and_then(|t| t()) {
            Some(ticket) => builder.header(crate::admission::HEADER, ticket),
            None => builder,
        }
    }

    /// The enclave's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Attests the enclave now (see [`crate::attestation`]): a fresh nonce, the token verified
    /// against the policy, the keys it binds, and the TLS key of the connection checked against
    /// the bound one.
    pub async fn attest(&self) -> Result<Arc<Attested>, Error> {
        let nonce = crate::attestation::fresh_nonce()?;
        let slot = Arc::new(Mutex::new(None));
        let http =
            client_with(SpkiVerifier::capture(slot.clone()), false).map_err(Error::Transport)?;
        let request =
            http.post(format!("{}/v1/attestation", self.base))
                .json(&AttestationRequest {
                    nonce: nonce.clone(),
                });
        let response = self
            .ticket_header(request)
            .send()
            .await
            .map_err(|e| Error::Transport(crate::error::transport(e)))?;
        let answer: AttestationResponse = read_json(response).await?;
        let bound =
            crate::attestation::verify(&answer, &nonce, &self.policy, &self.verifier).await?;
        let seen = slot.lock().map_err(|_| Error::TlsKeyMismatch)?.take();
        if seen != Some(bound.tls_spki_sha256) {
            return Err(Error::TlsKeyMismatch);
        }
        let http = client_with(SpkiVerifier::pin(bound.tls_spki_sha256), true)
            .map_err(Error::Transport)?;
        let attested = Arc::new(Attested {
            boot_id: bound.boot_id,
            hpke_public_key: bound.hpke_public_key,
            http,
            attestation: bound.attestation,
        });
        if let Ok(mut current) = self.attested.write() {
            *current = Some(attested.clone());
        }
        Ok(attested)
    }

    /// The current attestation, attesting (again) when there is none or its token nears expiry.
    pub async fn attested(&self) -> Result<Arc<Attested>, Error> {
        let current = self.attested.read().ok().and_then(|a| a.clone());
        match current {
            Some(a)
                if a.attestation.claims().exp as i64
                    - OffsetDateTime::now_utc().unix_timestamp()
                    > REATTEST_BEFORE_EXPIRY =>
            {
                Ok(a)
            }
            _ => self.attest().await,
        }
    }

    /// Seals `secret` with `scope` to the attested enclave and escrows it, admitted by `ticket`
    /// (an admission ticket: [`crate::admission`]).
    pub async fn escrow(
        &self,
        secret: &[u8],
        scope: &Scope,
        ticket: &str,
    ) -> Result<Escrow, Error> {
        let attested = self.attested().await?;
        match self.try_escrow(&attested, secret, scope, ticket).await {
            // A transport failure may be a restart (new TLS key): re-attest and seal to the new key.
            Err(Error::Transport(_)) => {
                let fresh = self.attest().await?;
                self.try_escrow(&fresh, secret, scope, ticket).await
            }
            other => other,
        }
    }

    async fn try_escrow(
        &self,
        attested: &Attested,
        secret: &[u8],
        scope: &Scope,
        ticket: &str,
    ) -> Result<Escrow, Error> {
        let body = crate::seal::escrow_request(&attested.hpke_public_key, secret, scope)?;
        self.post_escrow(attested, &body, ticket).await
    }

    /// Escrows a credential the caller sealed itself to this enclave's attested HPKE key (the
    /// host relays it: it cannot open it nor change the scope sealed with it).
    pub async fn escrow_sealed(&self, body: &EscrowRequest, ticket: &str) -> Result<Escrow, Error> {
        let attested = self.attested().await?;
        match self.post_escrow(&attested, body, ticket).await {
            // The pinned key no longer answers: re-attest; the caller's seal is for the old boot
            // and will not open, which the enclave says itself.
            Err(Error::Transport(_)) => {
                let fresh = self.attest().await?;
                self.post_escrow(&fresh, body, ticket).await
            }
            other => other,
        }
    }

    async fn post_escrow(
        &self,
        attested: &Attested,
        body: &EscrowRequest,
        ticket: &str,
    ) -> Result<Escrow, Error> {
        let response = attested
            .http
            .post(format!("{}/v1/escrows", self.base))
            .header(crate::admission::HEADER, ticket)
            .json(body)
            .send()
            .await
            .map_err(|e| Error::Transport(crate::error::transport(e)))?;
        let created: EscrowCreated = read_json(response).await?;
        Ok(Escrow {
            escrow_id: created.escrow_id,
            handle: SecretString::from(created.handle),
            boot_id: attested.boot_id.clone(),
            expires_at: created.expires_at,
        })
    }

    /// Asks the attested enclave for an attestation with someone else's nonce and returns the
    /// answer unchanged, for a caller that verifies it itself (the host's relay).
    pub async fn relay_attestation(&self, nonce: &str) -> Result<AttestationResponse, Error> {
        if !wire::valid_nonce(nonce) {
            return Err(Error::Invalid(
                "the nonce must be 10 to 74 printable ASCII characters".into(),
            ));
        }
        let body = AttestationRequest {
            nonce: nonce.to_owned(),
        };
        let attested = self.attested().await?;
        let send = |http: reqwest::Client| {
            let request = self.ticket_header(
                http.post(format!("{}/v1/attestation", self.base))
                    .json(&body),
            );
            async move { request.send().await }
        };
        let response = match send(attested.http.clone()).await {
            Ok(response) => response,
            Err(_) => send(self.attest().await?.http.clone())
                .await
                .map_err(|e| Error::Transport(crate::error::transport(e)))?,
        };
        read_json(response).await
    }

    /// The enclave's boot now. Asks its health over the pinned connection; when that fails (a
    /// restart brings a new TLS key) attests again, so a changed boot is found and verified.
    pub async fn current_boot(&self) -> Result<String, Error> {
        let attested = self.attested().await?;
        let health = attested
            .http
            .get(format!("{}/v1/health", self.base))
            .send()
            .await;
        let health: Option<wire::Health> = match health {
            Ok(response) => read_json(response).await.ok(),
            Err(_) => None,
        };
        match health {
            Some(h) if h.boot_id == attested.boot_id => Ok(attested.boot_id.clone()),
            _ => Ok(self.attest().await?.boot_id.clone()),
        }
    }

    /// Makes `request` with the escrowed credential; the answer has the secret redacted.
    pub async fn request(
        &self,
        escrow: &Escrow,
        request: &BrokeredRequest,
    ) -> Result<BrokeredResponse, Error> {
        let path = format!("/v1/escrows/{}/requests", escrow.escrow_id);
        self.call(escrow, reqwest::Method::POST, &path, Some(request))
            .await
    }

    /// The escrow's use count and expiry.
    pub async fn status(&self, escrow: &Escrow) -> Result<EscrowStatus, Error> {
        let path = format!("/v1/escrows/{}", escrow.escrow_id);
        self.call::<(), _>(escrow, reqwest::Method::GET, &path, None)
            .await
    }

    /// Revokes the escrow: the enclave forgets and zeroizes the secret.
    pub async fn revoke(&self, escrow: &Escrow) -> Result<(), Error> {
        let path = format!("/v1/escrows/{}", escrow.escrow_id);
        self.call::<(), serde_json::Value>(escrow, reqwest::Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }

    async fn call<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        escrow: &Escrow,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let attested = self.attested().await?;
        self.same_boot(escrow, &attested)?;
        let mut builder = attested
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(escrow.handle.expose_secret());
        if let Some(body) = body {
            builder = builder.json(body);
        }
        match builder.send().await {
            Ok(response) => read_json(response).await,
            Err(e) => {
                // The pinned key no longer answers: if the enclave restarted, say so.
                let fresh = self.attest().await?;
                self.same_boot(escrow, &fresh)?;
                Err(Error::Transport(crate::error::transport(e)))
            }
        }
    }

    fn same_boot(&self, escrow: &Escrow, attested: &Attested) -> Result<(), Error> {
        if escrow.boot_id == attested.boot_id {
            Ok(())
        } else {
            Err(Error::EnclaveRestarted {
                old: escrow.boot_id.clone(),
                new: attested.boot_id.clone(),
            })
        }
    }
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Error> {
    read_answer(response, Error::Transport).await
}

/// Reads a JSON answer: the body on success (`null` when empty), [`Error::Api`] for an error
/// body, else `unreachable(what went wrong)` — the enclave's or the host's transport error.
pub(crate) async fn read_answer<T: DeserializeOwned>(
    response: reqwest::Response,
    unreachable: fn(String) -> Error,
) -> Result<T, Error> {
    let status = response.status();
    let bytes = read_capped(response, MAX_ANSWER_BYTES)
        .await
        .map_err(unreachable)?;
    if status.is_success() {
        let bytes: &[u8] = if bytes.is_empty() { b"null" } else { &bytes };
        return serde_json::from_slice(bytes)
            .map_err(|e| unreachable(format!("unexpected answer: {e}")));
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Err(Error::Api {
            status: status.as_u16(),
            code: body.error.code,
            message: body.error.message,
        }),
        Err(_) => Err(unreachable(format!("HTTP {status} without an error body"))),
    }
}

/// The largest answer a client reads: a brokered answer carries at most 10 MiB of body, which
/// is about 14 MiB in base64 and JSON. A hostile server cannot make the client allocate more.
pub(crate) const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// The body, refused once it passes `max` bytes (never buffered beyond that).
async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("the answer is larger than {max} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(crate::error::transport)? {
        if body.len() + chunk.len() > max {
            return Err(format!("the answer is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
