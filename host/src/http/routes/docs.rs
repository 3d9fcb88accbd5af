//! `GET /openapi.json` and `GET /docs`. The API's origin holds the session cookies, so it serves
//! no script at all: `/docs` sends the browser to the docs service's API reference
//! (`AILERON_DOCS_URL`), or, without one, answers a page of plain links.

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::http::AppState;
use crate::http::openapi::ApiDoc;

const NO_DOCS_SERVICE: &str = r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Aileron API</title>
  </head>
  <body>
    <h1>Aileron API</h1>
    <p>The OpenAPI document of this server: <a href="/openapi.json">/openapi.json</a>.</p>
    <p>The rendered API reference and the guides are served by the docs service (the seed's
    <code>docs</code> image); set <code>AILERON_DOCS_URL</code> to its address and this page
    sends you there.</p>
  </body>
</html>
"#;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/docs", get(docs))
}

async fn docs(State(state): State<AppState>) -> Response {
    match &state.docs_url {
        Some(url) => Redirect::to(&format!("{}/api/", url.trim_end_matches('/'))).into_response(),
        None => Html(NO_DOCS_SERVICE).into_response(),
    }
}
