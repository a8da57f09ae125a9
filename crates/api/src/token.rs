//! `POST /token`: the gate. Credentials in, wristband out (RFC 6749 §4.3, §5).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, PRAGMA, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wristband_passwords::{Password, PoolError, Throttled, VerifyError};
use wristband_scopes::{ScopeSet, grant};

use crate::{ApiState, ErrorBody, UserRecord};

/// Largest token request body accepted, in bytes. A username, a password of
/// [`wristband_passwords::MAX_PASSWORD_BYTES`] fully percent-encoded, and a scope fit well
/// within it; anything bigger is not a login.
pub const TOKEN_BODY_LIMIT: usize = 8 * 1024;

/// The form fields of a token request (`application/x-www-form-urlencoded`).
///
/// Every field is optional here so that a missing one is reported as `invalid_request`, not
/// rejected by a parser; the documentation marks the required ones.
#[derive(Debug, Clone, Default, ToSchema)]
pub struct TokenRequest {
    /// Must be `password`.
    #[schema(value_type = String, required = true, example = "password")]
    pub grant_type: Option<String>,
    /// The ticket holder's username.
    #[schema(value_type = String, required = true, example = "alice")]
    pub username: Option<String>,
    /// Their password.
    #[schema(value_type = String, required = true, format = Password, example = "green-wristband-demo")]
    pub password: Option<Password>,
    /// The scopes wished for, space-separated. Omitted: everything the wristband allows.
    #[schema(example = "stages")]
    pub scope: Option<String>,
}

impl TokenRequest {
    /// Reads the form body, applying RFC 6749 §3.2's rules: a parameter sent without a value
    /// counts as omitted, a parameter sent twice makes the request invalid, and parameters the
    /// endpoint does not know are ignored.
    ///
    /// # Errors
    ///
    /// [`TokenEndpointError::InvalidRequest`] if a parameter repeats.
    pub fn from_form(body: &[u8]) -> Result<Self, TokenEndpointError> {
        // Decoding cannot fail: invalid UTF-8 is replaced, which can only make a password wrong.
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
        let mut request = Self::default();
        for (name, value) in pairs {
            let slot = match name.as_str() {
                "grant_type" => &mut request.grant_type,
                "username" => &mut request.username,
                "scope" => &mut request.scope,
                "password" => {
                    if request.password.is_some() {
                        return Err(TokenEndpointError::InvalidRequest(REPEATED));
                    }
                    request.password = Some(Password::new(value));
                    continue;
                }
                // NOTE: `client_id` and `client_secret` land here too. The festival has no
                // registered clients, so the password grant is served to public clients only.
                _ => continue,
            };
            if slot.is_some() {
                return Err(TokenEndpointError::InvalidRequest(REPEATED));
            }
            *slot = Some(value);
        }
        // "Parameters sent without a value MUST be treated as if they were omitted."
        request.grant_type = request.grant_type.filter(|value| !value.is_empty());
        request.username = request.username.filter(|value| !value.is_empty());
        request.scope = request.scope.filter(|value| !value.is_empty());
        request.password = request.password.filter(|value| !value.expose().is_empty());
        Ok(request)
    }
}

const REPEATED: &str = "Each parameter may be sent only once";

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The wristband: a signed JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `bearer`.
    #[schema(example = "bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// The scopes granted, space-separated. It can be narrower than what was asked for, so a
    /// client must read it rather than assume (RFC 6749 §3.3).
    #[schema(example = "stages")]
    pub scope: String,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        no_store((StatusCode::OK, Json(self)).into_response())
    }
}

/// Everything that can go wrong at the token endpoint, each with its status and OAuth error
/// code (RFC 6749 §5.2).
///
/// The response body is `{"error", "error_description"}` with fixed texts only: nothing from
/// the request is echoed back. Server-side failures are logged with their cause and answered
/// with a generic `server_error`.
#[derive(Debug, thiserror::Error)]
pub enum TokenEndpointError {
    /// 400 `invalid_request`: not form-encoded, a required parameter missing, or a parameter
    /// repeated.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// 413 `invalid_request`: the body is larger than [`TOKEN_BODY_LIMIT`].
    #[error("request body too large")]
    TooLarge,
    /// 400 `unsupported_grant_type`: a grant type other than `password`.
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    /// 400 `invalid_scope`: an unknown scope name, or only scopes the wristband lacks.
    #[error("invalid scope: {0}")]
    InvalidScope(String),
    /// 400 `invalid_grant`: wrong password or unknown user, which are deliberately
    /// indistinguishable.
    #[error("invalid credentials")]
    InvalidGrant,
    /// 503 `temporarily_unavailable` with `Retry-After`: too many logins are being checked.
    #[error("password checks are saturated")]
    Busy,
    /// 429 `temporarily_unavailable` with `Retry-After`: too many failed logins for this
    /// username lately; the password was not checked.
    #[error("{0}")]
    Throttled(Throttled),
    /// 500 `server_error`: the directory, the hasher or the signer failed.
    #[error("server error: {0}")]
    Internal(String),
}

