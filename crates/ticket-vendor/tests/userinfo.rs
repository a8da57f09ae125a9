//! The userinfo endpoint answers only to a live access token from this vendor.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{VERIFIER, Vendor};
use serde_json::json;
use ticket_vendor::TokenResponse;

const INVALID_TOKEN: &str = r#"Bearer realm="ticket-vendor", error="invalid_token", error_description="The access token is unknown, expired or revoked.""#;

async fn access_token(vendor: &Vendor) -> String {
    let code = vendor.code().await;
    let reply = vendor.redeem(&code, VERIFIER).await;
    let tokens: TokenResponse = serde_json::from_str(&reply.body).expect("tokens");
    tokens.access_token
}

#[tokio::test]
async fn a_request_without_a_token_gets_a_bare_bearer_challenge() {
    let vendor = Vendor::demo();
    let reply = vendor.get("/userinfo").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.header(header::WWW_AUTHENTICATE),
        Some(r#"Bearer realm="ticket-vendor""#)
    );
    assert_eq!(reply.body, "");
}

#[tokio::test]
async fn an_unknown_token_is_refused_with_invalid_token() {
    let vendor = Vendor::demo();
    let reply = vendor.get_with_bearer("/userinfo", "made-up").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header(header::WWW_AUTHENTICATE), Some(INVALID_TOKEN));
}

#[tokio::test]
async fn an_expired_token_is_refused_with_invalid_token() {
    let vendor = Vendor::demo();
    let token = access_token(&vendor).await;
    vendor.clock.advance(300);
    let reply = vendor.get_with_bearer("/userinfo", &token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header(header::WWW_AUTHENTICATE), Some(INVALID_TOKEN));
}

#[tokio::test]
async fn a_token_is_still_good_one_second_before_it_expires() {
    let vendor = Vendor::demo();
    let token = access_token(&vendor).await;
    vendor.clock.advance(299);
    let reply = vendor.get_with_bearer("/userinfo", &token).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn the_id_token_is_not_an_access_token() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let tokens: TokenResponse =
        serde_json::from_str(&vendor.redeem(&code, VERIFIER).await.body).expect("tokens");
    let reply = vendor.get_with_bearer("/userinfo", &tokens.id_token).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header(header::WWW_AUTHENTICATE), Some(INVALID_TOKEN));
}

#[tokio::test]
async fn userinfo_also_answers_post() {
    let vendor = Vendor::demo();
    let token = access_token(&vendor).await;
    let reply = vendor
        .send(
            Request::post("/userinfo")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json(),
        json!({ "sub": "tv-5b0c8f1e-2d4a-4f6b-9c3e-7a1d2e3f4a5b", "name": "Carol", "ticket": "green" })
    );
}
