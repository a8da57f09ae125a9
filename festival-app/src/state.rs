//! What every request handler shares.

use std::sync::Arc;

use wristband_inject::{Clock, Entropy};
use wristband_passwords::{HashingPool, LoginThrottle};
use wristband_tokens::{Issuer, Verifier};

use crate::store::Store;

/// The app's shared state: the database, the password pool, the token issuer and verifier, and
/// the injected clock and randomness.
///
/// Cheap to clone. Handlers read the time only from [`AppState::clock`] and draw random bytes
/// only from [`AppState::entropy`], so a test that injects a fixed clock and seeded entropy gets
/// the same pages every run.
#[derive(Clone)]
pub struct AppState {
    /// The festival's records.
    pub store: Store,
    /// Password hashing off the async runtime, bounded.
    pub passwords: HashingPool,
    /// Mints wristband tokens at login.
    pub issuer: Issuer,
    /// Checks wristband tokens (for the inspector, and the JSON API).
    pub verifier: Verifier,
    /// Failed logins per username, shared by the gate and `POST /token`; `None` when turned
    /// off.
    pub throttle: Option<LoginThrottle>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Random bytes for CSRF tokens.
    pub entropy: Arc<dyn Entropy>,
    /// "Log in with the ticket vendor", when configured.
    pub vendor: Option<Arc<crate::vendor_login::VendorLogin>>,
    /// Settings fixed at start.
    pub settings: Arc<Settings>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Settings fixed at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The URL visitors use, without a trailing slash.
    pub public_url: String,
    /// Seconds after login after which a session ends however active it is.
    pub session_max_age: u64,
    /// Whether the session cookie is `Secure` and named `__Host-wristband`.
    pub secure_cookies: bool,
    /// Whether the app runs in demo mode (the gate shows the demo logins).
    pub demo: bool,
}

impl Settings {
    /// The session cookie's name.
    ///
    /// With `Secure`, the `__Host-` prefix makes the browser accept the cookie only if it is
    /// `Secure`, has `Path=/` and no `Domain`: a sibling subdomain or a plain-http response
    /// cannot plant or overwrite it (RFC 6265bis §4.1.3.2).
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-wristband"
        } else {
            "wristband"
        }
    }
}
