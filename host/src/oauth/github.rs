//! GitHub (and GitHub Enterprise) sign-in: OAuth code flow, then the REST API for the user and
//! their primary verified email.

use oauth2::{
    AuthorizationCode, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse as _,
};
use serde::Deserialize;
use url::Url;

use super::flow::Flow;
use super::{Client, ExternalIdentity, OAuthHttp, client};
use crate::config::{Config, OAuthClient};
use crate::error::Error;

/// A configured GitHub app.
pub struct GitHub {
    client: Client,
    api: Url,
}

#[derive(Deserialize)]
struct GhUser {
    id: i64,
    login: String,
    name: Option<String>,
}

#[derive(Deserialize)]
struct GhEmail {
    email: String,
    primary: bool,
    verified: bool,
}

impl GitHub {
    /// From `GITHUB_OAUTH_*` and the base URLs.
    pub fn new(config: &Config, creds: &OAuthClient, redirect: RedirectUrl) -> Result<Self, Error> {
        let base = config.github_oauth_base_url.as_str().trim_end_matches('/');
        let client = client(
            creds,
            &format!("{base}/login/oauth/authorize"),
            &format!("{base}/login/oauth/access_token"),
            redirect,
        )?;
        Ok(Self {
            client,
            api: config.github_api_url.clone(),
        })
    }

    /// The provider URL to send the browser to, and the flow to remember.
    pub fn authorize(&self) -> (Url, Flow) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("read:user".into()))
            .add_scope(Scope::new("user:email".into()))
            .set_pkce_challenge(challenge)
            .url();
        let flow = Flow {
            provider: "github".into(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce: String::new(),
            issued_at: 0,
        };
        (url, flow)
    }

    /// Exchanges the code and reads the user and their primary verified email.
    pub async fn finish(
        &self,
        http: &reqwest::Client,
        code: String,
        flow: Flow,
    ) -> Result<ExternalIdentity, Error> {
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier))
            .request_async(&OAuthHttp(http))
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "GitHub token exchange failed");
                Error::OAuthFailed
            })?;
        let access = token.access_token().secret();
        let user: GhUser = self.get(http, "user", access).await?;
        let emails: Vec<GhEmail> = self.get(http, "user/emails", access).await?;
        let primary = emails.into_iter().find(|e| e.primary);
        let (email, verified) = match primary {
            Some(e) => (e.email, e.verified),
            None => return Err(Error::OAuthEmailNotVerified),
        };
        Ok(ExternalIdentity {
            provider: "github",
            subject: user.id.to_string(),
            email,
            email_verified: verified,
            name: user.name.or(Some(user.login)),
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        path: &str,
        token: &str,
    ) -> Result<T, Error> {
        let url = format!("{}/{path}", self.api.as_str().trim_end_matches('/'));
        let res = http
            .get(url)
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json")
            .header("user-agent", "aileron-server")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| {
                tracing::warn!(error = %e, "GitHub API call failed");
                Error::OAuthFailed
            })?;
        res.json().await.map_err(|_| Error::OAuthFailed)
    }
}
