//! Unlocked vaults: the data key held in memory for `AILERON_KEK_SESSION_TTL` after a passphrase
//! verification, dropped (and so zeroized) on lock, on expiry, or by the sweep.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::envelope::DataKey;

/// One unlocked vault.
struct Session {
    key: Arc<DataKey>,
    expires: Instant,
}

/// Unlocked vaults by owner. Time is passed in, so tests control it.
pub struct Sessions<K> {
    ttl: Duration,
    open: Mutex<HashMap<K, Session>>,
}

impl<K: Eq + Hash + Clone> Sessions<K> {
    /// Sessions that last `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Sessions {
            ttl,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Opens (or renews) `owner`'s session with its data key; returns when it expires.
    pub fn unlock(&self, owner: K, key: DataKey, now: Instant) -> Instant {
        let expires = now + self.ttl;
        self.lock_map().insert(
            owner,
            Session {
                key: Arc::new(key),
                expires,
            },
        );
        expires
    }

    /// The data key, when the vault is unlocked at `now`. An expired session is dropped here.
    pub fn key(&self, owner: &K, now: Instant) -> Option<Arc<DataKey>> {
        let mut open = self.lock_map();
        match open.get(owner) {
            Some(session) if session.expires > now => Some(session.key.clone()),
            Some(_) => {
                open.remove(owner);
                None
            }
            None => None,
        }
    }

    /// When `owner`'s session expires, if it is open at `now`.
    pub fn expires(&self, owner: &K, now: Instant) -> Option<Instant> {
        self.lock_map()
            .get(owner)
            .map(|s| s.expires)
            .filter(|e| *e > now)
    }

    /// Locks `owner`'s vault now. Returns whether a session was open.
    pub fn lock(&self, owner: &K) -> bool {
        self.lock_map().remove(owner).is_some()
    }

    /// Drops every expired session; returns how many. Run periodically.
    pub fn sweep(&self, now: Instant) -> usize {
        let mut open = self.lock_map();
        let before = open.len();
        open.retain(|_, s| s.expires > now);
        before - open.len()
    }

    fn lock_map(&self) -> std::sync::MutexGuard<'_, HashMap<K, Session>> {
        // A poisoned map still holds valid sessions: keep serving rather than fail open or closed.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Failed passphrase attempts per owner: after `max_failures` within `window`, further
/// attempts are refused until the window has passed since the first failure.
pub struct FailureLimiter<K> {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<K, (u32, Instant)>>,
}

impl<K: Eq + Hash + Clone> FailureLimiter<K> {
    /// A limiter allowing `max_failures` per `window`.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        FailureLimiter {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` when `owner` must wait before trying again.
    pub fn check(&self, owner: &K, now: Instant) -> Result<(), Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.get(owner) {
            Some((count, first)) if *count >= self.max_failures && now < *first + self.window => {
                Err(*first + self.window - now)
            }
            _ => Ok(()),
        }
    }

    /// Records a failed attempt.
    pub fn failed(&self, owner: &K, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = failures.entry(owner.clone()).or_insert((0, now));
        if now >= entry.1 + self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    /// Forgets failures after a success.
    pub fn succeeded(&self, owner: &K) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(owner);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_serves_its_key_until_it_expires() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let expires = sessions.unlock("u1", DataKey::generate().unwrap(), t0);
        assert_eq!(expires, t0 + Duration::from_secs(60));
        assert!(sessions.key(&"u1", t0 + Duration::from_secs(59)).is_some());
        assert!(sessions.key(&"u1", t0 + Duration::from_secs(60)).is_none());
        assert!(sessions.key(&"u2", t0).is_none());
    }

    #[test]
    fn lock_ends_the_session_at_once() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let t0 = Instant::now();
        sessions.unlock("u1", DataKey::generate().unwrap(), t0);
        assert!(sessions.lock(&"u1"));
        assert!(sessions.key(&"u1", t0).is_none());
        assert!(!sessions.lock(&"u1"));
    }

    #[test]
    fn sweep_drops_only_expired_sessions() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let t0 = Instant::now();
        sessions.unlock("old", DataKey::generate().unwrap(), t0);
        sessions.unlock(
            "new",
            DataKey::generate().unwrap(),
            t0 + Duration::from_secs(30),
        );
        assert_eq!(sessions.sweep(t0 + Duration::from_secs(61)), 1);
        assert!(
            sessions
                .expires(&"new", t0 + Duration::from_secs(61))
                .is_some()
        );
    }

    #[test]
    fn the_limiter_refuses_after_too_many_failures_and_forgives_after_the_window() {
        let limiter = FailureLimiter::new(3, Duration::from_secs(300));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(&"u1", t0).is_ok());
            limiter.failed(&"u1", t0);
        }
        assert_eq!(
            limiter.check(&"u1", t0 + Duration::from_secs(100)),
            Err(Duration::from_secs(200))
        );
        assert!(
            limiter.check(&"u2", t0).is_ok(),
            "another user is not affected"
        );
        assert!(limiter.check(&"u1", t0 + Duration::from_secs(300)).is_ok());
        limiter.succeeded(&"u1");
        assert!(limiter.check(&"u1", t0).is_ok());
    }
}
