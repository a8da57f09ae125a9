//! Lesson 01, the ticket check: how a festival stores and checks passwords.
//!
//! [`transcript`] runs every step and returns what it saw as text; `main` prints it and the
//! snapshot test pins it. Salts come from a seeded generator, so the output is the same on every
//! run. Real code draws them from the operating system.

use std::fmt::Write as _;
use std::sync::Arc;

use wristband_inject::SeededEntropy;
use wristband_passwords::{HashParams, Password, PasswordHash, PasswordHasher, PoolConfig};

/// The seed for this lesson's salts. Anything fixed will do; fixed means repeatable.
const SALT_SEED: u64 = 1;

/// Runs the lesson and returns its transcript.
///
/// # Panics
///
/// Panics if argon2 fails on the fixed inputs, which would be a bug in the lesson.
#[allow(clippy::expect_used)]
pub fn transcript() -> String {
    let mut out = String::new();
    let hasher = PasswordHasher::new(HashParams::OWASP, Arc::new(SeededEntropy::new(SALT_SEED)))
        .expect("OWASP parameters are valid");

    heading(&mut out, "Lesson 01: the ticket check");
    line(
        &mut out,
        "Alice buys a green ticket and chooses the password \"green-wristband-demo\".",
    );
    line(
        &mut out,
        "The festival must check that password at the gate, without ever storing it.",
    );

    // Step 1: hash.
    heading(&mut out, "Step 1: hash the password");
    let alice = Password::new("green-wristband-demo");
    let stored = hasher.hash(&alice).expect("hashing a short password");
    line(&mut out, "stored in the users table:");
    line(&mut out, &format!("  {}", stored.as_str()));
    explain_phc(&mut out, &stored);

    // Step 2: verify.
    heading(&mut out, "Step 2: check passwords at the gate");
    for attempt in [
        "green-wristband-demo",
        "green-wristband-dem0",
        "GREEN-WRISTBAND-DEMO",
    ] {
        let outcome = match hasher.verify(&Password::new(attempt), &stored) {
            Ok(()) => "accepted".to_owned(),
            Err(err) => format!("refused ({err})"),
        };
        line(
            &mut out,
            &format!("  {:<24} -> {outcome}", format!("{attempt:?}")),
        );
    }
    line(
        &mut out,
        "Verification re-runs argon2id with the salt and parameters read from the stored",
    );
    line(
        &mut out,
        "string, then compares the two outputs in constant time.",
    );

    // Step 3: salts.
    heading(
        &mut out,
        "Step 3: the same password never hashes the same way twice",
    );
    let first = hasher.hash(&alice).expect("hashing");
    let second = hasher.hash(&alice).expect("hashing");
    line(&mut out, &format!("  hash A: {}", first.as_str()));
    line(&mut out, &format!("  hash B: {}", second.as_str()));
    line(
        &mut out,
        &format!("  A == B? {}", if first == second { "yes" } else { "no" }),
    );
    let both_verify =
        hasher.verify(&alice, &first).is_ok() && hasher.verify(&alice, &second).is_ok();
    line(
        &mut out,
        &format!(
            "  both verify \"green-wristband-demo\"? {}",
            yes_no(both_verify)
        ),
    );
    line(
        &mut out,
        "Each hash has its own random salt. Two users with the same password get different",
    );
    line(
        &mut out,
        "hashes, and an attacker with a stolen table must attack every row separately.",
    );

    // Step 4: rehash.
    heading(&mut out, "Step 4: upgrading old hashes");
    let old_params = HashParams {
        memory_kib: 4_096,
        iterations: 1,
        parallelism: 1,
    };
    let old_hasher = PasswordHasher::new(old_params, Arc::new(SeededEntropy::new(SALT_SEED + 1)))
        .expect("valid parameters");
    let old = old_hasher.hash(&alice).expect("hashing");
    line(&mut out, &format!("  a hash from 2019:   {}", old.scheme()));
    line(
        &mut out,
        &format!("  needs rehash? {}", yes_no(hasher.needs_rehash(&old))),
    );
    line(
        &mut out,
        &format!("  a hash from today:  {}", stored.scheme()),
    );
    line(
        &mut out,
        &format!("  needs rehash? {}", yes_no(hasher.needs_rehash(&stored))),
    );
    line(
        &mut out,
        "The festival cannot rehash without the password, so it does it at the next",
    );
    line(
        &mut out,
        "successful login, when the password is in hand and has just been verified.",
    );

    // Step 5: the unknown user.
    heading(&mut out, "Step 5: the dummy-hash defence");
    line(
        &mut out,
        "Mallory tries usernames to learn which exist. A naive gate answers an unknown",
    );
    line(
        &mut out,
        "username at once and a wrong password after a 19 MiB argon2id run: the delay",
    );
    line(
        &mut out,
        "gives the answer away even when the messages are the same.",
    );
    let wrong_password = hasher.check(&Password::new("guess-1234"), Some(&stored));
    let unknown_user = hasher.check(&Password::new("guess-1234"), None);
    line(
        &mut out,
        &format!(
            "  alice   + wrong password -> {}",
            describe(&wrong_password)
        ),
    );
    line(
        &mut out,
        &format!("  mallory + any password   -> {}", describe(&unknown_user)),
    );
    line(
        &mut out,
        "For the unknown user the hasher verifies against a dummy hash made with the",
    );
    line(
        &mut out,
        "current parameters, so both answers cost one argon2id run and read the same.",
    );

    // Step 6: the cost, bounded.
    heading(&mut out, "Step 6: slow on purpose, and bounded");
    line(
        &mut out,
        "Each hash fills 19 MiB and keeps a core busy for tens of milliseconds. That is the",
    );
    line(
        &mut out,
        "point: a stolen hash costs an attacker the same for every guess. A server runs",
    );
    line(
        &mut out,
        "hashes on a bounded pool, off the async threads, so a burst of logins cannot",
    );
    line(&mut out, "exhaust its memory or stall other requests:");
    let config = PoolConfig {
        max_concurrent: 4,
        max_waiting: 64,
    };
    line(
        &mut out,
        &format!(
            "  with {} concurrent hashes: at most {} MiB of hashing memory;",
            config.max_concurrent,
            config.max_concurrent * 19
        ),
    );
    line(
        &mut out,
        &format!(
            "  beyond {} waiting, a login is refused at once with 503 and Retry-After.",
            config.max_waiting
        ),
    );
    out
}

