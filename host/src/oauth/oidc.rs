//! OpenID Connect providers (Google, and a generic one such as Okta): discovery, code flow with
//! PKCE and nonce, ID token validated against the provider's JWKS with a pinned algorithm.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use serde::Deserialize;
use tokio::sync::OnceCell;
use url::Url;

use super::flow::Flow;
use super::{Client, ExternalIdentity, OAuthHttp, client};
use crate::auth::secret::same;
use crate::config::OAuthClient;
use crate::error::Error;

/// Clock skew tolerated on ID tokens, in seconds.
const LEEWAY_SECS: u64 = 60;

/// A configured OpenID provider.
pub struct OidcProvider {
    name: &'static str,
    issuer: Url,
    creds: OAuthClient,
    redirect: RedirectUrl,
    discovered: OnceCell<Discovered>,
}

struct Discovered {
    issuer: String,
    client: Client,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    email: Option<String>,
    #[serde(default)]
    email_verified: EmailVerified,
    name: Option<String>,
    nonce: Option<String>,
}

/// Some providers send `"true"` as a string.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum EmailVerified {
    Bool(bool),
    Text(String),
    #[default]
    Missing,
}

impl EmailVerified {
    fn is_true(&self) -> bool {
        matches!(self, EmailVerified::Bool(true))
            || matches!(self, EmailVerified::Text(t) if t == "true")
    }
}

fn failed(what: &'static str) -> impl Fn(String) -> Error {
    move |e| {
        tracing::warn!(error = %e, "OpenID {what} failed");
        Error::OAuthFailed
    }
}

impl OidcProvider {
    /// A provider whose endpoints are discovered at first use.
    pub fn new(
        name: &'static str,
        issuer: Url,
        creds: &OAuthClient,
        redirect: RedirectUrl,
    ) -> Self {
        let creds = OAuthClient {
            client_id: creds.client_id.clone(),
            client_secret: creds.client_secret.clone(),
        };
        Self {
            name,
            issuer,
            creds,
            redirect,
            discovered: OnceCell::new(),
        }
    }

    async fn discovered(&self, http: &reqwest::Client) -> Result<&Discovered, Error> {
        self.discovered
            .get_or_try_init(|| self.discover(http))
            .await
    }

    async fn discover(&self, http: &reqwest::Client) -> Result<Discovered, Error> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.as_str().trim_end_matches('/')
        );
        let doc: Discovery = get_json(http, &url).await.map_err(failed("discovery"))?;
        if doc.issuer.trim_end_matches('/') != self.issuer.as_str().trim_end_matches('/') {
            return Err(failed("discovery")("issuer mismatch".into()));
        }
        let client = client(
            &self.creds,
            &doc.authorization_endpoint,
            &doc.token_endpoint,
            self.redirect.clone(),
        )?;
        Ok(Discovered {
            issuer: doc.issuer,
            client,
            jwks_uri: doc.jwks_uri,
        })
    }

    /// The provider URL to send the browser to, and the flow to remember.
    pub async fn authorize(&self, http: &reqwest::Client) -> Result<(Url, Flow), Error> {
        let d = self.discovered(http).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = CsrfToken::new_random().secret().clone();
        let (url, state) = d
            .client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("openid".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_extra_param("nonce", nonce.clone())
            .set_pkce_challenge(challenge)
            .url();
        let flow = Flow {
            provider: self.name.into(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce,
            issued_at: 0,
        };
        Ok((url, flow))
    }

    /// Exchanges the code and validates the ID token.
    pub async fn finish(
        &self,
        http: &reqwest::Client,
        code: String,
        flow: Flow,
    ) -> Result<ExternalIdentity, Error> {
        let d = self.discovered(http).await?;
        let token = d
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier))
            .request_async(&OAuthHttp(http))
            .await
            .map_err(|e| failed("token exchange")(e.to_string()))?;
        let id_token = token
            .extra_fields()
            .id_token
            .clone()
            .ok_or(Error::OAuthFailed)?;
        let claims = self.validate(http, d, &id_token).await?;
        if !claims
            .nonce
            .as_deref()
            .is_some_and(|n| same(n, &flow.nonce))
        {
            return Err(Error::OAuthStateMismatch);
        }
        Ok(ExternalIdentity {
            provider: self.name,
            subject: claims.sub,
            email: claims.email.ok_or(Error::OAuthEmailNotVerified)?,
            email_verified: claims.email_verified.is_true(),
            name: claims.name,
        })
    }

    async fn validate(
        &self,
        http: &reqwest::Client,
        d: &Discovered,
        id_token: &str,
    ) -> Result<IdClaims, Error> {
        let header =
            jsonwebtoken::decode_header(id_token).map_err(|e| failed("ID token")(e.to_string()))?;
        // The algorithm is ours: RS256 (Google, Okta), never the header's choice.
        if header.alg != Algorithm::RS256 {
            return Err(failed("ID token")(format!("algorithm {:?}", header.alg)));
        }
        let jwks: JwkSet = get_json(http, &d.jwks_uri)
            .await
            .map_err(failed("JWKS fetch"))?;
        let jwk = match &header.kid {
            Some(kid) => jwks.find(kid),
            None if jwks.keys.len() == 1 => jwks.keys.first(),
            None => None,
        }
        .ok_or_else(|| failed("ID token")("unknown key".into()))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| failed("ID token")(e.to_string()))?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&d.issuer]);
        validation.set_audience(&[&self.creds.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECS;
        jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation)
            .map(|t| t.claims)
            .map_err(|e| failed("ID token")(e.to_string()))
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> Result<T, String> {
    let res = http.get(url).send().await.map_err(|e| e.to_string())?;
    let res = res.error_for_status().map_err(|e| e.to_string())?;
    res.json().await.map_err(|e| e.to_string())
}
