//! Lesson 03, the stage door: a protected route, the current user, and bearer-token errors.
//!
//! Run with `just lesson 03` (or `cargo run -p lesson-03-bearer`). Reads no environment.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    print!("{}", lesson_03_bearer::transcript().await);
}
