//! The ticket check: storing and checking passwords with argon2id.
//!
//! A festival never keeps your password. It keeps a *PHC string* such as
//! `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`: the algorithm, its cost parameters, a random
//! salt and the derived hash. To check a password later, the same derivation runs again with the
//! stored salt and parameters and the outputs are compared in constant time.
//!
//! This crate follows the OWASP Password Storage Cheat Sheet:
//!
//! - argon2id with m = 19456 KiB, t = 2, p = 1 ([`HashParams::OWASP`]);
//! - a fresh 16-byte salt for every hash, drawn from an injected [`Entropy`] source;
//! - [`PasswordHasher::needs_rehash`] tells when a stored hash uses weaker parameters than the
//!   current ones, so it can be upgraded at the next successful login;
//! - [`PasswordHasher::verify_unknown_user`] spends the same work on a username that does not
//!   exist, so response time does not reveal which usernames are registered.
//!
//! Hashing is deliberately slow and memory-hungry (19 MiB per hash). A web server must not run it
//! on its async worker threads, and must not run an unbounded number at once: [`HashingPool`]
//! runs hashes on a fixed set of worker threads, one per core by default, each reusing its own
//! [`HashMemory`], and refuses work quickly with [`PoolError::Busy`] when too many are waiting.
//! Peak hashing memory is therefore the number of workers × 19 MiB, whatever the load.
//!
//! A slow hash protects stolen hashes, not the login form: there the server does the hashing
//! for the attacker. [`LoginThrottle`] counts failed logins per username and refuses further
//! guesses for a while once there are too many.
//!
//! ```
//! use wristband_passwords::{Password, PasswordHasher, VerifyError};
//!
//! let hasher = PasswordHasher::owasp();
//! let stored = hasher.hash(&Password::new("correct horse battery staple"))?;
//! assert!(stored.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
//!
//! assert!(hasher.verify(&Password::new("correct horse battery staple"), &stored).is_ok());
//! assert!(matches!(
//!     hasher.verify(&Password::new("Tr0ub4dor&3"), &stored),
//!     Err(VerifyError::InvalidCredentials)
//! ));
//! # Ok::<(), wristband_passwords::HashError>(())
//! ```

mod hasher;
mod password;
mod pool;
pub mod throttle;

pub use hasher::{HashError, HashMemory, HashParams, PasswordHash, PasswordHasher, VerifyError};
pub use password::{MAX_PASSWORD_BYTES, Password};
pub use pool::{HashingPool, PoolConfig, PoolError};
pub use throttle::{LoginAttempt, LoginThrottle, ThrottleConfig, Throttled};
pub use wristband_inject::Entropy;
