//! What the token endpoint refuses: bad client authentication, and codes that are unknown,
//! replayed, expired, or presented with the wrong redirect URI, client or PKCE verifier.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{
    CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, VERIFIER, Vendor, authorization_request, basic, with,
};
use serde_json::json;
use ticket_vendor::TokenResponse;

const INVALID_GRANT: &str =
    "The authorization code is invalid, expired, already used, or does not match this request.";

fn token_request(code: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "authorization_code".to_owned()),
        ("code", code.to_owned()),
        ("redirect_uri", REDIRECT_URI.to_owned()),
        ("code_verifier", VERIFIER.to_owned()),
    ]
}

fn assert_oauth_error(reply: &common::Reply, status: StatusCode, error: &str, description: &str) {
    assert_eq!(reply.status, status);
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(
        reply.json(),
        json!({ "error": error, "error_description": description })
    );
}

fn assert_invalid_client(reply: &common::Reply) {
    assert_oauth_error(
        reply,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Client authentication failed.",
    );
    assert_eq!(
        reply.header(header::WWW_AUTHENTICATE),
        Some(r#"Basic realm="ticket-vendor""#)
    );
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_with_invalid_grant() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let reply = vendor
        .redeem(&code, "another-verifier-that-the-attacker-made-up-000000")
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        INVALID_GRANT,
    );
}

#[tokio::test]
async fn a_code_that_failed_its_pkce_check_cannot_be_retried_with_the_right_verifier() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    vendor
        .redeem(&code, "another-verifier-that-the-attacker-made-up-000000")
        .await;
    let reply = vendor.redeem(&code, VERIFIER).await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        INVALID_GRANT,
    );
}

#[tokio::test]
async fn a_missing_verifier_is_refused_with_invalid_request() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let mut body = token_request(&code);
    body.retain(|(name, _)| *name != "code_verifier");
    let reply = vendor
        .post_form("/token", &body, Some(&basic(CLIENT_ID, CLIENT_SECRET)))
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "code, redirect_uri and code_verifier are all required.",
    );
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_the_access_token_it_bought() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let first = vendor.redeem(&code, VERIFIER).await;
    assert_eq!(first.status, StatusCode::OK);
    let tokens: TokenResponse = serde_json::from_str(&first.body).expect("tokens");
    assert_eq!(
        vendor
            .get_with_bearer("/userinfo", &tokens.access_token)
            .await
            .status,
        StatusCode::OK
    );

    let replay = vendor.redeem(&code, VERIFIER).await;
    assert_oauth_error(
        &replay,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        INVALID_GRANT,
    );

    let userinfo = vendor
        .get_with_bearer("/userinfo", &tokens.access_token)
        .await;
    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        userinfo.header(header::WWW_AUTHENTICATE),
        Some(
            r#"Bearer realm="ticket-vendor", error="invalid_token", error_description="The access token is unknown, expired or revoked.""#
        )
    );
}

#[tokio::test]
async fn a_code_replayed_after_it_expired_still_revokes_its_access_token() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let tokens: TokenResponse =
        serde_json::from_str(&vendor.redeem(&code, VERIFIER).await.body).expect("tokens");
    vendor.clock.advance(120);
    let replay = vendor.redeem(&code, VERIFIER).await;
    assert_oauth_error(
        &replay,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        INVALID_GRANT,
    );
    let userinfo = vendor
        .get_with_bearer("/userinfo", &tokens.access_token)
        .await;
    assert_eq!(userinfo.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_code_is_refused_with_invalid_grant() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    vendor.clock.advance(61);
    let reply = vendor.redeem(&code, VERIFIER).await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        INVALID_GRANT,
    );
}

#[tokio::test]
async fn a_code_is_still_good_just_before_it_expires() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    vendor.clock.advance(59);
    assert_eq!(vendor.redeem(&code, VERIFIER).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_code_is_refused_with_invalid_grant() {
    let vendor = Vendor::demo();
    let reply = vendor
        .redeem("b3JkaW5hcnktbG9va2luZy1idXQtbmV2ZXItaXNzdWVk", VERIFIER)
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        INVALID_GRANT,
    );
}

#[tokio::test]
async fn a_different_redirect_uri_at_the_token_endpoint_is_refused_with_invalid_grant() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let body = with(
        token_request(&code),
        "redirect_uri",
        Some("http://festival.test/other/callback"),
    );
    let reply = vendor
        .post_form("/token", &body, Some(&basic(CLIENT_ID, CLIENT_SECRET)))
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        INVALID_GRANT,
    );
}

