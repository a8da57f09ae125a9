//! The one error type of the web app, and the errors that stop it from starting.

use std::path::PathBuf;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;
use crate::templates::{ErrorPage, Nav};

/// Everything a request can fail with.
///
/// Each variant becomes a page with the right status code and a short, generic explanation.
/// The cause stays in the server log: a visitor (or an attacker) never sees a database error,
/// a stack trace or which internal check failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request could not be understood: a malformed form, a missing field.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A form arrived without this session's CSRF token, or with a wrong one.
    #[error("CSRF token missing or wrong")]
    Csrf,
    /// The visitor is logged in but their wristband does not open this door.
    #[error("gold wristbands only")]
    GoldOnly,
    /// No such page.
    #[error("not found")]
    NotFound,
    /// The method is not allowed on this path.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request body is larger than the limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// The password hashing pool is full; the visitor should retry shortly.
    #[error("too many logins in progress")]
    Busy,
    /// Anything that is the server's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// An internal error from any error value, keeping its message for the log.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    /// The status code this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Csrf | Self::GoldOnly => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn page(&self) -> ErrorPage {
        let (title, message, kind) = match self {
            Self::BadRequest(_) => (
                "That request did not make sense",
                "The form or link you followed is incomplete or malformed. Go back and try again.",
                "plain",
            ),
            Self::Csrf => (
                "This form has expired",
                "The form you sent was not issued by this page, or your visit timed out. \
                 Go back, reload the page and send it again.",
                "plain",
            ),
            Self::GoldOnly => (
                "Gold wristbands only",
                "Backstage is for gold wristbands. Your green wristband still opens every \
                 stage and food tent: enjoy the music!",
                "gold-only",
            ),
            Self::NotFound => (
                "Nothing here",
                "There is no page at this address. The line-up is a good place to start.",
                "plain",
            ),
            Self::MethodNotAllowed => (
                "Not like that",
                "This address exists, but not for this kind of request.",
                "plain",
            ),
            Self::PayloadTooLarge => (
                "That was too much",
                "The form you sent is larger than any festival form needs to be.",
                "plain",
            ),
            Self::Busy => (
                "The gate is busy",
                "Many people are arriving at once. Wait a moment and try again.",
                "plain",
            ),
            Self::Internal(_) => (
                "Something went wrong on our side",
                "The festival could not complete your request. It has been noted; please try \
                 again in a little while.",
                "plain",
            ),
        };
        ErrorPage::new(self.status(), title, message, kind)
    }
}

impl AppError {
    /// The error page with the visitor's navigation bar, for errors met by a known visitor.
    pub fn into_page(self, nav: Nav) -> Response {
        let mut page = self.page();
        page.nav = nav;
        self.respond(page)
    }

    fn respond(self, page: ErrorPage) -> Response {
        let status = self.status();
        match &self {
            Self::Internal(cause) => tracing::error!(%status, cause, "request failed"),
            Self::Busy => tracing::warn!(%status, "password hashing pool full"),
            Self::BadRequest(cause) => tracing::info!(%status, cause, "bad request"),
            other => tracing::info!(%status, error = %other, "request refused"),
        }
        let mut response = (status, page).into_response();
        if matches!(self, Self::Busy) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let page = self.page();
        self.respond(page)
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        Self::internal(err)
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        Self::internal(format!("session store: {err}"))
    }
}

/// Why the app could not start. Each message names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The data folder could not be created.
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// `DATABASE_URL` is not a usable SQLite URL.
    #[error("DATABASE_URL is not usable: {0}")]
    DatabaseUrl(String),
    /// The database could not be opened, read or migrated.
    #[error(
        "cannot open the database {path}: {source} (is it a SQLite database file written by this app?)"
    )]
    Database {
        /// The database file.
        path: PathBuf,
        /// What failed.
        source: StoreError,
    },
    /// No signing key file is configured outside demo mode.
    #[error(
        "no signing key configured: set FESTIVAL_SIGNING_KEY_FILE (or --signing-key-file) to a \
         PKCS#8 PEM Ed25519 key, or run in demo mode (FESTIVAL_DEMO=1) to have one generated"
    )]
    NoSigningKey,
    /// The signing key file could not be read, parsed or written.
    #[error("signing key file {path}: {reason}")]
    SigningKey {
        /// The key file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The public URL is plain http and cookies were not explicitly allowed to be insecure.
    #[error(
        "the public URL {0} is plain http, so the session cookie cannot be Secure: serve the \
         festival over https, or pass --insecure-cookies (FESTIVAL_INSECURE_COOKIES=1) for a \
         local run"
    )]
    InsecurePublicUrl(String),
    /// The password hashing parameters were refused.
    #[error("password hashing setup failed: {0}")]
    Hashing(String),
    /// Seeding the demo accounts failed.
    #[error("seeding the demo accounts failed: {0}")]
    Seed(String),
    /// "Log in with the ticket vendor" is configured but unusable.
    #[error("vendor login configuration: {0}")]
    VendorLogin(String),
    /// Anything else that failed against the database at startup.
    #[error("database setup failed: {0}")]
    Setup(#[from] StoreError),
}
