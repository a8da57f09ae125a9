//! Harness for Wristband's end-to-end tests: start the real binaries, talk to them over HTTP.
//!
//! Each test starts its own processes on loopback with a fresh temporary data folder, so tests
//! run in parallel and leave nothing behind. A process is ready when it prints the line that
//! says where it listens: the harness reads its output for that line instead of sleeping.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use wristband_e2e::{Festival, FestivalOptions};
//!
//! let festival = Festival::start(FestivalOptions::demo()).await?;
//! let health = reqwest::get(festival.url("/health")).await?;
//! assert_eq!(health.status(), 200);
//! # Ok(()) }
//! ```

mod process;
mod visitor;

pub use process::{Festival, FestivalOptions, Running, Vendor, VendorOptions, free_port};
pub use visitor::{Page, SESSION_COOKIE, Visitor, hidden_field, read};

/// A cookie-keeping HTTP client that does not follow redirects, so every hop can be checked.
///
/// # Errors
///
/// Fails only if the TLS backend cannot initialise.
pub fn browser_like_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}
