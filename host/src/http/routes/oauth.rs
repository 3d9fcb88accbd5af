//! `GET /auth/{google,github,oidc}/login` and `/auth/{provider}/callback`.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::account::resolve_external;
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{ClientAddr, cookie};
use crate::oauth::flow::FLOW_COOKIE;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/{provider}/login", get(login))
        .route("/auth/{provider}/callback", get(callback))
}

/// The provider's answer.
#[derive(Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Redirects to the provider with state, PKCE S256 and (OpenID) a nonce.
#[utoipa::path(get, path = "/auth/{provider}/login", operation_id = "oauth_login", tag = "auth",
    params(("provider" = String, Path, description = "google, github or oidc")),
    responses((status = 303, description = "to the provider"), (status = 404, body = crate::http::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Path(provider): Path<String>,
) -> Result<Response, Error> {
    if state.local_user.is_some() {
        return Err(Error::AuthDisabled);
    }
    state
        .limiter
        .check("oauth", addr, None, state.auth.clock.now())
        .await?;
    let o = &state.oauth;
    let (url, mut flow) = match provider.as_str() {
        "google" => {
            o.google
                .as_ref()
                .ok_or(Error::ProviderNotConfigured)?
                .authorize(&o.http)
                .await?
        }
        "oidc" => {
            o.oidc
                .as_ref()
                .ok_or(Error::ProviderNotConfigured)?
                .authorize(&o.http)
                .await?
        }
        "github" => o
            .github
            .as_ref()
            .ok_or(Error::ProviderNotConfigured)?
            .authorize(),
        _ => return Err(Error::ProviderNotConfigured),
    };
    flow.issued_at = state.auth.clock.now();
    let set = (header::SET_COOKIE, o.flow.set(&flow));
    Ok((AppendHeaders([set]), Redirect::to(url.as_str())).into_response())
}

/// Finishes the sign-in and redirects to the UI with session cookies. A failure also redirects
/// to the UI, with `oauth_error=<code>` added to its URL (docs/errors.md), so that a browser
/// never lands on a JSON page on the API's origin.
#[utoipa::path(get, path = "/auth/{provider}/callback", operation_id = "oauth_callback", tag = "auth",
    params(("provider" = String, Path, description = "google, github or oidc"), CallbackQuery),
    responses((status = 303, description = "to AILERON_UI_REDIRECT_URL; with `oauth_error=<code>` on failure")))]
pub async fn callback(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    match finish(&state, &provider, q, &headers).await {
        Ok(response) => response,
        Err(e) => {
            let code = e.code();
            if let Error::Internal(detail) = &e {
                tracing::error!(error = %detail, "internal error in an OAuth callback");
            } else {
                tracing::info!(provider = %provider, code = code.as_str(), "OAuth sign-in failed");
            }
            let target = with_query(&state.ui_redirect_url, "oauth_error", code.as_str());
            let clear = (header::SET_COOKIE, state.oauth.flow.clear());
            (AppendHeaders([clear]), Redirect::to(&target)).into_response()
        }
    }
}

async fn finish(
    state: &AppState,
    provider: &str,
    q: CallbackQuery,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    if state.local_user.is_some() {
        return Err(Error::AuthDisabled);
    }
    if q.error.is_some() {
        return Err(Error::OAuthFailed);
    }
    let o = &state.oauth;
    let now = state.auth.clock.now();
    let returned_state = q.state.ok_or(Error::OAuthStateMismatch)?;
    let flow = o.flow.check(
        cookie(headers, FLOW_COOKIE).as_deref(),
        provider,
        &returned_state,
        now,
    )?;
    let code = q.code.ok_or(Error::OAuthFailed)?;
    let identity = match provider {
        "google" => {
            o.google
                .as_ref()
                .ok_or(Error::ProviderNotConfigured)?
                .finish(&o.http, code, flow)
                .await?
        }
        "oidc" => {
            o.oidc
                .as_ref()
                .ok_or(Error::ProviderNotConfigured)?
                .finish(&o.http, code, flow)
                .await?
        }
        "github" => {
            o.github
                .as_ref()
                .ok_or(Error::ProviderNotConfigured)?
                .finish(&o.http, code, flow)
                .await?
        }
        _ => return Err(Error::ProviderNotConfigured),
    };
    let user = resolve_external(&state.db, &identity, now).await?;
    if user.suspended {
        return Err(Error::AccountSuspended);
    }
    let session = state.auth.open_session(&user).await?;
    state.audit.login(&user.id, provider).await?;
    let cookies = [
        (header::SET_COOKIE, o.flow.clear()),
        (
            header::SET_COOKIE,
            state
                .cookies
                .access(&session.access_token, session.access_expires_in),
        ),
        (
            header::SET_COOKIE,
            state.cookies.refresh(
                secrecy::ExposeSecret::expose_secret(&session.refresh_token),
                session.refresh_expires_in,
            ),
        ),
    ];
    Ok((AppendHeaders(cookies), Redirect::to(&state.ui_redirect_url)).into_response())
}

/// `target` (a path or an absolute URL) with `key=value` added to its query, before any
/// fragment. `value` is an error code: `[a-z_]`, nothing to escape.
fn with_query(target: &str, key: &str, value: &str) -> String {
    let (base, fragment) = match target.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (target, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut out = format!("{base}{sep}{key}={value}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn the_error_code_joins_the_query_before_the_fragment() {
        assert_eq!(
            with_query("/", "oauth_error", "oauth_failed"),
            "/?oauth_error=oauth_failed"
        );
        assert_eq!(
            with_query(
                "https://app.example.com/in?x=1#top",
                "oauth_error",
                "oauth_failed"
            ),
            "https://app.example.com/in?x=1&oauth_error=oauth_failed#top"
        );
    }
}
