//! Writing exchanges as readable text: one parameter per line, JSON pretty-printed, HTML pages
//! reduced to their title, passwords masked. Lesson 08 reuses it.

use std::fmt::Write as _;

use serde_json::Value;

use crate::world::{Exchange, Message, Visit};

/// A section heading, underlined.
pub fn heading(out: &mut String, title: &str) {
    let _ = write!(out, "\n{title}\n{}\n", "-".repeat(title.chars().count()));
}

/// One line of prose.
pub fn line(out: &mut String, text: &str) {
    let _ = writeln!(out, "{text}");
}

/// Several lines of prose.
pub fn lines(out: &mut String, text: &[&str]) {
    for text in text {
        line(out, text);
    }
}

/// A browser's visit: its request, what the festival did on the back channel meanwhile, what
/// the festival logged, and the answer.
pub fn visit(out: &mut String, visit: &Visit) {
    request(out, &visit.exchange, "  ");
    for back in &visit.back_channel {
        line(out, "      | meanwhile, on the back channel:");
        request(out, back, "      | ");
        response(out, back, "      | ");
    }
    for entry in &visit.festival_log {
        line(out, &format!("      | festival log: {entry}"));
    }
    response(out, &visit.exchange, "  ");
}

/// A back-channel exchange on its own.
pub fn exchange(out: &mut String, exchange: &Exchange) {
    request(out, exchange, "  ");
    response(out, exchange, "  ");
}

fn request(out: &mut String, exchange: &Exchange, indent: &str) {
    line(
        out,
        &format!("{indent}{} -> {}", exchange.from, exchange.to),
    );
    message(out, &exchange.request, &format!("{indent}    "));
}

fn response(out: &mut String, exchange: &Exchange, indent: &str) {
    line(
        out,
        &format!("{indent}{} -> {}", exchange.to, exchange.from),
    );
    message(out, &exchange.response, &format!("{indent}    "));
}

fn message(out: &mut String, message: &Message, indent: &str) {
    url_lines(out, &message.start_line, indent, "");
    for (name, value) in &message.headers {
        if name == "Location" {
            url_lines(out, value, indent, "Location: ");
        } else {
            line(out, &format!("{indent}{name}: {value}"));
        }
    }
    body(out, message, indent);
}

/// A URL on its own, its query spread one parameter per line.
pub fn url(out: &mut String, url: &str, indent: &str) {
    url_lines(out, url, indent, "");
}

/// A URL (or a request line) with its query spread one parameter per line.
fn url_lines(out: &mut String, text: &str, indent: &str, prefix: &str) {
    match text.split_once('?') {
        None => line(out, &format!("{indent}{prefix}{text}")),
        Some((path, query)) => {
            line(out, &format!("{indent}{prefix}{path}"));
            for (index, pair) in query.split('&').enumerate() {
                let separator = if index == 0 { '?' } else { '&' };
                line(out, &format!("{indent}    {separator}{pair}"));
            }
        }
    }
}

fn body(out: &mut String, message: &Message, indent: &str) {
    if message.body.is_empty() {
        return;
    }
    let text = String::from_utf8_lossy(&message.body);
    let content_type = message
        .headers
        .iter()
        .find(|(name, _)| name == "Content-Type")
        .map(|(_, value)| value.as_str())
        .unwrap_or("");
    if let Ok(json) = serde_json::from_str::<Value>(&text) {
        let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
        for json_line in pretty.lines() {
            line(out, &format!("{indent}{json_line}"));
        }
    } else if content_type.starts_with("text/html") {
        line(
            out,
            &format!("{indent}(an HTML page: \"{}\")", html_title(&text)),
        );
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        line(out, &format!("{indent}(form)"));
        for pair in text.split('&') {
            let shown = match pair.split_once('=') {
                Some(("password", _)) => "password=********".to_owned(),
                _ => pair.to_owned(),
            };
            line(out, &format!("{indent}  {shown}"));
        }
    } else {
        for text_line in text.lines() {
            line(out, &format!("{indent}{text_line}"));
        }
    }
}

/// The text of the first `<h1>`, or of `<title>`.
fn html_title(html: &str) -> String {
    for tag in ["h1", "title"] {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        if let Some(start) = html.find(&open)
            && let Some(length) = html[start + open.len()..].find(&close)
        {
            return html[start + open.len()..start + open.len() + length]
                .trim()
                .to_owned();
        }
    }
    "untitled".to_owned()
}

/// The query parameter `name` of `url`, if present.
pub fn query_parameter(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|url| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    })
}