fn explain_phc(out: &mut String, stored: &PasswordHash) {
    let Ok(parts) = stored.parts() else {
        line(out, "  (not a PHC string)");
        return;
    };
    let salt = parts.salt.map(|salt| salt.to_string()).unwrap_or_default();
    let hash = parts.hash.map(|hash| hash.to_string()).unwrap_or_default();
    line(out, "what each part means:");
    for (part, meaning) in [
        (
            "argon2id",
            "the algorithm: Argon2, hybrid variant (RFC 9106)",
        ),
        ("v=19", "algorithm version 0x13"),
        (
            "m=19456",
            "memory per hash in KiB (19 MiB): the OWASP minimum",
        ),
        ("t=2", "passes over that memory"),
        ("p=1", "parallel lanes"),
    ] {
        line(out, &format!("  {part:<24}{meaning}"));
    }
    line(out, &format!("  salt:   {salt}"));
    line(out, "          16 random bytes, base64 without padding");
    line(out, &format!("  output: {hash}"));
    line(
        out,
        "          32 bytes derived from password and salt, base64 without padding",
    );
}

fn describe(outcome: &Result<(), wristband_passwords::VerifyError>) -> String {
    match outcome {
        Ok(()) => "accepted".to_owned(),
        Err(err) => format!("refused ({err})"),
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

fn heading(out: &mut String, title: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "{}", "-".repeat(title.chars().count()));
}

fn line(out: &mut String, text: &str) {
    let _ = writeln!(out, "{text}");
}
