//! The web pages, request by request: what a visitor sees, and what a forged or malformed
//! request gets instead.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Page, TestApp, send};

fn assert_html(page: &Page) {
    assert_eq!(
        page.header(header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
}

#[tokio::test]
async fn the_line_up_is_public_and_sets_no_cookie() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_html(&page);
    for stage in ["/stages/main", "/stages/forest", "/stages/harbour"] {
        assert!(page.body.contains(stage), "the line-up links {stage}");
    }
    assert!(page.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy_and_no_store() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/").await;
    assert_eq!(
        page.header(header::CONTENT_SECURITY_POLICY),
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    );
    assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
    assert_eq!(page.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert_eq!(page.header("x-frame-options"), "DENY");
}

#[tokio::test]
async fn the_stylesheet_and_icon_are_served_by_the_app_itself() {
    let festival = TestApp::demo().await;
    let mut browser = festival.browser();
    let css = browser.get("/static/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header(header::CONTENT_TYPE), "text/css; charset=utf-8");
    assert!(css.body.contains(".wristband-gold"));
    assert!(!css.body.contains("http"), "no external resources");
    let icon = browser.get("/static/favicon.svg").await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.header(header::CONTENT_TYPE), "image/svg+xml");
}

#[tokio::test]
async fn every_gated_page_redirects_a_stranger_to_the_gate_with_next() {
    let festival = TestApp::demo().await;
    for (path, location) in [
        ("/wristband", "/gate?next=%2Fwristband"),
        ("/food", "/gate?next=%2Ffood"),
        ("/backstage", "/gate?next=%2Fbackstage"),
        ("/stages/main", "/gate?next=%2Fstages%2Fmain"),
    ] {
        let page = festival.browser().get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), location, "{path}");
    }
}

#[tokio::test]
async fn the_gate_starts_a_session_with_a_hardened_cookie() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/gate").await;
    assert_eq!(page.status, StatusCode::OK);
    let cookie = page.header(header::SET_COOKIE);
    assert!(cookie.starts_with("wristband="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1800"] {
        assert!(cookie.contains(attribute), "{cookie} has {attribute}");
    }
    assert!(!cookie.contains("Secure"), "plain-http run: {cookie}");
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_with_the_host_prefix() {
    let festival = TestApp::with(|config| {
        config.public_url = Some("https://festival.example".to_owned());
        config.insecure_cookies = false;
    })
    .await;
    let page = festival.browser().get("/gate").await;
    let cookie = page.header(header::SET_COOKIE);
    assert!(cookie.starts_with("__Host-wristband="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert_eq!(
        page.header(header::STRICT_TRANSPORT_SECURITY),
        "max-age=31536000"
    );
}

#[tokio::test]
async fn over_plain_http_no_transport_security_is_promised() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/gate").await;
    assert!(
        page.headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_none()
    );
}

#[tokio::test]
async fn the_demo_gate_shows_the_demo_logins_and_the_vendor_button() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/gate").await;
    assert!(page.body.contains("green-wristband-demo"));
    assert!(page.body.contains("gold-wristband-demo"));
    assert!(
        page.body
            .contains(r#"<form method="post" action="/auth/vendor/start">"#)
    );
    assert_eq!(
        page.body.matches(r#"name="csrf""#).count(),
        2,
        "both forms carry the token"
    );
}

#[tokio::test]
async fn outside_demo_mode_without_a_vendor_the_gate_has_no_vendor_button() {
    let festival = TestApp::with(|config| config.demo = false).await;
    let page = festival.browser().get("/gate").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("/auth/vendor/start"));
    assert!(!page.body.contains("green-wristband-demo"));
}

#[tokio::test]
async fn logging_in_rotates_the_session_id_and_shows_the_wristband() {
    let festival = TestApp::demo().await;
    let mut browser = festival.browser();
    browser.get("/gate").await;
    let before = browser.cookie.clone().expect("a session before login");
    let response = browser.log_in("alice", "green-wristband-demo", "").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), "/wristband");
    let after = browser.cookie.clone().expect("a session after login");
    assert_ne!(before, after, "a new session id at login");

    // The id from before login opens nothing.
    let mut fixated = festival.browser();
    fixated.cookie = Some(before);
    assert_eq!(
        fixated.get("/wristband").await.status,
        StatusCode::SEE_OTHER
    );

    let page = browser.get("/wristband").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("wristband wristband-green"));
    let text = page.text();
    assert!(text.contains(r#""sub": "alice""#), "claims shown");
    assert!(text.contains(r#""typ": "at+jwt""#), "header shown");
    assert!(
        page.body.contains("2025-07-19 12:15:00 UTC"),
        "expiry in UTC"
    );
    assert!(page.body.contains("(in 15 min)"), "expiry relative to now");
    assert!(page.body.contains("verdict-valid"));
}

#[tokio::test]
async fn the_inspector_says_when_the_token_has_expired_while_the_session_lives_on() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("bob", "gold-wristband-demo").await;
    festival.clock.advance(20 * 60);
    let page = browser.get("/wristband").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("wristband wristband-gold"));
    assert!(page.body.contains("verdict-expired"));
    assert!(page.body.contains("(5 min ago)"));
}

#[tokio::test]
async fn a_session_ends_after_its_absolute_timeout_however_active() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    festival.clock.advance(12 * 3600);
    assert_eq!(browser.get("/food").await.status, StatusCode::OK);
    festival.clock.advance(1);
    let page = browser.get("/food").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/gate?next=%2Ffood");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let festival = TestApp::demo().await;
    let wrong = festival
        .browser()
        .log_in("alice", "not-her-password", "")
        .await;
    let unknown = festival
        .browser()
        .log_in("nobody", "not-her-password", "")
        .await;
    for page in [&wrong, &unknown] {
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.body.contains("Wrong username or password."));
    }
}

