//! End-to-end parts: the local enclave and the `aileron` CLI as real processes (the workspace's
//! own binaries), and a recording upstream that plays the API an agent calls.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::any;
use tokio::net::TcpListener;

/// The directory holding the workspace's binaries (next to this test's `deps/`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(Path::parent)
        .expect("target directory")
        .to_owned()
}

/// A workspace binary; built by `scripts/test` before the tests run.
pub fn binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` (scripts/test does)",
        path.display()
    );
    path
}

/// `sha256:<hex>` of a file: a local enclave's image digest is its executable's.
pub fn file_digest(path: &Path) -> String {
    use sha2::Digest;
    let bytes = std::fs::read(path).expect("read binary");
    format!("sha256:{}", hex_lower(&sha2::Sha256::digest(&bytes)))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The local enclave as a process, restartable on the same port.
pub struct Enclave {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    boots: usize,
}

impl Enclave {
    /// Starts `aileron-enclave` in local mode with its CA in `dir/ca`.
    pub fn start(dir: &Path) -> Enclave {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut enclave = Enclave {
            port,
            dir: dir.to_owned(),
            child: None,
            boots: 0,
        };
        enclave.boot();
        enclave
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn ca_dir(&self) -> PathBuf {
        self.dir.join("ca")
    }

    /// The host's environment for using this enclave (`AILERON_TEE_PROVIDER=local`).
    pub fn host_env(&self) -> Vec<(String, String)> {
        vec![
            ("AILERON_TEE_PROVIDER".into(), "local".into()),
            ("AILERON_ENCLAVE_URL".into(), self.url()),
            ("AILERON_ENCLAVE_IMAGE_DIGEST".into(), self.digest()),
            (
                "AILERON_LOCAL_CA_DIR".into(),
                self.ca_dir().display().to_string(),
            ),
        ]
    }

    pub fn digest(&self) -> String {
        file_digest(&binary("aileron-enclave"))
    }

    /// Every log line the enclave wrote, over all its boots.
    pub fn logs(&self) -> String {
        (0..self.boots)
            .flat_map(|n| ["out", "err"].map(|k| self.dir.join(format!("enclave-{n}.{k}"))))
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn boot(&mut self) {
        let out = self.dir.join(format!("enclave-{}.out", self.boots));
        let err = self.dir.join(format!("enclave-{}.err", self.boots));
        self.boots += 1;
        let child = Command::new(binary("aileron-enclave"))
            .env_clear()
            .env("AILERON_TEE_PROVIDER", "local")
            .env("AILERON_ENCLAVE_BIND", "127.0.0.1")
            .env("AILERON_ENCLAVE_PORT", self.port.to_string())
            .env("AILERON_LOCAL_CA_DIR", self.ca_dir())
            // Tickets from a host with either test signing key are admitted.
            .env(
                "AILERON_ENCLAVE_ADMISSION_KEYS",
                format!(
                    "{},{}",
                    super::admission_key(super::SIGNING_KEY),
                    super::admission_key(super::ROTATED_SIGNING_KEY)
                ),
            )
            .env(super::DANGEROUS, "true")
            .env("RUST_LOG", "debug")
            .stdout(std::fs::File::create(&out).expect("enclave stdout"))
            .stderr(std::fs::File::create(&err).expect("enclave stderr"))
            .spawn()
            .expect("start aileron-enclave");
        self.child = Some(child);
        for _ in 0..200 {
            if std::fs::read_to_string(&out).is_ok_and(|s| s.contains("listening")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "the enclave did not start: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
    }

    /// Kills the enclave and starts a new boot on the same port (every escrow is lost).
    pub fn restart(&mut self) {
        self.stop();
        self.boot();
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The policy file a client uses to verify this enclave (local issuer, this binary, and the
    /// development setting the enclave runs with).
    pub fn policy_file(&self) -> PathBuf {
        let path = self.dir.join("policy.toml");
        std::fs::write(
            &path,
            format!(
                "audience = \"aileron-enclave\"\nimage_digests = [\"{}\"]\nhwmodels = [\"LOCAL_INSECURE\"]\nallow_debug = true\nissuer = \"https://aileron.local/attestation\"\nallow_dangerous_settings = true\n",
                self.digest()
            ),
        )
        .expect("write policy");
        path
    }
}

impl Drop for Enclave {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One request the upstream saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

/// An upstream API that records what it receives and echoes the `Authorization` header back in
/// its body and a response header, so tests can prove the secret is redacted on the way back.
#[derive(Clone, Default)]
pub struct Upstream {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub addr: Option<SocketAddr>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let mut upstream = Upstream::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        upstream.addr = Some(listener.local_addr().unwrap());
        let app = Router::new()
            .fallback(any(record))
            .with_state(upstream.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        upstream
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr.expect("started"))
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn record(
    State(upstream): State<Upstream>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> (HeaderMap, String) {
    let pairs: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let auth = headers
        .get("authorization")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    upstream.seen.lock().unwrap().push(Seen {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers: pairs,
    });
    let mut out = HeaderMap::new();
    if let Ok(v) = auth.parse() {
        out.insert("x-echo-authorization", v);
    }
    (
        out,
        format!("{{\"login\":\"octocat\",\"you_sent\":\"{auth}\"}}"),
    )
}

/// Runs the `aileron` CLI with `env` and `stdin`; returns (exit code, stdout, stderr).
pub fn cli(args: &[&str], env: &[(&str, &str)], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    let mut command = Command::new(binary("aileron"));
    command
        .args(args)
        .env_remove("AILERON_TOKEN")
        .env_remove("AILERON_ENCLAVE_URL")
        .env_remove("AILERON_SERVER")
        .env_remove("AILERON_POLICY")
        .env_remove("AILERON_ROOT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("run aileron");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("aileron output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `pg_dump` of a database, plain SQL with data (the newest installed client).
pub fn pg_dump(url: &str) -> String {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path().join("bin/pg_dump"))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    let bin = candidates.pop().unwrap_or_else(|| PathBuf::from("pg_dump"));
    let out = Command::new(bin)
        .arg("--no-owner")
        .arg(url)
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A TCP proxy in front of the server that records every byte clients send through it, as
/// an observer on the network (or the operator of a reverse proxy) would see it.
pub struct RecordingProxy {
    pub url: String,
    sent: Arc<Mutex<Vec<u8>>>,
}

impl RecordingProxy {
    /// Forwards `127.0.0.1:<new port>` to `target` (`host:port`).
    pub async fn start(target: &str) -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (record, target) = (sent.clone(), target.to_owned());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (record, target) = (record.clone(), target.clone());
                tokio::spawn(async move {
                    if let Ok(server) = tokio::net::TcpStream::connect(&target).await {
                        forward(client, server, record).await;
                    }
                });
            }
        });
        RecordingProxy { url, sent }
    }

    /// Everything clients sent so far.
    pub fn sent(&self) -> Vec<u8> {
        self.sent.lock().unwrap().clone()
    }
}

async fn forward(
    client: tokio::net::TcpStream,
    server: tokio::net::TcpStream,
    record: Arc<Mutex<Vec<u8>>>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            record.lock().unwrap().extend_from_slice(&buf[..n]);
            if server_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}

/// The forms a value could take on the wire or in storage: raw, JSON-escaped, base64 and
/// base64url (padded or not), hex (both cases), percent-encoded.
pub fn encodings(value: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let json = serde_json::to_string(value).unwrap();
    let percent: String = value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    let mut forms = vec![
        value.to_owned(),
        json[1..json.len() - 1].to_owned(),
        STANDARD.encode(value),
        STANDARD_NO_PAD.encode(value),
        URL_SAFE.encode(value),
        URL_SAFE_NO_PAD.encode(value),
        hex_lower(value.as_bytes()),
        hex_lower(value.as_bytes()).to_uppercase(),
        percent.clone(),
        percent.replace("%20", "+"),
    ];
    forms.sort();
    forms.dedup();
    forms
}

/// The first form of `value` found in `haystack`, if any.
pub fn leaked(haystack: &[u8], value: &str) -> Option<String> {
    encodings(value)
        .into_iter()
        .find(|form| haystack.windows(form.len()).any(|w| w == form.as_bytes()))
}
