//! OAuth sign-in: Google and generic OpenID providers (ID token validated) and GitHub (primary
//! verified email), with the `oauth2` crate driving our reqwest client.
//!
//! `login` redirects to the provider with a random `state`, a PKCE S256 challenge and (OpenID) a
//! nonce; the three values travel in a short-lived HttpOnly cookie MAC'd by the server, so the
//! callback needs no server-side store. The callback compares `state` in constant time, sends
//! the PKCE verifier with the code, and builds its redirect URI from `AILERON_PUBLIC_URL` only.

pub mod flow;
pub mod github;
pub mod oidc;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, ExtraTokenFields, HttpRequest,
    HttpResponse, RedirectUrl, StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{Config, OAuthClient};
use crate::error::Error;

/// The `id_token` an OpenID token response carries. Its `Debug` never prints the token.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    pub id_token: Option<String>,
}

impl std::fmt::Debug for IdTokenField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = self.id_token.as_ref().map(|_| "[REDACTED]");
        f.debug_struct("IdTokenField")
            .field("id_token", &shown)
            .finish()
    }
}
impl ExtraTokenFields for IdTokenField {}

/// Token responses with the optional `id_token`.
pub type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// An oauth2 client with authorization and token endpoints set.
pub type Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// What a provider vouches for after a successful callback.
#[derive(Debug)]
pub struct ExternalIdentity {
    pub provider: &'static str,
    pub subject: String,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
}

/// The configured providers.
pub struct Providers {
    pub google: Option<oidc::OidcProvider>,
    pub oidc: Option<oidc::OidcProvider>,
    pub github: Option<github::GitHub>,
    pub http: reqwest::Client,
    pub flow: flow::FlowCookies,
}

impl Providers {
    /// Providers from the configuration; `flow_key` MACs the flow cookie.
    pub fn new(config: &Config, http: reqwest::Client, flow_key: &[u8]) -> Result<Self, Error> {
        let callback = |name: &str| callback_url(&config.public_url, name);
        let google = match &config.google {
            Some(c) => Some(oidc::OidcProvider::new(
                "google",
                config.google_issuer.clone(),
                c,
                callback("google")?,
            )),
            None => None,
        };
        let generic = match &config.oidc {
            Some(o) => Some(oidc::OidcProvider::new(
                "oidc",
                o.issuer.clone(),
                &o.client,
                callback("oidc")?,
            )),
            None => None,
        };
        let github = match &config.github {
            Some(c) => Some(github::GitHub::new(config, c, callback("github")?)?),
            None => None,
        };
        Ok(Self {
            google,
            oidc: generic,
            github,
            http,
            flow: flow::FlowCookies::new(flow_key, config.public_url.scheme() == "https"),
        })
    }
}

/// `{AILERON_PUBLIC_URL}/auth/{provider}/callback`.
pub fn callback_url(public: &Url, provider: &str) -> Result<RedirectUrl, Error> {
    let base = public.as_str().trim_end_matches('/');
    RedirectUrl::new(format!("{base}/auth/{provider}/callback"))
        .map_err(|e| Error::Internal(e.to_string()))
}

/// An oauth2 client for these endpoints.
pub fn client(
    creds: &OAuthClient,
    auth: &str,
    token: &str,
    redirect: RedirectUrl,
) -> Result<Client, Error> {
    let bad = |e: url::ParseError| Error::Internal(format!("provider endpoint: {e}"));
    Ok(oauth2::Client::new(ClientId::new(creds.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            creds.client_secret.expose_secret().to_owned(),
        ))
        .set_auth_uri(AuthUrl::new(auth.to_owned()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(token.to_owned()).map_err(bad)?)
        .set_redirect_uri(redirect))
}

/// oauth2's HTTP client: our reqwest client (ring-only rustls, no redirects).
pub struct OAuthHttp<'a>(pub &'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = reqwest::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, reqwest::Error>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(self.0, request))
    }
}

/// Sends one oauth2 request.
pub async fn send(
    http: &reqwest::Client,
    req: HttpRequest,
) -> Result<HttpResponse, reqwest::Error> {
    let req = reqwest::Request::try_from(req)?;
    let res = http.execute(req).await?;
    let mut out = http::Response::builder().status(res.status());
    for (name, value) in res.headers() {
        out = out.header(name, value);
    }
    let body = res.bytes().await?.to_vec();
    // Status and headers came from a valid response, so the builder cannot fail; fall back to
    // an empty 502 rather than panic.
    Ok(out.body(body).unwrap_or_else(|_| {
        let mut r = http::Response::new(Vec::new());
        *r.status_mut() = http::StatusCode::BAD_GATEWAY;
        r
    }))
}
