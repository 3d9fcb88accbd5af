//! Escrows in enclave memory. The handle is a 32-byte capability: the store keeps only its
//! SHA-256 and compares in constant time; a wrong handle and an unknown id look the same.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use crate::scope::ValidScope;

/// Why the store refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No escrow with this id and handle (never says which of the two was wrong).
    #[error("no such escrow")]
    NotFound,
    /// The escrow's expiry has passed.
    #[error("the escrow has expired")]
    Expired,
    /// The escrow's uses are spent.
    #[error("the escrow's uses are spent")]
    UsedUp,
    /// The enclave holds its maximum number of escrows.
    #[error("the enclave holds its maximum of {0} escrows")]
    Full(usize),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

/// Secret bytes: zeroized on drop, never printed.
pub struct Secret(SecretBox<[u8]>);

impl Secret {
    /// Takes ownership of `bytes` (the caller's buffer should be zeroizing too).
    pub fn new(bytes: &[u8]) -> Secret {
        Secret(SecretBox::new(bytes.into()))
    }

    /// The bytes, for the narrowest scope that needs them.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// One escrowed credential.
#[derive(Debug)]
pub struct Escrow {
    handle_hash: [u8; 32],
    /// What it may be used for.
    pub scope: ValidScope,
    /// The credential.
    pub secret: Secret,
    uses: AtomicU64,
}

impl Escrow {
    /// Uses so far.
    pub fn uses(&self) -> u64 {
        self.uses.load(Ordering::SeqCst)
    }

    /// Counts one use, atomically, unless expired at `now` or used up.
    pub fn take_use(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        if now >= self.scope.expires_at {
            return Err(StoreError::Expired);
        }
        let limit = self.scope.max_uses.unwrap_or(u64::MAX);
        self.uses
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                (used < limit).then_some(used + 1)
            })
            .map(|before| before + 1)
            .map_err(|_| StoreError::UsedUp)
    }
}

impl Escrow {
    /// Gives back a use counted for a request that never reached the upstream.
    pub fn give_back_use(&self) {
        let _ = self
            .uses
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                used.checked_sub(1)
            });
    }
}

/// Every escrow of this boot.
pub struct Store {
    escrows: RwLock<HashMap<String, Arc<Escrow>>>,
    capacity: usize,
    rng: SystemRandom,
}

impl Store {
    /// A store for at most `capacity` escrows.
    pub fn new(capacity: usize) -> Store {
        Store {
            escrows: RwLock::new(HashMap::new()),
            capacity,
            rng: SystemRandom::new(),
        }
    }

    /// Stores a credential; returns its id and handle (the handle is shown once, here).
    pub fn insert(
        &self,
        scope: ValidScope,
        secret: Secret,
    ) -> Result<(String, SecretString), StoreError> {
        let mut id = [0u8; 16];
        let mut handle = zeroize::Zeroizing::new([0u8; 32]);
        self.rng.fill(&mut id).map_err(|_| StoreError::Random)?;
        self.rng
            .fill(handle.as_mut())
            .map_err(|_| StoreError::Random)?;
        let escrow = Arc::new(Escrow {
            handle_hash: sha256(handle.as_ref()),
            scope,
            secret,
            uses: AtomicU64::new(0),
        });
        let id = hex::encode(id);
        let mut escrows = self.write();
        if escrows.len() >= self.capacity {
            return Err(StoreError::Full(self.capacity));
        }
        escrows.insert(id.clone(), escrow);
        Ok((
            id,
            SecretString::from(aileron_sdk::wire::b64u(handle.as_ref())),
        ))
    }

    /// The escrow `id`, if `handle` is its handle.
    pub fn get(&self, id: &str, handle: &[u8]) -> Result<Arc<Escrow>, StoreError> {
        let escrow = self.read().get(id).cloned();
        // Hash even when the id is unknown, so both failures cost the same.
        let presented = sha256(handle);
        match escrow {
            Some(e) if bool::from(e.handle_hash.ct_eq(&presented)) => Ok(e),
            _ => Err(StoreError::NotFound),
        }
    }

