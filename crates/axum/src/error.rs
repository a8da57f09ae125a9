use axum::Json;
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use wristband_scopes::ScopeSet;
use wristband_tokens::TokenError;

/// The realm named in challenges unless the state says otherwise ([`crate::BearerState::realm`]).
pub const DEFAULT_REALM: &str = "wristband";

/// Why a request to a protected route was refused, in the terms of RFC 6750 §3.
///
/// Each variant maps to one status code and one `WWW-Authenticate` challenge:
///
/// | variant | status | challenge |
/// |---|---|---|
/// | [`MissingToken`](Self::MissingToken) | 401 | `Bearer realm="wristband"` |
/// | [`InvalidRequest`](Self::InvalidRequest) | 400 | `… error="invalid_request", error_description="…"` |
/// | [`InvalidToken`](Self::InvalidToken) | 401 | `… error="invalid_token", error_description="…"` |
/// | [`InsufficientScope`](Self::InsufficientScope) | 403 | `… error="insufficient_scope", error_description="…", scope="…"` |
///
/// The response body is JSON with the same `error` and a short `error_description`. Neither
/// ever contains the token or anything else taken from the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The request carries no bearer token: no `Authorization` header, or one for another
    /// scheme such as `Basic`. RFC 6750 §3.1: a request that "lacks any authentication
    /// information" gets a bare challenge with no error code, because the client may simply not
    /// have known that the route needs a token.
    #[error("no bearer token in the request")]
    MissingToken,
    /// The request is malformed (RFC 6750 §3.1 `invalid_request`): see [`MalformedRequest`].
    #[error("malformed request: {0}")]
    InvalidRequest(MalformedRequest),
    /// The token was refused: bad signature, expired, wrong issuer, not a wristband… The client
    /// should get a new one (RFC 6750 §3.1 `invalid_token`).
    #[error("access token refused: {0}")]
    InvalidToken(#[from] TokenError),
    /// The token is valid but does not carry every scope the route requires. The client needs a
    /// token with more scope, which a fresh login will not give a wristband that lacks it
    /// (RFC 6750 §3.1 `insufficient_scope`).
    #[error("insufficient scope: the route requires {required:?}, the token carries {granted:?}")]
    InsufficientScope {
        /// Every scope the route requires; sent back in the challenge's `scope` attribute.
        required: ScopeSet,
        /// The scopes the token carries; logged, not sent.
        granted: ScopeSet,
    },
}

/// How a request was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedRequest {
    /// More than one `Authorization` header ("repeats the same parameter", RFC 6750 §3.1).
    #[error("more than one Authorization header")]
    RepeatedAuthorization,
    /// `Authorization: Bearer` with no token, a token with characters outside RFC 6750 §2.1's
    /// `b64token`, or bytes that are not visible ASCII.
    #[error("the Bearer credentials are not one b64token")]
    MalformedBearer,
    /// An `access_token` query parameter and no `Authorization` header. RFC 6750 §2.3 allows
    /// this method, but URLs end up in logs, browser history and `Referer` headers (RFC 6750
    /// §5.3: "don't pass bearer tokens in page URLs"; RFC 9700 §4.3.2), so this API never
    /// accepts it and says why.
    #[error("the access token was sent in the URL")]
    TokenInUrl,
    /// An `access_token` query parameter *and* an `Authorization` header ("uses more than one
    /// method for including an access token", RFC 6750 §3.1).
    #[error("the access token was sent in more than one way")]
    TokenSentTwice,
}

impl MalformedRequest {
    /// A short text for `error_description`, naming the fix.
    pub fn description(self) -> &'static str {
        match self {
            Self::RepeatedAuthorization => "Send exactly one Authorization header",
            Self::MalformedBearer => "The Authorization header must be: Bearer <token>",
            Self::TokenInUrl => {
                "Send the access token in the Authorization header, never in the URL"
            }
            Self::TokenSentTwice => {
                "Send the access token one way only: in the Authorization header"
            }
        }
    }
}

impl AuthError {
    /// The HTTP status: 400, 401 or 403 (RFC 6750 §3.1).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::InsufficientScope { .. } => StatusCode::FORBIDDEN,
        }
    }

    /// The RFC 6750 error code, or `None` when the request carried no token at all.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Self::MissingToken => None,
            Self::InvalidRequest(_) => Some("invalid_request"),
            Self::InvalidToken(_) => Some("invalid_token"),
            Self::InsufficientScope { .. } => Some("insufficient_scope"),
        }
    }

    /// A short description that is safe to send: fixed text, never request data.
    pub fn description(&self) -> &'static str {
        match self {
            Self::MissingToken => {
                "This route needs an access token: send Authorization: Bearer <token>"
            }
            Self::InvalidRequest(reason) => reason.description(),
            Self::InvalidToken(error) => error.description(),
            Self::InsufficientScope { .. } => {
                "The access token does not carry the scope this route requires"
            }
        }
    }

    /// The `WWW-Authenticate` challenge for this error in `realm`.
    ///
    /// Each attribute appears at most once and every value is a quoted string. Characters RFC
    /// 6750 §3 does not allow inside a value (`"`, `\`, control characters and anything outside
    /// printable ASCII) are dropped, so a realm taken from configuration cannot break the header.
    pub fn challenge(&self, realm: &str) -> HeaderValue {
        let mut challenge = String::from("Bearer ");
        push_attribute(&mut challenge, "realm", realm);
        if let Some(code) = self.code() {
            push_attribute(&mut challenge, "error", code);
            push_attribute(&mut challenge, "error_description", self.description());
        }
        if let Self::InsufficientScope { required, .. } = self {
            push_attribute(&mut challenge, "scope", &required.to_string());
        }
        // Only printable ASCII is left after `push_attribute`, which is always a valid value.
        HeaderValue::from_str(&challenge).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
    }

    /// The full response for this error in `realm`: status, challenge and JSON body.
    pub fn into_response_for_realm(self, realm: &str) -> Response {
        let body = ErrorBody {
            error: self.code(),
            error_description: self.description(),
        };
        let mut response = (self.status(), Json(body)).into_response();
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, self.challenge(realm));
        response
    }
}

