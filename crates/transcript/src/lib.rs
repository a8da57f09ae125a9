//! Transcripts: HTTP exchanges with an axum [`Router`], written down as readable text.
//!
//! A lesson builds a router, sends it requests in-process with `tower::ServiceExt::oneshot`
//! (no port, no network), and writes each exchange into a [`Transcript`], in the style of
//! `curl -v`: `>` lines for the request, `<` lines for the response. Headings and narration go
//! in between. The transcript is a `String`, so the lesson's `main` prints it and its snapshot
//! test pins it.
//!
//! Everything written is deterministic for deterministic input: request headers print in the
//! order they were set and request bodies exactly as sent; response headers print in a fixed
//! order from a fixed list, and JSON response bodies pretty-printed with their keys sorted. Tokens are printed in full; snapshot tests redact
//! them by name with insta filters.
//!
//! ```
//! use axum::{Json, Router, routing::get};
//! use serde_json::json;
//! use wristband_transcript::{Transcript, request};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let app = Router::new().route("/health", get(|| async { Json(json!({"status": "ok"})) }));
//!
//! let mut transcript = Transcript::new();
//! transcript.heading("Is the festival open?");
//! let exchange = transcript.send(&app, request::get("/health")).await;
//! assert_eq!(exchange.status.as_u16(), 200);
//! assert_eq!(
//!     transcript.as_str(),
//!     "Is the festival open?\n\
//!      ---------------------\n\
//!      \n\
//!      > GET /health HTTP/1.1\n\
//!      \n\
//!      < HTTP/1.1 200 OK\n\
//!      < content-type: application/json\n\
//!      <\n\
//!      < {\n\
//!      <   \"status\": \"ok\"\n\
//!      < }\n"
//! );
//! # });
//! ```
//!
//! For apps with cookie sessions, [`Transcript::with_cookie_jar`] keeps the cookies each
//! response sets and sends them back with the next request, as a browser would.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::{self, HeaderName};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

pub mod request;

/// Response headers shown by default, in the order they are printed.
pub const DEFAULT_RESPONSE_HEADERS: [HeaderName; 8] = [
    header::WWW_AUTHENTICATE,
    header::LOCATION,
    header::SET_COOKIE,
    header::RETRY_AFTER,
    header::ALLOW,
    header::CACHE_CONTROL,
    header::PRAGMA,
    header::CONTENT_TYPE,
];

/// Width narration is wrapped to.
const WRAP_WIDTH: usize = 88;

/// A written record of HTTP exchanges, headings and narration.
#[derive(Debug, Clone)]
pub struct Transcript {
    out: String,
    response_headers: Vec<HeaderName>,
    jar: Option<CookieJar>,
    body_line_limit: Option<usize>,
    last: Block,
}

/// What was written last, to decide the spacing before what comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Nothing,
    Heading,
    Paragraph,
    Line,
    Exchange,
}

impl Default for Transcript {
    fn default() -> Self {
        Self::new()
    }
}

impl Transcript {
    /// An empty transcript showing [`DEFAULT_RESPONSE_HEADERS`], without a cookie jar.
    pub fn new() -> Self {
        Self {
            out: String::new(),
            response_headers: DEFAULT_RESPONSE_HEADERS.to_vec(),
            jar: None,
            body_line_limit: None,
            last: Block::Nothing,
        }
    }

    /// Keeps cookies like a browser: each `Set-Cookie` is stored, and every later request that
    /// has no `Cookie` header of its own is sent with the stored cookies.
    ///
    /// NOTE: the jar serves one in-process app, so it ignores `Domain`, `Path`, `Secure` and
    /// `Expires`; a cookie set with `Max-Age=0` (or negative) is removed, which is how servers
    /// delete cookies.
    pub fn with_cookie_jar(mut self) -> Self {
        self.jar = Some(CookieJar::default());
        self
    }

    /// Also shows response header `name`, after the default ones.
    pub fn show_response_header(mut self, name: HeaderName) -> Self {
        if !self.response_headers.contains(&name) {
            self.response_headers.push(name);
        }
        self
    }

    /// Shows at most `lines` lines of each body, then how many were left out. For HTML pages,
    /// whose full text would drown the exchange.
    pub fn with_body_line_limit(mut self, lines: usize) -> Self {
        self.body_line_limit = Some(lines);
        self
    }

    /// The cookie jar, if [`Transcript::with_cookie_jar`] turned it on.
    pub fn cookies(&self) -> Option<&CookieJar> {
        self.jar.as_ref()
    }

    /// The cookie jar for changes, e.g. to replay an old session cookie after logout.
    pub fn cookies_mut(&mut self) -> Option<&mut CookieJar> {
        self.jar.as_mut()
    }

