//! Audit rows committed per second on PostgreSQL, one commit per event (the writer before group
//! commit: `db::audit::insert`) against the group-committing writer (`Audit::record`), in one
//! run, with the latency each `record` waits and the groups the writer made.
//!
//! Usage: cargo bench -p aileron-host --bench audit -- DATABASE_URL [EVENTS] [CONCURRENCY]
//! (`scripts/bench-audit` makes a fresh database and runs this.)

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use aileron_host::audit::{Actor, Audit};
use aileron_host::clock::Clock;
use aileron_host::config::Database;
use aileron_host::db::Db;
use aileron_host::db::audit::{self, AuditRow};
use aileron_host::ids::UserId;
use secrecy::SecretString;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(url) = args.first().cloned() else {
        eprintln!("usage: audit DATABASE_URL [EVENTS] [CONCURRENCY]");
        std::process::exit(2);
    };
    let events: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let conc: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64);
    let db = Db::connect(&Database::Postgres(SecretString::from(url)), None)
        .await
        .expect("database");
    db.migrate().await.expect("migrations");
    // The audit table's user_id refers to a user: one per task, made directly.
    let users: Vec<UserId> = (0..conc).map(|_| UserId::random()).collect();
    let enterprise = UserId::random();
    sqlx::query("INSERT INTO enterprises (id, name, kind, domain, created_at) VALUES ($1, 'bench', 'personal', NULL, 0)")
        .bind(enterprise.as_str())
        .execute(&db.pool)
        .await
        .expect("enterprise");
    for user in &users {
        sqlx::query(
            "INSERT INTO users (id, enterprise_id, email, role, created_at) VALUES ($1, $2, $3, 'owner', 0)",
        )
        .bind(user.as_str())
        .bind(enterprise.as_str())
        .bind(format!("{user}@bench.test"))
        .execute(&db.pool)
        .await
        .expect("user");
    }

    let per_task = events / conc;
    let one_by_one = {
        let db = db.clone();
        run(&users, per_task, move |user, i| {
            let db = db.clone();
            async move {
                let row = AuditRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    seq: i64::try_from(i).unwrap_or(0),
                    at: 0,
                    action: "request".into(),
                    actor: "user".into(),
                    detail: "{}".into(),
                };
                audit::insert(&db.pool, db.backend, &user, &row)
                    .await
                    .expect("insert");
            }
        })
        .await
    };
    let log = Arc::new(Audit::new(db.clone(), Clock::default()));
    let grouped = {
        let log = log.clone();
        run(&users, per_task, move |user, _| {
            let log = log.clone();
            async move {
                log.record(&user, &Actor::User, "request", serde_json::json!({}))
                    .await
                    .expect("record");
            }
        })
        .await
    };
    let stats = log.stats();
    let groups = stats.groups.load(Ordering::Relaxed);
    let committed = stats.events.load(Ordering::Relaxed);
    println!(
        "{} events from {conc} concurrent tasks on PostgreSQL",
        per_task * conc
    );
    for (name, r) in [
        ("one commit per event", &one_by_one),
        ("group commit", &grouped),
    ] {
        println!(
            "  {name:<24} {:>8.0} rows/s   record p50 {:>6.2} ms   p99 {:>6.2} ms",
            r.rate, r.p50, r.p99
        );
    }
    println!(
        "  groups: {groups}, {:.1} events each on average, the largest {}",
        committed as f64 / groups.max(1) as f64,
        stats.largest.load(Ordering::Relaxed)
    );
}

struct Run {
    rate: f64,
    p50: f64,
    p99: f64,
}

/// `per_task` calls of `one` in each of `users.len()` concurrent tasks.
async fn run<F, Fut>(users: &[UserId], per_task: usize, one: F) -> Run
where
    F: Fn(UserId, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (t, user) in users.iter().enumerate() {
        let (one, user) = (one.clone(), user.clone());
        tasks.push(tokio::spawn(async move {
            let mut waited = Vec::with_capacity(per_task);
            for i in 0..per_task {
                let at = Instant::now();
                one(user.clone(), t * per_task + i).await;
                waited.push(at.elapsed());
            }
            waited
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let ms =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    Run {
        rate: all.len() as f64 / elapsed,
        p50: ms(0.50),
        p99: ms(0.99),
    }
}
