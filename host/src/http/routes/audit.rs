//! `/v1/audit`: the caller's own events, newest first.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::audit::AuditEvent;
use crate::db::audit::Filter;
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::AuthUser;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/audit", get(list))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// Only events older than this cursor (`next_before` of the previous page).
    before: Option<i64>,
    /// 1 to 200 (default 50).
    limit: Option<i64>,
    /// Only this action, e.g. `request`, `login`, `escrow.revoke`.
    action: Option<String>,
    /// Only this actor: `user` or `agent:<token id>`.
    actor: Option<String>,
    /// Only events at or after this Unix second.
    since: Option<i64>,
    /// Only events before this Unix second.
    until: Option<i64>,
}

/// A filter value: 1 to 100 printable ASCII characters (actions and actors are such).
fn filter_text(field: &str, value: Option<String>) -> Result<Option<String>, Error> {
    match value {
        None => Ok(None),
        Some(v) if (1..=100).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(v))
        }
        Some(_) => Err(Error::InvalidRequest(format!(
            "{field}: 1 to 100 printable ASCII characters"
        ))),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    events: Vec<AuditEvent>,
    /// Pass as `before` for the next page; absent on the last page.
    next_before: Option<i64>,
}

/// The caller's audit events, newest first, paginated, optionally narrowed by action, actor
/// and time (the cursor keeps the filter's meaning: pass the same filter with `before`).
#[utoipa::path(get, path = "/v1/audit", operation_id = "list_audit_events", tag = "audit", params(Page),
    responses((status = 200, body = AuditPage), (status = 400, body = crate::http::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    who: AuthUser,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, Error> {
    let Query(page) = page.map_err(|e| Error::InvalidRequest(e.body_text()))?;
    let limit = page.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(Error::InvalidRequest("limit: 1 to 200".into()));
    }
    if let (Some(since), Some(until)) = (page.since, page.until)
        && since >= until
    {
        return Err(Error::InvalidRequest("since must be before until".into()));
    }
    let filter = Filter {
        before: page.before,
        action: filter_text("action", page.action)?,
        actor: filter_text("actor", page.actor)?,
        since: page.since,
        until: page.until,
    };
    let events = state.audit.page(&who.user_id, &filter, limit).await?;
    let next_before = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    Ok(Json(AuditPage {
        events,
        next_before,
    }))
}
