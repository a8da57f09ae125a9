//! The wristband: a signed, short-lived access token.
//!
//! At the gate the festival checks your ticket once and straps a wristband on you. Every stage
//! then checks the wristband, not the ticket. In a web API the wristband is a JSON Web Token
//! (RFC 7519): a header, a set of claims, and a signature over both. Anyone can *read* a token;
//! only the holder of the signing key can *make* one that verifies.
//!
//! This crate issues and verifies wristband tokens following RFC 8725 (JWT Best Current
//! Practices) and the access-token profile of RFC 9068:
//!
//! - one algorithm, EdDSA (Ed25519), pinned in the verifier: a token claiming `alg: none`, or
//!   `HS256` with the public key as secret, is refused before any signature check;
//! - an explicit type, `typ: at+jwt`, so an ID token or any other JWT signed by the same key can
//!   never be replayed as an access token;
//! - `exp`, `iss`, `aud` and `sub` required and checked against the verifier's own values;
//! - keys named by `kid`, looked up in a fixed [`KeySet`]: a token's `jku`, `jwk`, `x5u` or
//!   `x5c` header is never followed, and an unknown `kid` is refused;
//! - time read from an injected [`Clock`], so expiry is tested by moving a clock, not by sleeping.
//!
//! ```
//! use std::sync::Arc;
//! use wristband_inject::{FixedClock, SeededEntropy};
//! use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};
//!
//! let clock = Arc::new(FixedClock::at(1_750_000_000));
//! let key = SigningKey::from_seed([7; 32]);
//! let config = TokenConfig::new("https://festival.example", "festival-api");
//! let issuer = Issuer::new(key.clone(), config.clone(), clock.clone(), Arc::new(SeededEntropy::new(1)));
//! let verifier = Verifier::new(key.key_set(), config, clock.clone());
//!
//! let issued = issuer.issue("bob", Wristband::Gold, "stages backstage")?;
//! let claims = verifier.verify(issued.access_token.expose())?;
//! assert_eq!(claims.sub, "bob");
//! assert_eq!(claims.wristband, Wristband::Gold);
//!
//! // Fifteen minutes later, plus the thirty seconds of tolerated clock skew:
//! clock.advance(issued.expires_in + 30);
//! assert!(verifier.verify(issued.access_token.expose()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod claims;
mod error;
mod issuer;
mod keys;
mod verifier;

pub use claims::{Claims, Wristband};
pub use error::{IssueError, TokenError};
pub use issuer::{AccessToken, IssuedToken, Issuer, TokenConfig};
pub use keys::{KeySet, SigningKey};
pub use verifier::Verifier;
pub use wristband_inject::{Clock, Entropy};

/// The `typ` header of a wristband access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
