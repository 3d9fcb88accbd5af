//! `/auth/*`: the sign-in methods, signup, verification, login, refresh, logout.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::auth::Session;
use crate::auth::email::Email;
use crate::auth::password::Password;
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{ClientAddr, JsonBody, REFRESH_COOKIE, check_origin, cookie};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/methods", get(methods))
        .route("/auth/signup", post(signup))
        .route("/auth/verify-email", post(verify_email))
        .route("/auth/resend-verification", post(resend_verification))
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
}

/// Where session tokens go: HttpOnly cookies (browsers, the default) or the JSON body (API
/// clients such as the CLI).
#[derive(Debug, Default, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    #[default]
    Cookie,
    Body,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SignupRequest {
    email: String,
    #[schema(value_type = String, min_length = 8, max_length = 1024)]
    password: SecretString,
    display_name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct VerifyRequest {
    email: String,
    code: String,
    #[serde(default)]
    delivery: Delivery,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResendRequest {
    email: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    email: String,
    #[schema(value_type = String)]
    password: SecretString,
    #[serde(default)]
    delivery: Delivery,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
pub struct RefreshRequest {
    /// API clients send their refresh token here; browsers rely on the cookie.
    #[schema(value_type = Option<String>)]
    refresh_token: Option<SecretString>,
    #[serde(default)]
    delivery: Delivery,
}

/// The uniform answer of signup and resend.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub status: &'static str,
}

/// A session. Tokens are present only with `delivery: "body"`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionResponse {
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// How one can sign in to this server.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignInMethods {
    /// False when the server runs without a database (local development): there is no sign-in,
    /// and every request acts as the one local user.
    pub auth_enabled: bool,
    /// Email and password (with a mailed six-digit code at sign-up).
    pub password: bool,
    /// The OAuth providers configured here, in the order a sign-in page shows them.
    pub providers: Vec<Provider>,
}

/// A configured OAuth provider: start its sign-in at `GET /auth/{id}/login`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Provider {
    /// `google`, `github` or `oidc`.
    pub id: &'static str,
    /// What a button says.
    pub name: &'static str,
}

/// The sign-in methods this server offers (public: a sign-in page asks before anyone signs in).
#[utoipa::path(get, path = "/auth/methods", tag = "auth",
    responses((status = 200, body = SignInMethods)))]
pub async fn methods(State(state): State<AppState>) -> Json<SignInMethods> {
    let auth_enabled = state.local_user.is_none();
    let o = &state.oauth;
    let configured = [
        ("google", "Google", o.google.is_some()),
        ("github", "GitHub", o.github.is_some()),
        ("oidc", "Single sign-on", o.oidc.is_some()),
    ];
    let providers = configured
        .into_iter()
        .filter(|(_, _, on)| auth_enabled && *on)
        .map(|(id, name, _)| Provider { id, name })
        .collect();
    Json(SignInMethods {
        auth_enabled,
        password: auth_enabled,
        providers,
    })
}

fn email(raw: &str) -> Result<Email, Error> {
    Email::parse(raw).ok_or(Error::InvalidEmail)
}

fn display_name(raw: Option<&str>) -> Result<Option<String>, Error> {
    match raw {
        None => Ok(None),
        Some(raw) => crate::text::name(raw, "display_name", 100),
    }
}

fn require_auth(state: &AppState) -> Result<(), Error> {
    match state.local_user {
        Some(_) => Err(Error::AuthDisabled),
        None => Ok(()),
    }
}

/// Builds the response for a new session, as cookies or in the body.
pub fn session_response(state: &AppState, session: Session, delivery: Delivery) -> Response {
    let mut body = SessionResponse {
        token_type: "Bearer",
        expires_in: session.access_expires_in,
        refresh_expires_in: session.refresh_expires_in,
        access_token: None,
        refresh_token: None,
    };
    match delivery {
        Delivery::Body => {
            body.access_token = Some(session.access_token);
            body.refresh_token = Some(session.refresh_token.expose_secret().to_owned());
            Json(body).into_response()
        }
        Delivery::Cookie => {
            let cookies = [
                (
                    header::SET_COOKIE,
                    state
                        .cookies
                        .access(&session.access_token, session.access_expires_in),
                ),
                (
                    header::SET_COOKIE,
                    state.cookies.refresh(
                        session.refresh_token.expose_secret(),
                        session.refresh_expires_in,
                    ),
                ),
            ];
            (AppendHeaders(cookies), Json(body)).into_response()
        }
    }
}

