//! Time, injected so tests can move it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Unix seconds: the system clock plus an offset tests may advance.
#[derive(Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// The current time in Unix seconds.
    pub fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock forward (tests).
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}
