//! "Log in with the ticket vendor" through the routers, with no port: the festival's router and
//! the real `ticket-vendor` router in one process, the festival's back channel handed to the
//! vendor's router in memory, and a browser hopping between the two.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::IntoResponse as _;
use common::{Browser, FAST_HASHING, NOON, Page, send, test_config};
use festival_app::{Config, Inject, StartupError, build_with};
use ticket_vendor::{VendorConfig, VendorState};
use url::Url;
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_oidc::ServiceTransport;
use wristband_tokens::Wristband;

/// The demo vendor's issuer, and the festival's callback as the vendor registers it.
const ISSUER: &str = "http://127.0.0.1:8081";
const CALLBACK: &str = "http://127.0.0.1:8080/auth/vendor/callback";
/// Carol's subject at the demo vendor.
const CAROL_SUB: &str = "tv-5b0c8f1e-2d4a-4f6b-9c3e-7a1d2e3f4a5b";

struct World {
    festival: Browser,
    vendor: Router,
    app: festival_app::App,
    _dir: tempfile::TempDir,
}

/// A demo festival whose vendor login talks to an in-process demo vendor.
async fn world(configure: impl FnOnce(&mut Config)) -> World {
    world_with_back_channel(configure, |vendor| vendor).await
}

/// As [`world`], with the festival's back channel to the vendor (discovery, keys, the code
/// exchange) passed through `back_channel`, for provider failures. The browser still sees the
/// vendor as it is.
async fn world_with_back_channel(
    configure: impl FnOnce(&mut Config),
    back_channel: impl FnOnce(Router) -> Router,
) -> World {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut config = test_config(&dir);
    configure(&mut config);
    let clock = Arc::new(FixedClock::at(NOON));
    let vendor_state = VendorState::new(
        VendorConfig::demo(Url::parse(ISSUER).expect("a URL"), CALLBACK),
        clock.clone(),
        Arc::new(SeededEntropy::new(11)),
    )
    .expect("the demo vendor configuration is valid");
    let vendor = ticket_vendor::router(vendor_state);
    let app = build_with(
        config,
        Inject {
            clock,
            entropy: Arc::new(SeededEntropy::new(12)),
            hash_params: FAST_HASHING,
            signing_key: None,
        },
    )
    .await
    .expect("the app starts")
    .with_vendor_transport(Arc::new(ServiceTransport::<Router, Body>::new(
        back_channel(vendor.clone()),
    )));
    let router = app.router();
    World {
        festival: Browser {
            router,
            cookie: None,
        },
        vendor,
        app,
        _dir: dir,
    }
}

/// `path?query` of an absolute URL, for a router that sees only paths.
fn target(url: &str) -> String {
    let url = Url::parse(url).expect("an absolute URL");
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

impl World {
    /// Clicks the gate's vendor button; returns the vendor URL the festival redirects to.
    async fn start(&mut self) -> String {
        let gate = self.festival.get("/gate").await;
        assert!(gate.body.contains("action=\"/auth/vendor/start\""));
        let csrf = gate.csrf();
        let started = self
            .festival
            .post_form("/auth/vendor/start", &[("csrf", &csrf)])
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        started.location().to_owned()
    }

    /// The vendor's login form, submitted for `username`: returns the callback URL.
    async fn log_in_at_vendor(
        &self,
        authorization_url: &str,
        username: &str,
        password: &str,
    ) -> String {
        let mut form: Vec<(String, String)> = Url::parse(authorization_url)
            .expect("a URL")
            .query_pairs()
            .into_owned()
            .collect();
        form.extend([
            ("username".to_owned(), username.to_owned()),
            ("password".to_owned(), password.to_owned()),
            ("decision".to_owned(), "approve".to_owned()),
        ]);
        let request = Request::post("/authorize")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                serde_urlencoded::to_string(&form).expect("a form"),
            ))
            .expect("a request");
        let answer = send(&self.vendor, request).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        answer.location().to_owned()
    }

    /// A whole login as `username`: returns the festival's answer to the callback.
    async fn log_in(&mut self, username: &str, password: &str) -> Page {
        let authorization_url = self.start().await;
        assert!(authorization_url.starts_with(&format!("{ISSUER}/authorize?")));
        let callback = self
            .log_in_at_vendor(&authorization_url, username, password)
            .await;
        assert!(callback.starts_with(CALLBACK), "{callback}");
        self.festival.get(&target(&callback)).await
    }
}

#[tokio::test]
async fn a_first_vendor_login_creates_an_account_linked_by_issuer_and_subject() {
    let mut world = world(|_| {}).await;
    let before = world.festival.cookie.clone();

    let answer = world.log_in("carol", "vendor-green-demo").await;

    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/wristband");
    assert_ne!(world.festival.cookie, before, "the session id is rotated");
    let wristband = world.festival.get("/wristband").await;
    assert_eq!(wristband.status, StatusCode::OK);
    assert!(wristband.body.contains("carol"));
    let linked = world
        .app
        .state()
        .store
        .find_external_user(ISSUER, CAROL_SUB)
        .await
        .expect("the query runs")
        .expect("the identity is linked");
    assert_eq!(linked.username, "carol");
    assert_eq!(linked.wristband, Wristband::Green);
    assert!(
        linked.password_hash.is_none(),
        "a vendor account has no festival password"
    );
}