    /// Revokes the escrow: removed now, its secret zeroized when the last in-flight use ends.
    pub fn revoke(&self, id: &str, handle: &[u8]) -> Result<(), StoreError> {
        self.get(id, handle)?;
        self.write().remove(id);
        Ok(())
    }

    /// Drops every escrow expired at `now`; returns how many.
    pub fn sweep(&self, now: OffsetDateTime) -> usize {
        let mut escrows = self.write();
        let before = escrows.len();
        escrows.retain(|_, e| e.scope.expires_at > now);
        before - escrows.len()
    }

    /// Drops every escrow (shutdown).
    pub fn clear(&self) {
        self.write().clear();
    }

    /// Number of escrows held.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Escrow>>> {
        self.escrows.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Arc<Escrow>>> {
        self.escrows.write().unwrap_or_else(|p| p.into_inner())
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use aileron_sdk::wire::{AllowRule, Inject, Scope};
    use time::Duration;

    use super::*;

    fn scope(max_uses: Option<u64>) -> ValidScope {
        let s = Scope {
            allow: vec![AllowRule {
                methods: vec!["GET".into()],
                url_prefix: "https://a.example/".into(),
            }],
            inject: Inject {
                header: "Authorization".into(),
                format: "Bearer {secret}".into(),
            },
            expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
            max_uses,
        };
        ValidScope::parse(&s, OffsetDateTime::now_utc(), Duration::hours(2)).unwrap()
    }

    fn handle_bytes(handle: &SecretString) -> Vec<u8> {
        handle.expose_secret().as_bytes().to_vec()
    }

    #[test]
    fn a_wrong_handle_and_an_unknown_id_are_the_same_not_found() {
        let store = Store::new(10);
        let (id, handle) = store.insert(scope(None), Secret::new(b"s")).unwrap();
        let h = aileron_sdk::wire::from_b64u(handle.expose_secret()).unwrap();
        assert!(store.get(&id, &h).is_ok());
        assert_eq!(store.get(&id, b"wrong").unwrap_err(), StoreError::NotFound);
        assert_eq!(store.get("unknown", &h).unwrap_err(), StoreError::NotFound);
        let _ = handle_bytes(&handle);
    }

    #[test]
    fn uses_are_counted_up_to_the_limit() {
        let store = Store::new(10);
        let (id, handle) = store.insert(scope(Some(2)), Secret::new(b"s")).unwrap();
        let h = aileron_sdk::wire::from_b64u(handle.expose_secret()).unwrap();
        let e = store.get(&id, &h).unwrap();
        let now = OffsetDateTime::now_utc();
        assert_eq!(e.take_use(now), Ok(1));
        assert_eq!(e.take_use(now), Ok(2));
        assert_eq!(e.take_use(now), Err(StoreError::UsedUp));
        assert_eq!(e.uses(), 2);
        assert_eq!(
            e.take_use(now + Duration::hours(2)),
            Err(StoreError::Expired)
        );
    }

    #[test]
    fn revoke_sweep_and_capacity() {
        let store = Store::new(2);
        let (id, handle) = store.insert(scope(None), Secret::new(b"s")).unwrap();
        let h = aileron_sdk::wire::from_b64u(handle.expose_secret()).unwrap();
        store.insert(scope(None), Secret::new(b"t")).unwrap();
        assert_eq!(
            store.insert(scope(None), Secret::new(b"u")).unwrap_err(),
            StoreError::Full(2)
        );
        assert_eq!(store.revoke(&id, b"bad").unwrap_err(), StoreError::NotFound);
        store.revoke(&id, &h).unwrap();
        assert_eq!(store.get(&id, &h).unwrap_err(), StoreError::NotFound);
        assert_eq!(
            store.sweep(OffsetDateTime::now_utc() + Duration::hours(3)),
            1
        );
        assert!(store.is_empty());
    }

    #[test]
    fn secrets_never_print() {
        assert_eq!(
            format!("{:?}", Secret::new(b"hunter2")),
            "Secret([REDACTED])"
        );
    }
}
