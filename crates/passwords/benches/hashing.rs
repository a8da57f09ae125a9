//! What one password check costs: an argon2id hash and a verify at the OWASP parameters.
//!
//! Run with `cargo bench -p wristband-passwords --bench hashing` (or `just bench`, which also
//! turns the verify time into the login throughput limit: cores ÷ one hash time).
//!
//! Both take tens of milliseconds by design. That cost is the point of argon2id: an attacker
//! who steals the stored hashes pays it for every guess, and the 19 MiB each hash fills keeps
//! GPUs and ASICs from running thousands of guesses side by side.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode};
use wristband_passwords::{Password, PasswordHasher};

/// Hashing with a fresh salt, as at registration or a rehash after login.
fn hash(c: &mut Criterion) {
    let hasher = PasswordHasher::owasp();
    let password = Password::new("gold-wristband-demo");
    let mut group = c.benchmark_group("argon2id");
    // Each iteration takes tens of milliseconds: flat sampling keeps the run short without
    // losing the per-sample spread.
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("hash", |b| {
        b.iter(|| {
            hasher
                .hash(black_box(&password))
                .expect("OWASP parameters hash")
        });
    });
    group.finish();
}

/// Verifying a correct password against a stored hash: the work of one successful login.
fn verify(c: &mut Criterion) {
    let hasher = PasswordHasher::owasp();
    let password = Password::new("gold-wristband-demo");
    let stored = hasher.hash(&password).expect("OWASP parameters hash");
    let mut group = c.benchmark_group("argon2id");
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("verify", |b| {
        b.iter(|| {
            hasher
                .verify(black_box(&password), black_box(&stored))
                .expect("the password matches its own hash");
        });
    });
    group.finish();
}

fn main() {
    // Twenty samples of a ~25 ms operation fit in a few seconds; command-line flags
    // (`--measurement-time`, `--sample-size`) still override these for quick runs.
    let mut criterion = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(6))
        .configure_from_args();
    hash(&mut criterion);
    verify(&mut criterion);
    criterion.final_summary();
}
