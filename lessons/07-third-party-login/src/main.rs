//! Lesson 07, third-party login: the redirect dance between browser, festival and ticket vendor.
//!
//! Run with `just lesson 07` (or `cargo run -p lesson-07-third-party-login`). Reads no
//! environment and opens no port: the vendor and the festival run in this process.

fn main() {
    print!("{}", lesson_07_third_party_login::transcript());
}
