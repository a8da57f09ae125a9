//! Cross-site request forgery defence: a secret token per session, checked on every form.
//!
//! A browser attaches the session cookie to any request to the festival, including a form
//! another site submits in the visitor's name. `SameSite=Lax` already keeps the cookie off
//! cross-site POSTs in current browsers, but not in every browser, and not for requests from a
//! sibling subdomain (same *site*). So every state-changing form also carries a token that only
//! pages of this origin can read (the synchronizer token pattern of the OWASP CSRF Prevention
//! Cheat Sheet), and the server compares it in constant time.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq as _;
use tower_sessions::Session;
use wristband_inject::Entropy;

use crate::error::AppError;

/// The session key holding the CSRF token.
pub const SESSION_KEY: &str = "csrf";

/// The form field carrying the CSRF token.
pub const FORM_FIELD: &str = "csrf";

/// The session's CSRF token, created (256 random bits) if it has none yet.
///
/// # Errors
///
/// When the session store fails.
pub async fn token(session: &Session, entropy: &dyn Entropy) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(SESSION_KEY).await? {
        return Ok(token);
    }
    rotate(session, entropy).await
}

/// Replaces the session's CSRF token with a fresh one, e.g. at login, so a token seen before
/// login is worthless after it.
///
/// # Errors
///
/// When the session store fails.
pub async fn rotate(session: &Session, entropy: &dyn Entropy) -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    entropy.fill(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    session.insert(SESSION_KEY, &token).await?;
    Ok(token)
}

/// Checks a submitted token against the session's.
///
/// The comparison takes the same time however many leading characters match, so response
/// timing does not let an attacker guess the token character by character.
///
/// # Errors
///
/// [`AppError::Csrf`] when the session has no token or the submitted one differs.
pub async fn verify(session: &Session, submitted: &str) -> Result<(), AppError> {
    let Some(expected) = session.get::<String>(SESSION_KEY).await? else {
        return Err(AppError::Csrf);
    };
    if bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// A form whose CSRF token has been checked.
///
/// Use it instead of axum's `Form` in every `POST` handler of the web pages. The token is
/// checked before the rest of the form is even parsed, so a forged request is refused with
/// `403` whatever else it contains. Failures become error pages: a body over the size limit
/// `413`, a malformed form or wrong content type `400`.
#[derive(Debug, Clone)]
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct TokenField {
    csrf: Option<String>,
}

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state)
            .await
            .map_err(|(_, reason)| AppError::internal(reason))?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::BadRequest(rejection.body_text())
                }
            })?;
        let field: TokenField = serde_urlencoded::from_bytes(&bytes)
            .map_err(|err| AppError::BadRequest(format!("unreadable form: {err}")))?;
        verify(&session, field.csrf.as_deref().unwrap_or_default()).await?;
        if !is_form {
            return Err(AppError::BadRequest(
                "a form must be sent as application/x-www-form-urlencoded".to_owned(),
            ));
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|err| AppError::BadRequest(format!("malformed form: {err}")))?;
        Ok(Self(form))
    }
}
