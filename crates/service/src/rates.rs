//! Recent rates for the console's overview: logins and messages per
//! second over the last minute. `/metrics` keeps only totals (its
//! recorder cannot be read back in-process), so the paths that count
//! those totals also tick these: one atomic add per event, no lock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The window a rate is averaged over, in whole seconds.
pub const RATE_WINDOW_SECONDS: u64 = 60;

/// One slot per second of the window, and one for the second under way.
const SLOTS: usize = RATE_WINDOW_SECONDS as usize + 1;

/// One second's count.
#[derive(Default)]
struct Slot {
    /// Which second (since the counter was made, from 1) it counts.
    second: AtomicU64,
    count: AtomicU64,
}

/// Events per second over the last [`RATE_WINDOW_SECONDS`] whole seconds.
/// Approximate by design: an event that lands while its slot is being
/// reused for a new second may be lost, which a rate shown on a page can
/// afford and a lock on every message could not.
pub(crate) struct RecentRate {
    started: Instant,
    slots: [Slot; SLOTS],
}

impl Default for RecentRate {
    fn default() -> Self {
        Self { started: Instant::now(), slots: std::array::from_fn(|_| Slot::default()) }
    }
}

impl RecentRate {
    /// Counts one event now.
    pub(crate) fn tick(&self) {
        let now = self.second();
        let slot = &self.slots[(now % SLOTS as u64) as usize];
        let seen = slot.second.load(Ordering::Acquire);
        // The first event of a new second in this slot starts its count
        // again; of two racing, only one wins the exchange.
        if seen != now
            && slot.second.compare_exchange(seen, now, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            slot.count.store(0, Ordering::Release);
        }
        slot.count.fetch_add(1, Ordering::AcqRel);
    }

    /// The mean per second over the last whole seconds of the window (the
    /// second under way is left out: it has not ended).
    pub(crate) fn per_second(&self) -> f64 {
        let now = self.second();
        let oldest = now.saturating_sub(RATE_WINDOW_SECONDS);
        let total: u64 = self
            .slots
            .iter()
            .filter(|slot| {
                let second = slot.second.load(Ordering::Acquire);
                second >= oldest.max(1) && second < now
            })
            .map(|slot| slot.count.load(Ordering::Acquire))
            .sum();
        total as f64 / RATE_WINDOW_SECONDS as f64
    }

    /// Seconds since the counter was made, from 1 (0 marks an unused slot).
    fn second(&self) -> u64 {
        self.started.elapsed().as_secs() + 1
    }
}

/// What the overview shows of the traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throughput {
    /// Sessions opened per second (sign-ins on every door, by token or
    /// password; awareness widgets left out).
    pub logins_per_second: f64,
    /// Messages sent (1:1 and n-way) per second.
    pub messages_per_second: f64,
}

/// The counters behind [`Throughput`].
#[derive(Default)]
pub(crate) struct Rates {
    pub(crate) logins: RecentRate,
    pub(crate) messages: RecentRate,
}

impl Rates {
    pub(crate) fn throughput(&self) -> Throughput {
        Throughput {
            logins_per_second: self.logins.per_second(),
            messages_per_second: self.messages.per_second(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_whole_seconds_of_the_window_only() {
        // A counter made a while ago, so that earlier seconds exist.
        let started = Instant::now().checked_sub(std::time::Duration::from_secs(200)).unwrap();
        let rate = RecentRate { started, ..RecentRate::default() };
        for _ in 0..120 {
            rate.tick();
        }
        // The second under way is not counted yet.
        let now = rate.second();
        assert_eq!(rate.per_second(), 0.0);
        // Pretend those events were a second ago: 120 over a minute is 2/s.
        let slot = &rate.slots[(now % SLOTS as u64) as usize];
        slot.second.store(now - 1, Ordering::Release);
        assert!((rate.per_second() - 2.0).abs() < 1e-9);
        // Out of the window once older than a minute.
        slot.second.store(now - RATE_WINDOW_SECONDS - 1, Ordering::Release);
        assert_eq!(rate.per_second(), 0.0);
    }
}
