//! A recording upstream: a plain HTTP server on loopback that records what it receives and
//! answers in ways tests need (echo the credential back, redirect elsewhere, a large body).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// One request as the upstream saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Headers (name, value).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

/// A running recording upstream.
#[derive(Clone)]
pub struct Upstream {
    /// Its address.
    pub addr: SocketAddr,
    /// Everything received, in order.
    pub received: Arc<Mutex<Vec<Recorded>>>,
}

impl Upstream {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Starts one. Routes: `/echo-gzip` echoes the `Authorization` header gzip-compressed when
    /// the request accepts gzip (plain otherwise); `/always-gzip` answers gzip whatever was
    /// asked; `/echo-json-b64` answers the base64 of a JSON document holding the header;
    /// `/echo…` echoes the header in the body, in `x-echo` and base64-encoded in `x-echo-b64`;
    /// `/redirect?to=URL` answers 302 to URL; `/big` sends 11 MiB; anything else `200 ok`.
    pub async fn start() -> Upstream {
        let received = Arc::new(Mutex::new(Vec::new()));
        let state = received.clone();
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = state.clone();
                async move {
                    let recorded = Recorded {
                        method: method.to_string(),
                        uri: uri.to_string(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.to_string(),
                                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                )
                            })
                            .collect(),
                        body: body.to_vec(),
                    };
                    if let Ok(mut r) = state.lock() {
                        r.push(recorded);
                    }
                    respond(&uri, &headers)
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind upstream");
        let addr = listener.local_addr().expect("upstream addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Upstream { addr, received }
    }
}

fn respond(uri: &Uri, headers: &HeaderMap) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let path = uri.path();
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .is_some_and(|v| String::from_utf8_lossy(v.as_bytes()).contains("gzip"));
    if (path == "/echo-gzip" && accepts_gzip) || path == "/always-gzip" {
        return (
            StatusCode::OK,
            [(header::CONTENT_ENCODING, "gzip")],
            gzip(format!("you sent: {auth}").as_bytes()),
        )
            .into_response();
    }
    if path == "/echo-json-b64" {
        use base64::Engine as _;
        let doc = serde_json::json!({"received": {"authorization": auth}}).to_string();
        let b64 = base64::engine::general_purpose::STANDARD.encode(doc.as_bytes());
        return (StatusCode::OK, b64).into_response();
    }
    if path.starts_with("/echo") {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(auth.as_bytes());
        return (
            StatusCode::OK,
            [("x-echo", auth.clone()), ("x-echo-b64", b64)],
            format!("you sent: {auth}"),
        )
            .into_response();
    }
    if path == "/redirect" {
        let to = uri
            .query()
            .and_then(|q| q.strip_prefix("to="))
            .unwrap_or("http://127.0.0.1:9/");
        return (StatusCode::FOUND, [(header::LOCATION, to.to_owned())], "").into_response();
    }
    if path == "/big" {
        return (StatusCode::OK, vec![b'x'; 11 * 1024 * 1024]).into_response();
    }
    (StatusCode::OK, "ok").into_response()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}
