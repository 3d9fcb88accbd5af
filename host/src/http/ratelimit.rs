//! Fixed-window rate limits per client address and per account, kept in the database.
//!
//! Every replica counts in the same rows (`rate_windows`), in the statement that reads the count,
//! before the work the limit protects: N replicas behind a load balancer give an attacker no more
//! tries than one, and a restart forgives nothing. Subjects are stored as SHA-256 digests, so
//! the table names no address or account in the clear.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::db::{Db, DbError};
use crate::error::Error;

const WINDOW_SECS: i64 = 60;
/// An account's sign-in ceiling over all addresses, as a multiple of its per-address budget.
const SIGN_IN_CEILING_FACTOR: u32 = 10;

/// Counters keyed by (endpoint, subject), shared through the database.
pub struct RateLimiter {
    db: Db,
    pub per_addr: u32,
    pub per_account: u32,
}

impl RateLimiter {
    /// A limiter with these per-minute budgets.
    pub fn new(db: Db, per_addr: u32, per_account: u32) -> Self {
        Self {
            db,
            per_addr,
            per_account,
        }
    }

    /// Counts one attempt on `endpoint` by `addr` and (when known) for `account`.
    pub async fn check(
        &self,
        endpoint: &'static str,
        addr: Option<IpAddr>,
        account: Option<&str>,
        now: i64,
    ) -> Result<(), Error> {
        let mut limits = Vec::with_capacity(2);
        if let Some(addr) = addr {
            limits.push((format!("ip:{addr}"), self.per_addr));
        }
        if let Some(account) = account {
            limits.push((format!("acct:{account}"), self.per_account));
        }
        self.hit(endpoint, &limits, now).await
    }

    /// Counts one sign-in attempt (login, code) by `addr` for `account`. The account's budget is
    /// kept per address, so a stranger guessing from elsewhere cannot lock the owner out; a
    /// ceiling of ten times that budget per account, over all addresses, still bounds guessing
    /// spread over many addresses.
    pub async fn check_sign_in(
        &self,
        endpoint: &'static str,
        addr: Option<IpAddr>,
        account: &str,
        now: i64,
    ) -> Result<(), Error> {
        let limits = match addr {
            Some(addr) => vec![
                (format!("ip:{addr}"), self.per_addr),
                (format!("acct:{account}@{addr}"), self.per_account),
                (
                    format!("acct:{account}"),
                    self.per_account.saturating_mul(SIGN_IN_CEILING_FACTOR),
                ),
            ],
            None => vec![(format!("acct:{account}"), self.per_account)],
        };
        self.hit(endpoint, &limits, now).await
    }

    /// One statement counts every subject; any over its limit refuses the attempt.
    async fn hit(
        &self,
        endpoint: &'static str,
        limits: &[(String, u32)],
        now: i64,
    ) -> Result<(), Error> {
        let window = now - now.rem_euclid(WINDOW_SECS);
        let subjects: Vec<String> = limits.iter().map(|(s, _)| digest(s)).collect();
        let counts = crate::db::ratelimit::hit(&self.db.pool, endpoint, &subjects, window).await?;
        if counts
            .iter()
            .zip(limits)
            .any(|(count, (_, limit))| *count > i64::from(*limit))
        {
            let retry_after = u64::try_from(window + WINDOW_SECS - now)
                .unwrap_or(1)
                .max(1);
            return Err(Error::RateLimited { retry_after });
        }
        Ok(())
    }

    /// Drops the windows that ended; the server's upkeep calls it.
    pub async fn sweep(&self, now: i64) -> Result<u64, DbError> {
        let current = now - now.rem_euclid(WINDOW_SECS);
        crate::db::ratelimit::sweep(&self.db.pool, current).await
    }
}

fn digest(subject: &str) -> String {
    hex::encode(Sha256::digest(subject.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn limiter(per_addr: u32, per_account: u32) -> RateLimiter {
        let db = Db::connect(&crate::config::Database::InMemory, None)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        RateLimiter::new(db, per_addr, per_account)
    }

    #[tokio::test]
    async fn a_refusal_says_when_the_window_ends() {
        let limiter = limiter(1, 1000).await;
        let addr = Some("203.0.113.9".parse().unwrap());
        limiter.check("resend", addr, None, 125).await.unwrap();
        // The window is [120, 180): 55 s are left at 125, 1 s at 179.
        assert!(matches!(
            limiter.check("resend", addr, None, 125).await,
            Err(Error::RateLimited { retry_after: 55 })
        ));
        assert!(matches!(
            limiter.check("resend", addr, None, 179).await,
            Err(Error::RateLimited { retry_after: 1 })
        ));
        // The next window starts again.
        limiter.check("resend", addr, None, 180).await.unwrap();
    }

    #[tokio::test]
    async fn a_stranger_exhausting_an_account_from_one_address_does_not_lock_out_another_address() {
        let limiter = limiter(1000, 3).await;
        let (stranger, owner) = (
            Some("203.0.113.9".parse().unwrap()),
            Some("198.51.100.7".parse().unwrap()),
        );
        for _ in 0..3 {
            limiter
                .check_sign_in("login", stranger, "a@example.com", 60)
                .await
                .unwrap();
        }
        assert!(matches!(
            limiter
                .check_sign_in("login", stranger, "a@example.com", 60)
                .await,
            Err(Error::RateLimited { .. })
        ));
        limiter
            .check_sign_in("login", owner, "a@example.com", 60)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn guessing_spread_over_many_addresses_meets_the_account_ceiling() {
        let limiter = limiter(1000, 1).await;
        for i in 0..10 {
            let addr = Some(format!("203.0.113.{i}").parse().unwrap());
            limiter
                .check_sign_in("login", addr, "a@example.com", 60)
                .await
                .unwrap();
        }
        let another = Some("203.0.113.200".parse().unwrap());
        assert!(matches!(
            limiter
                .check_sign_in("login", another, "a@example.com", 60)
                .await,
            Err(Error::RateLimited { .. })
        ));
    }

    #[tokio::test]
    async fn the_table_names_no_address_or_account_and_ended_windows_are_swept() {
        let limiter = limiter(10, 10).await;
        let addr = Some("203.0.113.9".parse().unwrap());
        limiter
            .check_sign_in("login", addr, "planted@example.com", 60)
            .await
            .unwrap();
        let rows: Vec<(String,)> = sqlx::query_as("SELECT subject FROM rate_windows")
            .fetch_all(&limiter.db.pool)
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        for (subject,) in &rows {
            assert!(!subject.contains("planted") && !subject.contains("203.0.113"));
            assert_eq!(subject.len(), 64);
        }
        assert_eq!(limiter.sweep(119).await.unwrap(), 0);
        assert_eq!(limiter.sweep(120).await.unwrap(), 3);
    }
}