impl TokenEndpointError {
    fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn body(&self) -> ErrorBody {
        let (error, error_description) = match self {
            Self::InvalidRequest(description) => ("invalid_request", *description),
            Self::TooLarge => ("invalid_request", "The request body is too large"),
            Self::UnsupportedGrantType => (
                "unsupported_grant_type",
                "This endpoint supports only grant_type=password",
            ),
            Self::InvalidScope(_) => (
                "invalid_scope",
                "The requested scope is unknown or not allowed for this wristband",
            ),
            Self::InvalidGrant => ("invalid_grant", "The username or password is incorrect"),
            Self::Busy => (
                "temporarily_unavailable",
                "Too many logins at once; retry shortly",
            ),
            // RFC 6749 has no code for this; `temporarily_unavailable` tells a client what to
            // do (wait for Retry-After), and the same answer goes to every username, known or
            // not.
            Self::Throttled(_) => (
                "temporarily_unavailable",
                "Too many failed logins for this username; retry after the time in Retry-After",
            ),
            Self::Internal(_) => ("server_error", "The server could not issue a token"),
        };
        ErrorBody {
            error: Some(error),
            error_description,
        }
    }
}

impl IntoResponse for TokenEndpointError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(%cause, "token request failed"),
            Self::Busy => tracing::warn!("token request refused: password checks saturated"),
            Self::Throttled(_) => {
                tracing::warn!("token request refused: too many failed logins for the username");
            }
            other => tracing::info!(error = %other, "token request refused"),
        }
        let mut response = no_store((self.status(), Json(self.body())).into_response());
        let retry_after = match self {
            Self::Busy => Some(wristband_passwords::HashingPool::RETRY_AFTER.as_secs()),
            Self::Throttled(throttled) => Some(throttled.retry_after_seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Token responses, good or bad, must never be cached (RFC 6749 §5.1): `Cache-Control:
/// no-store`, and `Pragma: no-cache` for HTTP/1.0 caches.
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

fn is_form_encoded(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Exchanges a username and password for a wristband token (OAuth 2.0 password grant).
///
/// RFC 9700 §2.4 says this grant MUST NOT be used: the client sees the user's password. It is
/// here because the tutorial this workspace follows is built on it; the festival app's own
/// login and the third-party login do not use it.
#[utoipa::path(
    post,
    path = "/token",
    tag = "gate",
    request_body(
        content = TokenRequest,
        content_type = "application/x-www-form-urlencoded",
        description = "OAuth 2.0 password grant form"
    ),
    responses(
        (status = 200, description = "A wristband token", body = TokenResponse,
            headers(("cache-control" = String, description = "no-store"))),
        (status = 400, description = "invalid_request, unsupported_grant_type, invalid_scope or invalid_grant", body = ErrorBody),
        (status = 413, description = "The form is larger than 8 KiB", body = ErrorBody),
        (status = 429, description = "temporarily_unavailable: too many failed logins for this username lately", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait before retrying"))),
        (status = 500, description = "server_error", body = ErrorBody),
        (status = 503, description = "temporarily_unavailable: too many logins at once", body = ErrorBody,
            headers(("retry-after" = u64, description = "Seconds to wait before retrying"))),
    )
)]
#[tracing::instrument(skip_all, fields(username, jti))]
pub(crate) async fn token(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenResponse, TokenEndpointError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            TokenEndpointError::TooLarge
        } else {
            TokenEndpointError::InvalidRequest("The request body could not be read")
        }
    })?;
    // RFC 6749 §4.3.2: the parameters come form-encoded in the body, never as JSON or in the URL.
    if !is_form_encoded(&headers) {
        return Err(TokenEndpointError::InvalidRequest(
            "Send the parameters as application/x-www-form-urlencoded",
        ));
    }
    let request = TokenRequest::from_form(&body)?;

    match request.grant_type.as_deref() {
        None => {
            return Err(TokenEndpointError::InvalidRequest(
                "The grant_type parameter is required",
            ));
        }
        Some("password") => {}
        Some(_) => return Err(TokenEndpointError::UnsupportedGrantType),
    }
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return Err(TokenEndpointError::InvalidRequest(
            "The username and password parameters are required",
        ));
    };
    // Surrounding spaces are dropped, as the festival's own forms drop them, so ` alice` is
    // alice at every door.
    let username = username.trim().to_owned();
    if username.is_empty() {
        return Err(TokenEndpointError::InvalidRequest(
            "The username and password parameters are required",
        ));
    }
    tracing::Span::current().record("username", username.as_str());
    let requested = request
        .scope
        .as_deref()
        .map(ScopeSet::parse)
        .transpose()
        .map_err(|unknown| TokenEndpointError::InvalidScope(unknown.to_string()))?;

    // The attempt holds its place in the username's budget while the password is checked,
    // so guesses sent all at once are counted as surely as guesses sent one by one.
    let attempt = state
        .throttle
        .as_ref()
        .map(|throttle| throttle.begin(&username))
        .transpose()
        .map_err(TokenEndpointError::Throttled)?;
    let record = state
        .users
        .find(&username)
        .await
        .map_err(|err| TokenEndpointError::Internal(format!("user lookup: {err}")))?;
    let checked = check_password(&state, &password, record).await;
    if let Some(attempt) = attempt {
        match &checked {
            Ok(_) => attempt.succeeded(),
            Err(TokenEndpointError::InvalidGrant) => attempt.failed(),
            // The server failed before a verdict: the attempt counts for nothing.
            Err(_) => drop(attempt),
        }
    }
    let record = checked?;

    let granted = grant(requested.as_ref(), record.wristband)
        .map_err(|err| TokenEndpointError::InvalidScope(err.to_string()))?;

    upgrade_hash_if_needed(&state, &record, password).await;

    let issued = state
        .issuer
        .issue(&record.username, record.wristband, &granted.to_string())
        .map_err(|err| TokenEndpointError::Internal(format!("signing: {err}")))?;
    tracing::Span::current().record("jti", issued.claims.jti.as_str());
    tracing::info!(scope = %granted, "wristband issued");

    Ok(TokenResponse {
        access_token: issued.access_token.expose().to_owned(),
        token_type: "bearer",
        expires_in: issued.expires_in,
        scope: granted.to_string(),
    })
}

