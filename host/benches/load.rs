//! Load generator for `scripts/bench-host`: `POST /auth/refresh` and `POST /auth/login` against a
//! running server (started with `AILERON_AUTO_VERIFY_EMAIL=true` and generous rate limits), and
//! the raw Argon2id verify rate at the server's cost, for the login ratio.
//!
//! Usage: cargo bench -p aileron-host --bench load -- BASE_URL [SECONDS] [CONCURRENCY]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aileron_host::auth::password::{Hasher, Password};
use serde_json::{Value, json};

const PASSWORD: &str = "bench password 0123";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(base) = args.first().cloned() else {
        eprintln!("usage: load BASE_URL [SECONDS] [CONCURRENCY]");
        std::process::exit(2);
    };
    let secs: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let conc: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(16);
    let http = aileron_host::mail::http_client().expect("client");
    let run = uuid::Uuid::new_v4().simple().to_string();

    let mut tokens = Vec::new();
    for i in 0..conc {
        let email = format!("bench-{run}-{i}@bench.test");
        post(
            &http,
            &base,
            "/auth/signup",
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
        let s = post(
            &http,
            &base,
            "/auth/login",
            json!({"email": email, "password": PASSWORD, "delivery": "body"}),
        )
        .await;
        tokens.push((
            email,
            s["refresh_token"]
                .as_str()
                .expect("login failed; is AILERON_AUTO_VERIFY_EMAIL=true?")
                .to_owned(),
        ));
    }

    let refresh = rate(
        conc,
        secs,
        tokens.clone(),
        |http, base, (_, token): &mut (String, String)| {
            let body = json!({"refresh_token": token, "delivery": "body"});
            async move {
                let s = post(&http, &base, "/auth/refresh", body).await;
                s["refresh_token"].as_str().map(str::to_owned)
            }
        },
        &http,
        &base,
    )
    .await;
    let refresh = match refresh {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    println!("refresh (PostgreSQL, {conc} clients, {secs}s): {refresh:.0} req/s");

    let login_conc = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    let login = rate(
        login_conc,
        secs,
        tokens.clone(),
        |http, base, (email, _): &mut (String, String)| {
            let body = json!({"email": email, "password": PASSWORD, "delivery": "body"});
            async move {
                let s = post(&http, &base, "/auth/login", body).await;
                s["refresh_token"].as_str().map(str::to_owned)
            }
        },
        &http,
        &base,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    println!("login ({login_conc} clients, {secs}s): {login:.1} req/s");

    let raw = raw_argon2(secs).await;
    println!("raw Argon2id verify (19 MiB, t=2, p=1, all cores, {secs}s): {raw:.1} /s");
    println!("login / raw Argon2id = {:.2} (target >= 0.9)", login / raw);
}

async fn post(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    match http.post(format!("{base}{path}")).json(&body).send().await {
        Ok(res) => res.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// Successful operations per second over `secs`, `conc` workers each owning one state.
async fn rate<F, Fut>(
    conc: usize,
    secs: u64,
    states: Vec<(String, String)>,
    op: F,
    http: &reqwest::Client,
    base: &str,
) -> Result<f64, String>
where
    F: Fn(reqwest::Client, String, &mut (String, String)) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Option<String>> + Send,
{
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for mut state in states.into_iter().cycle().take(conc) {
        let (op, http, base, ok, failed) = (
            op.clone(),
            http.clone(),
            base.to_owned(),
            ok.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                match op(http.clone(), base.clone(), &mut state).await {
                    Some(next) => {
                        state.1 = next;
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    None => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
            }
        }));
    }
    let start = Instant::now();
    for t in tasks {
        let _ = t.await;
    }
    let n = ok.load(Ordering::Relaxed);
    let f = failed.load(Ordering::Relaxed);
    if f > 0 {
        return Err(format!(
            "{f} workers stopped on a failed request ({n} succeeded)"
        ));
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Raw verify rate of the server's hasher, all cores busy.
async fn raw_argon2(secs: u64) -> f64 {
    let hasher = Hasher::new().expect("hasher");
    let phc = hasher
        .hash(Password::parse(secrecy::SecretString::from(PASSWORD.to_owned())).expect("len"))
        .await
        .expect("hash");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let count = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..cores * 2 {
        let (hasher, phc, count) = (hasher.clone(), phc.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let pw = secrecy::SecretString::from(PASSWORD.to_owned());
                if hasher.verify(pw, Some(phc.clone())).await.unwrap_or(false) {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}
