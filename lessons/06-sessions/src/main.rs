//! Lesson 06, the browser's wristband: cookie sessions, CSRF tokens and logout.
//!
//! Run with `just lesson 06` (or `cargo run -p lesson-06-sessions`). Reads no environment and
//! writes no files: the festival app runs in-process on an in-memory database.

#[tokio::main]
async fn main() {
    print!("{}", lesson_06_sessions::transcript().await);
}
