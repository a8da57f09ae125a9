//! A vendor in a box for the tests: the demo configuration on a frozen clock and seeded
//! randomness, driven in-process with `oneshot`.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::BodyExt as _;
use sha2::{Digest, Sha256};
use ticket_vendor::{ClientRegistration, VendorConfig, VendorState, router};
use tower::ServiceExt as _;
use url::Url;
use wristband_inject::{FixedClock, SeededEntropy};

pub const ISSUER: &str = "http://vendor.test";
pub const REDIRECT_URI: &str = "http://festival.test/auth/vendor/callback";
pub const CLIENT_ID: &str = "festival";
pub const CLIENT_SECRET: &str = "festival-demo-secret";
pub const STATE: &str = "state-from-the-festival";
pub const NONCE: &str = "nonce-from-the-festival";
/// A PKCE verifier: 43 to 128 unreserved characters.
pub const VERIFIER: &str = "the-festivals-pkce-verifier-for-this-login-attempt-0001";
pub const START: u64 = 1_700_000_000;

/// The S256 challenge for `verifier`.
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub struct Vendor {
    pub router: Router,
    pub clock: Arc<FixedClock>,
    pub state: VendorState,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("an ASCII header"))
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// The redirect target without its query.
    pub fn location_base(&self) -> String {
        let mut url = Url::parse(self.header(header::LOCATION).expect("a Location header"))
            .expect("an absolute Location");
        url.set_query(None);
        url.to_string()
    }

    /// The query parameters of the redirect, in order.
    pub fn location_params(&self) -> Vec<(String, String)> {
        let url = Url::parse(self.header(header::LOCATION).expect("a Location header"))
            .expect("an absolute Location");
        url.query_pairs()
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect()
    }

    pub fn location_param(&self, name: &str) -> Option<String> {
        self.location_params()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}

/// Parameter lists as owned pairs, compared in tests.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// A complete, valid authorization request.
pub fn authorization_request() -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".to_owned()),
        ("client_id", CLIENT_ID.to_owned()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
        ("scope", "openid profile ticket".to_owned()),
        ("state", STATE.to_owned()),
        ("nonce", NONCE.to_owned()),
        ("code_challenge", challenge(VERIFIER)),
        ("code_challenge_method", "S256".to_owned()),
    ]
}

/// `request` with `name` set to `value` (`None` removes it).
pub fn with(
    mut request: Vec<(&'static str, String)>,
    name: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    request.retain(|(key, _)| *key != name);
    if let Some(value) = value {
        request.push((name, value.to_owned()));
    }
    request
}

pub fn encode(params: &[(&str, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

pub fn basic(client_id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")))
}

impl Vendor {
    /// The demo vendor, issuer `http://vendor.test`, with the festival's redirect URI.
    pub fn demo() -> Self {
        let issuer = Url::parse(ISSUER).expect("a valid issuer");
        Self::with_config(VendorConfig::demo(issuer, REDIRECT_URI))
    }

    /// The demo vendor with a second client, `other-app` / `other-secret`.
    pub fn with_second_client() -> Self {
        let issuer = Url::parse(ISSUER).expect("a valid issuer");
        let mut config = VendorConfig::demo(issuer, REDIRECT_URI);
        config.clients.push(ClientRegistration::new(
            "other-app",
            "other-secret",
            ["http://other.test/callback"],
        ));
        Self::with_config(config)
    }

    pub fn with_config(config: VendorConfig) -> Self {
        let clock = Arc::new(FixedClock::at(START));
        let state = VendorState::new(config, clock.clone(), Arc::new(SeededEntropy::new(5)))
            .expect("a valid configuration");
        Self {
            router: router(state.clone()),
            clock,
            state,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a readable body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).expect("a UTF-8 body"),
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(
            Request::get(uri)
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await
    }

    pub async fn get_with_bearer(&self, uri: &str, token: &str) -> Reply {
        self.send(
            Request::get(uri)
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await
    }

    pub async fn post_form(
        &self,
        uri: &str,
        body: &[(&str, String)],
        authorization: Option<&str>,
    ) -> Reply {
        let mut request =
            Request::post(uri).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(authorization) = authorization {
            request = request.header(header::AUTHORIZATION, authorization);
        }
        self.send(
            request
                .body(Body::from(encode(body)))
                .expect("a valid request"),
        )
        .await
    }

    /// `GET /authorize` with `params`.
    pub async fn authorize(&self, params: &[(&str, String)]) -> Reply {
        self.get(&format!("/authorize?{}", encode(params))).await
    }

    /// Submits the login form for `params` with a username, password and decision.
    pub async fn log_in(
        &self,
        params: &[(&'static str, String)],
        username: &str,
        password: &str,
        decision: &str,
    ) -> Reply {
        let mut form = params.to_vec();
        form.push(("username", username.to_owned()));
        form.push(("password", password.to_owned()));
        form.push(("decision", decision.to_owned()));
        self.post_form("/authorize", &form, None).await
    }

    /// Logs carol in for the standard request and returns the code.
    pub async fn code(&self) -> String {
        self.code_for(&authorization_request(), "carol", "vendor-green-demo")
            .await
    }

    pub async fn code_for(
        &self,
        params: &[(&'static str, String)],
        username: &str,
        password: &str,
    ) -> String {
        let reply = self.log_in(params, username, password, "approve").await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "the login succeeds: {}",
            reply.body
        );
        reply
            .location_param("code")
            .expect("a code in the redirect")
    }

    /// Redeems `code` as the festival with `client_secret_basic`.
    pub async fn redeem(&self, code: &str, verifier: &str) -> Reply {
        self.post_form(
            "/token",
            &[
                ("grant_type", "authorization_code".to_owned()),
                ("code", code.to_owned()),
                ("redirect_uri", REDIRECT_URI.to_owned()),
                ("code_verifier", verifier.to_owned()),
            ],
            Some(&basic(CLIENT_ID, CLIENT_SECRET)),
        )
        .await
    }
}
