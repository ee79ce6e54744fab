//! A token bucket that may go into debt: a writer takes what it needs and
//! sleeps off the debt, so large writes are paced without being split.

use std::time::{Duration, Instant};

pub(super) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// `rate` bytes per second (at least 1), holding 50 ms worth (at least
    /// 1 KiB).
    pub fn new(rate: u64) -> Self {
        let rate = rate.max(1) as f64;
        let burst = (rate / 20.0).max(1024.0);
        Self {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Takes `n` tokens; returns how long to wait before using them.
    pub fn take(&mut self, n: u64) -> Duration {
        let now = Instant::now();
        let earned = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + earned).min(self.burst) - n as f64;
        self.last = now;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Bucket;

    #[test]
    fn debt_becomes_waiting() {
        let mut b = Bucket::new(10_000);
        assert!(b.take(1024).is_zero());
        let wait = b.take(10_000).as_secs_f64();
        assert!((0.99..=1.01).contains(&wait), "{wait}");
    }
}