/// Checks the password against `record`, spending the same work when there is no record, so
/// an unknown username and a wrong password look identical in status, body and time.
async fn check_password(
    state: &ApiState,
    password: &Password,
    record: Option<UserRecord>,
) -> Result<UserRecord, TokenEndpointError> {
    let stored = record.as_ref().map(|record| record.password_hash.clone());
    match state.passwords.check(password.clone(), stored).await {
        Ok(()) => record.ok_or(TokenEndpointError::InvalidGrant),
        Err(PoolError::Failed(VerifyError::InvalidCredentials)) => {
            Err(TokenEndpointError::InvalidGrant)
        }
        Err(PoolError::Busy) => Err(TokenEndpointError::Busy),
        Err(PoolError::Failed(VerifyError::Unexpected(err))) => Err(TokenEndpointError::Internal(
            format!("password check: {err}"),
        )),
        Err(PoolError::Aborted) => Err(TokenEndpointError::Internal(
            "password check did not complete".to_owned(),
        )),
    }
}

/// After a successful login, replaces a hash made with weaker parameters than the current ones
/// (OWASP Password Storage Cheat Sheet: upgrade on login, when the password is at hand).
///
/// A failure here is logged and does not fail the login: the old hash still works.
async fn upgrade_hash_if_needed(state: &ApiState, record: &UserRecord, password: Password) {
    if !state.passwords.hasher().needs_rehash(&record.password_hash) {
        return;
    }
    let fresh = match state.passwords.hash(password).await {
        Ok(fresh) => fresh,
        Err(err) => {
            tracing::warn!(error = %err, "password hash upgrade skipped");
            return;
        }
    };
    match state
        .users
        .replace_password_hash(&record.username, fresh.clone())
        .await
    {
        Ok(()) => tracing::info!(
            from = record.password_hash.scheme(),
            to = fresh.scheme(),
            "password hash upgraded"
        ),
        Err(err) => tracing::warn!(error = %err, "password hash upgrade not stored"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_parameters_count_as_omitted() {
        let request = TokenRequest::from_form(b"grant_type=&username=alice&password=&scope=")
            .expect("no repeats");
        assert_eq!(request.grant_type, None);
        assert_eq!(request.username.as_deref(), Some("alice"));
        assert!(request.password.is_none());
        assert_eq!(request.scope, None);
    }

    #[test]
    fn a_repeated_parameter_is_an_invalid_request() {
        for form in [
            &b"grant_type=password&grant_type=password"[..],
            b"password=a&password=b",
        ] {
            assert!(matches!(
                TokenRequest::from_form(form),
                Err(TokenEndpointError::InvalidRequest(REPEATED))
            ));
        }
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        let request =
            TokenRequest::from_form(b"grant_type=password&client_id=swagger&client_id=again")
                .expect("unknown parameters may repeat");
        assert_eq!(request.grant_type.as_deref(), Some("password"));
    }

    #[test]
    fn the_debug_form_of_a_token_request_hides_the_password() {
        let request = TokenRequest::from_form(b"username=alice&password=hunter22").unwrap();
        assert!(!format!("{request:?}").contains("hunter22"));
    }

    #[test]
    fn charset_parameters_and_case_do_not_matter_in_the_content_type() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
        );
        assert!(is_form_encoded(&headers));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(!is_form_encoded(&headers));
    }
}
