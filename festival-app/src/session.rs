//! The browser's wristband: the cookie session, login, logout and the login requirement.
//!
//! The session itself lives in the database (tower-sessions' SQLite store); the cookie holds
//! only a random 128-bit session id. What the session holds after login is a [`Login`].

use std::fmt;
use wristband_axum::IdentitySlot;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::{Cookie, SameSite};
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;
use wristband_tokens::Wristband;

use crate::error::AppError;
use crate::state::{AppState, Settings};
use crate::store::User;
use crate::templates::{Nav, NavVisitor};

/// The session key holding the [`Login`].
pub const LOGIN_KEY: &str = "login";

/// Where a visitor who is not logged in is sent.
pub const GATE_PATH: &str = "/gate";

/// Where a visitor goes after login when no (acceptable) `next` was given.
pub const DEFAULT_AFTER_LOGIN: &str = "/wristband";

/// Who is logged in to a session, since when, and the wristband token minted for them.
#[derive(Clone, Serialize, Deserialize)]
pub struct Login {
    /// The username.
    pub username: String,
    /// The wristband colour at login.
    pub wristband: Wristband,
    /// When they logged in, from the app clock: the start of the absolute timeout.
    pub logged_in_at: u64,
    /// The wristband token issued at login, shown in the inspector.
    pub access_token: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("wristband", &self.wristband)
            .field("logged_in_at", &self.logged_in_at)
            .field("access_token", &"[redacted]")
            .finish()
    }
}

/// The session middleware, configured as the festival needs it.
///
/// - `HttpOnly`: page scripts cannot read the cookie, so an injected script cannot steal it.
/// - `SameSite=Lax`: the browser leaves the cookie off cross-site subrequests and POSTs (a CSRF
///   defence), but sends it on top-level navigations, which the redirect back from the ticket
///   vendor's login page is. `Strict` would drop it there and lose the login in progress.
/// - `Secure` with the `__Host-` prefix when the festival is served over https. For plain-http
///   local runs it must be off: browsers refuse to store a `Secure` cookie from an http origin
///   (some make an exception for `localhost` only), and the visitor could never log in.
/// - `Path=/`, no `Domain`: the cookie goes to this host only, never to subdomains.
/// - Idle timeout: the session ends after the configured minutes without a request. Every
///   response re-saves the session (`always_save`), which is what moves that deadline.
pub fn layer(
    store: SqliteStore,
    settings: &Settings,
    idle_minutes: u32,
) -> SessionManagerLayer<SqliteStore> {
    SessionManagerLayer::new(store)
        .with_name(settings.cookie_name())
        .with_secure(settings.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(i64::from(
            idle_minutes.max(1),
        ))))
        .with_always_save(true)
}

/// Gives the session cookie's *removal* (sent at logout and at the absolute timeout) the same
/// attributes as the cookie itself.
///
/// tower-sessions builds the removal from the cookie the browser sent, which carries only a name
/// and a value, so it goes out without `Secure`. A browser ignores a `__Host-` cookie without
/// `Secure`, removal included, and would keep the dead cookie. The server-side session is gone
/// either way; this makes the browser forget it too.
pub fn complete_cookie_removal(settings: &Settings, mut response: Response) -> Response {
    let name = settings.cookie_name();
    let headers = response.headers_mut();
    let mut fixed = Vec::new();
    for value in headers.get_all(header::SET_COOKIE) {
        let Some(mut cookie) = value.to_str().ok().and_then(|v| Cookie::parse(v).ok()) else {
            fixed.push(value.clone());
            continue;
        };
        let removal = cookie.name() == name && cookie.max_age().is_some_and(|age| age.is_zero());
        if removal {
            cookie.set_secure(settings.secure_cookies);
            cookie.set_http_only(true);
            cookie.set_same_site(SameSite::Lax);
            cookie.set_path("/");
        }
        match HeaderValue::from_str(&cookie.to_string()) {
            Ok(rewritten) if removal => fixed.push(rewritten),
            _ => fixed.push(value.clone()),
        }
    }
    headers.remove(header::SET_COOKIE);
    for value in fixed {
        headers.append(header::SET_COOKIE, value);
    }
    response
}

/// Logs `user` in to `session`: rotates the session id, mints their wristband token and a new
/// CSRF token, and stores the [`Login`].
///
/// Call this after *any* successful authentication (password or ticket vendor), then redirect.
///
/// # Errors
///
/// When the session store fails or the token cannot be signed.
#[tracing::instrument(skip_all, fields(user = %user.username))]
pub async fn log_in(state: &AppState, session: &Session, user: &User) -> Result<(), AppError> {
    // A new session id at the moment of login: an id an attacker planted or saw before login
    // (session fixation, OWASP Session Management Cheat Sheet) now points at nothing.
    session.cycle_id().await?;
    let scope = wristband_scopes::entitlements(user.wristband).to_string();
    let issued = state
        .issuer
        .issue(&user.username, user.wristband, &scope)
        .map_err(AppError::internal)?;
    let login = Login {
        username: user.username.clone(),
        wristband: user.wristband,
        logged_in_at: state.clock.now(),
        access_token: issued.access_token.expose().to_owned(),
    };
    session.insert(LOGIN_KEY, &login).await?;
    crate::csrf::rotate(session, state.entropy.as_ref()).await?;
    tracing::info!(jti = %issued.claims.jti, wristband = %user.wristband, "logged in");
    Ok(())
}

