//! Escrows in enclave memory. The handle is a 32-byte capability: the store keeps only its
//! SHA-256 and compares in constant time; a wrong handle and an unknown id look the same.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use ring::rand::{SecureRandom, SystemRandom};
use secrecy::SecretString;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;

use aileron_broker::Credential;
use aileron_sdk::admission::Admission;

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
    /// The subject of the admission holds as many escrows as it may.
    #[error("this subject holds its maximum of {0} escrows")]
    SubjectFull(u64),
    /// The system random generator failed.
    #[error("the system random generator failed")]
    Random,
}

/// One escrowed credential.
#[derive(Debug)]
pub struct Escrow {
    handle_hash: [u8; 32],
    subject: String,
    /// The scope and its secret, prepared to broker.
    pub credential: Credential,
    uses: AtomicU64,
}

impl Escrow {
    /// Uses so far.
    pub fn uses(&self) -> u64 {
        self.uses.load(Ordering::SeqCst)
    }

    /// Counts one use, atomically, unless expired at `now` or used up.
    pub fn take_use(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        if now >= self.credential.scope().expires_at {
            return Err(StoreError::Expired);
        }
        let limit = self.credential.scope().max_uses.unwrap_or(u64::MAX);
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

/// The escrows and how many each subject holds, changed together under one lock.
#[derive(Default)]
struct Escrows {
    by_id: HashMap<String, Arc<Escrow>>,
    per_subject: HashMap<String, u64>,
}

impl Escrows {
    fn remove(&mut self, id: &str) -> Option<Arc<Escrow>> {
        let escrow = self.by_id.remove(id)?;
        if let Some(count) = self.per_subject.get_mut(&escrow.subject) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_subject.remove(&escrow.subject);
            }
        }
        Some(escrow)
    }
}

/// Every escrow of this boot.
pub struct Store {
    escrows: RwLock<Escrows>,
    capacity: usize,
    per_subject_cap: u64,
    rng: SystemRandom,
}

impl Store {
    /// A store for at most `capacity` escrows, at most `per_subject_cap` per subject (a ticket
    /// may grant fewer).
    pub fn new(capacity: usize, per_subject_cap: usize) -> Store {
        Store {
            escrows: RwLock::new(Escrows::default()),
            capacity,
            per_subject_cap: u64::try_from(per_subject_cap).unwrap_or(u64::MAX),
            rng: SystemRandom::new(),
        }
    }

    /// Stores a credential for the admitted subject; returns its id and handle (the handle is
    /// shown once, here).
    pub fn insert(
        &self,
        admission: &Admission,
        credential: Credential,
    ) -> Result<(String, SecretString), StoreError> {
        let mut id = [0u8; 16];
        let mut handle = zeroize::Zeroizing::new([0u8; 32]);
        self.rng.fill(&mut id).map_err(|_| StoreError::Random)?;
        self.rng
            .fill(handle.as_mut())
            .map_err(|_| StoreError::Random)?;
        let subject = admission.subject().to_owned();
        let allowed = admission.max_escrows().min(self.per_subject_cap);
        let escrow = Arc::new(Escrow {
            handle_hash: sha256(handle.as_ref()),
            subject: subject.clone(),
            credential,
            uses: AtomicU64::new(0),
        });
        let id = hex::encode(id);
        let mut escrows = self.write();
        let held = escrows.per_subject.get(&subject).copied().unwrap_or(0);
        if held >= allowed {
            return Err(StoreError::SubjectFull(allowed));
        }
        if escrows.by_id.len() >= self.capacity {
            return Err(StoreError::Full(self.capacity));
        }
        escrows.by_id.insert(id.clone(), escrow);
        *escrows.per_subject.entry(subject).or_insert(0) += 1;
        Ok((
            id,
            SecretString::from(aileron_sdk::wire::b64u(handle.as_ref())),
        ))
    }

    /// The escrow `id`, if `handle` is its handle.
    pub fn get(&self, id: &str, handle: &[u8]) -> Result<Arc<Escrow>, StoreError> {
        let escrow = self.read().by_id.get(id).cloned();
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
        let expired: Vec<String> = escrows
            .by_id
            .iter()
            .filter(|(_, e)| e.credential.scope().expires_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            escrows.remove(id);
        }
        expired.len()
    }

    /// Drops every escrow (shutdown).
    pub fn clear(&self) {
        *self.write() = Escrows::default();
    }

    /// Number of escrows held.
    pub fn len(&self) -> usize {
        self.read().by_id.len()
    }

    /// Number of escrows `subject` holds.
    #[cfg(test)]
    pub fn held_by(&self, subject: &str) -> u64 {
        self.read().per_subject.get(subject).copied().unwrap_or(0)
    }