impl From<MalformedRequest> for AuthError {
    fn from(reason: MalformedRequest) -> Self {
        Self::InvalidRequest(reason)
    }
}

impl IntoResponse for AuthError {
    /// The response in the [`DEFAULT_REALM`].
    fn into_response(self) -> Response {
        self.into_response_for_realm(DEFAULT_REALM)
    }
}

/// What the bearer extractors reject a request with: the [`AuthError`] and the realm to name in
/// the challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRejection {
    error: AuthError,
    realm: String,
}

impl AuthRejection {
    /// A rejection for `error` in `realm`.
    pub fn new(error: AuthError, realm: impl Into<String>) -> Self {
        Self {
            error,
            realm: realm.into(),
        }
    }

    /// Why the request was refused.
    pub fn error(&self) -> &AuthError {
        &self.error
    }

    /// The realm the challenge names.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The error alone, dropping the realm.
    pub fn into_error(self) -> AuthError {
        self.error
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.error.into_response_for_realm(&self.realm)
    }
}

#[derive(Serialize)]
struct ErrorBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    error_description: &'static str,
}

/// Appends `name="value"`, separated from any earlier attribute by `, `, keeping only the
/// characters RFC 6750 §3 allows in a value: %x20-21 / %x23-5B / %x5D-7E.
fn push_attribute(challenge: &mut String, name: &str, value: &str) {
    if !challenge.ends_with(' ') {
        challenge.push_str(", ");
    }
    challenge.push_str(name);
    challenge.push_str("=\"");
    challenge.extend(value.chars().filter(|&c| is_value_char(c)));
    challenge.push('"');
}

fn is_value_char(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use wristband_scopes::Scope;

    use super::*;

    fn every_error() -> Vec<AuthError> {
        vec![
            AuthError::MissingToken,
            AuthError::InvalidRequest(MalformedRequest::RepeatedAuthorization),
            AuthError::InvalidRequest(MalformedRequest::MalformedBearer),
            AuthError::InvalidRequest(MalformedRequest::TokenInUrl),
            AuthError::InvalidRequest(MalformedRequest::TokenSentTwice),
            AuthError::InvalidToken(TokenError::Expired),
            AuthError::InvalidToken(TokenError::BadSignature),
            AuthError::InvalidToken(TokenError::Malformed("x".to_owned())),
            AuthError::InvalidToken(TokenError::WrongAudience),
            AuthError::InsufficientScope {
                required: ScopeSet::from([Scope::Backstage]),
                granted: ScopeSet::from([Scope::Stages]),
            },
        ]
    }

    #[test]
    fn a_missing_token_gets_a_bare_challenge_without_an_error_code() {
        assert_eq!(
            AuthError::MissingToken.challenge("wristband"),
            "Bearer realm=\"wristband\""
        );
    }

    #[test]
    fn an_insufficient_scope_challenge_names_the_required_scope() {
        let error = AuthError::InsufficientScope {
            required: ScopeSet::from([Scope::Stages, Scope::Backstage]),
            granted: ScopeSet::from([Scope::Stages]),
        };
        assert_eq!(
            error.challenge("wristband"),
            "Bearer realm=\"wristband\", error=\"insufficient_scope\", \
             error_description=\"The access token does not carry the scope this route requires\", \
             scope=\"stages backstage\""
        );
    }

    #[test]
    fn every_description_uses_only_characters_rfc_6750_allows() {
        for error in every_error() {
            assert!(
                error.description().chars().all(is_value_char),
                "{error:?}: {}",
                error.description()
            );
        }
    }

    #[test]
    fn quotes_and_backslashes_in_a_configured_realm_are_dropped() {
        assert_eq!(
            AuthError::MissingToken.challenge("fest\"ival\\\n\u{e9}"),
            "Bearer realm=\"festival\""
        );
    }

    #[test]
    fn each_error_has_the_status_rfc_6750_gives_it() {
        let statuses: Vec<u16> = every_error()
            .iter()
            .map(|error| error.status().as_u16())
            .collect();
        assert_eq!(statuses, [401, 400, 400, 400, 400, 401, 401, 401, 401, 403]);
    }
}
