//! Limits on failures: wrong passwords per account and per client address,
//! invalid SSO tokens per client address. Only failures count, so that a
//! whole company signing in through one proxy is not throttled, while
//! password guessing and token forging stay slow whichever of account or
//! address an attacker varies.
//!
//! An attempt reserves its place before the check it is about runs and
//! gives it back when it succeeds: a thousand guesses sent at once are
//! limited like a thousand sent one after the other.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::TooMany;

/// Wrong passwords allowed per account per minute.
const PER_ACCOUNT_PER_MINUTE: u32 = 10;
/// Wrong passwords allowed per client address per minute.
const PER_ADDRESS_PER_MINUTE: u32 = 30;
/// Invalid tokens allowed per client address per minute, by default.
pub const DEFAULT_INVALID_TOKENS_PER_MINUTE: u32 = 60;
/// Accounts a client network may sign up for per minute (XMPP in-band
/// registration): every attempt counts, made or refused.
pub const SIGN_UPS_PER_MINUTE: u32 = 3;
/// Forget idle keys once this many are tracked.
const MAX_TRACKED_KEYS: usize = 10_000;

/// Failures allowed per key: `per_minute` at once, then one every
/// `60 / per_minute` seconds (the generic cell rate algorithm, with
/// attempts under way counted as failures until they end).
pub struct FailureLimit<K> {
    /// Time one failure takes to be forgotten.
    interval: Duration,
    /// How far ahead of now the failures may reach.
    window: Duration,
    keys: Mutex<HashMap<K, Track>>,
}

#[derive(Debug, Clone, Copy)]
struct Track {
    /// When every failure so far is forgotten.
    forgotten_at: Instant,
    /// Attempts under way.
    pending: u32,
}

/// An attempt under way: it counts as a failure until it ends, and ends
/// as one only through [`Attempt::failed`].
#[must_use = "an attempt ends as a failure only when told so"]
pub struct Attempt<'a, K: Hash + Eq + Clone> {
    limit: &'a FailureLimit<K>,
    key: K,
}

impl<K: Hash + Eq + Clone> FailureLimit<K> {
    /// A limit of `per_minute` failures (at least one).
    pub fn per_minute(per_minute: u32) -> Self {
        let window = Duration::from_secs(60);
        Self { interval: window / per_minute.max(1), window, keys: Mutex::new(HashMap::new()) }
    }

    fn keys(&self) -> std::sync::MutexGuard<'_, HashMap<K, Track>> {
        // The map holds counters only; a panic elsewhere leaves them usable.
        self.keys.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts an attempt for `key`, or says how long to wait first.
    pub fn begin(&self, key: K) -> Result<Attempt<'_, K>, Duration> {
        let now = Instant::now();
        let mut keys = self.keys();
        if keys.len() > MAX_TRACKED_KEYS {
            keys.retain(|_, track| track.pending > 0 || track.forgotten_at > now);
        }
        let track = keys.entry(key.clone()).or_insert(Track { forgotten_at: now, pending: 0 });
        let reach = track.forgotten_at.max(now) + self.interval * (track.pending + 1);
        if reach > now + self.window {
            return Err(reach - now - self.window);
        }
        track.pending += 1;
        Ok(Attempt { limit: self, key })
    }
}

impl<K: Hash + Eq + Clone> Attempt<'_, K> {
    /// The attempt failed: it counts until forgotten.
    pub fn failed(self) {
        let now = Instant::now();
        if let Some(track) = self.limit.keys().get_mut(&self.key) {
            track.forgotten_at = track.forgotten_at.max(now) + self.limit.interval;
        }
        // Drop gives back the place it held.
    }
}

impl<K: Hash + Eq + Clone> Drop for Attempt<'_, K> {
    fn drop(&mut self) {
        if let Some(track) = self.limit.keys().get_mut(&self.key) {
            track.pending = track.pending.saturating_sub(1);
        }
    }
}

/// What a limit per client address counts: the address itself for IPv4,
/// its /64 network for IPv6, where one machine commonly holds a whole /64
/// and could otherwise change address at every attempt.
pub fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
        v4 => v4,
    }
}

/// The limits on password logins (and password changes, which can guess
/// passwords as well).
pub struct LoginLimits {
    by_account: FailureLimit<String>,
    by_address: FailureLimit<IpAddr>,
}

/// A password check under way, held against both limits.
pub struct LoginAttempt<'a> {
    account: Attempt<'a, String>,
    address: Attempt<'a, IpAddr>,
}

impl LoginAttempt<'_> {
    /// The password was wrong (or the account unknown or disabled).
    pub fn failed(self) {
        self.account.failed();
        self.address.failed();
    }
}

impl Default for LoginLimits {
    /// 10 wrong passwords a minute per account, 30 per client address.
    fn default() -> Self {
        Self {
            by_account: FailureLimit::per_minute(PER_ACCOUNT_PER_MINUTE),
            by_address: FailureLimit::per_minute(PER_ADDRESS_PER_MINUTE),
        }
    }
}

impl LoginLimits {
    /// Starts a password check; refused with the wait when either limit
    /// is reached.
    pub fn begin(&self, account: &str, address: IpAddr) -> Result<LoginAttempt<'_>, TooMany> {
        let too_many = |what: &str, wait: Duration| {
            TooMany::new(
                |seconds| {
                    format!("too many failed logins for this {what}; try again in {seconds} s")
                },
                wait,
            )
        };
        let address =
            self.by_address.begin(network_of(address)).map_err(|wait| too_many("address", wait))?;
        let account = self
            .by_account
            .begin(account.trim().to_lowercase())
            .map_err(|wait| too_many("account", wait))?;
        Ok(LoginAttempt { account, address })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_count() {
        let limit = FailureLimit::per_minute(3);
        for _ in 0..100 {
            drop(limit.begin("a").unwrap());
        }
        for _ in 0..3 {
            limit.begin("a").unwrap().failed();
        }
        let wait = limit.begin("a").err().expect("the fourth failure waits");
        assert!(wait > Duration::from_secs(15) && wait <= Duration::from_secs(20), "{wait:?}");
        assert!(limit.begin("b").is_ok(), "other keys are not affected");
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(other));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(network_of(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn attempts_under_way_hold_their_place() {
        let limit = FailureLimit::per_minute(3);
        let under_way: Vec<_> = (0..3).map(|_| limit.begin(1).unwrap()).collect();
        assert!(limit.begin(1).is_err(), "a fourth at once waits");
        drop(under_way);
        assert!(limit.begin(1).is_ok(), "successes give their place back");
    }
}
