//! Login rate limits, per account and per client address, so that
//! password guessing is slow whichever of the two an attacker varies.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::ApiError;

/// Login attempts allowed per account per minute.
const PER_ACCOUNT_PER_MINUTE: u32 = 10;
/// Login attempts allowed per client address per minute.
const PER_ADDRESS_PER_MINUTE: u32 = 30;
/// Forget idle keys once this many are tracked.
const MAX_TRACKED_KEYS: usize = 10_000;

/// The login limiters.
pub(crate) struct LoginLimits {
    by_account: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimits {
    pub(crate) fn new() -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).expect("a positive quota"));
        Self {
            by_account: RateLimiter::keyed(quota(PER_ACCOUNT_PER_MINUTE)),
            by_address: RateLimiter::keyed(quota(PER_ADDRESS_PER_MINUTE)),
        }
    }

    /// Counts an attempt; 429 with the wait when over either limit.
    pub(crate) fn check(&self, account: &str, address: IpAddr) -> Result<(), ApiError> {
        if self.by_account.len() > MAX_TRACKED_KEYS {
            self.by_account.retain_recent();
        }
        if self.by_address.len() > MAX_TRACKED_KEYS {
            self.by_address.retain_recent();
        }
        let too_many = |what: &str, wait: std::time::Duration| {
            let seconds = wait.as_secs().max(1);
            ApiError::too_many_requests(
                format!("too many login attempts for this {what}; try again in {seconds} s"),
                seconds,
            )
        };
        let now = DefaultClock::default().now();
        self.by_address
            .check_key(&address)
            .map_err(|n| too_many("address", n.wait_time_from(now)))?;
        self.by_account
            .check_key(&account.trim().to_lowercase())
            .map_err(|n| too_many("account", n.wait_time_from(now)))?;
        Ok(())
    }
}
