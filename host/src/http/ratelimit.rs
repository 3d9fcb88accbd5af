//! Fixed-window rate limits per client address and per account, in memory.
//!
//! A single replica's view: with several replicas each enforces its own budget, which bounds
//! abuse by the replica count. Good enough against online guessing; a shared store can replace
//! this behind the same `check` call.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::error::Error;

const WINDOW_SECS: i64 = 60;
const MAX_KEYS: usize = 100_000;
/// An account's sign-in ceiling over all addresses, as a multiple of its per-address budget.
const SIGN_IN_CEILING_FACTOR: u32 = 10;

/// (endpoint, subject) → (window start, count).
type Windows = HashMap<(&'static str, String), (i64, u32)>;

/// Counters keyed by (endpoint, subject).
#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<Windows>,
    pub per_addr: u32,
    pub per_account: u32,
}

impl RateLimiter {
    /// A limiter with these per-minute budgets.
    pub fn new(per_addr: u32, per_account: u32) -> Self {
        Self {
            windows: Mutex::default(),
            per_addr,
            per_account,
        }
    }

    /// Counts one attempt on `endpoint` by `addr` and (when known) for `account`.
    pub fn check(
        &self,
        endpoint: &'static str,
        addr: Option<IpAddr>,
        account: Option<&str>,
        now: i64,
    ) -> Result<(), Error> {
        if let Some(addr) = addr {
            self.hit(endpoint, format!("ip:{addr}"), self.per_addr, now)?;
        }
        if let Some(account) = account {
            self.hit(endpoint, format!("acct:{account}"), self.per_account, now)?;
        }
        Ok(())
    }

    /// Counts one sign-in attempt (login) by `addr` for `account`. The account's budget is kept
    /// per address, so a stranger guessing from elsewhere cannot lock the owner out; a ceiling
    /// of ten times that budget per account, over all addresses, still bounds guessing spread
    /// over many addresses.
    pub fn check_sign_in(
        &self,
        endpoint: &'static str,
        addr: Option<IpAddr>,
        account: &str,
        now: i64,
    ) -> Result<(), Error> {
        match addr {
            Some(addr) => {
                self.hit(endpoint, format!("ip:{addr}"), self.per_addr, now)?;
                self.hit(
                    endpoint,
                    format!("acct:{account}@{addr}"),
                    self.per_account,
                    now,
                )?;
                let ceiling = self.per_account.saturating_mul(SIGN_IN_CEILING_FACTOR);
                self.hit(endpoint, format!("acct:{account}"), ceiling, now)
            }
            None => self.hit(endpoint, format!("acct:{account}"), self.per_account, now),
        }
    }

    fn hit(&self, endpoint: &'static str, key: String, limit: u32, now: i64) -> Result<(), Error> {
        let window = now - now.rem_euclid(WINDOW_SECS);
        // A poisoned lock only means another request panicked mid-update; the counters are still usable.
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, (w, _)| *w == window);
        }
        let entry = map.entry((endpoint, key)).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            let retry_after = u64::try_from(window + WINDOW_SECS - now)
                .unwrap_or(1)
                .max(1);
            Err(Error::RateLimited { retry_after })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_says_when_the_window_ends() {
        let limiter = RateLimiter::new(1, 1000);
        let addr = Some("203.0.113.9".parse().unwrap());
        limiter.check("resend", addr, None, 125).unwrap();
        // The window is [120, 180): 55 s are left at 125, 1 s at 179.
        assert!(matches!(
            limiter.check("resend", addr, None, 125),
            Err(Error::RateLimited { retry_after: 55 })
        ));
        assert!(matches!(
            limiter.check("resend", addr, None, 179),
            Err(Error::RateLimited { retry_after: 1 })
        ));
    }

    #[test]
    fn a_stranger_exhausting_an_account_from_one_address_does_not_lock_out_another_address() {
        let limiter = RateLimiter::new(1000, 3);
        let (stranger, owner) = (
            Some("203.0.113.9".parse().unwrap()),
            Some("198.51.100.7".parse().unwrap()),
        );
        for _ in 0..3 {
            limiter
                .check_sign_in("login", stranger, "a@example.com", 60)
                .unwrap();
        }
        assert!(matches!(
            limiter.check_sign_in("login", stranger, "a@example.com", 60),
            Err(Error::RateLimited { .. })
        ));
        limiter
            .check_sign_in("login", owner, "a@example.com", 60)
            .unwrap();
    }

    #[test]
    fn guessing_spread_over_many_addresses_meets_the_account_ceiling() {
        let limiter = RateLimiter::new(1000, 1);
        for i in 0..10 {
            let addr = Some(format!("203.0.113.{i}").parse().unwrap());
            limiter
                .check_sign_in("login", addr, "a@example.com", 60)
                .unwrap();
        }
        let another = Some("203.0.113.200".parse().unwrap());
        assert!(matches!(
            limiter.check_sign_in("login", another, "a@example.com", 60),
            Err(Error::RateLimited { .. })
        ));
    }
}
