//! Lesson 09, the map at the entrance: the festival's generated OpenAPI document.
//!
//! Run with `just lesson 09` (or `cargo run -p lesson-09-api-docs`). Reads no environment and
//! writes no files: the festival app runs in-process on an in-memory database.

#[tokio::main]
async fn main() {
    print!("{}", lesson_09_api_docs::transcript().await);
}
