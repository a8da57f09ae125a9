//! The JSON API and its documentation, mounted in the festival app over the app's database.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Page, TestApp, send};
use serde_json::{Value, json};
use wristband_tokens::Wristband;

async fn get(festival: &TestApp, path: &str, token: Option<&str>) -> Page {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    send(&festival.router, request.body(Body::empty()).unwrap()).await
}

async fn token_response(festival: &TestApp, username: &str, password: &str) -> Page {
    let body = serde_urlencoded::to_string([
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ])
    .unwrap();
    let request = Request::post("/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    send(&festival.router, request).await
}

async fn token(festival: &TestApp, username: &str, password: &str) -> String {
    let page = token_response(festival, username, password).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn health_is_open() {
    let festival = TestApp::demo().await;
    let page = get(&festival, "/health", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json(), json!({ "status": "ok" }));
    assert!(
        page.headers.get(header::SET_COOKIE).is_none(),
        "no session for the API"
    );
}

#[tokio::test]
async fn the_token_endpoint_checks_passwords_against_the_festival_database() {
    let festival = TestApp::demo().await;
    let page = token_response(&festival, "alice", "green-wristband-demo").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header(header::CACHE_CONTROL), "no-store");
    let body = page.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "stages");
    assert!(page.headers.get(header::SET_COOKIE).is_none());

    let wrong = token_response(&festival, "alice", "not-her-password").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn a_ticket_bought_in_the_shop_works_at_the_token_endpoint() {
    let festival = TestApp::demo().await;
    festival
        .browser()
        .buy("carol", "three tents and a kettle", "gold")
        .await;
    let token = token(&festival, "carol", "three tents and a kettle").await;
    let page = get(&festival, "/api/backstage", Some(&token)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json()["area"], "backstage");
}

#[tokio::test]
async fn an_account_without_a_password_is_unknown_to_the_password_grant() {
    let festival = TestApp::demo().await;
    festival
        .app
        .state()
        .store
        .create_external_user(
            "https://vendor.example",
            "v-123",
            "dora",
            Wristband::Gold,
            0,
        )
        .await
        .unwrap();
    let page = token_response(&festival, "dora", "anything-at-all").await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn me_says_who_the_token_speaks_for() {
    let festival = TestApp::demo().await;
    let token = token(&festival, "bob", "gold-wristband-demo").await;
    let page = get(&festival, "/api/me", Some(&token)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.json(),
        json!({ "username": "bob", "wristband": "gold", "scopes": ["stages", "backstage"] })
    );
}

#[tokio::test]
async fn the_token_minted_at_the_gate_opens_the_api_too() {
    let festival = TestApp::demo().await;
    let mut browser = festival.logged_in("alice", "green-wristband-demo").await;
    let page = browser.get("/wristband").await;
    let parts: Vec<String> = ["part-header", "part-claims", "part-signature"]
        .iter()
        .map(|class| {
            let marker = format!("<span class=\"{class}\">");
            let start = page.body.find(&marker).unwrap() + marker.len();
            let end = page.body[start..].find('<').unwrap() + start;
            page.body[start..end].to_owned()
        })
        .collect();
    let token = parts.join(".");
    let me = get(&festival, "/api/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "alice");
}

#[tokio::test]
async fn any_wristband_token_opens_a_stage_and_unknown_stages_are_404() {
    let festival = TestApp::demo().await;
    let token = token(&festival, "alice", "green-wristband-demo").await;
    let page = get(&festival, "/api/stages/forest", Some(&token)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.json()["stage"], "forest");
    let missing = get(&festival, "/api/stages/moon", Some(&token)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_green_token_at_backstage_is_403_insufficient_scope() {
    let festival = TestApp::demo().await;
    let token = token(&festival, "alice", "green-wristband-demo").await;
    let page = get(&festival, "/api/backstage", Some(&token)).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(page.json()["error"], "insufficient_scope");
    let challenge = page.header(header::WWW_AUTHENTICATE);
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"scope="backstage""#), "{challenge}");
}

#[tokio::test]
async fn no_token_is_401_with_a_bearer_challenge() {
    let festival = TestApp::demo().await;
    let page = get(&festival, "/api/me", None).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    let challenge = page.header(header::WWW_AUTHENTICATE);
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    assert!(!challenge.contains("error="), "{challenge}");
}

#[tokio::test]
async fn a_session_cookie_is_not_a_bearer_token() {
    let festival = TestApp::demo().await;
    let browser = festival.logged_in("bob", "gold-wristband-demo").await;
    let request = Request::get("/api/backstage")
        .header(header::COOKIE, browser.cookie.unwrap())
        .body(Body::empty())
        .unwrap();
    let page = send(&festival.router, request).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

fn operation<'a>(document: &'a Value, path: &str, method: &str) -> &'a Value {
    &document["paths"][path][method]
}

#[tokio::test]
async fn the_openapi_document_puts_a_lock_on_gated_routes_only() {
    let festival = TestApp::demo().await;
    let page = get(&festival, "/openapi.json", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header(header::CONTENT_TYPE), "application/json");
    let document = page.json();

    for (path, scope) in [
        ("/api/me", None),
        ("/api/stages/{stage}", Some("stages")),
        ("/api/backstage", Some("backstage")),
    ] {
        let security = operation(&document, path, "get")["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} declares security"));
        assert!(!security.is_empty(), "{path}");
        if let Some(scope) = scope {
            for requirement in security {
                let scopes = requirement.as_object().unwrap().values().next().unwrap();
                assert_eq!(scopes, &json!([scope]), "{path}");
            }
        }
    }
    for (path, method) in [("/token", "post"), ("/health", "get")] {
        let op = operation(&document, path, method);
        assert!(op.is_object(), "{path} is documented");
        let open = op.get("security").is_none_or(|security| {
            security
                .as_array()
                .is_some_and(|list| list.is_empty() || list.iter().all(|r| r == &json!({})))
        });
        assert!(open, "{path} needs no login: {op}");
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["oauth2"]["flows"]["password"]["tokenUrl"], "/token");
}

#[tokio::test]
async fn the_docs_page_is_served_from_the_app() {
    let festival = TestApp::demo().await;
    let redirect = get(&festival, "/docs", None).await;
    assert!(redirect.status.is_redirection());
    assert_eq!(redirect.location(), "/docs/");
    let page = get(&festival, "/docs/", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header(header::CONTENT_TYPE).starts_with("text/html"));
    assert!(
        !page.body.contains("://unpkg") && !page.body.contains("cdn"),
        "no CDN"
    );
    let initializer = get(&festival, "/docs/swagger-initializer.js", None).await;
    assert_eq!(initializer.status, StatusCode::OK);
    assert!(initializer.body.contains("/openapi.json"));
}

#[tokio::test]
async fn the_docs_page_sends_browsers_nowhere_else() {
    let festival = TestApp::demo().await;
    let page = get(&festival, "/docs/", None).await;
    let policy = page.header(header::CONTENT_SECURITY_POLICY);
    assert!(policy.starts_with("default-src 'self';"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    // Swagger UI's default would have every browser off localhost fetch an image from an
    // online validator, with the address of this document.
    let initializer = get(&festival, "/docs/swagger-initializer.js", None).await;
    assert!(
        initializer.body.contains(r#""validatorUrl": "none""#),
        "{}",
        initializer.body
    );
}
