//! Transactional mail: the Resend API when `RESEND_API_KEY` is set, otherwise the log.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// Where verification codes go.
#[derive(Clone)]
pub enum Mailer {
    /// Codes are printed to the log (local development).
    Log,
    /// Codes are sent through Resend.
    Resend(Arc<Resend>),
}

/// A Resend API client.
pub struct Resend {
    http: reqwest::Client,
    endpoint: Url,
    key: SecretString,
    from: String,
}

impl Mailer {
    /// The mailer the configuration asks for.
    pub fn new(http: reqwest::Client, key: Option<SecretString>, api: &Url, from: &str) -> Self {
        match key {
            None => Mailer::Log,
            Some(key) => {
                let mut endpoint = api.clone();
                endpoint.set_path(&format!("{}/emails", api.path().trim_end_matches('/')));
                Mailer::Resend(Arc::new(Resend {
                    http,
                    endpoint,
                    key,
                    from: from.to_owned(),
                }))
            }
        }
    }

    /// Sends a verification code in the background, so the answer's timing does not depend on
    /// whether mail was sent.
    pub fn send_code(&self, to: String, code: SecretString) {
        match self {
            Mailer::Log => {
                tracing::info!(to = %to, code = %code.expose_secret(), "email verification code (RESEND_API_KEY unset)");
            }
            Mailer::Resend(resend) => {
                let resend = resend.clone();
                tokio::spawn(async move {
                    if let Err(e) = resend.send(&to, &code).await {
                        tracing::error!(error = %e, "sending the verification email failed");
                    }
                });
            }
        }
    }
}

impl Resend {
    async fn send(&self, to: &str, code: &SecretString) -> Result<(), reqwest::Error> {
        let body = serde_json::json!({
            "from": self.from,
            "to": [to],
            "subject": "Your Aileron verification code",
            "text": format!("Your verification code is {}. It expires in 15 minutes.", code.expose_secret()),
        });
        self.http
            .post(self.endpoint.clone())
            .bearer_auth(self.key.expose_secret())
            .json(&body)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

/// An HTTP client whose TLS is rustls with the ring provider and the webpki roots.
pub fn http_client() -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // A client without its TLS configuration would be no client at all: fail at start.
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| e.to_string())
}
