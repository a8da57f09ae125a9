//! Slowing down password guessing: failed logins counted per username.
//!
//! argon2id makes each guess expensive for an attacker who stole the hashes. An attacker
//! guessing *online*, through the login form, pays nothing: the server does the hashing. So
//! the server also counts: after [`ThrottleConfig::max_failures`] failed logins for one username
//! within [`ThrottleConfig::window`], further attempts for that username are refused without
//! checking the password, until the oldest failure leaves the window (OWASP ASVS 5.0 §6.3.1,
//! NIST SP 800-63B §5.2.2).
//!
//! What this design chooses, and why:
//!
//! - **Keyed by the username typed, whether or not it exists.** Counting only real accounts
//!   would make a throttled answer reveal which usernames are registered.
//! - **A soft lock that ends by itself**, not a permanent lockout: anyone can fail logins for
//!   anyone, so a permanent lock would let an attacker keep a ticket holder out of the festival.
//! - **A successful login clears the count**, so the ticket holder is not punished for their
//!   own typos once they get it right.
//! - **Bounded memory.** At most [`ThrottleConfig::max_tracked`] usernames are tracked; when the
//!   table is full, entries whose failures have all left the window are swept, and if it is
//!   still full a new username is not tracked (a warning is logged) rather than growing
//!   without bound.
//!
//! NOTE: the counts live in this process's memory: a restart forgets them, and several
//! instances of a service would each count on their own. A real deployment keeps them in
//! the shared database or cache, with the same rules.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use wristband_inject::Clock;

/// How many failures, over what window, before a username is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed logins allowed per username within [`ThrottleConfig::window`]; the next attempt
    /// is refused.
    pub max_failures: u32,
    /// How long a failure counts.
    pub window: Duration,
    /// The most usernames tracked at once.
    pub max_tracked: usize,
}

impl Default for ThrottleConfig {
    /// Ten failures per fifteen minutes: generous for a person mistyping, and a few hundred
    /// guesses a day for an attacker, against passwords that must already be off the
    /// common-password lists.
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::from_secs(15 * 60),
            max_tracked: 100_000,
        }
    }
}

/// A username with too many recent failed logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed logins for this username; retry in {retry_after_seconds} s")]
pub struct Throttled {
    /// Seconds until the next attempt will be considered: send it as `Retry-After`.
    pub retry_after_seconds: u64,
}

/// Counts failed logins per username. Cheap to clone: clones share the counts.
#[derive(Clone)]
pub struct LoginThrottle {
    shared: Arc<Shared>,
}

struct Shared {
    config: ThrottleConfig,
    clock: Arc<dyn Clock>,
    /// For each username, the times of its failures still inside the window, oldest first.
    failures: Mutex<HashMap<String, VecDeque<u64>>>,
}

impl fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys are usernames people typed, some of them passwords typed in the wrong box:
        // never printed.
        f.debug_struct("LoginThrottle")
            .field("config", &self.shared.config)
            .field("tracked", &self.failures().len())
            .finish_non_exhaustive()
    }
}

