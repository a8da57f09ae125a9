//! The vendor's HTML: the login page, the error page, the home page and the stylesheet.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::error::VendorError;
use crate::state::VendorState;

/// Where the stylesheet is served, relative to the issuer.
pub(crate) const STYLESHEET_PATH: &str = "/static/vendor.css";

/// The vendor's own stylesheet, served by the vendor itself: the pages work offline and load
/// nothing from anywhere else (the Content-Security-Policy forbids it anyway).
const STYLESHEET: &str = include_str!("../static/vendor.css");

/// The login page, shown by `GET /authorize` and again after a failed attempt.
#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    pub(crate) stylesheet: String,
    pub(crate) action: String,
    pub(crate) client_id: String,
    /// The origin the holder will be sent back to, so they can see who is asking.
    pub(crate) return_to: String,
    /// What the client will learn, one line per granted scope.
    pub(crate) releases: Vec<&'static str>,
    pub(crate) hidden: Vec<(&'static str, String)>,
    pub(crate) error: Option<&'static str>,
    pub(crate) username: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    stylesheet: String,
    issuer: String,
    discovery: String,
    jwks: String,
}

/// `GET /`: what this server is, with links to its metadata.
pub(crate) async fn home(State(vendor): State<VendorState>) -> impl IntoResponse {
    HomePage {
        stylesheet: vendor.local_path(STYLESHEET_PATH),
        issuer: vendor.issuer().to_owned(),
        discovery: vendor.local_path("/.well-known/openid-configuration"),
        jwks: vendor.local_path("/jwks"),
    }
}

/// `GET /static/vendor.css`.
pub(crate) async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// Any other path.
pub(crate) async fn not_found(State(vendor): State<VendorState>) -> VendorError {
    VendorError::page(
        &vendor,
        StatusCode::NOT_FOUND,
        "Not found",
        "The ticket vendor has no page at this address.",
    )
}
