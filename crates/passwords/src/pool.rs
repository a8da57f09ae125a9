use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::{HashError, Password, PasswordHash, PasswordHasher, VerifyError};

/// How many hashes a [`HashingPool`] runs at once, and how many it lets wait.
///
/// Each argon2id hash at OWASP parameters holds 19 MiB and one core for tens of milliseconds.
/// Peak hashing memory is `max_concurrent × 19 MiB`; more concurrent hashes than cores only
/// make each one slower. Requests beyond `max_concurrent + max_waiting` are refused at once
/// with [`PoolError::Busy`], which a server answers with `503` and `Retry-After`, instead of
/// queueing without bound while clients time out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Hashes computed at the same time. Default: the number of CPU cores.
    pub max_concurrent: usize,
    /// Hashes allowed to wait for a free slot. Default: 16 per concurrent slot.
    pub max_waiting: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            max_concurrent: cores,
            max_waiting: cores * 16,
        }
    }
}

/// Why the pool did not complete a request.
#[derive(Debug, thiserror::Error)]
pub enum PoolError<E> {
    /// Too many hashes are running or waiting; try again after [`HashingPool::RETRY_AFTER`].
    #[error("too many password checks in progress")]
    Busy,
    /// The hash or check ran and failed.
    #[error(transparent)]
    Failed(E),
    /// The blocking task panicked or the runtime is shutting down.
    #[error("password hashing task did not complete")]
    Aborted,
}

/// Runs password hashing off the async runtime, with a bound on concurrent work.
///
/// Cheap to clone: clones share the same bound.
#[derive(Debug, Clone)]
pub struct HashingPool {
    hasher: PasswordHasher,
    config: PoolConfig,
    running: Arc<Semaphore>,
    admitted: Arc<AtomicUsize>,
}

/// Gives back an admission slot when a request finishes, however it finishes.
struct Admission(Arc<AtomicUsize>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl HashingPool {
    /// What a server should put in `Retry-After` when the pool is busy.
    pub const RETRY_AFTER: Duration = Duration::from_secs(1);

    /// A pool running `hasher` within `config`'s bounds. A zero `max_concurrent` is taken as 1.
    pub fn new(hasher: PasswordHasher, config: PoolConfig) -> Self {
        let config = PoolConfig {
            max_concurrent: config.max_concurrent.max(1),
            ..config
        };
        Self {
            hasher,
            running: Arc::new(Semaphore::new(config.max_concurrent)),
            admitted: Arc::new(AtomicUsize::new(0)),
            config,
        }
    }

    /// The hasher the pool runs, for the cheap, non-hashing calls such as
    /// [`PasswordHasher::needs_rehash`].
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The bounds this pool enforces.
    pub fn config(&self) -> PoolConfig {
        self.config
    }

    /// Hashes a password on the blocking pool.
    ///
    /// # Errors
    ///
    /// [`PoolError::Busy`] when the pool is full, [`PoolError::Failed`] if hashing fails.
    pub async fn hash(&self, password: Password) -> Result<PasswordHash, PoolError<HashError>> {
        let hasher = self.hasher.clone();
        self.run(move || hasher.hash(&password)).await
    }

    /// Checks a login attempt on the blocking pool: `stored` is `None` for an unknown username,
    /// which costs the same as a wrong password (see [`PasswordHasher::check`]).
    ///
    /// # Errors
    ///
    /// [`PoolError::Busy`] when the pool is full; [`PoolError::Failed`] with
    /// [`VerifyError::InvalidCredentials`] for a wrong password or unknown user.
    pub async fn check(
        &self,
        password: Password,
        stored: Option<PasswordHash>,
    ) -> Result<(), PoolError<VerifyError>> {
        let hasher = self.hasher.clone();
        self.run(move || hasher.check(&password, stored.as_ref()))
            .await
    }

    async fn run<T, E>(
        &self,
        work: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> Result<T, PoolError<E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let limit = self.config.max_concurrent + self.config.max_waiting;
        let before = self.admitted.fetch_add(1, Ordering::SeqCst);
        let _admission = Admission(self.admitted.clone());
        if before >= limit {
            tracing::warn!(limit, "password hashing pool full, refusing request");
            return Err(PoolError::Busy);
        }

        // The permit is moved into the blocking task, so the slot stays taken until the hash
        // really finishes, even if the request that asked for it is cancelled meanwhile.
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| PoolError::Aborted)?;
        tokio::task::spawn_blocking(move || {
            let outcome = work();
            drop(permit);
            outcome
        })
        .await
        .map_err(|_| PoolError::Aborted)?
        .map_err(PoolError::Failed)
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use wristband_inject::SeededEntropy;

    use super::*;
    use crate::HashParams;

    fn small_pool(max_concurrent: usize, max_waiting: usize) -> HashingPool {
        let hasher = PasswordHasher::new(HashParams::OWASP, Arc::new(SeededEntropy::new(3)))
            .expect("valid parameters");
        HashingPool::new(
            hasher,
            PoolConfig {
                max_concurrent,
                max_waiting,
            },
        )
    }

    #[tokio::test]
    async fn hashing_and_checking_run_through_the_pool() {
        let pool = small_pool(1, 1);
        let hash = pool.hash(Password::new("a-good-password")).await.unwrap();
        pool.check(Password::new("a-good-password"), Some(hash.clone()))
            .await
            .unwrap();
        assert!(matches!(
            pool.check(Password::new("wrong-password"), Some(hash))
                .await,
            Err(PoolError::Failed(VerifyError::InvalidCredentials))
        ));
        assert!(matches!(
            pool.check(Password::new("whatever"), None).await,
            Err(PoolError::Failed(VerifyError::InvalidCredentials))
        ));
    }

    #[tokio::test]
    async fn requests_beyond_the_bound_are_refused_as_busy() {
        let pool = small_pool(1, 0);
        // Hold the only admission slot by hand, as a long-running hash would.
        pool.admitted.fetch_add(1, Ordering::SeqCst);
        assert!(matches!(
            pool.hash(Password::new("x")).await,
            Err(PoolError::Busy)
        ));
        pool.admitted.fetch_sub(1, Ordering::SeqCst);
        assert!(pool.hash(Password::new("x")).await.is_ok());
    }

    #[tokio::test]
    async fn admission_slots_are_returned_after_each_request() {
        let pool = small_pool(1, 0);
        for _ in 0..3 {
            pool.hash(Password::new("again")).await.unwrap();
        }
        assert_eq!(pool.admitted.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_default_bound_is_one_hash_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(PoolConfig::default().max_concurrent, cores);
    }
}