impl LoginThrottle {
    /// A throttle applying `config`, reading the time from `clock`.
    pub fn new(config: ThrottleConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            shared: Arc::new(Shared {
                config,
                clock,
                failures: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The rules in force.
    pub fn config(&self) -> ThrottleConfig {
        self.shared.config
    }

    /// Whether a login for `username` may be checked now. Call it before checking the
    /// password, and skip the check when it refuses.
    ///
    /// # Errors
    ///
    /// [`Throttled`] while `username` has [`ThrottleConfig::max_failures`] failures inside the
    /// window, saying when the oldest of them leaves it.
    pub fn check(&self, username: &str) -> Result<(), Throttled> {
        let now = self.shared.clock.now();
        let mut failures = self.failures();
        let Some(times) = failures.get_mut(&key(username)) else {
            return Ok(());
        };
        self.forget_old(times, now);
        if times.len() < self.limit() {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        Err(Throttled {
            retry_after_seconds: (oldest + self.window_seconds()).saturating_sub(now).max(1),
        })
    }

    /// Records a failed login for `username` (a wrong password, or no such user).
    pub fn record_failure(&self, username: &str) {
        let now = self.shared.clock.now();
        let key = key(username);
        let mut failures = self.failures();
        if !failures.contains_key(&key) && failures.len() >= self.shared.config.max_tracked {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|&newest| newest + self.window_seconds() > now)
            });
            if failures.len() >= self.shared.config.max_tracked {
                tracing::warn!(
                    tracked = failures.len(),
                    "login throttle full: a failure for a new username is not counted"
                );
                return;
            }
        }
        let times = failures.entry(key).or_default();
        self.forget_old(times, now);
        times.push_back(now);
        // More than the limit need not be remembered: the oldest `limit` decide the wait.
        while times.len() > self.limit() {
            times.pop_front();
        }
    }

    /// Records a successful login for `username`, clearing its failures.
    pub fn record_success(&self, username: &str) {
        self.failures().remove(&key(username));
    }

    fn forget_old(&self, times: &mut VecDeque<u64>, now: u64) {
        while times
            .front()
            .is_some_and(|&at| at + self.window_seconds() <= now)
        {
            times.pop_front();
        }
    }

    fn limit(&self) -> usize {
        usize::try_from(self.shared.config.max_failures).unwrap_or(usize::MAX)
    }

    fn window_seconds(&self) -> u64 {
        self.shared.config.window.as_secs()
    }

    fn failures(&self) -> MutexGuard<'_, HashMap<String, VecDeque<u64>>> {
        // Every change is a single insert, push or removal, so a panic elsewhere cannot leave
        // the table half-written.
        self.shared
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Usernames are compared as the login forms compare them: surrounding spaces ignored, case
/// folded, so `Bob` and `bob ` share one budget.
fn key(username: &str) -> String {
    username.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use wristband_inject::FixedClock;

    use super::*;

    const START: u64 = 1_800_000_000;

    fn throttle(max_failures: u32, max_tracked: usize) -> (LoginThrottle, Arc<FixedClock>) {
        let clock = Arc::new(FixedClock::at(START));
        let config = ThrottleConfig {
            max_failures,
            window: Duration::from_secs(600),
            max_tracked,
        };
        (LoginThrottle::new(config, clock.clone()), clock)
    }

    #[test]
    fn a_username_is_refused_after_the_allowed_failures_until_the_oldest_leaves_the_window() {
        let (throttle, clock) = throttle(3, 100);
        for _ in 0..3 {
            assert_eq!(throttle.check("bob"), Ok(()));
            throttle.record_failure("bob");
            clock.advance(60);
        }
        // Failures at START, START+60 and START+120; now START+180.
        assert_eq!(
            throttle.check("bob"),
            Err(Throttled {
                retry_after_seconds: 420
            })
        );
        clock.set(START + 599);
        assert_eq!(
            throttle.check("bob"),
            Err(Throttled {
                retry_after_seconds: 1
            })
        );
        clock.set(START + 600);
        assert_eq!(throttle.check("bob"), Ok(()));
    }

    #[test]
    fn unknown_and_known_usernames_are_counted_alike() {
        let (throttle, _clock) = throttle(2, 100);
        for name in ["bob", "nobody-at-all"] {
            throttle.record_failure(name);
            throttle.record_failure(name);
            assert!(throttle.check(name).is_err(), "{name}");
        }
    }

    #[test]
    fn other_usernames_are_not_affected() {
        let (throttle, _clock) = throttle(1, 100);
        throttle.record_failure("bob");
        assert!(throttle.check("bob").is_err());
        assert_eq!(throttle.check("alice"), Ok(()));
    }

    #[test]
    fn case_and_surrounding_spaces_do_not_buy_more_guesses() {
        let (throttle, _clock) = throttle(2, 100);
        throttle.record_failure("Bob");
        throttle.record_failure(" bob ");
        assert!(throttle.check("BOB").is_err());
    }

    #[test]
    fn a_successful_login_clears_the_failures() {
        let (throttle, _clock) = throttle(2, 100);
        throttle.record_failure("bob");
        throttle.record_success("bob");
        throttle.record_failure("bob");
        assert_eq!(throttle.check("bob"), Ok(()));
    }

    #[test]
    fn a_full_table_sweeps_expired_entries_and_then_stops_growing() {
        let (throttle, clock) = throttle(1, 2);
        throttle.record_failure("a");
        throttle.record_failure("b");
        throttle.record_failure("c");
        assert_eq!(
            throttle.failures().len(),
            2,
            "c is not tracked: a and b are recent"
        );
        assert_eq!(throttle.check("c"), Ok(()));

        clock.advance(600);
        throttle.record_failure("c");
        assert_eq!(
            throttle.failures().len(),
            1,
            "a and b expired and were swept"
        );
        assert!(throttle.check("c").is_err());
    }

    #[test]
    fn debug_output_names_no_username() {
        let (throttle, _clock) = throttle(1, 100);
        throttle.record_failure("hunter2-typed-in-the-wrong-box");
        assert!(!format!("{throttle:?}").contains("hunter2"));
    }
}
