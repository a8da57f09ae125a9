//! The relying party: "log in with the ticket vendor", the festival's side of OpenID Connect.
//!
//! The festival never sees the visitor's vendor password. It sends the visitor's browser to the
//! provider, the visitor logs in there, and the provider sends the browser back with a one-time
//! code. The festival exchanges the code, over its own back channel, for an ID token: a statement
//! signed by the provider saying who logged in and which ticket they hold. This crate does the
//! festival's half, strictly:
//!
//! - **discovery** from the issuer URL alone, refusing a document that names another issuer
//!   (OIDC Discovery §4.3);
//! - **authorization code + PKCE `S256`** on the `oauth2` crate, with `state`, PKCE verifier and
//!   `nonce` drawn per attempt from injected [`Entropy`], kept in a single-use [`PendingLogin`],
//!   compared in constant time (RFC 9700 §2.1, RFC 7636);
//! - **the callback** checked before anything is exchanged: `state`, then `iss` (RFC 9207);
//!   `error=access_denied` becomes a plain "you declined";
//! - **the ID token** validated per OIDC Core §3.1.3.7 by [`IdTokenValidator`]: signature with
//!   a key from the provider's JWKS (EdDSA, ES256 or RS256, only those the provider advertises;
//!   never `none` or HMAC), cached and refetched on an unknown `kid` at most once a minute;
//!   exact `iss`; `aud` with this client and no untrusted extra audience; `azp`; `exp`; `iat`;
//!   `nonce` — all against an injected [`Clock`];
//! - **no redirects followed** on the back channel ([`HttpTransport`], RFC 9700 §4.11);
//! - **account linking by (`iss`, `sub`), never by email** ([`linking`]).
//!
//! Errors are one [`OidcError`] that separates what the visitor caused (declined, replayed,
//! swapped `state`) from what the provider or configuration caused (unreachable, bad ID token).
//!
//! ```no_run
//! use std::sync::Arc;
//! use wristband_inject::{OsEntropy, SystemClock};
//! use wristband_oidc::{CallbackParams, ClientConfig, ClientSecret, RelyingParty, ReqwestTransport};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ClientConfig::new(
//!     "http://127.0.0.1:8081",
//!     "festival",
//!     ClientSecret::new("festival-demo-secret"),
//!     "http://127.0.0.1:8080/auth/vendor/callback",
//! )?;
//! let rp = RelyingParty::new(
//!     config,
//!     Arc::new(ReqwestTransport::new()?),
//!     Arc::new(SystemClock),
//!     Arc::new(OsEntropy),
//! );
//!
//! // POST /auth/vendor/start: remember `pending` in the session, 303 to the provider.
//! let start = rp.start_login().await?;
//! let pending = start.pending;
//! println!("redirect to {}", start.authorization_url);
//!
//! // GET /auth/vendor/callback?code=…&state=…&iss=…: take `pending` out of the session first.
//! let callback: CallbackParams = serde_urlencoded::from_str("code=abc&state=xyz")?;
//! let identity = rp.finish_login(Some(pending), &callback).await?;
//! println!("{} at {} holds {:?}", identity.subject, identity.issuer, identity.ticket);
//! # Ok(())
//! # }
//! ```

mod config;
mod discovery;
mod error;
mod flow;
mod id_token;
mod jwks;
pub mod linking;
mod transport;

pub use config::{ClientConfig, ClientSecret, ConfigError, DEFAULT_SCOPES, Policy};
pub use discovery::{ProviderMetadata, SUPPORTED_ALGORITHMS, discover, discovery_url};
pub use error::OidcError;
pub use flow::{CallbackParams, LoginStart, PendingLogin, RelyingParty};
pub use id_token::{
    IdTokenError, IdTokenValidator, TokenHeader, UnverifiedJwt, VerifiedIdentity, decode_unverified,
};
pub use jwks::{Jwks, JwksCache};
pub use linking::{ExternalIdentity, IdentityLinks, Linked, find_or_create, username_candidates};
pub use transport::{
    HttpRequest, HttpResponse, HttpTransport, MAX_RESPONSE_BYTES, ReqwestTransport,
    ServiceTransport, TransportError, TransportFuture,
};
pub use wristband_inject::{Clock, Entropy};
pub use wristband_tokens::Wristband;