    /// Starts a section: a blank line (unless at the top), the title, and a rule under it.
    pub fn heading(&mut self, title: &str) {
        if !self.out.is_empty() {
            self.ensure_blank_line();
        }
        self.out.push_str(title);
        self.out.push('\n');
        self.out.push_str(&"-".repeat(title.chars().count()));
        self.out.push('\n');
        self.last = Block::Heading;
    }

    /// A paragraph of narration, wrapped to 88 columns and set off by a blank line from
    /// whatever came before, except a heading.
    pub fn say(&mut self, text: &str) {
        if matches!(self.last, Block::Paragraph | Block::Line | Block::Exchange) {
            self.ensure_blank_line();
        }
        for line in wrap(text, WRAP_WIDTH) {
            self.out.push_str(&line);
            self.out.push('\n');
        }
        self.last = Block::Paragraph;
    }

    /// One line exactly as given, for tables and values that must not be re-wrapped.
    /// Consecutive lines stay together; the first after a paragraph or an exchange is set off
    /// by a blank line.
    pub fn line(&mut self, text: &str) {
        if matches!(self.last, Block::Paragraph | Block::Exchange) {
            self.ensure_blank_line();
        }
        self.out.push_str(text);
        self.out.push('\n');
        self.last = Block::Line;
    }

    /// Sends `request` to `router`, writes the exchange down, and returns the response.
    ///
    /// With a cookie jar, the stored cookies are added first (so the written request shows
    /// them) and the response's cookies are stored after.
    pub async fn send(&mut self, router: &Router, request: Request<Body>) -> Exchange {
        let (mut parts, body) = request.into_parts();
        let request_body = collect(body).await;
        if let Some(jar) = &self.jar
            && !parts.headers.contains_key(header::COOKIE)
            && let Some(cookie) = jar.header_value()
        {
            parts.headers.insert(header::COOKIE, cookie);
        }

        self.ensure_blank_line();
        let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
        let _ = writeln!(self.out, "> {} {path} HTTP/1.1", parts.method);
        for (name, value) in &parts.headers {
            let _ = writeln!(self.out, "> {name}: {}", show_value(value));
        }
        if !request_body.is_empty() {
            // Shown as sent: reformatting would hide what actually went over the wire.
            self.out.push_str(">\n");
            self.write_body(">", None, &request_body);
        }

        let request = Request::from_parts(parts, Body::from(request_body));
        let response = match router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(infallible) => match infallible {},
        };
        let (parts, body) = response.into_parts();
        let body = collect(body).await;

        self.out.push('\n');
        let reason = parts.status.canonical_reason().unwrap_or("");
        let _ = writeln!(self.out, "< HTTP/1.1 {} {reason}", parts.status.as_str());
        for name in &self.response_headers {
            for value in parts.headers.get_all(name) {
                let _ = writeln!(self.out, "< {name}: {}", show_value(value));
            }
        }
        if !body.is_empty() {
            self.out.push_str("<\n");
            self.write_body("<", parts.headers.get(header::CONTENT_TYPE), &body);
        }
        self.last = Block::Exchange;

        if let Some(jar) = &mut self.jar {
            for value in parts.headers.get_all(header::SET_COOKIE) {
                if let Ok(value) = value.to_str() {
                    jar.store(value);
                }
            }
        }
        Exchange {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// The finished text.
    pub fn into_string(self) -> String {
        self.out
    }

    fn write_body(&mut self, marker: &str, content_type: Option<&HeaderValue>, body: &[u8]) {
        let essence = content_type
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(|essence| essence.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let is_json = essence == "application/json" || essence.ends_with("+json");
        let text = match std::str::from_utf8(body) {
            Ok(text) if is_json => match serde_json::from_slice::<Value>(body) {
                Ok(value) => {
                    let mut pretty = String::new();
                    write_json(&mut pretty, &value, 0);
                    Cow::Owned(pretty)
                }
                Err(_) => Cow::Borrowed(text),
            },
            Ok(text) => Cow::Borrowed(text),
            Err(_) => Cow::Owned(format!("[{} bytes of binary data]", body.len())),
        };
        let lines: Vec<&str> = text.lines().collect();
        let shown = self.body_line_limit.unwrap_or(usize::MAX).min(lines.len());
        for line in &lines[..shown] {
            if line.is_empty() {
                let _ = writeln!(self.out, "{marker}");
            } else {
                let _ = writeln!(self.out, "{marker} {line}");
            }
        }
        if shown < lines.len() {
            let _ = writeln!(self.out, "{marker} [{} more lines]", lines.len() - shown);
        }
    }

    fn ensure_blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            if !self.out.ends_with('\n') {
                self.out.push('\n');
            }
            self.out.push('\n');
        }
    }
}

