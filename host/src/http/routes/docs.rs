//! `GET /openapi.json` and `GET /docs` (Scalar).

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::http::AppState;
use crate::http::openapi::ApiDoc;

const SCALAR_PAGE: &str = r#"<!doctype html>
<html>
  <head>
    <title>Aileron API</title>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <script id="api-reference" data-url="/openapi.json"></script>
    <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
  </body>
</html>
"#;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(|| async { Json(ApiDoc::openapi()) }))
        .route("/docs", get(|| async { Html(SCALAR_PAGE) }))
}
