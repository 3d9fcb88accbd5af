//! Extractors: the authenticated user, JSON bodies with our error shape, the client address,
//! cookies and the Origin check.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use secrecy::SecretString;
use serde::de::DeserializeOwned;

use super::AppState;
use crate::auth::token::TokenError;
use crate::error::Error;
use crate::ids::{EnterpriseId, UserId};

/// Cookie names.
pub const ACCESS_COOKIE: &str = "aileron_access";
pub const REFRESH_COOKIE: &str = "aileron_refresh";

/// How session cookies are written.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    /// `Secure` when the public URL is https.
    pub secure: bool,
}

impl CookiePolicy {
    /// The access cookie: sent on every request, never readable by script.
    pub fn access(&self, token: &str, max_age: i64) -> String {
        self.cookie(ACCESS_COOKIE, token, "/", "Lax", max_age)
    }

    /// The refresh cookie: only sent to `/auth` (refresh and logout), same-site only.
    pub fn refresh(&self, token: &str, max_age: i64) -> String {
        self.cookie(REFRESH_COOKIE, token, "/auth", "Strict", max_age)
    }

    /// Both cookies, expired.
    pub fn cleared(&self) -> [String; 2] {
        [self.access("", 0), self.refresh("", 0)]
    }

    fn cookie(&self, name: &str, value: &str, path: &str, same_site: &str, max_age: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
        )
    }
}

/// The value of a cookie in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// A cookie-authenticated state change must come from an allowed Origin.
pub fn check_origin(state: &AppState, method: &Method, headers: &HeaderMap) -> Result<(), Error> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match origin {
        Some(o) if state.allowed_origins.iter().any(|a| a == o) => Ok(()),
        _ => Err(Error::OriginNotAllowed),
    }
}

/// With authentication off, no cookie proves anything: any page the browser opens could drive the
/// local server. A state change that a browser sent (it always sends `Origin` with one) must come
/// from an allowed Origin; a request without `Origin` (the CLI, curl) is not a browser's.
pub fn check_browser_origin(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), Error> {
    if headers.contains_key(header::ORIGIN) {
        check_origin(state, method, headers)
    } else {
        Ok(())
    }
}

/// Proof that the request carries a valid access token (or that auth is disabled).
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user_id: UserId,
    pub enterprise_id: EnterpriseId,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        // An agent token may only make brokered requests ([`Caller`]): never the vault.
        if bearer(&parts.headers)?.is_some_and(|t| t.starts_with(crate::agents::PREFIX)) {
            return Err(Error::AgentNotAllowed);
        }
        if let Some(local) = &state.local_user {
            check_browser_origin(state, &parts.method, &parts.headers)?;
            return Ok(AuthUser {
                user_id: local.id.clone(),
                enterprise_id: local.enterprise_id.clone(),
            });
        }
        let token = match bearer(&parts.headers)? {
            Some(token) => token,
            None => {
                let token = cookie(&parts.headers, ACCESS_COOKIE).ok_or(Error::Unauthenticated)?;
                check_origin(state, &parts.method, &parts.headers)?;
                token
            }
        };
        let claims = state.auth.keys.verify(&token).map_err(|e| match e {
            TokenError::Expired => Error::TokenExpired,
            TokenError::Invalid => Error::InvalidToken,
        })?;
        // The token's signature is not enough: its session must still be live (logout and
        // refresh-token reuse end it) and its user not suspended.
        let user_id = UserId(claims.sub);
        let session = crate::db::users::session_state(&state.db.pool, &user_id, &claims.sid)
            .await?
            .ok_or(Error::InvalidToken)?;
        if session.suspended {
            return Err(Error::AccountSuspended);
        }
        if !session.live {
            return Err(Error::InvalidToken);
        }
        Ok(AuthUser {
            user_id,
            enterprise_id: EnterpriseId(claims.ent_id),
        })
    }
}

/// Who makes a brokered request: a signed-in user or one of their agent tokens.
impl FromRequestParts<AppState> for crate::escrow::Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(token) = bearer(&parts.headers)?
            && token.starts_with(crate::agents::PREFIX)
        {
            let agent = crate::agents::authenticate(&state.db, &state.auth.clock, &token).await?;
            return Ok(crate::escrow::Caller {
                user_id: agent.user_id.clone(),
                agent: Some(agent),
            });
        }
        let user = AuthUser::from_request_parts(parts, state).await?;
        Ok(crate::escrow::Caller {
            user_id: user.user_id,
            agent: None,
        })
    }
}

