//! Lesson 08, OpenID Connect: the ID token read, checked claim by claim, forged and refused,
//! and the account linked by (`iss`, `sub`).
//!
//! Run with `just lesson 08` (or `cargo run -p lesson-08-openid-connect`). Reads no environment
//! and opens no port: the vendor and the festival run in this process.

fn main() {
    print!("{}", lesson_08_openid_connect::transcript());
}
