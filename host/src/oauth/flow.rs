//! The sign-in flow cookie: provider, state, PKCE verifier and nonce, MAC'd by the server.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

use crate::auth::secret::same;
use crate::error::Error;

/// Cookie name; path `/auth`, ten minutes.
pub const FLOW_COOKIE: &str = "aileron_oauth";
const MAX_AGE: i64 = 600;

/// One pending sign-in.
pub struct Flow {
    pub provider: String,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
    pub issued_at: i64,
}

/// Writes and checks flow cookies.
pub struct FlowCookies {
    key: hmac::Key,
    secure: bool,
}

impl FlowCookies {
    /// A writer keyed from `key` (domain-separated).
    pub fn new(key: &[u8], secure: bool) -> Self {
        let derive = hmac::Key::new(hmac::HMAC_SHA256, key);
        let sub = hmac::sign(&derive, b"aileron oauth flow cookie v1");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, sub.as_ref()),
            secure,
        }
    }

    /// The `Set-Cookie` value for a flow.
    pub fn set(&self, flow: &Flow) -> String {
        let payload = [
            flow.provider.as_str(),
            &flow.state,
            &flow.pkce_verifier,
            &flow.nonce,
            &flow.issued_at.to_string(),
        ]
        .map(|p| URL_SAFE_NO_PAD.encode(p))
        .join(".");
        let mac = URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, payload.as_bytes()));
        let secure = if self.secure { "; Secure" } else { "" };
        // Lax: the provider's redirect back is a top-level GET navigation.
        format!(
            "{FLOW_COOKIE}={payload}.{mac}; Path=/auth; Max-Age={MAX_AGE}; HttpOnly; SameSite=Lax{secure}"
        )
    }

    /// Clears the cookie.
    pub fn clear(&self) -> String {
        format!("{FLOW_COOKIE}=; Path=/auth; Max-Age=0; HttpOnly; SameSite=Lax")
    }

    /// The flow for `provider` whose state equals `state`, checked in constant time.
    pub fn check(
        &self,
        cookie: Option<&str>,
        provider: &str,
        state: &str,
        now: i64,
    ) -> Result<Flow, Error> {
        let flow = self
            .parse(cookie.ok_or(Error::OAuthStateMismatch)?)
            .ok_or(Error::OAuthStateMismatch)?;
        let fresh = now - flow.issued_at <= MAX_AGE && flow.issued_at <= now + 60;
        if !fresh || flow.provider != provider || !same(&flow.state, state) {
            return Err(Error::OAuthStateMismatch);
        }
        Ok(flow)
    }

    fn parse(&self, value: &str) -> Option<Flow> {
        let (payload, mac) = value.rsplit_once('.')?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        hmac::verify(&self.key, payload.as_bytes(), &mac).ok()?;
        let parts: Vec<String> = payload
            .split('.')
            .map(|p| {
                URL_SAFE_NO_PAD
                    .decode(p)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
            })
            .collect::<Option<_>>()?;
        let [provider, state, pkce_verifier, nonce, issued] =
            <[String; 5]>::try_from(parts).ok()?;
        Some(Flow {
            provider,
            state,
            pkce_verifier,
            nonce,
            issued_at: issued.parse().ok()?,
        })
    }
}
