//! Lesson 04, the gate: logging in at `POST /token` and using the wristband it hands out.
//!
//! Run with `just lesson 04` (or `cargo run -p lesson-04-token-endpoint`). Reads no environment.

#[tokio::main(flavor = "current_thread")]
async fn main() {
    print!("{}", lesson_04_token_endpoint::transcript().await);
}
