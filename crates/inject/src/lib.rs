//! Injectable clock and randomness.
//!
//! Security code reads the time (is this token expired?) and draws random bytes (salts, token
//! ids, PKCE verifiers). Reading them straight from the operating system makes the code
//! impossible to test without sleeping and makes lesson output change on every run. Every
//! component in Wristband therefore takes a [`Clock`] and an [`Entropy`] source as values:
//! production passes [`SystemClock`] and [`OsEntropy`]; lessons and tests pass [`FixedClock`]
//! and [`SeededEntropy`].
//!
//! ```
//! use wristband_inject::{Clock, Entropy, FixedClock, SeededEntropy};
//!
//! let clock = FixedClock::at(1_700_000_000);
//! clock.advance(60);
//! assert_eq!(clock.now(), 1_700_000_060);
//!
//! let a = SeededEntropy::new(7).bytes::<16>();
//! let b = SeededEntropy::new(7).bytes::<16>();
//! assert_eq!(a, b, "the same seed gives the same bytes");
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// A source of the current time, in whole seconds since the Unix epoch (the unit JWT uses).
pub trait Clock: Send + Sync + 'static {
    /// The current time in seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> u64;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        // A clock before 1970 is a broken machine; treating it as the epoch makes every
        // token look expired, which fails closed.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to. Tests use it to step past an expiry without sleeping.
#[derive(Debug, Default)]
pub struct FixedClock {
    now: AtomicU64,
}

impl FixedClock {
    /// A clock frozen at `unix_seconds`.
    pub fn at(unix_seconds: u64) -> Self {
        Self {
            now: AtomicU64::new(unix_seconds),
        }
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: u64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }

    /// Sets the clock to `unix_seconds` (backwards too, to model clock skew).
    pub fn set(&self, unix_seconds: u64) {
        self.now.store(unix_seconds, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }
}

/// A source of random bytes for salts, identifiers and one-time secrets.
///
/// Production code must use [`OsEntropy`]: everything drawn from here protects something.
pub trait Entropy: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);

    /// Returns `N` random bytes.
    fn bytes<const N: usize>(&self) -> [u8; N]
    where
        Self: Sized,
    {
        let mut buf = [0u8; N];
        self.fill(&mut buf);
        buf
    }
}

/// The operating system's cryptographically secure random number generator.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&self, buf: &mut [u8]) {
        // `rand::rng()` is a ChaCha generator seeded from, and periodically reseeded by, the
        // operating system: a CSPRNG suitable for secrets.
        rand::rng().fill_bytes(buf);
    }
}

/// A deterministic generator seeded with a number: the same seed replays the same bytes.
///
/// For lessons and tests only. Its output is predictable by design, so it must never protect
/// anything real.
#[derive(Debug)]
pub struct SeededEntropy {
    rng: Mutex<StdRng>,
}

impl SeededEntropy {
    /// A generator that replays the sequence for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, buf: &mut [u8]) {
        // A poisoned lock only means another thread panicked mid-draw; the generator state is
        // still a valid generator state, so keep drawing from it.
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        rng.fill_bytes(buf);
    }
}

impl<T: Clock + ?Sized> Clock for std::sync::Arc<T> {
    fn now(&self) -> u64 {
        (**self).now()
    }
}

impl<T: Entropy + ?Sized> Entropy for std::sync::Arc<T> {
    fn fill(&self, buf: &mut [u8]) {
        (**self).fill(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let clock = FixedClock::at(100);
        assert_eq!(clock.now(), 100);
        clock.advance(5);
        assert_eq!(clock.now(), 105);
        clock.set(90);
        assert_eq!(clock.now(), 90);
    }

    #[test]
    fn the_system_clock_is_after_2020() {
        assert!(SystemClock.now() > 1_577_836_800);
    }

    #[test]
    fn different_seeds_give_different_bytes() {
        let a = SeededEntropy::new(1).bytes::<32>();
        let b = SeededEntropy::new(2).bytes::<32>();
        assert_ne!(a, b);
    }

    #[test]
    fn os_entropy_does_not_repeat_itself() {
        let a = OsEntropy.bytes::<32>();
        let b = OsEntropy.bytes::<32>();
        assert_ne!(a, b);
    }
}