#[tokio::test]
async fn a_code_issued_to_one_client_cannot_be_redeemed_by_another() {
    let vendor = Vendor::with_second_client();
    let code = vendor.code().await;
    let reply = vendor
        .post_form(
            "/token",
            &token_request(&code),
            Some(&basic("other-app", "other-secret")),
        )
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        INVALID_GRANT,
    );
}

#[tokio::test]
async fn a_wrong_client_secret_with_basic_authentication_is_refused_with_invalid_client() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let reply = vendor
        .post_form(
            "/token",
            &token_request(&code),
            Some(&basic(CLIENT_ID, "guessed-secret")),
        )
        .await;
    assert_invalid_client(&reply);
}

#[tokio::test]
async fn a_wrong_client_secret_in_the_body_is_refused_with_invalid_client() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let mut body = token_request(&code);
    body.push(("client_id", CLIENT_ID.to_owned()));
    body.push(("client_secret", "guessed-secret".to_owned()));
    let reply = vendor.post_form("/token", &body, None).await;
    assert_invalid_client(&reply);
}

#[tokio::test]
async fn a_failed_client_authentication_does_not_burn_the_code() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    vendor
        .post_form(
            "/token",
            &token_request(&code),
            Some(&basic(CLIENT_ID, "guessed-secret")),
        )
        .await;
    assert_eq!(vendor.redeem(&code, VERIFIER).await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_client_is_refused_with_invalid_client() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let reply = vendor
        .post_form(
            "/token",
            &token_request(&code),
            Some(&basic("stranger", CLIENT_SECRET)),
        )
        .await;
    assert_invalid_client(&reply);
}

#[tokio::test]
async fn a_request_without_client_authentication_is_refused_with_invalid_client() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let mut body = token_request(&code);
    body.push(("client_id", CLIENT_ID.to_owned()));
    let reply = vendor.post_form("/token", &body, None).await;
    assert_invalid_client(&reply);
}

#[tokio::test]
async fn using_two_client_authentication_methods_at_once_is_an_invalid_request() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let mut body = token_request(&code);
    body.push(("client_secret", CLIENT_SECRET.to_owned()));
    let reply = vendor
        .post_form("/token", &body, Some(&basic(CLIENT_ID, CLIENT_SECRET)))
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "Use one client authentication method, not two.",
    );
}

#[tokio::test]
async fn another_grant_type_is_refused_with_unsupported_grant_type() {
    let vendor = Vendor::demo();
    let body = vec![
        ("grant_type", "password".to_owned()),
        ("username", "carol".to_owned()),
        ("password", "vendor-green-demo".to_owned()),
    ];
    let reply = vendor
        .post_form("/token", &body, Some(&basic(CLIENT_ID, CLIENT_SECRET)))
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        "Only grant_type=authorization_code is supported.",
    );
}

#[tokio::test]
async fn a_token_request_that_is_not_form_encoded_is_an_invalid_request() {
    let vendor = Vendor::demo();
    let reply = vendor
        .send(
            Request::post("/token")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, basic(CLIENT_ID, CLIENT_SECRET))
                .body(Body::from(r#"{"grant_type":"authorization_code"}"#))
                .expect("a valid request"),
        )
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "The body must be application/x-www-form-urlencoded.",
    );
}

#[tokio::test]
async fn a_repeated_token_parameter_is_an_invalid_request() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let mut body = token_request(&code);
    body.push(("code", "a-second-code".to_owned()));
    let reply = vendor
        .post_form("/token", &body, Some(&basic(CLIENT_ID, CLIENT_SECRET)))
        .await;
    assert_oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "A parameter was sent more than once.",
    );
}

#[tokio::test]
async fn get_is_not_allowed_at_the_token_endpoint() {
    let vendor = Vendor::demo();
    let reply = vendor.get("/token?grant_type=authorization_code").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn no_code_is_ever_issued_without_a_challenge_so_no_verifier_can_meet_a_code_without_one() {
    // PKCE downgrade (RFC 9700 §2.1.1): a verifier must never be accepted for a code issued
    // without a challenge. The vendor goes further and never issues such a code: the login
    // form re-validates the request, so a challenge stripped from it is refused at POST too.
    let vendor = Vendor::demo();
    let request = with(
        with(authorization_request(), "code_challenge", None),
        "code_challenge_method",
        None,
    );
    let reply = vendor
        .log_in(&request, "carol", "vendor-green-demo", "approve")
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reply.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(reply.location_param("code"), None);
}

#[tokio::test]
async fn no_code_is_ever_issued_without_a_nonce() {
    let vendor = Vendor::demo();
    let request = with(authorization_request(), "nonce", None);
    let reply = vendor
        .log_in(&request, "carol", "vendor-green-demo", "approve")
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        reply.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(reply.location_param("code"), None);
}