/// Logs the session out: deletes it from the store, so its cookie opens nothing any more, and
/// lets the session middleware send a cookie removal.
///
/// # Errors
///
/// When the session store fails.
pub async fn log_out(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}

/// `next` if it is a path on this site, `None` otherwise.
///
/// Accepts only a path starting with a single `/`: `//evil.example` and `/\evil.example` are
/// read by browsers as another host, a scheme (`https:`) names another site, and control
/// characters or spaces can be stripped by a browser into one of those. Anything else would make
/// the gate an open redirect (CWE-601) that lends the festival's address to phishing links.
pub fn safe_next(next: &str) -> Option<&str> {
    let mut chars = next.chars();
    let local = chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'));
    let clean = next.len() <= 2048 && next.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    (local && clean).then_some(next)
}

/// The gate URL that sends the visitor back to `target` after login.
pub fn gate_url(target: &str) -> String {
    match safe_next(target) {
        Some(next) if next != "/" => {
            let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
            format!("{GATE_PATH}?{query}")
        }
        _ => GATE_PATH.to_owned(),
    }
}

/// A request's visitor, logged in or not.
///
/// Extracting it also enforces the absolute session timeout: a login older than the configured
/// maximum is logged out here, whatever the idle timeout says.
#[derive(Debug, Clone)]
pub struct Visit {
    /// The session (possibly empty).
    pub session: Session,
    /// The login, if the session holds a live one.
    pub login: Option<Login>,
}

impl Visit {
    /// The navigation bar for this visitor.
    ///
    /// # Errors
    ///
    /// When the session store fails.
    pub async fn nav(&self, state: &AppState) -> Result<Nav, AppError> {
        let Some(login) = &self.login else {
            return Ok(Nav::default());
        };
        let csrf = crate::csrf::token(&self.session, state.entropy.as_ref()).await?;
        Ok(Nav {
            visitor: Some(NavVisitor {
                username: login.username.clone(),
                wristband: login.wristband.as_str(),
                csrf,
            }),
        })
    }
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, reason)| AppError::internal(reason))?;
        let mut login = session.get::<Login>(LOGIN_KEY).await?;
        if let Some(current) = &login {
            let age = state.clock.now().saturating_sub(current.logged_in_at);
            if age > state.settings.session_max_age {
                // The absolute timeout (OWASP Session Management Cheat Sheet): even an active
                // session ends, which bounds how long a stolen session cookie stays useful.
                tracing::info!(user = %current.username, age, "session reached its maximum age");
                session.flush().await?;
                login = None;
            }
        }
        if let (Some(login), Some(slot)) = (&login, parts.extensions.get::<IdentitySlot>()) {
            slot.set(&login.username);
        }
        Ok(Self { session, login })
    }
}

/// A logged-in visitor. Extracting it from a request that has no live login redirects to the
/// gate (`303 See Other`), with the requested path as `next`.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    /// The session.
    pub session: Session,
    /// The login.
    pub login: Login,
}

impl LoggedIn {
    /// The navigation bar for this visitor.
    ///
    /// # Errors
    ///
    /// When the session store fails.
    pub async fn nav(&self, state: &AppState) -> Result<Nav, AppError> {
        Visit {
            session: self.session.clone(),
            login: Some(self.login.clone()),
        }
        .nav(state)
        .await
    }
}

/// Why a [`LoggedIn`] could not be extracted.
#[derive(Debug)]
pub enum LoginRequired {
    /// Not logged in: off to the gate.
    Redirect(String),
    /// Something failed on the way.
    Error(AppError),
}

impl IntoResponse for LoginRequired {
    fn into_response(self) -> Response {
        match self {
            Self::Redirect(to) => Redirect::to(&to).into_response(),
            Self::Error(err) => err.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = LoginRequired;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let visit = Visit::from_request_parts(parts, state)
            .await
            .map_err(LoginRequired::Error)?;
        match visit.login {
            Some(login) => Ok(Self {
                session: visit.session,
                login,
            }),
            None => {
                let target = parts
                    .uri
                    .path_and_query()
                    .map_or("/", |path_and_query| path_and_query.as_str());
                Err(LoginRequired::Redirect(gate_url(target)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_accepted_as_next() {
        assert_eq!(safe_next("/backstage"), Some("/backstage"));
        assert_eq!(safe_next("/stages/main?x=1"), Some("/stages/main?x=1"));
        assert_eq!(safe_next("/"), Some("/"));
    }

    #[test]
    fn anything_that_could_leave_the_site_is_refused_as_next() {
        for evil in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil.example",
            "javascript:alert(1)",
            "/\t/evil.example",
            "/ /evil.example",
            "",
            "/a\\b",
        ] {
            assert_eq!(safe_next(evil), None, "{evil:?}");
        }
    }

    #[test]
    fn the_gate_url_carries_next_encoded() {
        assert_eq!(gate_url("/backstage"), "/gate?next=%2Fbackstage");
        assert_eq!(
            gate_url("/stages/main?x=1&y=2"),
            "/gate?next=%2Fstages%2Fmain%3Fx%3D1%26y%3D2"
        );
        assert_eq!(gate_url("//evil.example"), "/gate");
        assert_eq!(gate_url("/"), "/gate");
    }
}
