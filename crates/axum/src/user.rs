use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use wristband_scopes::ScopeSet;
use wristband_tokens::{Claims, TokenError, Verifier, Wristband};

use crate::bearer::{bearer_token_str, log_refusal};
use crate::{AuthError, AuthRejection, DEFAULT_REALM};

/// What the bearer extractors need from an application's state: the [`Verifier`], and the realm
/// to name in challenges.
///
/// Implement it for your state type (usually one line), and [`CurrentUser`] and
/// [`crate::Authorized`] work in every handler of that router. The verifier is borrowed, never
/// cloned, on each request.
///
/// ```
/// use wristband_axum::BearerState;
/// use wristband_tokens::Verifier;
///
/// #[derive(Clone)]
/// struct AppState {
///     verifier: Verifier,
/// }
///
/// impl BearerState for AppState {
///     fn verifier(&self) -> &Verifier {
///         &self.verifier
///     }
/// }
/// ```
pub trait BearerState: Send + Sync {
    /// The verifier that checks every token.
    fn verifier(&self) -> &Verifier;

    /// The `realm` of `WWW-Authenticate` challenges (RFC 6750 §3). Defaults to
    /// [`DEFAULT_REALM`]. Characters a quoted value cannot hold are dropped when the challenge
    /// is written.
    fn realm(&self) -> &str {
        DEFAULT_REALM
    }
}

/// A bare [`Verifier`] is a complete state, for small routers and tests.
impl BearerState for Verifier {
    fn verifier(&self) -> &Verifier {
        self
    }
}

impl<T: BearerState + ?Sized> BearerState for Arc<T> {
    fn verifier(&self) -> &Verifier {
        (**self).verifier()
    }

    fn realm(&self) -> &str {
        (**self).realm()
    }
}

/// The wearer of a valid wristband: extracted from a verified bearer token.
///
/// Putting `CurrentUser` in a handler's arguments makes the route require a valid token; the
/// handler runs only if there is one. For a route that also needs scopes, use
/// [`crate::Authorized`], which derefs to `CurrentUser`.
///
/// Refusals follow [`crate::BearerToken`] for the header, then: a token that fails verification
/// is [`AuthError::InvalidToken`] (401 `invalid_token`). The cause is logged; the token is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// The token's subject: the username that logged in.
    pub username: String,
    /// The wristband colour the token was issued for.
    pub wristband: Wristband,
    /// The scopes the token grants.
    pub scopes: ScopeSet,
    /// Every verified claim, including `jti` for logging. Shared with the verifier's cache.
    pub claims: Arc<Claims>,
}

impl CurrentUser {
    /// Verifies `token` and reads the user from its claims.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidToken`] if the verifier refuses the token, or if its `scope` claim
    /// names a scope this service does not know: a token is trusted whole or not at all.
    pub fn from_token(verifier: &Verifier, token: &str) -> Result<Self, AuthError> {
        let claims = verifier.verify_shared(token)?;
        let scopes = ScopeSet::parse(&claims.scope)
            .map_err(|unknown| TokenError::InvalidClaims(unknown.to_string()))?;
        Ok(Self {
            username: claims.sub.clone(),
            wristband: claims.wristband,
            scopes,
            claims,
        })
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: BearerState,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = bearer_token_str(&parts.headers, &parts.uri)
            .and_then(|token| Self::from_token(state.verifier(), token))
            .map_err(|error| {
                log_refusal(&error);
                AuthRejection::new(error, state.realm())
            })?;
        if let Some(slot) = parts.extensions.get::<IdentitySlot>() {
            slot.set(&user.username);
        }
        Ok(user)
    }
}

/// Where a request-logging middleware learns who made the request.
///
/// The middleware puts a slot in the request's extensions before calling the router and reads
/// it after the response; [`CurrentUser`] (and so [`crate::Authorized`]) writes the verified
/// username into it. The log line then names the user without verifying the token twice, and
/// never sees the token itself. Clones share the slot.
#[derive(Debug, Clone, Default)]
pub struct IdentitySlot(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl IdentitySlot {
    /// Records `username` as the request's user.
    pub fn set(&self, username: &str) {
        // A poisoned lock only means a panic elsewhere mid-write; the value is still a
        // username or nothing, so keep using it.
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Some(username.to_owned());
    }

    /// Takes the recorded username out of the slot, leaving it empty: for the one reader at
    /// the end of the request.
    pub fn take(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    /// The recorded username, if a handler verified one.
    pub fn get(&self) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}
