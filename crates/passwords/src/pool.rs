use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::{HashError, HashMemory, Password, PasswordHash, PasswordHasher, VerifyError};

/// How many hashes a [`HashingPool`] runs at once, and how many it lets wait.
///
/// Each argon2id hash at OWASP parameters holds 19 MiB and one core for tens of milliseconds.
/// The pool runs `max_concurrent` worker threads, each keeping its own 19 MiB of working memory,
/// so peak hashing memory is `max_concurrent × 19 MiB` however many logins arrive; more
/// concurrent hashes than cores only make each one slower. Requests beyond
/// `max_concurrent + max_waiting` are refused at once with [`PoolError::Busy`], which a server
/// answers with `503` and `Retry-After`, instead of queueing without bound while clients time
/// out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Hashes computed at the same time: the number of worker threads. Default: the number of
    /// CPU cores this process may run on.
    pub max_concurrent: usize,
    /// Hashes allowed to wait for a free worker. Default: 16 per worker.
    pub max_waiting: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        // `available_parallelism` honours the CPU affinity mask, so a server pinned to one
        // core gets one worker.
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
    /// The work panicked, or the pool has no workers left to run it.
    #[error("password hashing task did not complete")]
    Aborted,
}

/// A unit of work for a worker: it runs with the worker's memory and reports on its own.
type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// Runs password hashing off the async runtime, on a fixed set of worker threads.
///
/// Why not tokio's `spawn_blocking`: its pool grows to hundreds of threads under load, and each
/// thread's allocator keeps the 19 MiB it last hashed in, so a login storm left the server
/// holding many times the memory the bound on concurrent hashes promised. Fixed workers that
/// reuse one [`HashMemory`] each make the bound real, and skip the page faults of fresh
/// memory on every check.
///
/// Cheap to clone: clones share the workers and the bound. The workers stop when the last
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct HashingPool {
    hasher: PasswordHasher,
    config: PoolConfig,
    jobs: mpsc::Sender<Job>,
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

    /// A pool running `hasher` within `config`'s bounds, starting its worker threads. A zero
    /// `max_concurrent` is taken as 1.
    ///
    /// Needs no async runtime. If the operating system refuses to start a worker thread, the
    /// pool runs with the workers it has; with none, every request fails with
    /// [`PoolError::Aborted`] instead of waiting forever.
    pub fn new(hasher: PasswordHasher, config: PoolConfig) -> Self {
        let config = PoolConfig {
            max_concurrent: config.max_concurrent.max(1),
            ..config
        };
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..config.max_concurrent {
            let queue = Arc::clone(&queue);
            let started = std::thread::Builder::new()
                .name(format!("argon2-worker-{index}"))
                .spawn(move || work(&queue));
            if let Err(err) = started {
                tracing::error!(%err, index, "could not start a password hashing worker");
            }
        }
        Self {
            hasher,
            jobs,
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

    /// Hashes a password on a worker.
    ///
    /// # Errors
    ///
    /// [`PoolError::Busy`] when the pool is full, [`PoolError::Failed`] if hashing fails.
    pub async fn hash(&self, password: Password) -> Result<PasswordHash, PoolError<HashError>> {
        let hasher = self.hasher.clone();
        self.run(move |_memory| hasher.hash(&password)).await
    }

    /// Checks a login attempt on a worker: `stored` is `None` for an unknown username, which
    /// costs the same as a wrong password (see [`PasswordHasher::check`]).
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
        self.run(move |memory| hasher.check_reusing(&password, stored.as_ref(), memory))
            .await
    }

    async fn run<T, E>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> Result<T, E> + Send + 'static,
    ) -> Result<T, PoolError<E>>
    where
        T: Send + 'static,
        E: Send + 'static,
    {
        let limit = self.config.max_concurrent + self.config.max_waiting;
        let before = self.admitted.fetch_add(1, Ordering::SeqCst);
        let admission = Admission(Arc::clone(&self.admitted));
        if before >= limit {
            tracing::warn!(limit, "password hashing pool full, refusing request");
            return Err(PoolError::Busy);
        }

        // The admission travels with the job, so the slot stays taken until the work really
        // finishes (or is skipped), even if the request that asked for it is cancelled.
        let (reply, outcome) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            // A request that went away meanwhile (client disconnected, timeout) needs no hash.
            if reply.is_closed() {
                return;
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| work(memory)));
            // The slot is free before the caller hears back, so it can ask again at once.
            drop(admission);
            match outcome {
                Ok(outcome) => {
                    let _ = reply.send(outcome);
                }
                // Dropping the reply tells the caller `Aborted`; the worker lives on.
                Err(_) => tracing::error!("a password hashing job panicked"),
            }
        });
        self.jobs.send(job).map_err(|_| PoolError::Aborted)?;
        outcome
            .await
            .map_err(|_| PoolError::Aborted)?
            .map_err(PoolError::Failed)
    }
}

/// A worker's life: take the next job, run it with this thread's memory, until the pool is gone.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = HashMemory::new();
    loop {
        // Holding the lock while waiting is fine: only idle workers queue up on it.
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = next else {
            return;
        };
        // Jobs catch their own panics (see `HashingPool::run`), so a worker never dies of one.
        job(&mut memory);
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

    #[tokio::test]
    async fn a_panicking_job_is_aborted_and_the_worker_lives_on() {
        let pool = small_pool(1, 0);
        let outcome = pool
            .run(|_memory| -> Result<(), ()> { panic!("a job that fails its worker") })
            .await;
        assert!(matches!(outcome, Err(PoolError::Aborted)));
        let again = pool.hash(Password::new("still-working")).await;
        assert!(again.is_ok(), "{again:?}");
        assert_eq!(pool.admitted.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn at_most_max_concurrent_jobs_run_at_once() {
        let pool = small_pool(2, 8);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs = (0..8).map(|_| {
            let (running, peak) = (Arc::clone(&running), Arc::clone(&peak));
            let pool = pool.clone();
            async move {
                pool.run(move |memory| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    // Real work, so that jobs overlap if the pool let them.
                    let hasher = PasswordHasher::new(
                        HashParams {
                            memory_kib: 1_024,
                            iterations: 1,
                            parallelism: 1,
                        },
                        Arc::new(SeededEntropy::new(5)),
                    )
                    .map_err(|_| ())?;
                    let stored = hasher.hash(&Password::new("pw")).map_err(|_| ())?;
                    let checked = hasher.verify_reusing(&Password::new("pw"), &stored, memory);
                    running.fetch_sub(1, Ordering::SeqCst);
                    checked.map_err(|_| ())
                })
                .await
            }
        });
        for outcome in futures_join_all(jobs).await {
            assert!(outcome.is_ok());
        }
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }

    /// Runs the futures side by side, each as its own task, and collects their outputs.
    async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handles: Vec<_> = futures.map(tokio::spawn).collect();
        let mut outputs = Vec::new();
        for handle in handles {
            outputs.push(handle.await.expect("the task completes"));
        }
        outputs
    }

    #[test]
    fn the_default_bound_is_one_hash_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(PoolConfig::default().max_concurrent, cores);
    }
}