/// A response as the lesson sees it after the transcript wrote it down.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The response status.
    pub status: StatusCode,
    /// Every response header, shown or not.
    pub headers: HeaderMap,
    /// The whole response body.
    pub body: Bytes,
}

impl Exchange {
    /// The body parsed as JSON, or `None` if it is not JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The string at `key` of a JSON object body, e.g. `access_token`.
    pub fn json_str(&self, key: &str) -> Option<String> {
        self.json()?.get(key)?.as_str().map(str::to_owned)
    }

    /// The body as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The first value of header `name`, if it is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }
}

/// Cookies kept between requests, by name, sent back in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar {
    cookies: BTreeMap<String, String>,
}

impl CookieJar {
    /// The value of cookie `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Sets cookie `name` by hand, e.g. to replay a stolen or stale one.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.cookies.insert(name.into(), value.into());
    }

    /// Forgets cookie `name`.
    pub fn remove(&mut self, name: &str) {
        self.cookies.remove(name);
    }

    /// Whether the jar is empty.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// The `Cookie` header for the next request, or `None` if the jar is empty.
    pub fn header_value(&self) -> Option<HeaderValue> {
        if self.cookies.is_empty() {
            return None;
        }
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        HeaderValue::from_str(&pairs.join("; ")).ok()
    }

    /// Applies one `Set-Cookie` header value.
    pub fn store(&mut self, set_cookie: &str) {
        let mut fields = set_cookie.split(';');
        let Some((name, value)) = fields.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            return;
        }
        let expired = fields.any(|attribute| {
            attribute.split_once('=').is_some_and(|(key, age)| {
                key.trim().eq_ignore_ascii_case("max-age")
                    && age.trim().parse::<i64>().is_ok_and(|age| age <= 0)
            })
        });
        if expired {
            self.cookies.remove(name);
        } else {
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
    }
}

async fn collect(body: Body) -> Bytes {
    // An in-process body only fails if a handler's stream fails; show what arrived.
    body.collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default()
}

fn show_value(value: &HeaderValue) -> Cow<'_, str> {
    match value.to_str() {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    }
}

/// Pretty-prints `value` with two-space indentation and object keys sorted, whatever order the
/// `serde_json` build keeps them in.
fn write_json(out: &mut String, value: &Value, indent: usize) {
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push_str("{\n");
            for (index, (key, value)) in entries.iter().enumerate() {
                out.push_str(&pad);
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push_str(": ");
                write_json(out, value, indent + 1);
                if index + 1 < entries.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&close);
            out.push('}');
        }
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (index, item) in items.iter().enumerate() {
                out.push_str(&pad);
                write_json(out, item, indent + 1);
                if index + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&close);
            out.push(']');
        }
        scalar_or_empty => out.push_str(&scalar_or_empty.to_string()),
    }
}

/// Greedy word wrap; a word longer than `width` gets a line of its own.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_keys_are_sorted_at_every_level() {
        let mut out = String::new();
        write_json(
            &mut out,
            &json!({"b": 1, "a": {"z": [1, {"y": true, "x": null}], "c": {}}, "e": []}),
            0,
        );
        assert_eq!(
            out,
            "{\n  \"a\": {\n    \"c\": {},\n    \"z\": [\n      1,\n      {\n        \"x\": null,\n        \"y\": true\n      }\n    ]\n  },\n  \"b\": 1,\n  \"e\": []\n}"
        );
    }

    #[test]
    fn narration_wraps_at_word_boundaries() {
        let words = "word ".repeat(30);
        let lines = wrap(&words, 20);
        assert!(lines.iter().all(|line| line.len() <= 20));
        assert_eq!(lines.concat().replace(' ', ""), "word".repeat(30));
    }

    #[test]
    fn a_cookie_set_with_max_age_zero_is_removed() {
        let mut jar = CookieJar::default();
        jar.store("id=abc; Path=/; HttpOnly; SameSite=Lax");
        jar.store("csrf=xyz");
        assert_eq!(
            jar.header_value(),
            Some(HeaderValue::from_static("csrf=xyz; id=abc"))
        );
        jar.store("id=; Max-Age=0; Path=/");
        assert_eq!(jar.get("id"), None);
        assert_eq!(jar.get("csrf"), Some("xyz"));
    }

    #[test]
    fn a_set_cookie_without_a_name_is_ignored() {
        let mut jar = CookieJar::default();
        jar.store("=abc");
        jar.store("garbage");
        assert!(jar.is_empty());
    }
}
