//! Test support: a festival app on a temporary database, and a tiny browser that keeps the
//! session cookie and reads CSRF tokens from pages.
#![allow(dead_code, unreachable_pub, clippy::expect_used, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use festival_app::{App, Config, Inject, build_with};
use http_body_util::BodyExt as _;
use tempfile::TempDir;
use tower::ServiceExt as _;
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_passwords::HashParams;
use wristband_tokens::SigningKey;

/// 2025-07-19 12:00:00 UTC: the festival's Saturday noon.
pub const NOON: u64 = 1_752_926_400;

/// argon2id at a fraction of the production cost: the tests check the flow, not the cost.
pub const FAST_HASHING: HashParams = HashParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// A running festival app with its temporary data folder and fixed clock.
pub struct TestApp {
    pub app: App,
    pub router: Router,
    pub clock: Arc<FixedClock>,
    pub dir: Arc<TempDir>,
}

impl TestApp {
    /// The demo festival: alice (green) and bob (gold) exist, plain-http cookies.
    pub async fn demo() -> Self {
        Self::with(|_| {}).await
    }

    /// The demo festival with changes to its configuration.
    pub async fn with(configure: impl FnOnce(&mut Config)) -> Self {
        let dir = Arc::new(tempfile::tempdir().expect("temporary folder"));
        Self::in_dir(dir, configure).await
    }

    /// A festival on an existing data folder, as after a restart.
    pub async fn in_dir(dir: Arc<TempDir>, configure: impl FnOnce(&mut Config)) -> Self {
        let mut config = test_config(&dir);
        configure(&mut config);
        let clock = Arc::new(FixedClock::at(NOON));
        let app = build_with(
            config,
            Inject {
                clock: clock.clone(),
                entropy: Arc::new(SeededEntropy::new(2025)),
                hash_params: FAST_HASHING,
                signing_key: None,
            },
        )
        .await
        .expect("the app starts");
        let router = app.router();
        Self {
            app,
            router,
            clock,
            dir,
        }
    }

    /// A browser with no cookies yet.
    pub fn browser(&self) -> Browser {
        Browser {
            router: self.router.clone(),
            cookie: None,
        }
    }

    /// A browser logged in as `username`.
    pub async fn logged_in(&self, username: &str, password: &str) -> Browser {
        let mut browser = self.browser();
        let response = browser.log_in(username, password, "").await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        browser
    }
}

/// The demo configuration on `dir`, with cookies allowed over plain http.
pub fn test_config(dir: &TempDir) -> Config {
    let mut config = Config::with_data_dir(dir.path());
    config.demo = true;
    config.insecure_cookies = true;
    config.signing_key_file = Some(key_file(dir));
    config
}

/// Writes a signing key file into `dir` and returns its path.
pub fn key_file(dir: &TempDir) -> PathBuf {
    let path = dir.path().join("test-key.pem");
    let pem = SigningKey::from_seed([9; 32])
        .to_pkcs8_pem()
        .expect("key encodes");
    std::fs::write(&path, pem).expect("key file written");
    path
}

/// A response, read in full.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// A header's value as text (`""` when absent).
    pub fn header(&self, name: impl header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// The body with askama's HTML escapes turned back into characters, for readable asserts.
    pub fn text(&self) -> String {
        self.body
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    }

    /// The `Location` header.
    pub fn location(&self) -> &str {
        self.header(header::LOCATION)
    }

    /// The value of the first `csrf` hidden field on the page.
    pub fn csrf(&self) -> String {
        hidden_field(&self.body, "csrf").expect("the page has a CSRF field")
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }
}

/// The value of the hidden input `name` in `html`.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// Sends one request through the router, with no port and no network.
pub async fn send(router: &Router, request: Request<Body>) -> Page {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body is readable")
        .to_bytes();
    Page {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Just enough browser: one cookie jar slot for the session cookie.
#[derive(Clone)]
pub struct Browser {
    pub router: Router,
    /// The session cookie as `name=value`, if one is set.
    pub cookie: Option<String>,
}

impl Browser {
    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Page {
        let request = self
            .request("GET", path)
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    /// `POST path` with a form body.
    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(fields).expect("form encodes");
        self.post_raw(path, "application/x-www-form-urlencoded", body)
            .await
    }

    /// `POST path` with any body and content type.
    pub async fn post_raw(&mut self, path: &str, content_type: &str, body: String) -> Page {
        let request = self
            .request("POST", path)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("request");
        self.send(request).await
    }

    /// Opens the gate page and logs in with its CSRF token.
    pub async fn log_in(&mut self, username: &str, password: &str, next: &str) -> Page {
        let gate = self.get("/gate").await;
        let csrf = gate.csrf();
        self.post_form(
            "/gate",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
                ("next", next),
            ],
        )
        .await
    }

    /// Buys a ticket through the shop page.
    pub async fn buy(&mut self, username: &str, password: &str, wristband: &str) -> Page {
        let shop = self.get("/tickets").await;
        let csrf = shop.csrf();
        self.post_form(
            "/tickets",
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
                ("wristband", wristband),
            ],
        )
        .await
    }

    fn request(&self, method: &str, path: &str) -> axum::http::request::Builder {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(cookie) = &self.cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        builder
    }

    async fn send(&mut self, request: Request<Body>) -> Page {
        let page = send(&self.router, request).await;
        for set_cookie in page.headers.get_all(header::SET_COOKIE) {
            let text = set_cookie.to_str().expect("ASCII cookie");
            let pair = text.split(';').next().unwrap_or_default().trim();
            if text.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                self.cookie = Some(pair.to_owned());
            }
        }
        page
    }
}
