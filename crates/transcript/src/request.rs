//! Short ways to build the requests a lesson sends.
//!
//! Lessons send fixed, literal requests, so these helpers take the URI and header values as
//! given and panic if one is not valid HTTP: that is a typo in the lesson, found the first
//! time it runs. For anything unusual, build an `axum::http::Request` directly.

use axum::body::Body;
use axum::http::header::{self, HeaderName};
use axum::http::{HeaderValue, Method, Request};

/// `GET uri` with no headers and no body.
///
/// # Panics
///
/// If `uri` is not a valid request target.
pub fn get(uri: &str) -> Request<Body> {
    build(Method::GET, uri, Body::empty())
}

/// `POST uri` with `fields` form-encoded (`application/x-www-form-urlencoded`), in order.
///
/// # Panics
///
/// If `uri` is not a valid request target.
pub fn post_form(uri: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body = form_encode(fields);
    let mut request = build(Method::POST, uri, Body::from(body));
    request.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    request
}

/// `POST uri` with `body` sent as `content_type`, for showing what a wrong content type gets.
///
/// # Panics
///
/// If `uri` or `content_type` is not valid HTTP.
pub fn post_raw(uri: &str, content_type: &str, body: &str) -> Request<Body> {
    let mut request = build(Method::POST, uri, Body::from(body.to_owned()));
    request
        .headers_mut()
        .insert(header::CONTENT_TYPE, header_value(content_type));
    request
}

/// Adds `Authorization: Bearer <token>` (RFC 6750 §2.1).
///
/// # Panics
///
/// If `token` holds characters a header cannot carry.
pub fn bearer(request: Request<Body>, token: &str) -> Request<Body> {
    with_header(request, header::AUTHORIZATION, &format!("Bearer {token}"))
}

/// Appends header `name: value`, keeping any earlier value of the same name (so a lesson can
/// show a request with two `Authorization` headers).
///
/// # Panics
///
/// If `value` holds characters a header cannot carry.
pub fn with_header(mut request: Request<Body>, name: HeaderName, value: &str) -> Request<Body> {
    request.headers_mut().append(name, header_value(value));
    request
}

#[allow(clippy::expect_used)]
fn build(method: Method, uri: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .expect("the lesson's request URI is a valid request target")
}

#[allow(clippy::expect_used)]
fn header_value(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).expect("the lesson's header value is visible ASCII")
}

/// Form-encodes `fields` (WHATWG `application/x-www-form-urlencoded`: space as `+`, everything
/// outside `*-._` and alphanumerics percent-encoded).
fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_encoded_as_a_browser_would() {
        assert_eq!(
            form_encode(&[("scope", "stages backstage"), ("password", "a&b=c/é")]),
            "scope=stages+backstage&password=a%26b%3Dc%2F%C3%A9"
        );
    }
}
