//! Slowing down password guessing: failed logins counted per username.
//!
//! argon2id makes each guess expensive for an attacker who stole the hashes. An attacker
//! guessing *online*, through the login form, pays nothing: the server does the hashing. So
//! the server also counts: after [`ThrottleConfig::max_failures`] failed logins for one username
//! within [`ThrottleConfig::window`], further attempts for that username are refused without
//! checking the password, until the oldest failure leaves the window (OWASP ASVS 5.0 §6.3.1,
//! NIST SP 800-63B §5.2.2).
//!
//! ```
//! use std::sync::Arc;
//! use wristband_inject::SystemClock;
//! use wristband_passwords::{LoginThrottle, ThrottleConfig};
//!
//! let throttle = LoginThrottle::new(ThrottleConfig::default(), Arc::new(SystemClock));
//! let attempt = throttle.begin("bob")?; // refused once bob has had too many failures
//! let password_was_right = false; // ... check the password here ...
//! if password_was_right { attempt.succeeded() } else { attempt.failed() }
//! # Ok::<(), wristband_passwords::Throttled>(())
//! ```
//!
//! What this design chooses, and why:
//!
//! - **An attempt reserves its place before the password is checked.** Checking a count and
//!   adding to it later would let a client send a hundred guesses at once, all checked while
//!   the count still reads zero. [`LoginThrottle::begin`] counts the attempt as in progress, so
//!   at most `max_failures` guesses for one username are ever between the check and the verdict.
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
    /// Per username typed (folded, see [`key`]): its recent failures and attempts in progress.
    failures: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Default)]
struct Entry {
    /// The times of failures still inside the window, oldest first.
    times: VecDeque<u64>,
    /// Attempts begun and not yet reported as failed or succeeded.
    in_progress: usize,
}

impl Entry {
    fn is_idle(&self) -> bool {
        self.times.is_empty() && self.in_progress == 0
    }
}

/// One login attempt in progress, holding its place in the username's budget. Report its
/// outcome with [`LoginAttempt::failed`] or [`LoginAttempt::succeeded`]; dropping it without
/// either (the server failed before a verdict) gives the place back and counts nothing.
#[must_use = "report the outcome with `failed` or `succeeded`"]
pub struct LoginAttempt {
    throttle: LoginThrottle,
    /// `None` when the table was full and this username is not tracked.
    key: Option<String>,
}

impl fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginAttempt").finish_non_exhaustive()
    }
}

impl LoginAttempt {
    /// The password was wrong, or there is no such user: one more failure for the username.
    pub fn failed(mut self) {
        if let Some(key) = self.key.take() {
            let now = self.throttle.shared.clock.now();
            let mut failures = self.throttle.failures();
            let entry = failures.entry(key).or_default();
            entry.in_progress = entry.in_progress.saturating_sub(1);
            self.throttle.forget_old(&mut entry.times, now);
            entry.times.push_back(now);
        }
    }

    /// The password was right: the username's failures are forgiven.
    pub fn succeeded(mut self) {
        self.release(true);
    }

    /// Gives the attempt's place back, forgiving the username's failures if asked; forgets the
    /// username altogether once nothing is left to count.
    fn release(&mut self, forgive_failures: bool) {
        if let Some(key) = self.key.take() {
            let mut failures = self.throttle.failures();
            if let Some(entry) = failures.get_mut(&key) {
                entry.in_progress = entry.in_progress.saturating_sub(1);
                if forgive_failures {
                    entry.times.clear();
                }
                if entry.is_idle() {
                    failures.remove(&key);
                }
            }
        }
    }
}

impl Drop for LoginAttempt {
    fn drop(&mut self) {
        // No verdict was reported (the server failed first): the attempt counts for nothing.
        self.release(false);
    }
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

