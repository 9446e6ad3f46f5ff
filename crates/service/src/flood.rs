//! Limits on what one session or one user may send, so that a script
//! cannot do what no person does: a burst a person can type goes through;
//! thousands a second get an error, and a session that keeps going is cut
//! off. Every limit is a configuration key (`[server]`, README).

use std::num::NonZeroU32;
use std::sync::LazyLock;

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::TooMany;

/// Refused commands after which a session is cut off.
const REFUSALS_BEFORE_CUT_OFF: u32 = 50;
/// Forget idle users' message counts once this many are tracked.
const MAX_TRACKED_USERS: usize = 10_000;

/// The limits, with their defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodLimits {
    /// Commands a session (a WebSocket, a Sametime or XMPP connection) may
    /// send a second, on average.
    pub commands_per_second: u32,
    /// Commands a session may send at once.
    pub command_burst: u32,
    /// Messages (1:1 and n-way, over any door) a user may send a minute,
    /// on average.
    pub messages_per_minute: u32,
    /// Messages a user may send at once.
    pub message_burst: u32,
    /// What the community lets one user or session hold.
    pub community: simul_core::Limits,
}

impl Default for FloodLimits {
    fn default() -> Self {
        Self {
            commands_per_second: 20,
            command_burst: 100,
            messages_per_minute: 120,
            message_burst: 30,
            community: simul_core::Limits::default(),
        }
    }
}

/// The clock every limiter reads. Each new clock of quanta's asks the
/// processor which counters it has (CPUID), which a virtual machine
/// traps: with a limiter made per session, that was 2.3 % of the
/// server's CPU at a thousand XMPP sign-ins a second (BENCHMARKS.md §7).
fn clock() -> DefaultClock {
    static CLOCK: LazyLock<DefaultClock> = LazyLock::new(DefaultClock::default);
    CLOCK.clone()
}

fn quota(per: Quota, burst: u32) -> Quota {
    per.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

fn non_zero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// A rate per user, whatever door they come through: messages, searches.
pub struct UserLimit {
    limiter: DefaultKeyedRateLimiter<String>,
    /// The refusal's sentence, given the seconds to wait.
    refusal: fn(u64) -> String,
}

/// Messages per user (`server.messages_per_minute`, `message_burst`).
pub type MessageLimits = UserLimit;

impl UserLimit {
    /// `per_minute` on average, `burst` at once; `refusal` words the wait.
    pub fn per_minute(per_minute: u32, burst: u32, refusal: fn(u64) -> String) -> Self {
        let per = Quota::per_minute(non_zero(per_minute));
        Self { limiter: RateLimiter::keyed(quota(per, burst)), refusal }
    }

    /// Counts for `limits.messages_per_minute` and `message_burst`.
    pub fn new(limits: &FloodLimits) -> Self {
        Self::per_minute(limits.messages_per_minute, limits.message_burst, |seconds| {
            format!("too many messages; wait {seconds} s (server.messages_per_minute)")
        })
    }

    /// Counts one of `user`'s; refused with the wait when over the limit.
    pub fn check(&self, user: &str) -> Result<(), TooMany> {
        if self.limiter.len() > MAX_TRACKED_USERS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&user.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(clock().now());
            TooMany::new(self.refusal, wait)
        })
    }
}

/// What becomes of a command a session sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandAdmission {
    /// Carry it out.
    Allowed,
    /// Refuse it with an error event.
    Refused,
    /// Refuse it and end the session: it kept going.
    CutOff,
}

/// The commands of one WebSocket session.
pub struct CommandLimit {
    limiter: DefaultDirectRateLimiter,
    refused: u32,
}

impl CommandLimit {
    /// Counts for `limits.commands_per_second` and `command_burst`.
    pub fn new(limits: &FloodLimits) -> Self {
        let per = Quota::per_second(non_zero(limits.commands_per_second));
        Self {
            limiter: RateLimiter::direct_with_clock(quota(per, limits.command_burst), clock()),
            refused: 0,
        }
    }

    /// Counts one command.
    pub fn admit(&mut self) -> CommandAdmission {
        if self.limiter.check().is_ok() {
            return CommandAdmission::Allowed;
        }
        self.refused += 1;
        if self.refused >= REFUSALS_BEFORE_CUT_OFF {
            CommandAdmission::CutOff
        } else {
            CommandAdmission::Refused
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_and_a_flood_is_cut_off() {
        let limits = FloodLimits { command_burst: 10, ..FloodLimits::default() };
        let mut commands = CommandLimit::new(&limits);
        for _ in 0..10 {
            assert_eq!(commands.admit(), CommandAdmission::Allowed);
        }
        for _ in 1..REFUSALS_BEFORE_CUT_OFF {
            assert_eq!(commands.admit(), CommandAdmission::Refused);
        }
        assert_eq!(commands.admit(), CommandAdmission::CutOff);
    }

    #[test]
    fn messages_are_counted_per_user() {
        let limits = FloodLimits { message_burst: 3, ..FloodLimits::default() };
        let messages = MessageLimits::new(&limits);
        for _ in 0..3 {
            messages.check("alice").unwrap();
        }
        assert!(messages.check("alice").is_err());
        messages.check("bob").unwrap();
    }
}
