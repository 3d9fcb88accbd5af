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
            Err(Error::RateLimited)
        } else {
            Ok(())
        }
    }
}
