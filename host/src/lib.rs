//! `aileron-server`: the Aileron host API server.
//!
//! Configuration comes from the environment ([`config`]), data from PostgreSQL or SQLite
//! ([`db`]), sign-in from [`auth`]; [`http`] maps it all to routes. [`serve`] runs the server
//! until its shutdown future resolves.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod accounts;
pub mod admission;
pub mod agents;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod escrow;
pub mod http;
pub mod ids;
pub mod keys;
pub mod mail;
pub mod oauth;
pub mod replicas;
pub mod tee;
pub mod text;
pub mod vault;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::auth::email::Email;
use crate::auth::password::Hasher;
use crate::auth::secret::CodeHasher;
use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::{Config, SigningKey};
use crate::db::Db;
use crate::db::users::{NewUser, User};
use crate::http::extract::CookiePolicy;
use crate::http::ratelimit::RateLimiter;
use crate::http::{AppInner, AppState};
use crate::mail::Mailer;

/// Start-up failures.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("password hasher: {0}")]
    Hasher(#[from] auth::password::HashError),
    #[error("HTTP client: {0}")]
    HttpClient(String),
    #[error("OAuth provider: {0}")]
    OAuth(String),
    #[error(transparent)]
    Tee(#[from] tee::TeeError),
    #[error("admission key: {0}")]
    Admission(String),
    #[error("listen: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects, migrates and builds the shared state.
pub async fn build_state(config: &Config, clock: Clock) -> Result<AppState, StartError> {
    let db = Db::connect(&config.database, config.database_pool_size).await?;
    db.migrate().await?;
    let key = match &config.jwt_signing_key {
        Some(key) => SigningKey::new(key.expose().to_vec()),
        // Without a database nothing is persistent, so a per-process key is enough.
        None => SigningKey::new(rand::random::<[u8; 32]>().to_vec()),
    };
    let http = mail::http_client().map_err(StartError::HttpClient)?;
    let oauth = oauth::Providers::new(config, http.clone(), key.expose())
        .map_err(|e| StartError::OAuth(e.to_string()))?;
    let auth = Auth {
        db: db.clone(),
        hasher: Hasher::new()?,
        keys: TokenKeys::new(&key, &config.jwt_issuer),
        codes: CodeHasher::new(key.expose()),
        mailer: Mailer::new(
            http,
            config.resend_api_key.clone(),
            &config.resend_api_url,
            &config.mail_from,
        ),
        clock: clock.clone(),
        access_ttl: secs(config.access_token_ttl),
        refresh_ttl: secs(config.refresh_token_ttl),
        auto_verify: config.auto_verify_email,
    };
    let audience = config
        .enclave_audience
        .clone()
        .unwrap_or_else(|| "aileron-enclave".into());
    let admission = Arc::new(
        admission::HostAdmission::derive(key.expose(), &audience, config.quotas)
            .map_err(|e| StartError::Admission(e.to_string()))?,
    );
    let access = tee::TeeAccess {
        destinations: config.destinations,
        admission: admission.clone(),
    };
    let tee = Arc::new(tee::Tee::start(tee::TeeSettings::from_config(config)?, access).await?);
    let audit =
        Arc::new(audit::Audit::new(db.clone(), clock.clone()).retaining(config.audit_retention));
    let trust = match tee.enabled() {
        true => vault::Trust::Enclave,
        false => vault::Trust::Server,
    };
    let vault = Arc::new(vault::Vault::new(
        db.clone(),
        clock.clone(),
        audit.clone(),
        vault::VaultSettings {
            session_ttl: config.kek_session_ttl,
            escrow_ttl: config.escrow_ttl,
            destinations: config.destinations,
            max_credentials: config.quotas.credentials,
            trust,
        },
    ));
    let escrows = escrow::Escrows {
        db: db.clone(),
        clock: clock.clone(),
        tee: tee.clone(),
        vault: vault.clone(),
        admission: admission.clone(),
        host_key: keys::HostKey::derive(key.expose()),
        audit: audit.clone(),
        quotas: config.quotas,
    };
    warn_about_legacy_vaults(&db).await;
    escrows.reconcile_enclaves().await?;
    let local_user = match config.database.auth_enabled() {
        true => None,
        false => Some(local_user(&auth).await?),
    };
    let limiter = RateLimiter::new(
        db.clone(),
        config.limits.auth_per_addr_per_minute,
        config.limits.auth_per_account_per_minute,
    );
    let state = AppState(Arc::new(AppInner {
        db,
        local_user,
        limiter,
        instance: replicas::Instance::new(trust),
        cookies: CookiePolicy {
            secure: config.public_url.scheme() == "https",
        },
        allowed_origins: config.cors_origins.clone(),
        trusted_proxy_hops: config.trusted_proxy_hops,
        docs_url: config.docs_url.as_ref().map(|u| u.to_string()),
        ui_redirect_url: config.ui_redirect_url.clone(),
        oauth,
        auth,
        tee,
        vault,
        escrows,
        audit,
        admission,
        quotas: config.quotas,
        destinations: config.destinations,
    }));
    spawn_watch(&state);
    Ok(state)
}

/// How often the host checks the enclave's boot and sweeps expired vault sessions.
const WATCH_PERIOD: std::time::Duration = std::time::Duration::from_secs(10);

/// Background upkeep for as long as the state lives: expired vault sessions are dropped (their
/// keys zeroized), this replica announces itself, audit events past the retention are deleted,
/// ended rate windows are swept, and every enclave is checked (re-attested when its token nears
/// expiry; a new boot marks that enclave's escrows of older boots lost).
fn spawn_watch(state: &AppState) {
    let weak = Arc::downgrade(&state.0);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(WATCH_PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(inner) = weak.upgrade() else { return };
            let state = AppState(inner);
            state.vault.sweep();
            let now = state.auth.clock.now();
            if let Err(e) = state.instance.announce(&state.db, now).await {
                tracing::warn!(error = %e, "could not announce this replica");
            }
            match state.audit.expire().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    events = n,
                    "audit events past AILERON_AUDIT_RETENTION deleted"
                ),
                Err(e) => tracing::warn!(error = %e, "could not expire audit events"),
            }
            if let Err(e) = state.limiter.sweep(now).await {
                tracing::warn!(error = %e, "could not sweep rate windows");
            }
            if let Err(e) = state.escrows.check_boot().await {
                tracing::warn!(error = %e, "enclave check failed");
            }
        }
    });
}

