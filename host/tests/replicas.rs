//! Several servers on one database behave as one: the counters that protect users (code attempts,
//! rate windows) are shared, and the audit cursor never skips or repeats an event written by two
//! replicas at once. The whole stack behind nginx is `scripts/test.d/75-scale.sh`.

#[macro_use]
mod common;

use aileron_host::db::audit::{AuditRow, Filter};
use aileron_host::db::escrows::{self, EscrowRow, Kind};
use common::{Backend, Options, TestDb, TestServer, code, users};
use serde_json::json;

/// A second replica of `first`: the same database, its own process state.
async fn replica_of(first: &TestServer, per_account: u32) -> TestServer {
    TestServer::start_with(
        Backend::Postgres,
        Options {
            database: false,
            database_url: Some(first.db.as_ref().expect("database").url.clone()),
            per_account,
            ..Options::default()
        },
    )
    .await
}

both_backends!(escrows_of_enclaves_no_longer_configured_are_lost_and_older_rows_are_adopted);

async fn escrows_of_enclaves_no_longer_configured_are_lost_and_older_rows_are_adopted(b: Backend) {
    let tdb = TestDb::new(b).await;
    let db = tdb.open(b).await;
    let user = users(&db, 1).await.remove(0);
    for (name, enclave) in [
        ("old", ""),
        ("kept", "https://b:1"),
        ("gone", "https://c:1"),
    ] {
        let row = EscrowRow {
            id: uuid::Uuid::new_v4().to_string(),
            name: name.into(),
            credential_id: None,
            escrow_id: format!("esc-{name}"),
            handle: "sealed".into(),
            boot_id: "boot".into(),
            enclave: enclave.into(),
            expires_at: i64::MAX / 2,
            lost_at: None,
            created_at: 0,
        };
        escrows::upsert(&db.pool, &user, Kind::Sealed, &row)
            .await
            .unwrap();
    }
    let (adopted, lost) = escrows::reconcile(&db.pool, &["https://a:1", "https://b:1"], 77)
        .await
        .unwrap();
    assert_eq!((adopted, lost), (1, 1));
    let rows = escrows::list(&db.pool, &user, Kind::Sealed).await.unwrap();
    let by = |n: &str| rows.iter().find(|r| r.name == n).unwrap().clone();
    assert_eq!(
        (by("old").enclave.as_str(), by("old").lost_at),
        ("https://a:1", None)
    );
    assert_eq!(
        (by("kept").enclave.as_str(), by("kept").lost_at),
        ("https://b:1", None)
    );
    assert_eq!(by("gone").lost_at, Some(77));
    db.pool.close().await;
    tdb.cleanup().await;
}

#[tokio::test]
async fn wrong_codes_spread_over_two_replicas_void_the_code_as_on_one() {
    let a = TestServer::start(Backend::Postgres).await;
    let b = replica_of(&a, 10_000).await;
    let replicas = [&a, &b];
    for (email, wrong_tries, verifies) in
        [("five@acme.test", 5, false), ("four@acme.test", 4, true)]
    {
        a.post(
            "/auth/signup",
            json!({"email": email, "password": "correct horse battery"}),
        )
        .await;
        let good = a.mail.code_for(email).await;
        let wrong = if good == "000000" { "111111" } else { "000000" };
        for i in 0..wrong_tries {
            let (status, body) = replicas[i % 2]
                .post("/auth/verify-email", json!({"email": email, "code": wrong}))
                .await;
            assert_eq!((status, code(&body)), (400, "invalid_code"));
        }
        // The right code, on the replica that saw fewer of the wrong ones.
        let (status, body) = b
            .post("/auth/verify-email", json!({"email": email, "code": good}))
            .await;
        if verifies {
            assert_eq!(status, 200, "four wrong tries leave one: {body}");
        } else {
            assert_eq!(
                (status, code(&body)),
                (400, "invalid_code"),
                "five wrong tries over two replicas void the code"
            );
        }
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn concurrent_guesses_on_any_replicas_get_no_more_than_five_comparisons() {
    let tdb = TestDb::new(Backend::Postgres).await;
    let (one, two) = (
        tdb.open(Backend::Postgres).await,
        tdb.open(Backend::Postgres).await,
    );
    let user = users(&one, 1).await.remove(0);
    aileron_host::db::codes::put(&one.pool, &user, "hash", i64::MAX / 2, 0, 900)
        .await
        .unwrap();
    // 40 guesses at once, half through each replica's pool: exactly five may be compared.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (pool, user) = (
                if i % 2 == 0 { &one } else { &two }.pool.clone(),
                user.clone(),
            );
            tokio::spawn(async move {
                aileron_host::db::codes::take_attempt(&pool, &user, 5, 1)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut compared = 0;
    for task in tasks {
        if task.await.unwrap().is_some() {
            compared += 1;
        }
    }
    assert_eq!(compared, 5);
    one.pool.close().await;
    two.pool.close().await;
    tdb.cleanup().await;
}

#[tokio::test]
async fn sign_in_attempts_spread_over_two_replicas_meet_one_budget() {
    let a = TestServer::start_with(
        Backend::Postgres,
        Options {
            per_account: 3,
            ..Options::default()
        },
    )
    .await;
    let b = replica_of(&a, 3).await;
    let login = json!({"email": "nobody@acme.test", "password": "not the password"});
    for s in [&a, &b, &a] {
        let (status, body) = s.post("/auth/login", login.clone()).await;
        assert_eq!((status, code(&body)), (401, "invalid_credentials"));
    }
    let (status, body) = b.post("/auth/login", login.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (429, "rate_limited"),
        "the fourth attempt, on the replica that saw one: {body}"
    );
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn an_audit_walk_over_events_two_replicas_wrote_in_the_same_microsecond_sees_each_once() {
    let tdb = TestDb::new(Backend::Postgres).await;
    let replicas = [
        tdb.open(Backend::Postgres).await,
        tdb.open(Backend::Postgres).await,
    ];
    let user = users(&replicas[0], 1).await.remove(0);
    // Each replica writes 30 events whose process clocks read the same microseconds: the
    // per-process cursor of earlier builds gave both the same `seq`s.
    let mut written = Vec::new();
    for db in &replicas {
        let rows: Vec<_> = (0..30)
            .map(|i| {
                let row = AuditRow {
                    id: uuid::Uuid::new_v4().to_string(),
                    seq: 1_700_000_000_000_000 + i,
                    at: 1_700_000_000,
                    action: "request".into(),
                    actor: "user".into(),
                    detail: "{}".into(),
                };
                written.push(row.id.clone());
                (user.clone(), row)
            })
            .collect();
        for chunk in rows.chunks(7) {
            aileron_host::db::audit::insert_many(&db.pool, db.backend, chunk)
                .await
                .unwrap();
        }
    }
    // Walk pages of 5 (odd, so a page can end between two events of one microsecond) through
    // alternating replicas.
    let mut seen = Vec::new();
    let mut before = None;
    for page_no in 0.. {
        let db = &replicas[page_no % 2];
        let filter = Filter {
            before,
            ..Filter::default()
        };
        let page = aileron_host::db::audit::page(&db.pool, &user, &filter, 5)
            .await
            .unwrap();
        seen.extend(page.iter().map(|r| r.id.clone()));
        match page.last() {
            Some(last) if page.len() == 5 => before = Some(last.seq),
            _ => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no event is repeated");
    written.sort();
    assert_eq!(unique, written, "every event is seen");
    for db in &replicas {
        db.pool.close().await;
    }
    tdb.cleanup().await;
}