/// Registers an email/password account. The answer never reveals whether the address was known.
#[utoipa::path(post, path = "/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 202, body = Accepted), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn signup(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    JsonBody(req): JsonBody<SignupRequest>,
) -> Result<(StatusCode, Json<Accepted>), Error> {
    require_auth(&state)?;
    let email = email(&req.email)?;
    state
        .limiter
        .check("signup", addr, Some(email.as_str()), state.auth.clock.now())
        .await?;
    let password = Password::parse(req.password).ok_or(Error::InvalidPassword)?;
    let name = display_name(req.display_name.as_deref())?;
    state.auth.signup(email, password, name.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { status: "accepted" })))
}

/// Checks a verification code; opens a session on success.
#[utoipa::path(post, path = "/auth/verify-email", tag = "auth", request_body = VerifyRequest,
    responses((status = 200, body = SessionResponse), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn verify_email(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    JsonBody(req): JsonBody<VerifyRequest>,
) -> Result<Response, Error> {
    require_auth(&state)?;
    let email = email(&req.email)?;
    state
        .limiter
        .check_sign_in("verify", addr, email.as_str(), state.auth.clock.now())
        .await?;
    let (user, session) = state.auth.verify_email(email, &req.code).await?;
    state.audit.login(&user.id, "email_verification").await?;
    Ok(session_response(&state, session, req.delivery))
}

/// Sends a new code to an unverified account. Same answer for any address.
#[utoipa::path(post, path = "/auth/resend-verification", tag = "auth", request_body = ResendRequest,
    responses((status = 202, body = Accepted), (status = 429, body = crate::http::error::ErrorBody)))]
pub async fn resend_verification(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    JsonBody(req): JsonBody<ResendRequest>,
) -> Result<(StatusCode, Json<Accepted>), Error> {
    require_auth(&state)?;
    let email = email(&req.email)?;
    state
        .limiter
        .check("resend", addr, Some(email.as_str()), state.auth.clock.now())
        .await?;
    state.auth.resend(email).await?;
    Ok((StatusCode::ACCEPTED, Json(Accepted { status: "accepted" })))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/auth/login", operation_id = "password_login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    JsonBody(req): JsonBody<LoginRequest>,
) -> Result<Response, Error> {
    require_auth(&state)?;
    let email = email(&req.email)?;
    state
        .limiter
        .check_sign_in("login", addr, email.as_str(), state.auth.clock.now())
        .await?;
    let (user, session) = state.auth.login(email, req.password).await?;
    state.audit.login(&user.id, "password").await?;
    Ok(session_response(&state, session, req.delivery))
}

/// The refresh token from the body, else from the cookie (then the Origin must be allowed).
fn refresh_token(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(SecretString, Delivery), Error> {
    let req: RefreshRequest = if body.is_empty() {
        RefreshRequest::default()
    } else {
        serde_json::from_slice(body).map_err(|e| Error::InvalidRequest(e.to_string()))?
    };
    if let Some(token) = req.refresh_token {
        return Ok((token, req.delivery));
    }
    let token = cookie(headers, REFRESH_COOKIE).ok_or(Error::InvalidRefreshToken)?;
    check_origin(state, method, headers)?;
    Ok((SecretString::from(token), Delivery::Cookie))
}

/// Rotates the refresh token and issues a new access token.
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    require_auth(&state)?;
    state
        .limiter
        .check("refresh", addr, None, state.auth.clock.now())
        .await?;
    let (token, delivery) = refresh_token(&state, &method, &headers, &body)?;
    let session = state.auth.refresh(&token).await?;
    Ok(session_response(&state, session, delivery))
}

/// Revokes the session (the refresh-token family) and clears the cookies.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204), (status = 401, body = crate::http::error::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    require_auth(&state)?;
    let (token, _) = refresh_token(&state, &method, &headers, &body)?;
    state.auth.logout(&token).await?;
    let cleared = state.cookies.cleared().map(|c| (header::SET_COOKIE, c));
    Ok((StatusCode::NO_CONTENT, AppendHeaders(cleared)).into_response())
}
