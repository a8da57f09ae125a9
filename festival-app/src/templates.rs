//! The page templates (askama, compiled into the binary from `templates/`).
//!
//! askama escapes every value for HTML by default, so a username or a token claim shown on a
//! page can never inject markup.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;

/// The navigation bar: what every page shows about the visitor.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    /// The logged-in visitor, if any.
    pub visitor: Option<NavVisitor>,
}

/// A logged-in visitor as the navigation bar shows them.
#[derive(Debug, Clone)]
pub struct NavVisitor {
    /// Their username.
    pub username: String,
    /// `green` or `gold`.
    pub wristband: &'static str,
    /// The session's CSRF token, for the logout form.
    pub csrf: String,
}

/// One act on a stage.
#[derive(Debug, Clone)]
pub struct ActView {
    /// When it plays, e.g. `Sat 21:00–23:00`.
    pub time: String,
    /// Who plays.
    pub name: String,
}

/// A stage and its acts.
#[derive(Debug, Clone)]
pub struct StageView {
    /// The stage's path segment, e.g. `main`.
    pub slug: String,
    /// The stage's display name.
    pub name: String,
    /// A line for the programme.
    pub blurb: String,
    /// Its acts in running order.
    pub acts: Vec<ActView>,
}

/// A food tent.
#[derive(Debug, Clone)]
pub struct TentView {
    /// The tent's name.
    pub name: &'static str,
    /// What it serves.
    pub serves: &'static str,
}

/// An error page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The navigation bar.
    pub nav: Nav,
    /// The status code, e.g. 404.
    pub status: u16,
    /// The status code's reason phrase, e.g. `Not Found`.
    pub reason: &'static str,
    /// The page's heading.
    pub title: &'static str,
    /// What happened and what to do.
    pub message: &'static str,
    /// `plain`, or `gold-only` for the friendly backstage refusal.
    pub kind: &'static str,
}

impl ErrorPage {
    /// An error page for `status`.
    pub fn new(
        status: StatusCode,
        title: &'static str,
        message: &'static str,
        kind: &'static str,
    ) -> Self {
        Self {
            nav: Nav::default(),
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            title,
            message,
            kind,
        }
    }
}

/// The line-up: the front page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "lineup.html")]
pub struct LineupPage {
    /// The navigation bar.
    pub nav: Nav,
    /// Every stage with its acts.
    pub stages: Vec<StageView>,
}

/// The ticket shop.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "tickets.html")]
pub struct TicketsPage {
    /// The navigation bar.
    pub nav: Nav,
    /// The session's CSRF token for the form.
    pub csrf: String,
    /// Gold tickets left.
    pub gold_remaining: u32,
    /// The username typed so far (redisplayed after an error).
    pub username: String,
    /// Whether gold was chosen (redisplayed after an error).
    pub gold_chosen: bool,
    /// What was wrong with the last attempt.
    pub error: Option<String>,
    /// The minimum password length, for the hint.
    pub min_password: usize,
}

/// The gate: the login page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "gate.html")]
pub struct GatePage {
    /// The navigation bar.
    pub nav: Nav,
    /// The session's CSRF token for the forms.
    pub csrf: String,
    /// Where to go after logging in (already checked to be a local path).
    pub next: String,
    /// The username typed so far (redisplayed after an error).
    pub username: String,
    /// What went wrong with the last attempt.
    pub error: Option<String>,
    /// A friendly notice, e.g. after buying a ticket.
    pub notice: Option<String>,
    /// Whether to show the "log in with the ticket vendor" button.
    pub vendor_login: bool,
    /// Whether to show the demo logins.
    pub demo: bool,
}

/// The wristband and its token inspector.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "wristband.html")]
pub struct WristbandPage {
    /// The navigation bar.
    pub nav: Nav,
    /// Who wears it.
    pub username: String,
    /// `green` or `gold`.
    pub wristband: &'static str,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// The decoded token, for the inspector.
    pub inspector: crate::inspector::Inspection,
}

/// One stage.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "stage.html")]
pub struct StagePage {
    /// The navigation bar.
    pub nav: Nav,
    /// The stage.
    pub stage: StageView,
}

/// The food tents.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "food.html")]
pub struct FoodPage {
    /// The navigation bar.
    pub nav: Nav,
    /// The tents.
    pub tents: Vec<TentView>,
}

/// Backstage.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "backstage.html")]
pub struct BackstagePage {
    /// The navigation bar.
    pub nav: Nav,
    /// Who is visiting.
    pub username: String,
}