    /// Begins a login attempt for `username`: call it before checking the password, and skip
    /// the check when it refuses.
    ///
    /// # Errors
    ///
    /// [`Throttled`] while the username's recent failures and the attempts already in progress
    /// for it reach [`ThrottleConfig::max_failures`], saying when to try again: when the
    /// oldest failure leaves the window, or in a second if only attempts in progress fill the
    /// budget.
    pub fn begin(&self, username: &str) -> Result<LoginAttempt, Throttled> {
        let now = self.shared.clock.now();
        let key = key(username);
        let mut failures = self.failures();
        if !failures.contains_key(&key) && failures.len() >= self.shared.config.max_tracked {
            failures.retain(|_, entry| {
                self.forget_old(&mut entry.times, now);
                !entry.is_idle()
            });
            if failures.len() >= self.shared.config.max_tracked {
                tracing::warn!(
                    tracked = failures.len(),
                    "login throttle full: an attempt for a new username is not counted"
                );
                return Ok(LoginAttempt {
                    throttle: self.clone(),
                    key: None,
                });
            }
        }
        let entry = failures.entry(key.clone()).or_default();
        self.forget_old(&mut entry.times, now);
        if entry.times.len() + entry.in_progress >= self.limit() {
            let retry_after_seconds = match entry.times.front() {
                Some(&oldest) if entry.times.len() >= self.limit() => {
                    (oldest + self.window_seconds()).saturating_sub(now).max(1)
                }
                _ => 1,
            };
            if entry.is_idle() {
                failures.remove(&key);
            }
            return Err(Throttled {
                retry_after_seconds,
            });
        }
        entry.in_progress += 1;
        Ok(LoginAttempt {
            throttle: self.clone(),
            key: Some(key),
        })
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

    fn failures(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // Every change is a single insert, push, count or removal, so a panic elsewhere cannot
        // leave the table half-written.
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

    fn fail(throttle: &LoginThrottle, username: &str) {
        throttle
            .begin(username)
            .expect("not throttled yet")
            .failed();
    }

    fn retry_after(throttle: &LoginThrottle, username: &str) -> Option<u64> {
        throttle
            .begin(username)
            .err()
            .map(|throttled| throttled.retry_after_seconds)
    }

    #[test]
    fn a_username_is_refused_after_the_allowed_failures_until_the_oldest_leaves_the_window() {
        let (throttle, clock) = throttle(3, 100);
        for _ in 0..3 {
            fail(&throttle, "bob");
            clock.advance(60);
        }
        // Failures at START, START+60 and START+120; now START+180.
        assert_eq!(retry_after(&throttle, "bob"), Some(420));
        clock.set(START + 599);
        assert_eq!(retry_after(&throttle, "bob"), Some(1));
        clock.set(START + 600);
        assert_eq!(retry_after(&throttle, "bob"), None);
    }

    #[test]
    fn guesses_sent_at_once_cannot_all_pass_the_check_before_any_is_counted() {
        let (throttle, _clock) = throttle(3, 100);
        let in_flight: Vec<LoginAttempt> = (0..3)
            .map(|_| throttle.begin("bob").expect("within the budget"))
            .collect();
        assert_eq!(
            retry_after(&throttle, "bob"),
            Some(1),
            "the budget is taken by attempts in progress"
        );
        for attempt in in_flight {
            attempt.failed();
        }
        assert_eq!(retry_after(&throttle, "bob"), Some(600));
    }

    #[test]
    fn an_attempt_dropped_without_a_verdict_gives_its_place_back() {
        let (throttle, _clock) = throttle(1, 100);
        drop(throttle.begin("bob").expect("within the budget"));
        assert_eq!(retry_after(&throttle, "bob"), None);
        assert!(throttle.failures().is_empty(), "nothing left to track");
    }

    #[test]
    fn unknown_and_known_usernames_are_counted_alike() {
        let (throttle, _clock) = throttle(2, 100);
        for name in ["bob", "nobody-at-all"] {
            fail(&throttle, name);
            fail(&throttle, name);
            assert_eq!(retry_after(&throttle, name), Some(600), "{name}");
        }
    }

    #[test]
    fn other_usernames_are_not_affected() {
        let (throttle, _clock) = throttle(1, 100);
        fail(&throttle, "bob");
        assert!(retry_after(&throttle, "bob").is_some());
        assert_eq!(retry_after(&throttle, "alice"), None);
    }

    #[test]
    fn case_and_surrounding_spaces_do_not_buy_more_guesses() {
        let (throttle, _clock) = throttle(2, 100);
        fail(&throttle, "Bob");
        fail(&throttle, " bob\t");
        assert!(retry_after(&throttle, "BOB").is_some());
    }

    #[test]
    fn a_successful_login_clears_the_failures() {
        let (throttle, _clock) = throttle(2, 100);
        fail(&throttle, "bob");
        throttle
            .begin("bob")
            .expect("within the budget")
            .succeeded();
        fail(&throttle, "bob");
        assert_eq!(retry_after(&throttle, "bob"), None);
    }

    #[test]
    fn a_full_table_sweeps_expired_entries_and_then_stops_growing() {
        let (throttle, clock) = throttle(1, 2);
        fail(&throttle, "a");
        fail(&throttle, "b");
        fail(&throttle, "c");
        assert_eq!(
            throttle.failures().len(),
            2,
            "c is not tracked: a and b are recent"
        );
        assert_eq!(retry_after(&throttle, "c"), None);

        clock.advance(600);
        fail(&throttle, "c");
        assert_eq!(
            throttle.failures().len(),
            1,
            "a and b expired and were swept"
        );
        assert!(retry_after(&throttle, "c").is_some());
    }

    #[test]
    fn debug_output_names_no_username() {
        let (throttle, _clock) = throttle(1, 100);
        fail(&throttle, "hunter2-typed-in-the-wrong-box");
        assert!(!format!("{throttle:?}").contains("hunter2"));
    }
}
