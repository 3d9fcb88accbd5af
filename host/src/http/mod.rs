//! The HTTP layer: shared state, the router and its middleware.

pub mod error;
pub mod extract;
pub mod openapi;
pub mod ratelimit;
pub mod routes;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::trace::TraceLayer;

use self::ratelimit::RateLimiter;
use crate::auth::Auth;
use crate::config::Limits;
use crate::db::Db;
use crate::db::users::User;

/// The request-id header, set on every request and response.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Everything handlers share. Later resources (vault, credentials, enclave relay) add fields here
/// and merge their own `router()`.
#[derive(Clone)]
pub struct AppState(pub Arc<AppInner>);

/// The shared state behind [`AppState`].
pub struct AppInner {
    pub db: Db,
    pub auth: Auth,
    /// `Some` when auth is disabled (no database URL): every request acts as this user.
    pub local_user: Option<User>,
    pub limiter: RateLimiter,
    /// This replica, as the others see it in the database.
    pub instance: crate::replicas::Instance,
    pub cookies: extract::CookiePolicy,
    /// Origins allowed to make cookie-authenticated state changes (and CORS requests).
    pub allowed_origins: Vec<String>,
    /// Proxies that append the client's address to `X-Forwarded-For` (`ClientAddr`).
    pub trusted_proxy_hops: usize,
    /// The docs service (`AILERON_DOCS_URL`), where `/docs` sends browsers.
    pub docs_url: Option<String>,
    pub ui_redirect_url: String,
    pub oauth: crate::oauth::Providers,
    /// The enclave behind the host (or none).
    pub tee: Arc<crate::tee::Tee>,
    /// The end-to-end vault (and, without an enclave, its server-trust sessions).
    pub vault: Arc<crate::vault::Vault>,
    /// Escrows, brokered requests and the escrow index.
    pub escrows: crate::escrow::Escrows,
    /// The audit log.
    pub audit: Arc<crate::audit::Audit>,
    /// Signs admission tickets for the enclave.
    pub admission: Arc<crate::admission::HostAdmission>,
    /// Per-user quotas.
    pub quotas: crate::config::Quotas,
    /// Where brokered requests may go (credential scopes are checked against it).
    pub destinations: aileron_broker::destination::Destinations,
}

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// The whole application with its middleware.
pub fn app(state: AppState, limits: &Limits) -> Router {
    let cors = cors(&state.allowed_origins);
    Router::new()
        .merge(routes::health::router())
        .merge(routes::docs::router())
        .merge(routes::auth::router())
        .merge(routes::users::router())
        .merge(routes::oauth::router())
        .merge(routes::tee::router())
        .merge(routes::vault::router())
        .merge(routes::agents::router())
        .merge(routes::agent::router())
        .merge(routes::escrows::router())
        .merge(routes::audit::router())
        .merge(routes::scope::router())
        .fallback(|| async { error_fallback() })
        .method_not_allowed_fallback(|| async { crate::error::Error::MethodNotAllowed })
        .with_state(state)
        // Extractors (Json, Bytes) enforce this and answer with our 413 error body.
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(cors)
        .layer(middleware::from_fn_with_state(
            limits.request_timeout,
            deadline,
        ))
        .layer(middleware::from_fn(refuse_nul_paths))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get(&X_REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(middleware::from_fn(security_headers))
        .layer(SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]))
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
        ]))
        .layer(middleware::from_fn(request_id))
}

/// The API's answers are JSON (and one page of links): nothing on this origin, where the session
/// cookies live, may run a script, be framed or be sniffed as another type.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn error_fallback() -> crate::error::Error {
    crate::error::Error::NotFound
}

/// A request that takes longer than the limit is answered `408 request_timeout` with our body.
async fn deadline(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => axum::response::IntoResponse::into_response(crate::error::Error::RequestTimeout),
    }
}

/// A NUL byte (raw or percent-encoded) has no place in a path and no database accepts it in
/// text: refused before any handler runs.
async fn refuse_nul_paths(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let decoded = percent_encoding::percent_decode_str(path).collect::<Vec<u8>>();
    if decoded.contains(&0) {
        return axum::response::IntoResponse::into_response(crate::error::Error::InvalidRequest(
            "the path holds a NUL byte".into(),
        ));
    }
    next.run(req).await
}

/// Gives every request a fresh id (a client-sent one is replaced: ids in our logs are ours),
/// echoes it in the response and makes it available to error bodies.
async fn request_id(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    if let Ok(value) = HeaderValue::from_str(&id) {
        req.headers_mut()
            .insert(X_REQUEST_ID.clone(), value.clone());
        let mut res = error::REQUEST_ID.scope(id, next.run(req)).await;
        res.headers_mut().insert(X_REQUEST_ID.clone(), value);
        return res;
    }
    next.run(req).await
}

fn cors(origins: &[String]) -> CorsLayer {
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([X_REQUEST_ID.clone(), header::RETRY_AFTER])
}
