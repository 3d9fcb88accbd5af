//! Server-trust mode only (no enclave): the credential key a client handed over, held in memory
//! for `AILERON_KEK_SESSION_TTL`, dropped (and so zeroized) on lock, on expiry, or by the sweep.
//! With an enclave there are no sessions: the server never holds a key.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aileron_sdk::vault::Key as DataKey;

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
}
