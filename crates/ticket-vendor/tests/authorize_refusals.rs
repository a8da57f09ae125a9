//! What the authorization endpoint refuses, and how: an error page when it cannot trust where
//! to send the visitor, an error redirect (with `state` and `iss`) once it can.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{ISSUER, REDIRECT_URI, STATE, Vendor, authorization_request, pairs, with};

/// Asserts an error redirect back to the festival with exactly these parameters.
fn assert_error_redirect(reply: &common::Reply, error: &str, description: &str) {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location_base(), REDIRECT_URI);
    assert_eq!(
        reply.location_params(),
        pairs(&[
            ("error", error),
            ("error_description", description),
            ("state", STATE),
            ("iss", ISSUER),
        ])
    );
}

/// Asserts an error page, and no redirect anywhere.
fn assert_error_page(reply: &common::Reply, status: StatusCode, message: &str) {
    assert_eq!(reply.status, status);
    assert_eq!(reply.header(header::LOCATION), None, "never redirected");
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        Some("text/html; charset=utf-8")
    );
    assert!(
        reply.body.contains(message),
        "page says {message:?}: {}",
        reply.body
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_shown_an_error_page_and_never_redirected_to() {
    let vendor = Vendor::demo();
    let request = with(
        authorization_request(),
        "redirect_uri",
        Some("http://attacker.test/steal"),
    );
    let reply = vendor.authorize(&request).await;
    assert_error_page(
        &reply,
        StatusCode::BAD_REQUEST,
        "is not registered for the application. The ticket vendor will not send you there.",
    );
    assert!(!reply.body.contains("attacker.test"));
}

#[tokio::test]
async fn a_redirect_uri_that_only_starts_like_the_registered_one_is_refused() {
    let vendor = Vendor::demo();
    for lookalike in [
        "http://festival.test/auth/vendor/callback/../../evil",
        "http://festival.test/auth/vendor/callback?x=1",
        "http://festival.test/auth/vendor/callback/",
        "HTTP://festival.test/auth/vendor/callback",
        "http://festival.test.attacker.test/auth/vendor/callback",
    ] {
        let reply = vendor
            .authorize(&with(
                authorization_request(),
                "redirect_uri",
                Some(lookalike),
            ))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{lookalike} is refused"
        );
        assert_eq!(reply.header(header::LOCATION), None);
    }
}

#[tokio::test]
async fn a_missing_redirect_uri_is_shown_an_error_page() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(authorization_request(), "redirect_uri", None))
        .await;
    assert_error_page(&reply, StatusCode::BAD_REQUEST, "redirect_uri is missing");
}

#[tokio::test]
async fn an_unknown_client_is_shown_an_error_page_and_never_redirected() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(
            authorization_request(),
            "client_id",
            Some("stranger"),
        ))
        .await;
    assert_error_page(
        &reply,
        StatusCode::BAD_REQUEST,
        "The application that sent you here is not registered with the ticket vendor.",
    );
    assert!(
        !reply.body.contains("stranger"),
        "the unknown id is not echoed"
    );
}

#[tokio::test]
async fn a_repeated_client_id_is_shown_an_error_page() {
    let vendor = Vendor::demo();
    let mut request = authorization_request();
    request.push(("client_id", "other".to_owned()));
    let reply = vendor.authorize(&request).await;
    assert_error_page(
        &reply,
        StatusCode::BAD_REQUEST,
        "names its application twice",
    );
}

#[tokio::test]
async fn an_unsupported_response_type_is_redirected_back_with_unsupported_response_type() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(
            authorization_request(),
            "response_type",
            Some("token"),
        ))
        .await;
    assert_error_redirect(
        &reply,
        "unsupported_response_type",
        "Only response_type=code is supported.",
    );
}

#[tokio::test]
async fn a_missing_response_type_is_an_invalid_request() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(authorization_request(), "response_type", None))
        .await;
    assert_error_redirect(&reply, "invalid_request", "response_type is missing.");
}

#[tokio::test]
async fn plain_pkce_is_refused_with_invalid_request() {
    let vendor = Vendor::demo();
    let request = with(
        authorization_request(),
        "code_challenge_method",
        Some("plain"),
    );
    let reply = vendor.authorize(&request).await;
    assert_error_redirect(
        &reply,
        "invalid_request",
        "code_challenge_method must be S256; plain is not accepted.",
    );
}

#[tokio::test]
async fn a_challenge_without_a_method_counts_as_plain_and_is_refused() {
    let vendor = Vendor::demo();
    let request = with(authorization_request(), "code_challenge_method", None);
    let reply = vendor.authorize(&request).await;
    assert_error_redirect(
        &reply,
        "invalid_request",
        "code_challenge_method must be S256; plain is not accepted.",
    );
}

#[tokio::test]
async fn a_missing_code_challenge_is_refused_with_invalid_request() {
    let vendor = Vendor::demo();
    let request = with(
        with(authorization_request(), "code_challenge", None),
        "code_challenge_method",
        None,
    );
    let reply = vendor.authorize(&request).await;
    assert_error_redirect(
        &reply,
        "invalid_request",
        "code_challenge is required (PKCE with S256).",
    );
}

