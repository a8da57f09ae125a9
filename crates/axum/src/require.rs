//! Declaring the scopes a route needs.
//!
//! A route states its scopes in its handler's signature, as a type: `Authorized<Backstage>`.
//! The extractor runs before the handler, so a handler that names it cannot run without the
//! scopes, and the requirement is visible in the one place a reader looks.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use wristband_scopes::{Scope, ScopeSet};

use crate::{AuthError, AuthRejection, BearerState, CurrentUser};

/// A set of scopes a route requires, named by a type so it can appear in [`Authorized`].
///
/// ```
/// use wristband_axum::RequiredScopes;
/// use wristband_scopes::Scope;
///
/// /// Everything: stages and backstage.
/// pub struct AllAreas;
///
/// impl RequiredScopes for AllAreas {
///     const SCOPES: &'static [Scope] = &[Scope::Stages, Scope::Backstage];
/// }
/// ```
pub trait RequiredScopes: Send + Sync + 'static {
    /// Every scope the token must carry (all of them, not any one).
    const SCOPES: &'static [Scope];
}

/// Requires the `stages` scope.
#[derive(Debug, Clone, Copy)]
pub struct Stages;

impl RequiredScopes for Stages {
    const SCOPES: &'static [Scope] = &[Scope::Stages];
}

/// Requires the `backstage` scope.
#[derive(Debug, Clone, Copy)]
pub struct Backstage;

impl RequiredScopes for Backstage {
    const SCOPES: &'static [Scope] = &[Scope::Backstage];
}

/// A [`CurrentUser`] whose token carries every scope `R` requires.
///
/// ```
/// use wristband_axum::{Authorized, require::Backstage};
///
/// async fn backstage(user: Authorized<Backstage>) -> String {
///     format!("Welcome backstage, {}.", user.username)
/// }
/// ```
///
/// Refusals, in order: everything [`CurrentUser`] refuses (400/401), then a valid token missing
/// a required scope: [`AuthError::InsufficientScope`], `403` with `error="insufficient_scope"`
/// and `scope="<every required scope>"` (RFC 6750 §3.1). 403, not 401: the client proved who it
/// is, and logging in again would not change what its wristband allows.
pub struct Authorized<R: RequiredScopes> {
    user: CurrentUser,
    // `fn() -> R` keeps `Authorized` Send and Sync whatever `R` is: no `R` is ever stored.
    required: PhantomData<fn() -> R>,
}

impl<R: RequiredScopes> Authorized<R> {
    /// Checks that `user` carries every scope `R` requires.
    ///
    /// # Errors
    ///
    /// [`AuthError::InsufficientScope`] naming the required and the granted scopes.
    pub fn check(user: CurrentUser) -> Result<Self, AuthError> {
        match Self::shortfall(&user) {
            Some(error) => Err(error),
            None => Ok(Self {
                user,
                required: PhantomData,
            }),
        }
    }

    /// The refusal if `user` lacks a required scope, `None` if it has them all.
    fn shortfall(user: &CurrentUser) -> Option<AuthError> {
        let granted = &user.scopes;
        // The sets are built only for a refusal; a granted request allocates nothing here.
        (!R::SCOPES.iter().all(|scope| granted.contains(*scope))).then(|| {
            AuthError::InsufficientScope {
                required: ScopeSet::from(R::SCOPES),
                granted: *granted,
            }
        })
    }

    /// The user, without the proof of scope.
    pub fn into_user(self) -> CurrentUser {
        self.user
    }
}

impl<R: RequiredScopes> Deref for Authorized<R> {
    type Target = CurrentUser;

    fn deref(&self) -> &CurrentUser {
        &self.user
    }
}

impl<R: RequiredScopes> fmt::Debug for Authorized<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorized")
            .field("required", &R::SCOPES)
            .field("user", &self.user)
            .finish()
    }
}

impl<R: RequiredScopes> Clone for Authorized<R> {
    fn clone(&self) -> Self {
        Self {
            user: self.user.clone(),
            required: PhantomData,
        }
    }
}

impl<S, R> FromRequestParts<S> for Authorized<R>
where
    S: BearerState,
    R: RequiredScopes,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        if let Some(error) = Self::shortfall(&user) {
            tracing::info!(
                sub = %user.username,
                jti = %user.claims.jti,
                %error,
                "bearer token refused"
            );
            return Err(AuthRejection::new(error, state.realm()));
        }
        Ok(Self {
            user,
            required: PhantomData,
        })
    }
}
