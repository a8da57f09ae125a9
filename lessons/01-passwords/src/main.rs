//! Lesson 01, the ticket check: hashing and verifying passwords with argon2id.
//!
//! Run with `just lesson 01` (or `cargo run -p lesson-01-passwords`). Reads no environment.

fn main() {
    print!("{}", lesson_01_passwords::transcript());
}