    /// Whether the store is empty.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Escrows> {
        self.escrows.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Escrows> {
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
    use aileron_broker::destination::Destinations;
    use aileron_broker::scope::ValidScope;
    use aileron_sdk::admission::{AdmissionSigner, AdmissionVerifier};
    use aileron_sdk::wire::{AllowRule, Inject, Scope};
    use secrecy::ExposeSecret as _;
    use time::Duration;

    use super::*;

    fn admission(subject: &str, max: u64) -> Admission {
        let signer = AdmissionSigner::from_seed(&[3; 32]).unwrap();
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let key = aileron_sdk::admission::parse_public_key(&signer.public_key()).unwrap();
        AdmissionVerifier::new("a", &[key])
            .verify(&signer.sign("a", subject, max, now).unwrap(), now)
            .unwrap()
    }

    fn credential(max_uses: Option<u64>, secret: &[u8]) -> Credential {
        let s = Scope {
            allow: vec![AllowRule {
                methods: vec!["GET".into()],
                url_prefix: "https://a.example/".into(),
            }],
            inject: Inject::bearer(),
            expires_at: OffsetDateTime::now_utc() + Duration::hours(1),
            max_uses,
        };
        let scope = ValidScope::parse(
            &s,
            OffsetDateTime::now_utc(),
            Duration::hours(2),
            Destinations::PUBLIC,
        )
        .unwrap();
        Credential::new(scope, secret).unwrap()
    }

    fn handle_bytes(handle: &SecretString) -> Vec<u8> {
        handle.expose_secret().as_bytes().to_vec()
    }

    #[test]
    fn a_wrong_handle_and_an_unknown_id_are_the_same_not_found() {
        let store = Store::new(10, 10);
        let (id, handle) = store
            .insert(&admission("u", 10), credential(None, b"s"))
            .unwrap();
        let h = aileron_sdk::wire::from_b64u(handle.expose_secret()).unwrap();
        assert!(store.get(&id, &h).is_ok());
        assert_eq!(store.get(&id, b"wrong").unwrap_err(), StoreError::NotFound);
        assert_eq!(store.get("unknown", &h).unwrap_err(), StoreError::NotFound);
        let _ = handle_bytes(&handle);
    }

    #[test]
    fn uses_are_counted_up_to_the_limit() {
        let store = Store::new(10, 10);
        let (id, handle) = store
            .insert(&admission("u", 10), credential(Some(2), b"s"))
            .unwrap();
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
        let store = Store::new(2, 10);
        let (id, handle) = store
            .insert(&admission("u", 10), credential(None, b"s"))
            .unwrap();
        let h = aileron_sdk::wire::from_b64u(handle.expose_secret()).unwrap();
        store
            .insert(&admission("u", 10), credential(None, b"t"))
            .unwrap();
        assert_eq!(
            store
                .insert(&admission("u", 10), credential(None, b"u"))
                .unwrap_err(),
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
    fn one_subject_cannot_take_another_subjects_capacity() {
        let store = Store::new(4, 3);
        let alice = admission("alice", 2);
        let bob = admission("bob", 100);
        store.insert(&alice, credential(None, b"a")).unwrap();
        store.insert(&alice, credential(None, b"b")).unwrap();
        assert_eq!(
            store.insert(&alice, credential(None, b"c")).unwrap_err(),
            StoreError::SubjectFull(2),
            "the ticket's quota"
        );
        let (id, handle) = store.insert(&bob, credential(None, b"d")).unwrap();
        store.insert(&bob, credential(None, b"e")).unwrap();
        assert_eq!(
            store.insert(&bob, credential(None, b"f")).unwrap_err(),
            StoreError::Full(4),
            "the total"
        );
        let h = aileron_sdk::wire::from_b64u(handle.expose_secret()).unwrap();
        store.revoke(&id, &h).unwrap();
        assert_eq!(store.held_by("bob"), 1);
        store.insert(&bob, credential(None, b"g")).unwrap();
        let capped = Store::new(10, 1);
        capped.insert(&bob, credential(None, b"h")).unwrap();
        assert_eq!(
            capped.insert(&bob, credential(None, b"i")).unwrap_err(),
            StoreError::SubjectFull(1),
            "the enclave's own cap bounds any ticket"
        );
        assert_eq!(
            store.sweep(OffsetDateTime::now_utc() + Duration::hours(3)),
            4
        );
        assert_eq!((store.held_by("alice"), store.held_by("bob")), (0, 0));
    }

    #[test]
    fn secrets_never_print() {
        let store = Store::new(10, 10);
        let (id, handle) = store
            .insert(&admission("u", 10), credential(None, b"hunter2"))
            .unwrap();
        let h = aileron_sdk::wire::from_b64u(handle.expose_secret()).unwrap();
        let escrow = store.get(&id, &h).unwrap();
        let printed = format!("{escrow:?}");
        assert!(printed.contains("Credential"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }
}