#[tokio::test]
async fn a_festival_account_with_the_same_name_is_never_taken_over() {
    let mut world = world(|_| {}).await;
    world
        .app
        .state()
        .store
        .create_user("carol", None, Wristband::Gold, NOON)
        .await
        .expect("a festival account named carol");

    let answer = world.log_in("carol", "vendor-green-demo").await;

    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let linked = world
        .app
        .state()
        .store
        .find_external_user(ISSUER, CAROL_SUB)
        .await
        .expect("the query runs")
        .expect("the identity is linked");
    assert_eq!(
        linked.username, "carol-2",
        "a new account, not the existing carol"
    );
    assert_eq!(
        linked.wristband,
        Wristband::Green,
        "the vendor's ticket, not carol's gold"
    );
}

#[tokio::test]
async fn a_callback_with_no_login_in_progress_is_refused_at_the_gate() {
    let mut world = world(|_| {}).await;
    let answer = world
        .festival
        .get("/auth/vendor/callback?code=stolen&state=guessed&iss=http%3A%2F%2F127.0.0.1%3A8081")
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.text().contains("already been used or has expired"));
    let wristband = world.festival.get("/wristband").await;
    assert_eq!(wristband.status, StatusCode::SEE_OTHER, "not logged in");
}

#[tokio::test]
async fn a_malformed_callback_is_refused_at_the_gate_and_spends_the_login() {
    let mut world = world(|_| {}).await;
    let _authorization_url = world.start().await;
    let answer = world
        .festival
        .get("/auth/vendor/callback?state=a&state=b")
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(
        answer
            .text()
            .contains("That login response was incomplete, so it was refused.")
    );
}

#[tokio::test]
async fn a_provider_failure_at_the_code_exchange_ends_at_the_gate_and_spends_the_login() {
    let down = Arc::new(AtomicBool::new(false));
    let switch = down.clone();
    let mut world = world_with_back_channel(
        |_| {},
        move |vendor| {
            vendor.layer(middleware::from_fn(
                move |request: Request<Body>, next: Next| {
                    let down = switch.load(Ordering::SeqCst) && request.uri().path() == "/token";
                    async move {
                        if down {
                            StatusCode::SERVICE_UNAVAILABLE.into_response()
                        } else {
                            next.run(request).await
                        }
                    }
                },
            ))
        },
    )
    .await;
    let authorization_url = world.start().await;
    let callback = world
        .log_in_at_vendor(&authorization_url, "carol", "vendor-green-demo")
        .await;

    down.store(true, Ordering::SeqCst);
    let answer = world.festival.get(&target(&callback)).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert!(answer.body.contains("action=\"/gate\""), "the gate page");
    let wristband = world.festival.get("/wristband").await;
    assert_eq!(wristband.status, StatusCode::SEE_OTHER, "not logged in");

    // The provider is back and the code was never spent there, but the festival's half of
    // the login is gone: the same callback cannot be tried twice.
    down.store(false, Ordering::SeqCst);
    let replay = world.festival.get(&target(&callback)).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{}", replay.body);
    assert!(replay.text().contains("already been used or has expired"));
    let wristband = world.festival.get("/wristband").await;
    assert_eq!(
        wristband.status,
        StatusCode::SEE_OTHER,
        "still not logged in"
    );
}

#[tokio::test]
async fn the_start_needs_the_gates_csrf_token() {
    let mut world = world(|_| {}).await;
    let _ = world.festival.get("/gate").await;
    let forged = world
        .festival
        .post_form("/auth/vendor/start", &[("csrf", "guessed")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(forged.location(), "");
}

#[tokio::test]
async fn without_a_configured_vendor_the_routes_do_not_exist() {
    let mut world = world(|config| config.demo = false).await;
    let gate = world.festival.get("/gate").await;
    assert!(!gate.body.contains("/auth/vendor/start"));
    let csrf = gate.csrf();
    let start = world
        .festival
        .post_form("/auth/vendor/start", &[("csrf", &csrf)])
        .await;
    assert_eq!(start.status, StatusCode::NOT_FOUND);
    let callback = world.festival.get("/auth/vendor/callback?code=x").await;
    assert_eq!(callback.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_issuer_without_a_client_secret_outside_demo_mode_stops_the_start() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut config = test_config(&dir);
    config.demo = false;
    config.vendor_issuer = Some("https://vendor.example".to_owned());
    let result = build_with(config, Inject::system()).await;
    assert!(matches!(result, Err(StartupError::VendorLogin(_))));
}

#[tokio::test]
async fn a_plain_http_issuer_on_the_network_stops_the_start() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut config = test_config(&dir);
    config.vendor_issuer = Some("http://vendor.example".to_owned());
    let result = build_with(config, Inject::system()).await;
    let Err(StartupError::VendorLogin(message)) = result else {
        panic!("an http issuer off loopback must be refused");
    };
    assert!(message.contains("https"), "{message}");
}
