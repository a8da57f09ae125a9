//! The vendor describes itself: discovery document, public keys, home page, stylesheet.

mod common;

use axum::http::{StatusCode, header};
use common::{ISSUER, Vendor};
use serde_json::json;

#[tokio::test]
async fn the_discovery_document_derives_every_endpoint_from_the_issuer() {
    let vendor = Vendor::demo();
    let reply = vendor.get("/.well-known/openid-configuration").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_TYPE), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({
            "issuer": "http://vendor.test",
            "authorization_endpoint": "http://vendor.test/authorize",
            "token_endpoint": "http://vendor.test/token",
            "userinfo_endpoint": "http://vendor.test/userinfo",
            "jwks_uri": "http://vendor.test/jwks",
            "scopes_supported": ["openid", "profile", "ticket"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "name", "ticket"
            ],
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "claims_parameter_supported": false
        })
    );
}

#[tokio::test]
async fn the_jwks_publishes_the_public_key_only() {
    let vendor = Vendor::demo();
    let reply = vendor.get("/jwks").await;
    assert_eq!(reply.status, StatusCode::OK);
    let key = &vendor.state.config().signing_key;
    assert_eq!(
        reply.json(),
        json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": key.public_jwk().x,
                "kid": key.kid(),
                "alg": "EdDSA",
                "use": "sig"
            }]
        })
    );
    assert!(!reply.body.contains("\"d\""), "no private key member");
}

#[tokio::test]
async fn the_home_page_says_what_the_server_is() {
    let vendor = Vendor::demo();
    let reply = vendor.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        Some("text/html; charset=utf-8")
    );
    assert!(reply.body.contains("Ticket vendor"));
    assert!(reply.body.contains("teaching OpenID Connect provider"));
    assert!(reply.body.contains(ISSUER));
}

#[tokio::test]
async fn the_stylesheet_is_served_by_the_vendor_itself() {
    let vendor = Vendor::demo();
    let reply = vendor.get("/static/vendor.css").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        Some("text/css; charset=utf-8")
    );
    assert!(
        !reply.body.contains("http"),
        "nothing loaded from elsewhere"
    );
}

#[tokio::test]
async fn every_response_forbids_framing_and_foreign_resources() {
    let vendor = Vendor::demo();
    let reply = vendor.get("/").await;
    assert_eq!(
        reply.header(header::CONTENT_SECURITY_POLICY),
        Some(
            "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    );
    assert_eq!(reply.header(header::X_FRAME_OPTIONS), Some("DENY"));
    assert_eq!(
        reply.header(header::X_CONTENT_TYPE_OPTIONS),
        Some("nosniff")
    );
    assert_eq!(reply.header(header::REFERRER_POLICY), Some("no-referrer"));
}

#[tokio::test]
async fn an_unknown_path_gets_a_not_found_page() {
    let vendor = Vendor::demo();
    let reply = vendor.get("/nothing/here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        reply
            .body
            .contains("The ticket vendor has no page at this address.")
    );
}

#[tokio::test]
async fn an_issuer_with_a_path_keeps_it_in_every_endpoint() {
    let issuer = "https://login.example.test/vendor/"
        .parse()
        .expect("a valid URL");
    let vendor = Vendor::with_config(ticket_vendor::VendorConfig::demo(
        issuer,
        common::REDIRECT_URI,
    ));
    let reply = vendor.get("/.well-known/openid-configuration").await;
    let document = reply.json();
    assert_eq!(document["issuer"], "https://login.example.test/vendor");
    assert_eq!(
        document["token_endpoint"],
        "https://login.example.test/vendor/token"
    );
}
