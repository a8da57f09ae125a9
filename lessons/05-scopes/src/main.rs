//! Lesson 05, green and gold: scopes decide which doors a wristband opens.
//!
//! Run with `just lesson 05` (or `cargo run -p lesson-05-scopes`). Reads no environment.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    print!("{}", lesson_05_scopes::transcript().await);
}
