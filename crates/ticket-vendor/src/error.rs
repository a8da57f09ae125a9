//! Every way a request to the vendor can fail, and the response each one gets.
//!
//! The three protocol surfaces fail differently, as their RFCs require: the authorization
//! endpoint either shows an error page (when it cannot trust the redirect URI) or redirects back
//! with `error` (RFC 6749 §4.1.2.1); the token endpoint answers JSON (RFC 6749 §5.2); userinfo
//! answers with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use url::Url;

use crate::pages::STYLESHEET_PATH;
use crate::state::VendorState;

/// A failed request. Descriptions are fixed strings: nothing a caller sent is reflected back.
#[derive(Debug)]
pub(crate) enum VendorError {
    /// An authorization request whose client or redirect URI cannot be trusted: shown to the
    /// user as a page and never redirected, or the vendor would be an open redirector
    /// (RFC 6749 §4.1.2.1, RFC 9700 §4.11).
    Page {
        status: StatusCode,
        stylesheet: String,
        title: &'static str,
        message: &'static str,
    },
    /// An authorization request from a known client and redirect URI that the vendor refuses:
    /// sent back to the client.
    Redirect(AuthorizationRedirect),
    /// A refused token request.
    Token {
        error: &'static str,
        description: &'static str,
    },
    /// A refused userinfo request; `error` is `None` when no token was sent at all.
    Bearer {
        error: Option<&'static str>,
        description: &'static str,
    },
    /// Something that should never happen (a signature that could not be made): logged with its
    /// cause, answered with a generic body.
    Internal {
        context: &'static str,
        cause: String,
    },
}

impl VendorError {
    pub(crate) fn page(
        state: &VendorState,
        status: StatusCode,
        title: &'static str,
        message: &'static str,
    ) -> Self {
        Self::Page {
            status,
            stylesheet: state.local_path(STYLESHEET_PATH),
            title,
            message,
        }
    }

    pub(crate) fn token(error: &'static str, description: &'static str) -> Self {
        Self::Token { error, description }
    }
}

/// Where to send the user back to, and what to tell the client.
#[derive(Debug)]
pub(crate) struct AuthorizationRedirect {
    pub(crate) redirect_uri: String,
    pub(crate) params: Vec<(&'static str, String)>,
}

impl AuthorizationRedirect {
    /// The `error` parameter, if this redirect carries one.
    fn error_code(&self) -> Option<&str> {
        self.params
            .iter()
            .find(|(name, _)| *name == "error")
            .map(|(_, value)| value.as_str())
    }
}

impl AuthorizationRedirect {
    /// An error response (RFC 6749 §4.1.2.1) with `state` echoed and `iss` added (RFC 9207).
    pub(crate) fn error(
        redirect_uri: &str,
        error: &'static str,
        description: &'static str,
        state: Option<&str>,
        issuer: &str,
    ) -> Self {
        let mut params = vec![
            ("error", error.to_owned()),
            ("error_description", description.to_owned()),
        ];
        if let Some(state) = state {
            params.push(("state", state.to_owned()));
        }
        params.push(("iss", issuer.to_owned()));
        Self {
            redirect_uri: redirect_uri.to_owned(),
            params,
        }
    }

    /// The redirect URI with the parameters appended to whatever query it already has
    /// (RFC 6749 §3.1.2: the registered query must be kept).
    fn location(&self) -> Option<String> {
        let mut url = Url::parse(&self.redirect_uri).ok()?;
        {
            let mut query = url.query_pairs_mut();
            for (name, value) in &self.params {
                query.append_pair(name, value);
            }
        }
        Some(url.into())
    }
}

impl IntoResponse for AuthorizationRedirect {
    fn into_response(self) -> Response {
        match self
            .location()
            .and_then(|location| HeaderValue::from_str(&location).ok())
        {
            // 303, not 302 or 307: the browser must follow with a GET and must not re-send the
            // login form (with the password) to the client (RFC 9700 §4.12).
            // The Location carries a code: no cache may keep it.
            Some(location) => (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, location),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
            )
                .into_response(),
            None => VendorError::Internal {
                context: "building the redirect to a registered redirect URI",
                cause: "the registered URI does not parse".to_owned(),
            }
            .into_response(),
        }
    }
}

/// The page shown for a request the vendor will not redirect.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub(crate) stylesheet: String,
    pub(crate) title: &'static str,
    pub(crate) message: &'static str,
}

#[derive(Serialize)]
struct OAuthErrorBody {
    error: &'static str,
    error_description: &'static str,
}

const BASIC_CHALLENGE: &str = r#"Basic realm="ticket-vendor""#;
const BEARER_CHALLENGE: &str = r#"Bearer realm="ticket-vendor""#;

impl IntoResponse for VendorError {
    fn into_response(self) -> Response {
        match self {
            VendorError::Page {
                status,
                stylesheet,
                title,
                message,
            } => {
                tracing::info!(%status, title, "request refused with an error page");
                let page = ErrorPage {
                    stylesheet,
                    title,
                    message,
                };
                (status, page).into_response()
            }
            VendorError::Redirect(redirect) => {
                tracing::info!(
                    error = redirect.error_code(),
                    "authorization request refused; redirecting back to the client"
                );
                redirect.into_response()
            }
            VendorError::Token { error, description } => {
                tracing::info!(error, description, "token request refused");
                let body = Json(OAuthErrorBody {
                    error,
                    error_description: description,
                });
                if error == "invalid_client" {
                    // RFC 6749 §5.2: a failed client authentication is a 401, and a 401 always
                    // says which scheme to use (RFC 9110 §15.5.2).
                    (
                        StatusCode::UNAUTHORIZED,
                        [
                            (header::WWW_AUTHENTICATE, BASIC_CHALLENGE),
                            (header::CACHE_CONTROL, "no-store"),
                        ],
                        body,
                    )
                        .into_response()
                } else {
                    (
                        StatusCode::BAD_REQUEST,
                        [(header::CACHE_CONTROL, "no-store")],
                        body,
                    )
                        .into_response()
                }
            }
            VendorError::Bearer { error, description } => {
                tracing::info!(error, description, "userinfo request refused");
                let challenge = match error {
                    Some(error) => format!(
                        r#"{BEARER_CHALLENGE}, error="{error}", error_description="{description}""#
                    ),
                    None => BEARER_CHALLENGE.to_owned(),
                };
                let mut response = StatusCode::UNAUTHORIZED.into_response();
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            VendorError::Internal { context, cause } => {
                tracing::error!(context, cause, "unexpected failure");
                let body = Json(OAuthErrorBody {
                    error: "server_error",
                    error_description: "The ticket vendor could not complete the request.",
                });
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CACHE_CONTROL, "no-store")],
                    body,
                )
                    .into_response()
            }
        }
    }
}