#[tokio::test]
async fn wrong_passwords_at_the_gate_and_at_the_token_endpoint_share_one_budget() {
    let festival = TestApp::with(|config| {
        config.login_max_failures = 3;
        config.login_failure_window_minutes = 10;
    })
    .await;
    festival
        .browser()
        .log_in("alice", "not-her-password", "")
        .await;
    festival.browser().log_in("alice", "still-not-it", "").await;
    let api = send(
        &festival.router,
        Request::post("/token")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(
                "grant_type=password&username=alice&password=a-third-guess",
            ))
            .unwrap(),
    )
    .await;
    assert_eq!(api.status, StatusCode::BAD_REQUEST);

    // Three failures: now even the right password waits, at either door.
    let page = festival
        .browser()
        .log_in("alice", "green-wristband-demo", "")
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(page.header(header::RETRY_AFTER), "600");
    assert!(
        page.body
            .contains("Too many wrong passwords for this username")
    );
    assert!(page.body.contains("in 10 minutes"));

    // Bob was never guessed at; alice gets in once the failures are old enough.
    let bob = festival
        .browser()
        .log_in("bob", "gold-wristband-demo", "")
        .await;
    assert_eq!(bob.status, StatusCode::SEE_OTHER);
    festival.clock.advance(600);
    let page = festival
        .browser()
        .log_in("alice", "green-wristband-demo", "")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_login_form_without_a_csrf_token_is_refused() {
    let festival = TestApp::demo().await;
    let mut browser = festival.browser();
    browser.get("/gate").await;
    let page = browser
        .post_form(
            "/gate",
            &[("username", "alice"), ("password", "green-wristband-demo")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("This form has expired"));
    assert_eq!(
        browser.get("/wristband").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_login_form_with_another_sessions_csrf_token_is_refused() {
    let festival = TestApp::demo().await;
    let attacker_token = festival.browser().get("/gate").await.csrf();
    let mut victim = festival.browser();
    victim.get("/gate").await;
    let page = victim
        .post_form(
            "/gate",
            &[
                ("csrf", &attacker_token),
                ("username", "alice"),
                ("password", "green-wristband-demo"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_form_posted_without_any_session_is_refused() {
    let festival = TestApp::demo().await;
    let page = festival
        .browser()
        .post_form("/gate", &[("csrf", "guess"), ("username", "alice")])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn login_returns_to_a_local_next_path() {
    let festival = TestApp::demo().await;
    let page = festival
        .browser()
        .log_in("bob", "gold-wristband-demo", "/backstage")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/backstage");
}

#[tokio::test]
async fn an_evil_next_is_ignored() {
    let festival = TestApp::demo().await;
    for evil in ["//evil.example", "/\\evil.example", "https://evil.example/"] {
        let page = festival
            .browser()
            .log_in("alice", "green-wristband-demo", evil)
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), "/wristband", "{evil}");
    }
    let gate = festival
        .browser()
        .get("/gate?next=%2F%2Fevil.example")
        .await;
    assert_eq!(
        common::hidden_field(&gate.body, "next").as_deref(),
        Some("/wristband")
    );
}

#[tokio::test]
async fn a_logged_in_visitor_at_the_gate_goes_straight_on() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    let page = browser.get("/gate?next=%2Ffood").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/food");
}

#[tokio::test]
async fn any_wristband_opens_the_stages_and_food_tents() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    for path in ["/stages/main", "/stages/forest", "/stages/harbour", "/food"] {
        let page = browser.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.body.contains("checked"), "{path}");
        assert!(
            page.body.contains("alice"),
            "the nav shows who is logged in"
        );
    }
}

#[tokio::test]
async fn an_unknown_stage_is_a_404_page() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    let page = browser.get("/stages/moon").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_html(&page);
}

#[tokio::test]
async fn a_green_wristband_at_backstage_gets_a_friendly_403_page() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    let page = browser.get("/backstage").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_html(&page);
    assert!(page.body.contains("Gold wristbands only"));
    assert!(page.body.contains("alice"), "still logged in, nav shown");
}

#[tokio::test]
async fn a_gold_wristband_goes_backstage() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("bob", "gold-wristband-demo").await;
    let page = browser.get("/backstage").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Come on through, bob."));
}

