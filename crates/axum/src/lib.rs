//! The stage door: checking wristband tokens in axum handlers.
//!
//! Every protected request shows its wristband in one header, `Authorization: Bearer <token>`
//! (RFC 6750 §2.1). This crate turns that header into typed values a handler can ask for:
//!
//! - [`BearerToken`]: the raw token from the header, not yet verified;
//! - [`CurrentUser`]: a verified token's user, wristband colour, scopes and claims;
//! - [`Authorized<R>`]: a current user whose token carries the scopes `R` names, such as
//!   [`require::Backstage`]. The requirement is part of the handler's type, and the check runs
//!   before the handler.
//!
//! A refused request gets exactly the answer RFC 6750 §3 describes ([`AuthError`]):
//!
//! | situation | status | `WWW-Authenticate` |
//! |---|---|---|
//! | no token (or another scheme, such as `Basic`) | 401 | `Bearer realm="wristband"` |
//! | bad, expired or tampered token | 401 | `Bearer realm="wristband", error="invalid_token", error_description="…"` |
//! | valid token without the route's scope | 403 | `Bearer realm="wristband", error="insufficient_scope", error_description="…", scope="backstage"` |
//! | malformed request (two headers, token in the URL, `Bearer` with no token) | 400 | `Bearer realm="wristband", error="invalid_request", error_description="…"` |
//!
//! with a JSON body carrying the same `error` and `error_description`. The refusal is logged
//! with `tracing` (for a valid token lacking scope, with its `sub` and `jti`); the token never is.
//!
//! The extractors find the [`Verifier`](wristband_tokens::Verifier) through the [`BearerState`]
//! trait, implemented for the router's state:
//!
//! ```
//! use axum::{Router, routing::get};
//! use wristband_axum::{Authorized, CurrentUser, require::Backstage};
//! use wristband_tokens::Verifier;
//!
//! async fn me(user: CurrentUser) -> String {
//!     format!("{} wears a {} wristband", user.username, user.wristband)
//! }
//!
//! async fn backstage(user: Authorized<Backstage>) -> String {
//!     format!("Welcome backstage, {}.", user.username)
//! }
//!
//! fn routes(verifier: Verifier) -> Router {
//!     Router::new()
//!         .route("/me", get(me))
//!         .route("/backstage", get(backstage))
//!         .with_state(verifier)
//! }
//! ```

mod bearer;
mod error;
pub mod require;
mod user;

pub use bearer::{BearerToken, bearer_token};
pub use error::{AuthError, AuthRejection, DEFAULT_REALM, MalformedRequest};
pub use require::{Authorized, RequiredScopes};
pub use user::{BearerState, CurrentUser, IdentitySlot};
