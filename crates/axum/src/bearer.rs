use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use wristband_tokens::AccessToken;

use crate::{AuthError, AuthRejection, BearerState, MalformedRequest};

/// The access token from `Authorization: Bearer <token>`, not yet verified.
///
/// Most handlers want [`crate::CurrentUser`] or [`crate::Authorized`], which verify the token;
/// this extractor is the step before, for code that passes the token on unread.
///
/// Rules (RFC 6750 §2.1 and §3.1, and where this crate is stricter):
///
/// - The scheme `Bearer` is matched case-insensitively (RFC 9110 §11.1), followed by one or
///   more spaces and one `b64token`; trailing spaces are ignored.
/// - No `Authorization` header, or a header for another scheme (`Basic`, `Digest`…):
///   [`AuthError::MissingToken`], a bare 401 challenge, since the client did not try to use a
///   bearer token at all.
/// - `Bearer` with no token, with two tokens, or with characters a `b64token` cannot hold:
///   [`MalformedRequest::MalformedBearer`] (400 `invalid_request`).
/// - Two `Authorization` headers: [`MalformedRequest::RepeatedAuthorization`].
/// - An `access_token` query parameter: refused with 400 `invalid_request` whether or not a
///   header came too ([`MalformedRequest::TokenInUrl`], [`MalformedRequest::TokenSentTwice`]).
///   Tokens in URLs leak into logs and `Referer` headers, so they are never accepted.
///
/// NOTE: a token in a form-encoded body (RFC 6750 §2.2) is not accepted either, but the body is
/// not read to detect one: an extractor of request parts cannot see it, and every protected
/// route of this workspace is a `GET`. Such a token is simply ignored, so it can never let a
/// request in.
#[derive(Debug, Clone)]
pub struct BearerToken(pub AccessToken);

impl<S> FromRequestParts<S> for BearerToken
where
    S: BearerState,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        bearer_token(&parts.headers, &parts.uri)
            .map(Self)
            .map_err(|error| {
                log_refusal(&error);
                AuthRejection::new(error, state.realm())
            })
    }
}

/// Logs why a request carried no usable token. The token itself is never logged.
pub(crate) fn log_refusal(error: &AuthError) {
    match error {
        AuthError::MissingToken => tracing::debug!("request without a bearer token"),
        other => tracing::info!(error = %other, "bearer token refused"),
    }
}

/// Reads the bearer token of a request, applying every rule listed on [`BearerToken`].
///
/// # Errors
///
/// [`AuthError::MissingToken`] or [`AuthError::InvalidRequest`], as listed there.
pub fn bearer_token(headers: &HeaderMap, uri: &Uri) -> Result<AccessToken, AuthError> {
    bearer_token_str(headers, uri).map(AccessToken::new)
}

/// [`bearer_token`], borrowing the token from the header instead of copying it.
pub(crate) fn bearer_token_str<'h>(
    headers: &'h HeaderMap,
    uri: &Uri,
) -> Result<&'h str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let header = values.next();
    if values.next().is_some() {
        return Err(MalformedRequest::RepeatedAuthorization.into());
    }
    if query_has_access_token(uri) {
        return Err(match header {
            Some(_) => MalformedRequest::TokenSentTwice,
            None => MalformedRequest::TokenInUrl,
        }
        .into());
    }
    let Some(header) = header else {
        return Err(AuthError::MissingToken);
    };
    // A value that is not visible ASCII cannot be `Bearer <b64token>`, whatever its scheme.
    let value = header
        .to_str()
        .map_err(|_| MalformedRequest::MalformedBearer)?;
    // RFC 9110 §5.5: a field value's trailing whitespace is not part of it.
    let value = value.trim_end_matches([' ', '\t']);

    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MissingToken);
    }
    // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token.
    let token = credentials.trim_start_matches(' ');
    if !is_b64token(token) {
        return Err(MalformedRequest::MalformedBearer.into());
    }
    Ok(token)
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    // Every request to a gated route runs this over a few hundred bytes. `fold` with `&`
    // instead of `all` with `||` checks every byte without branching, which the compiler turns
    // into vector instructions; a token is either wholly valid or refused, so stopping at the
    // first bad byte would save nothing that matters.
    !body.is_empty()
        && body.bytes().fold(true, |valid, b| {
            valid
                & (b.is_ascii_alphanumeric()
                    | (b == b'-')
                    | (b == b'.')
                    | (b == b'_')
                    | (b == b'~')
                    | (b == b'+')
                    | (b == b'/'))
        })
}