#[tokio::test]
async fn logout_destroys_the_session_so_the_old_cookie_opens_nothing() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    let page = browser.get("/wristband").await;
    let old_cookie = browser.cookie.clone().expect("session cookie");

    let response = browser
        .post_form("/logout", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), "/");
    assert!(response.header(header::SET_COOKIE).contains("Max-Age=0"));

    let mut replay = festival.browser();
    replay.cookie = Some(old_cookie);
    let page = replay.get("/wristband").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/gate?next=%2Fwristband");
}

#[tokio::test]
async fn over_https_the_logout_removal_cookie_is_one_the_browser_will_accept() {
    let festival = TestApp::with(|config| {
        config.public_url = Some("https://festival.example".to_owned());
        config.insecure_cookies = false;
        config.demo = true;
    })
    .await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    let page = browser.get("/wristband").await;
    let response = browser
        .post_form("/logout", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let removal = response.header(header::SET_COOKIE);
    // A `__Host-` cookie without `Secure` is ignored by browsers, removals included.
    assert!(removal.starts_with("__Host-wristband=;"), "{removal}");
    for attribute in ["Max-Age=0", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(removal.contains(attribute), "{removal} has {attribute}");
    }
}

#[tokio::test]
async fn logout_without_the_csrf_token_is_refused_and_keeps_the_session() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    let page = browser.post_form("/logout", &[]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/wristband").await.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_by_get_is_not_allowed() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/logout").await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(page.header(header::ALLOW), "POST");
    assert_html(&page);
}

#[tokio::test]
async fn a_form_with_a_missing_field_is_a_400_page() {
    let festival = TestApp::demo().await;
    let mut browser = festival.browser();
    let csrf = browser.get("/gate").await.csrf();
    let page = browser
        .post_form("/gate", &[("csrf", &csrf), ("username", "alice")])
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_html(&page);
    assert!(page.body.contains("That request did not make sense"));
}

#[tokio::test]
async fn a_form_sent_as_another_content_type_is_a_400_page() {
    let festival = TestApp::demo().await;
    let mut browser = festival.browser();
    let csrf = browser.get("/gate").await.csrf();
    let body = format!("csrf={csrf}&username=alice&password=green-wristband-demo");
    let page = browser.post_raw("/gate", "text/plain", body).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_oversized_form_is_a_413_page() {
    let festival = TestApp::demo().await;
    let mut browser = festival.browser();
    let csrf = browser.get("/gate").await.csrf();
    let body = format!(
        "csrf={csrf}&username=alice&password={}",
        "x".repeat(festival_app::BODY_LIMIT_BYTES)
    );
    let page = browser
        .post_raw("/gate", "application/x-www-form-urlencoded", body)
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_html(&page);
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/no/such/page").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_html(&page);
    assert!(page.body.contains("Nothing here"));
    assert_page_headers(&page);
}

#[tokio::test]
async fn a_wrong_method_on_a_page_is_a_405_page_with_the_page_headers() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/logout").await;
    assert_eq!(page.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_html(&page);
    assert_page_headers(&page);
}

/// Error pages from the app-wide fallbacks carry the same policy as every other page.
fn assert_page_headers(page: &Page) {
    assert_eq!(
        page.header(header::CONTENT_SECURITY_POLICY),
        "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'"
    );
    assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
}

#[tokio::test]
async fn an_unknown_api_route_is_a_json_404() {
    let festival = TestApp::demo().await;
    let page = festival.browser().get("/api/no-such-thing").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert_eq!(page.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(page.json()["error"], "not_found");
}
