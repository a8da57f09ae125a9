//! Lesson 02, the wristband: issuing, reading and verifying signed tokens.
//!
//! Run with `just lesson 02` (or `cargo run -p lesson-02-tokens`). Reads no environment.

fn main() {
    print!("{}", lesson_02_tokens::transcript());
}