fn query_has_access_token(uri: &Uri) -> bool {
    let Some(query) = uri.query() else {
        return false;
    };
    // Decoded as a form would be, so `access%5Ftoken=…` is recognised too. A query that cannot
    // be decoded carries no parameter that could be a token.
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .map(|pairs| pairs.iter().any(|(name, _)| name == "access_token"))
        .unwrap_or(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn read(authorization: &[&str], uri: &str) -> Result<String, AuthError> {
        let mut headers = HeaderMap::new();
        for value in authorization {
            headers.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        let uri: Uri = uri.parse().unwrap();
        bearer_token(&headers, &uri).map(|token| token.expose().to_owned())
    }

    #[test]
    fn a_bearer_header_yields_its_token() {
        assert_eq!(read(&["Bearer abc.def.ghi"], "/").unwrap(), "abc.def.ghi");
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        assert_eq!(read(&["bearer abc"], "/").unwrap(), "abc");
        assert_eq!(read(&["BEARER abc"], "/").unwrap(), "abc");
    }

    #[test]
    fn several_spaces_after_the_scheme_and_trailing_spaces_are_tolerated() {
        assert_eq!(read(&["Bearer   abc  "], "/").unwrap(), "abc");
    }

    #[test]
    fn a_token_may_end_in_padding() {
        assert_eq!(read(&["Bearer abc=="], "/").unwrap(), "abc==");
    }

    #[test]
    fn no_header_is_a_missing_token() {
        assert_eq!(read(&[], "/"), Err(AuthError::MissingToken));
    }

    #[test]
    fn another_scheme_is_a_missing_token() {
        assert_eq!(
            read(&["Basic YWxpY2U6cHc="], "/"),
            Err(AuthError::MissingToken)
        );
        assert_eq!(read(&["Bearerabc"], "/"), Err(AuthError::MissingToken));
    }

    #[test]
    fn bearer_without_a_token_is_malformed() {
        let malformed = Err(MalformedRequest::MalformedBearer.into());
        assert_eq!(read(&["Bearer"], "/"), malformed);
        assert_eq!(read(&["Bearer    "], "/"), malformed);
        assert_eq!(read(&[""], "/"), Err(AuthError::MissingToken));
    }

    #[test]
    fn characters_outside_b64token_are_malformed() {
        let malformed = Err(MalformedRequest::MalformedBearer.into());
        assert_eq!(read(&["Bearer abc def"], "/"), malformed);
        assert_eq!(read(&["Bearer a\"b"], "/"), malformed);
        assert_eq!(read(&["Bearer a=b"], "/"), malformed);
        assert_eq!(read(&["Bearer abc,Bearer def"], "/"), malformed);
    }

    #[test]
    fn exactly_the_b64token_alphabet_is_accepted() {
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/";
        for byte in 0..=u8::MAX {
            let token = format!("a{}b", char::from(byte));
            assert_eq!(
                is_b64token(&token),
                alphabet.contains(char::from(byte)),
                "byte {byte:#04x}"
            );
        }
        assert!(is_b64token("abc=="));
        assert!(!is_b64token("=="));
        assert!(!is_b64token(""));
    }

    #[test]
    fn two_authorization_headers_are_malformed() {
        assert_eq!(
            read(&["Bearer abc", "Bearer def"], "/"),
            Err(MalformedRequest::RepeatedAuthorization.into())
        );
    }

    #[test]
    fn a_token_in_the_query_string_is_refused() {
        assert_eq!(
            read(&[], "/api/me?access_token=abc"),
            Err(MalformedRequest::TokenInUrl.into())
        );
        assert_eq!(
            read(&[], "/api/me?x=1&access%5Ftoken=abc"),
            Err(MalformedRequest::TokenInUrl.into())
        );
    }

    #[test]
    fn a_token_in_the_query_string_and_the_header_is_refused() {
        assert_eq!(
            read(&["Bearer abc"], "/api/me?access_token=abc"),
            Err(MalformedRequest::TokenSentTwice.into())
        );
    }

    #[test]
    fn other_query_parameters_are_left_alone() {
        assert_eq!(read(&["Bearer abc"], "/api/me?token=1").unwrap(), "abc");
    }
}
