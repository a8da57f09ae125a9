//! The festival's JSON API: the gate that hands out wristbands, and the doors that check them.
//!
//! | route | needs | answers |
//! |---|---|---|
//! | `POST /token` | form credentials | `{"access_token", "token_type": "bearer", "expires_in", "scope"}` |
//! | `GET /api/me` | any valid token | `{"username", "wristband", "scopes": [...]}` |
//! | `GET /api/stages/{stage}` | scope `stages` | `{"stage", "welcome"}`; unknown stage → 404 |
//! | `GET /api/backstage` | scope `backstage` | `{"area": "backstage", "welcome"}` |
//! | `GET /health` | nothing | `{"status": "ok"}` |
//!
//! [`router`] serves exactly this table; [`openapi`] describes it. The festival app mounts the
//! router beside its web pages, and the lessons drive it with `tower::ServiceExt::oneshot`.
//!
//! The token endpoint implements the OAuth 2.0 password grant (RFC 6749 §4.3) because the
//! FastAPI tutorial this workspace follows is built on it. RFC 9700 §2.4 says it MUST NOT be
//! used: the client handles the user's password. Everything around it is done properly:
//! argon2id with a dummy hash for unknown users, a bounded hashing pool that answers `503` with
//! `Retry-After` when saturated, scopes narrowed to the wristband's entitlements, and
//! `Cache-Control: no-store` on every answer.
//!
//! ```
//! use std::sync::Arc;
//! use wristband_api::{ApiState, InMemoryUsers, router};
//! use wristband_passwords::{HashingPool, Password, PasswordHasher, PoolConfig};
//! use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};
//! use wristband_inject::{OsEntropy, SystemClock};
//!
//! let hasher = PasswordHasher::owasp();
//! let users = InMemoryUsers::new()
//!     .with_user("alice", &Password::new("green-wristband-demo"), Wristband::Green, &hasher)?;
//! let key = SigningKey::generate(&OsEntropy);
//! let config = TokenConfig::new("https://festival.example", "festival-api");
//! let state = ApiState::new(
//!     Arc::new(users),
//!     HashingPool::new(hasher, PoolConfig::default()),
//!     Issuer::new(key.clone(), config.clone(), Arc::new(SystemClock), Arc::new(OsEntropy)),
//!     Verifier::new(key.key_set(), config, Arc::new(SystemClock)),
//! );
//! let app: axum::Router = router(state);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::ToSchema;
use wristband_axum::BearerState;
use wristband_passwords::{HashingPool, LoginThrottle};
use wristband_tokens::{Issuer, Verifier};

mod docs;
pub mod lineup;
mod routes;
mod token;
mod users;

pub use docs::{BEARER_SCHEME, OAUTH2_SCHEME, openapi};
pub use routes::{AreaWelcome, Health, Me, StageWelcome};
pub use token::{TOKEN_BODY_LIMIT, TokenEndpointError, TokenRequest, TokenResponse};
pub use users::{
    DEMO_TICKET_HOLDERS, DirectoryError, DirectoryFuture, InMemoryUsers, UserDirectory, UserRecord,
};

/// Everything the API's handlers share. Cheap enough to clone per request.
#[derive(Clone)]
pub struct ApiState {
    /// Where ticket holders are looked up.
    pub users: Arc<dyn UserDirectory>,
    /// Runs password checks off the async runtime, with a bound on concurrent hashes.
    pub passwords: HashingPool,
    /// Signs wristband tokens.
    pub issuer: Issuer,
    /// Checks wristband tokens on the gated routes.
    pub verifier: Verifier,
    /// Counts failed logins per username and refuses guessing beyond them; `None` counts
    /// nothing (the lessons, whose transcripts fail logins on purpose).
    pub throttle: Option<LoginThrottle>,
}

impl ApiState {
    /// Bundles the parts. The issuer and verifier must agree on key, issuer and audience, or
    /// every token issued here will be refused here.
    pub fn new(
        users: Arc<dyn UserDirectory>,
        passwords: HashingPool,
        issuer: Issuer,
        verifier: Verifier,
    ) -> Self {
        Self {
            users,
            passwords,
            issuer,
            verifier,
            throttle: None,
        }
    }

    /// The same state, refusing logins for a username with too many recent failures (`429`
    /// with `Retry-After` at `POST /token`). Share one throttle between every door that checks
    /// passwords, or each door grants its own budget of guesses.
    #[must_use]
    pub fn with_throttle(mut self, throttle: LoginThrottle) -> Self {
        self.throttle = Some(throttle);
        self
    }
}

impl std::fmt::Debug for ApiState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiState")
            .field("passwords", &self.passwords)
            .field("issuer", &self.issuer)
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl BearerState for ApiState {
    fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

/// The JSON body of every error this API returns: an OAuth-style code and a fixed, short
/// description. Nothing from the request is ever echoed into it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error code: `invalid_request`, `invalid_grant`, `invalid_token`,
    /// `insufficient_scope`, `not_found`… Absent on a 401 for a request that carried no token
    /// (RFC 6750 §3.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "invalid_grant")]
    pub error: Option<&'static str>,
    /// A sentence for the developer reading it.
    #[schema(value_type = String, example = "The username or password is incorrect")]
    pub error_description: &'static str,
}

/// The API's routes, with `state` applied: exactly the table in the crate documentation.
///
/// The router has no fallback, so it can be merged into a bigger app that has its own; a path
/// not in the table gets that app's (or axum's default) 404.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route(
            "/token",
            post(token::token).layer(DefaultBodyLimit::max(TOKEN_BODY_LIMIT)),
        )
        .route("/api/me", get(routes::me))
        .route("/api/stages/{stage}", get(routes::stage))
        .route("/api/backstage", get(routes::backstage))
        .route("/health", get(routes::health))
        .with_state(state)
}
