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

    /// The current time in Unix microseconds (the same clock, finer).
    pub fn now_micros(&self) -> i64 {
        let micros = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000;
        let micros = i64::try_from(micros).unwrap_or(i64::MAX / 2);
        micros.saturating_add(
            self.offset
                .load(Ordering::Relaxed)
                .saturating_mul(1_000_000),
        )
    }

    /// Moves this clock forward (tests).
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::Relaxed);
    }
}