#[tokio::test]
async fn a_code_challenge_that_is_not_a_sha256_digest_is_refused() {
    let vendor = Vendor::demo();
    let request = with(authorization_request(), "code_challenge", Some("short"));
    let reply = vendor.authorize(&request).await;
    assert_error_redirect(
        &reply,
        "invalid_request",
        "code_challenge must be a base64url SHA-256 digest (43 characters).",
    );
}

#[tokio::test]
async fn a_missing_nonce_is_refused_with_invalid_request() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(authorization_request(), "nonce", None))
        .await;
    assert_error_redirect(
        &reply,
        "invalid_request",
        "nonce is required by this provider.",
    );
}

#[tokio::test]
async fn a_scope_without_openid_is_refused_with_invalid_scope() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(
            authorization_request(),
            "scope",
            Some("profile ticket"),
        ))
        .await;
    assert_error_redirect(
        &reply,
        "invalid_scope",
        "scope must include openid: the ticket vendor is an OpenID Connect provider.",
    );
}

#[tokio::test]
async fn prompt_none_is_answered_with_login_required() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(authorization_request(), "prompt", Some("none")))
        .await;
    assert_error_redirect(
        &reply,
        "login_required",
        "The ticket vendor always asks the ticket holder to log in.",
    );
}

#[tokio::test]
async fn a_request_object_is_refused_with_request_not_supported() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(authorization_request(), "request", Some("eyJ.x.y")))
        .await;
    assert_error_redirect(
        &reply,
        "request_not_supported",
        "Request objects are not supported; send the parameters directly.",
    );
}

#[tokio::test]
async fn a_repeated_parameter_is_refused_with_invalid_request() {
    let vendor = Vendor::demo();
    let mut request = authorization_request();
    request.push(("nonce", "a-second-nonce".to_owned()));
    let reply = vendor.authorize(&request).await;
    assert_error_redirect(
        &reply,
        "invalid_request",
        "A parameter was sent more than once.",
    );
}

#[tokio::test]
async fn a_denied_request_is_redirected_back_with_access_denied() {
    let vendor = Vendor::demo();
    let reply = vendor
        .log_in(&authorization_request(), "", "", "deny")
        .await;
    assert_error_redirect(
        &reply,
        "access_denied",
        "The ticket holder denied the request.",
    );
}

#[tokio::test]
async fn a_wrong_password_shows_the_login_page_again_with_an_error_and_no_code() {
    let vendor = Vendor::demo();
    let reply = vendor
        .log_in(
            &authorization_request(),
            "carol",
            "vendor-gold-demo",
            "approve",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::LOCATION), None);
    assert!(reply.body.contains(
        r#"<p class="error" role="alert">That username and password do not match a ticket. Try again.</p>"#
    ));
    assert!(
        reply
            .body
            .contains(r#"name="username" autocomplete="username" required value="carol""#)
    );
    assert!(
        !reply.body.contains("vendor-gold-demo"),
        "the password is not echoed"
    );
    assert!(!reply.body.contains("code="));
}

#[tokio::test]
async fn an_unknown_username_gets_the_same_answer_as_a_wrong_password() {
    let vendor = Vendor::demo();
    let reply = vendor
        .log_in(
            &authorization_request(),
            "mallory",
            "vendor-green-demo",
            "approve",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::LOCATION), None);
    assert!(
        reply
            .body
            .contains("That username and password do not match a ticket.")
    );
}

#[tokio::test]
async fn a_login_form_without_a_decision_is_shown_again() {
    let vendor = Vendor::demo();
    let reply = vendor
        .log_in(&authorization_request(), "carol", "vendor-green-demo", "")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::LOCATION), None);
    assert!(reply.body.contains("Choose whether to share your ticket"));
}

#[tokio::test]
async fn a_login_form_with_a_tampered_redirect_uri_is_refused_without_a_redirect() {
    let vendor = Vendor::demo();
    let request = with(
        authorization_request(),
        "redirect_uri",
        Some("http://attacker.test/steal"),
    );
    let reply = vendor
        .log_in(&request, "carol", "vendor-green-demo", "approve")
        .await;
    assert_error_page(&reply, StatusCode::BAD_REQUEST, "will not send you there");
}

#[tokio::test]
async fn a_login_form_with_plain_pkce_slipped_in_is_refused() {
    let vendor = Vendor::demo();
    let request = with(
        authorization_request(),
        "code_challenge_method",
        Some("plain"),
    );
    let reply = vendor
        .log_in(&request, "carol", "vendor-green-demo", "approve")
        .await;
    assert_error_redirect(
        &reply,
        "invalid_request",
        "code_challenge_method must be S256; plain is not accepted.",
    );
}

#[tokio::test]
async fn a_login_form_that_is_not_form_encoded_is_refused() {
    let vendor = Vendor::demo();
    let reply = vendor
        .send(
            Request::post("/authorize")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .expect("a valid request"),
        )
        .await;
    assert_error_page(
        &reply,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "The login form must be sent as application/x-www-form-urlencoded.",
    );
}

#[tokio::test]
async fn an_oversized_login_form_is_refused() {
    let vendor = Vendor::demo();
    let reply = vendor
        .send(
            Request::post("/authorize")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("state={}", "x".repeat(20_000))))
                .expect("a valid request"),
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}