/// Vaults of earlier builds (the server derived keys from passphrases) were removed by migration
/// 0003; their owners are told once, here, in the log.
async fn warn_about_legacy_vaults(db: &Db) {
    match db::vault::take_legacy_count(&db.pool).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            vaults = n,
            "{n} vaults made by an earlier build (the server held their keys) were removed with their credentials: their owners must make a vault again (aileron vault set) and add their credentials"
        ),
        Err(e) => tracing::warn!(error = %e, "could not read the count of removed legacy vaults"),
    }
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

/// The implicit user of local development mode (no database URL, auth disabled).
async fn local_user(auth: &Auth) -> Result<User, db::DbError> {
    const EMAIL: &str = "local@aileron.localhost";
    if let Some(user) = db::users::by_email(&auth.db.pool, EMAIL).await? {
        return Ok(user);
    }
    let email = Email::parse(EMAIL).ok_or(db::DbError::Corrupt("local user email"))?;
    let mut tx = auth.db.pool.begin().await?;
    let new = NewUser {
        email: email.as_str(),
        email_verified: true,
        password_hash: None,
        display_name: Some("Local user"),
    };
    let user = auth::account::create(&mut tx, &email, new, auth.clock.now())
        .await?
        .ok_or(db::DbError::Corrupt("local user"))?;
    tx.commit().await?;
    Ok(user)
}

/// The router for a state.
pub fn router(state: AppState, config: &Config) -> Router {
    http::app(state, &config.limits)
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests: at most
/// `limits.max_connections` connections, each given `limits.header_read_timeout` to send its
/// request headers.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &config::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let conn = aileron_enclave::serve::ConnLimits {
        max_connections: limits.max_connections,
        header_read_timeout: limits.header_read_timeout,
        ..Default::default()
    };
    aileron_enclave::serve::serve(listener, None, app, conn, shutdown).await;
    Ok(())
}
