//! The ticket vendor: a small OpenID Connect provider for teaching.
//!
//! At the festival you can "log in with the ticket vendor": the vendor knows who bought which
//! ticket, and the festival trusts its signed word (an ID token) instead of ever seeing the
//! visitor's vendor password. The machines the demo runs on have no internet, so the workspace
//! brings its own provider. It is a **teaching provider**: correct and strict where it matters,
//! small enough to read in one sitting, and not meant to guard anything real.
//!
//! # What it implements
//!
//! - Discovery (`/.well-known/openid-configuration`) and the public signing key (`/jwks`,
//!   Ed25519 / `EdDSA`, with a `kid`).
//! - The authorization code flow only (`response_type=code`), with its own login page at
//!   `/authorize`, a token endpoint at `/token` and userinfo at `/userinfo`.
//! - PKCE is required, with `S256` only; redirect URIs are matched as exact strings; codes are
//!   random (256 bits), single-use, bound to client, redirect URI, PKCE challenge and nonce, and
//!   live 60 seconds; a replayed code is refused and the tokens it bought are revoked; `state`
//!   comes back untouched and `iss` is added to every authorization response (RFC 9207).
//! - Clients authenticate with a secret (`client_secret_basic` or `client_secret_post`),
//!   compared in constant time.
//! - `nonce` is **required**. OpenID Connect makes it optional in the code flow, because PKCE
//!   already binds the code to the client instance. The vendor insists anyway: it binds the ID
//!   token itself to one login attempt, and a client that forgot to send (or check) it finds out
//!   at once instead of in production.
//!
//! # What it leaves out
//!
//! No dynamic client registration, no refresh tokens, no consent memory (it asks every time),
//! no login session (so `prompt=none` answers `login_required`), no implicit or hybrid flow, no
//! request objects, no logout endpoints, no key rotation, no rate limiting of password guesses,
//! and demo users with plain-text passwords in memory. Codes and tokens live in memory only.
//!
//! The festival app never depends on any of this: it is configured with an issuer URL, a client
//! id and a secret, discovers everything else, and works unchanged against a real provider.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//!
//! use ticket_vendor::{VendorConfig, VendorState, router};
//! use tower::ServiceExt as _;
//! use wristband_inject::{FixedClock, SeededEntropy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let issuer = "http://127.0.0.1:8081".parse().expect("a valid URL");
//! let config = VendorConfig::demo(issuer, "http://127.0.0.1:8080/auth/vendor/callback");
//! let state = VendorState::new(
//!     config,
//!     Arc::new(FixedClock::at(1_700_000_000)),
//!     Arc::new(SeededEntropy::new(7)),
//! )
//! .expect("the demo configuration is valid");
//!
//! let request = axum::http::Request::get("/.well-known/openid-configuration")
//!     .body(axum::body::Body::empty())
//!     .expect("a valid request");
//! let response = router(state).oneshot(request).await.expect("the router never fails");
//! assert_eq!(response.status(), 200);
//! # }
//! ```

mod authorize;
mod claims;
mod config;
mod discovery;
mod error;
mod key;
mod pages;
mod params;
mod state;
mod token;
mod userinfo;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

pub use claims::{IdTokenClaims, Scopes, TokenResponse, UserInfo};
pub use config::{
    ClientRegistration, ConfigError, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Secret, Ticket,
    VendorConfig, VendorUser,
};
pub use key::{KeyFileError, PublicJwk, VendorSigningKey};
pub use state::VendorState;

/// The largest request body accepted. A login form or a token request is a few hundred bytes.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// The vendor's routes, served at the root of the issuer's path:
///
/// | route | what |
/// |---|---|
/// | `GET /` | a short page saying what this server is |
/// | `GET /.well-known/openid-configuration` | discovery document |
/// | `GET /jwks` | the public signing key |
/// | `GET /authorize` | checks the authorization request, shows the login page |
/// | `POST /authorize` | the login form: approve (with password) or deny, then redirect |
/// | `POST /token` | code + PKCE verifier + client secret → ID token and access token |
/// | `GET`/`POST /userinfo` | the holder's claims, for a bearer access token |
/// | `GET /static/vendor.css` | the login page's stylesheet |
///
/// Every response carries headers that keep the login page from being framed (clickjacking,
/// RFC 6749 §10.13), from loading anything from elsewhere, and from leaking its URL in a
/// `Referer`.
pub fn router(state: VendorState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/jwks", get(discovery::jwks))
        .route(
            "/authorize",
            get(authorize::show_login).post(authorize::submit_login),
        )
        .route("/token", post(token::exchange_code))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(pages::STYLESHEET_PATH, get(pages::stylesheet))
        .fallback(pages::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            // No `form-action`: browsers apply it to the redirect after the login form too,
            // and that redirect goes to the client.
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .with_state(state)
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
