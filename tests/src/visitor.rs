use std::sync::Arc;

use anyhow::{Context as _, bail};
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore as _, Jar};
use reqwest::header::{self, HeaderMap};
use url::Url;

/// The session cookie's name when the festival runs over plain http, as the harness starts it.
pub const SESSION_COOKIE: &str = "wristband";

/// A visitor's browser reduced to what the tests need: a cookie jar that can be read, no
/// redirect following (every hop is checked), and helpers for the festival's forms.
///
/// Every request answers with a [`Page`] holding the status, headers and body, whatever the
/// status: a refusal is something to assert on, not an error.
#[derive(Debug, Clone)]
pub struct Visitor {
    client: reqwest::Client,
    jar: Arc<Jar>,
    base: Url,
}

/// One answer: status, headers and body text.
#[derive(Debug, Clone)]
pub struct Page {
    /// The status code.
    pub status: StatusCode,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Page {
    /// The `Location` header, if present and readable.
    pub fn location(&self) -> Option<&str> {
        self.header(header::LOCATION.as_str())
    }

    /// The value of header `name` (the first, if repeated), if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Every `Set-Cookie` header, as sent.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect()
    }

    /// The `Set-Cookie` header that sets cookie `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies()
            .into_iter()
            .find(|cookie| cookie.starts_with(&prefix))
    }

    /// The CSRF token of the first form on the page (the hidden `csrf` field).
    pub fn csrf_token(&self) -> Option<&str> {
        hidden_field(&self.body, "csrf")
    }

    /// The text of the page's alert (`role="alert"`), where forms explain a refusal.
    pub fn alert(&self) -> Option<&str> {
        element_text(&self.body, "role=\"alert\">")
    }

    /// The text of the page's first `<h1>`.
    pub fn heading(&self) -> Option<&str> {
        element_text(&self.body, "<h1>")
    }
}

/// The `value` of the first `<input type="hidden" name="{name}" value="...">` in `html`.
///
/// A deliberately small reader for the festival's own markup, not a general HTML parser.
pub fn hidden_field<'a>(html: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let rest = &html[start..];
    Some(&rest[..rest.find('"')?])
}

/// The text between `opening` and the next `<` in `html`.
fn element_text<'a>(html: &'a str, opening: &str) -> Option<&'a str> {
    let start = html.find(opening)? + opening.len();
    let rest = &html[start..];
    Some(rest[..rest.find('<')?].trim())
}

impl Visitor {
    /// A visitor of the site at `base_url` (e.g. `http://127.0.0.1:41234`) with an empty jar.
    ///
    /// # Errors
    ///
    /// When `base_url` is not a URL or the HTTP client cannot be built.
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let base = Url::parse(base_url).with_context(|| format!("base URL {base_url}"))?;
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, jar, base })
    }

    /// The underlying client, for requests the helpers do not cover. It shares the jar.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `path` on the site, e.g. `/gate?next=%2Fbackstage`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// The value of cookie `name` the jar would send to the site, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.base)?;
        let header = header.to_str().ok()?;
        header.split("; ").find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }

    /// The session cookie's value, if the visitor has one.
    pub fn session_id(&self) -> Option<String> {
        self.cookie(SESSION_COOKIE)
    }

    /// `GET path`.
    ///
    /// # Errors
    ///
    /// When the request cannot be sent or the body read.
    pub async fn get(&self, path: &str) -> anyhow::Result<Page> {
        read(self.client.get(self.url(path)).send().await?).await
    }

    /// `POST path` with `fields` form-encoded.
    ///
    /// # Errors
    ///
    /// When the request cannot be sent or the body read.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        read(self.client.post(self.url(path)).form(fields).send().await?).await
    }

    /// The CSRF token of the form on page `path` (fetching it also starts a session).
    ///
    /// # Errors
    ///
    /// When the page does not answer `200` or carries no token.
    pub async fn csrf_token(&self, path: &str) -> anyhow::Result<String> {
        let page = self.get(path).await?;
        if page.status != StatusCode::OK {
            bail!("GET {path} answered {}", page.status);
        }
        page.csrf_token()
            .map(str::to_owned)
            .with_context(|| format!("no CSRF token on {path}"))
    }

    /// Buys a ticket through the shop's form, as a person would: load the form, send it.
    /// Answers the shop's response (`303` to the gate when sold).
    ///
    /// # Errors
    ///
    /// When a request fails to complete.
    pub async fn buy_ticket(
        &self,
        username: &str,
        password: &str,
        wristband: &str,
    ) -> anyhow::Result<Page> {
        let csrf = self.csrf_token("/tickets").await?;
        self.post_form(
            "/tickets",
            &[
                ("csrf", &csrf),
                ("wristband", wristband),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Logs in at the gate's form. Answers the gate's response (`303` on success).
    ///
    /// # Errors
    ///
    /// When a request fails to complete.
    pub async fn log_in(&self, username: &str, password: &str) -> anyhow::Result<Page> {
        let csrf = self.csrf_token("/gate").await?;
        self.post_form(
            "/gate",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Logs out with the logout form's token, read from the wristband page.
    ///
    /// # Errors
    ///
    /// When a request fails to complete or the page has no logout form.
    pub async fn log_out(&self) -> anyhow::Result<Page> {
        let csrf = self.csrf_token("/wristband").await?;
        self.post_form("/logout", &[("csrf", &csrf)]).await
    }
}

/// Reads a response into a [`Page`].
///
/// # Errors
///
/// When the body cannot be read.
pub async fn read(response: reqwest::Response) -> anyhow::Result<Page> {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await?;
    Ok(Page {
        status,
        headers,
        body,
    })
}