/// The caller of a brokered request with a vault credential (`/v1/credentials/{name}/requests`).
/// For an agent token with an enclave, the credential and its escrow's index row are read while
/// the token is checked, keyed by the token: the agent's path waits for one database round trip
/// instead of two. The rows are used only once the token proved live.
pub struct CredentialCaller {
    pub caller: crate::escrow::Caller,
    /// `Some` when read ahead (then `Some(None)` means: no such credential).
    pub prefetched: Option<crate::db::escrows::CredentialEscrow>,
}

impl FromRequestParts<AppState> for CredentialCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(token) = bearer(&parts.headers)?
            && token.starts_with(crate::agents::PREFIX)
            && state.tee.enabled()
        {
            let axum::extract::Path(name) =
                axum::extract::Path::<String>::from_request_parts(parts, state)
                    .await
                    .map_err(|e| Error::InvalidRequest(e.body_text()))?;
            let hash = crate::agents::hash(&token);
            let (agent, rows) = tokio::join!(
                crate::agents::authenticate_hash(&state.db, &state.auth.clock, &hash),
                crate::db::escrows::for_agent_credential(&state.db.pool, &hash, &name),
            );
            let agent = agent?;
            return Ok(CredentialCaller {
                caller: crate::escrow::Caller {
                    user_id: agent.user_id.clone(),
                    agent: Some(agent),
                },
                prefetched: Some(rows?),
            });
        }
        Ok(CredentialCaller {
            caller: crate::escrow::Caller::from_request_parts(parts, state).await?,
            prefetched: None,
        })
    }
}

/// The bearer token, if an Authorization header is present; a malformed one is refused.
fn bearer(headers: &HeaderMap) -> Result<Option<String>, Error> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| Error::InvalidToken)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(Error::InvalidToken),
    }
}

/// The refresh token of a request: from the JSON body (API clients) or the cookie (browsers,
/// Origin-checked).
pub struct RefreshToken {
    pub token: SecretString,
    pub from_cookie: bool,
}

/// The client's address, for rate limits: the TCP peer, or behind `trusted_proxy_hops` proxies
/// that each append the address they received from to `X-Forwarded-For`, the address the
/// outermost trusted proxy saw. Entries left of those were written by the client and are never
/// trusted.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddr(client_addr(
            peer,
            &parts.headers,
            state.trusted_proxy_hops,
        )))
    }
}

/// The address `hops` trusted proxies away: [every `X-Forwarded-For` entry…, peer] read from the
/// right. A list shorter than that (a proxy that did not append) gives its leftmost entry; an
/// entry that is not an address gives none (the request then counts under no address, only
/// under its account).
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    if hops == 0 {
        return peer;
    }
    let mut chain: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let peer_text = peer.map(|p| p.to_string());
    if let Some(p) = &peer_text {
        chain.push(p);
    }
    let index = chain.len().saturating_sub(1 + hops);
    chain.get(index).and_then(|entry| entry.parse().ok())
}

/// A JSON body whose rejections use our error shape.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(Error::PayloadTooLarge)
            }
            Err(rejection) => Err(Error::InvalidRequest(rejection.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let headers = xff(&["198.51.100.1"]);
        assert_eq!(client_addr(ip("10.0.0.9"), &headers, 0), ip("10.0.0.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_address_they_saw_is_the_client_and_spoofed_entries_are_not() {
        // The client wrote two entries itself; one trusted proxy appended what it saw.
        let headers = xff(&["1.1.1.1, 2.2.2.2", "203.0.113.7"]);
        assert_eq!(client_addr(ip("10.0.0.9"), &headers, 1), ip("203.0.113.7"));
        // Two trusted proxies: the second appended the first's address.
        let headers = xff(&["1.1.1.1, 203.0.113.7, 10.1.1.1"]);
        assert_eq!(client_addr(ip("10.0.0.9"), &headers, 2), ip("203.0.113.7"));
        assert_eq!(
            client_addr(ip("10.0.0.9"), &xff(&["2001:db8::5"]), 1),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn a_short_list_gives_its_leftmost_entry_and_garbage_gives_no_address() {
        assert_eq!(client_addr(ip("10.0.0.9"), &xff(&[]), 1), ip("10.0.0.9"));
        assert_eq!(
            client_addr(ip("10.0.0.9"), &xff(&["203.0.113.7"]), 3),
            ip("203.0.113.7")
        );
        assert_eq!(client_addr(ip("10.0.0.9"), &xff(&["not-an-ip"]), 1), None);
    }
}
