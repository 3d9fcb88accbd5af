//! The audit writer commits events in groups: each `record` returns once its event is stored,
//! concurrent events share commits, and an event that cannot be stored fails alone.

#[macro_use]
mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use aileron_host::audit::{Actor, Audit};
use aileron_host::clock::Clock;
use aileron_host::db::audit::Filter;
use aileron_host::ids::UserId;
use common::{Backend, TestDb, users};
use serde_json::json;

both_backends!(
    concurrent_events_share_commits_and_one_that_cannot_be_stored_fails_alone,
    events_past_the_retention_are_deleted_and_younger_ones_kept
);

async fn concurrent_events_share_commits_and_one_that_cannot_be_stored_fails_alone(b: Backend) {
    let tdb = TestDb::new(b).await;
    let db = tdb.open(b).await;
    let people = users(&db, 8).await;
    let log = Arc::new(Audit::new(db.clone(), Clock::default()));

    // 200 events at once from 8 users: each is stored by the time its `record` returned, and
    // they shared commits.
    let record_all = |count: usize| {
        (0..count)
            .map(|i| {
                let (log, user) = (log.clone(), people[i % people.len()].clone());
                tokio::spawn(async move {
                    log.record(&user, &Actor::User, "request", json!({"n": i}))
                        .await
                        .map(|()| user)
                })
            })
            .collect::<Vec<_>>()
    };
    for task in record_all(200) {
        let user = task.await.unwrap().expect("stored");
        let page = log.page(&user, &Filter::default(), 300).await.unwrap();
        assert!(!page.is_empty());
    }
    let stats = log.stats();
    let groups = stats.groups.load(Ordering::Relaxed);
    assert!(
        stats.largest.load(Ordering::Relaxed) > 1 && groups < 200,
        "concurrent events shared commits: {groups} groups"
    );

    // With an event of a user that does not exist among them (the foreign key refuses it), that
    // one fails and the others are stored.
    let nobody = UserId::random();
    let good = record_all(50);
    let bad = {
        let (log, nobody) = (log.clone(), nobody.clone());
        tokio::spawn(async move {
            log.record(&nobody, &Actor::User, "request", json!({}))
                .await
        })
    };
    for task in good {
        task.await.unwrap().expect("stored");
    }
    assert!(
        bad.await.unwrap().is_err(),
        "the event of a user that does not exist"
    );
    let mut stored = 0;
    for user in &people {
        stored += log.page(user, &Filter::default(), 300).await.unwrap().len();
    }
    assert_eq!(stored, 250);
    assert!(
        log.page(&nobody, &Filter::default(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    db.pool.close().await;
    tdb.cleanup().await;
}

async fn events_past_the_retention_are_deleted_and_younger_ones_kept(b: Backend) {
    let tdb = TestDb::new(b).await;
    let db = tdb.open(b).await;
    let people = users(&db, 2).await;
    let clock = Clock::default();
    let day = 24 * 3600;
    let kept = Audit::new(db.clone(), clock.clone());
    let log = Audit::new(db.clone(), clock.clone())
        .retaining(Some(std::time::Duration::from_secs(30 * day as u64)));
    for user in &people {
        for _ in 0..3 {
            log.record(user, &Actor::User, "old", json!({}))
                .await
                .unwrap();
        }
    }
    // 31 days on: the old events are past a 30-day retention; two new ones are not.
    clock.advance(31 * day);
    for user in &people {
        log.record(user, &Actor::User, "new", json!({}))
            .await
            .unwrap();
    }
    assert_eq!(
        kept.expire().await.unwrap(),
        0,
        "no retention keeps every event"
    );
    assert_eq!(log.expire().await.unwrap(), 6);
    for user in &people {
        let page = log.page(user, &Filter::default(), 10).await.unwrap();
        let actions: Vec<&str> = page.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["new"]);
    }
    assert_eq!(log.expire().await.unwrap(), 0, "nothing more to delete");
    db.pool.close().await;
    tdb.cleanup().await;
}
