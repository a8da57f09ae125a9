//! The whole login, as the festival lives it: authorization request, the vendor's login page,
//! the redirect back with a code, the token exchange, the ID token checked against the JWKS,
//! and userinfo.

mod common;

use axum::http::{StatusCode, header};
use common::{
    CLIENT_ID, ISSUER, NONCE, REDIRECT_URI, START, STATE, VERIFIER, Vendor, authorization_request,
    pairs, with,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::json;
use ticket_vendor::{IdTokenClaims, Ticket, TokenResponse};

const CAROL: &str = "tv-5b0c8f1e-2d4a-4f6b-9c3e-7a1d2e3f4a5b";
const DAVE: &str = "tv-9e4d7c2b-6a1f-4e8d-b5c3-1f2e3d4c5b6a";

/// Checks an ID token the way a client must: signature with the key from `/jwks` picked by
/// `kid`, algorithm pinned, exact issuer and audience. Expiry is compared by the caller against
/// the vendor's frozen clock rather than the real one.
async fn verify_id_token(vendor: &Vendor, id_token: &str) -> IdTokenClaims {
    let header = jsonwebtoken::decode_header(id_token).expect("a JWT header");
    assert_eq!(header.alg, Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let jwks = vendor.get("/jwks").await.json();
    let key = jwks["keys"]
        .as_array()
        .expect("a key list")
        .iter()
        .find(|key| key["kid"].as_str() == header.kid.as_deref())
        .expect("the token's kid is in the JWKS");
    let decoding_key = DecodingKey::from_ed_components(key["x"].as_str().expect("an x member"))
        .expect("a valid Ed25519 key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_exp = false;
    jsonwebtoken::decode::<IdTokenClaims>(id_token, &decoding_key, &validation)
        .expect("the ID token verifies against the JWKS")
        .claims
}

#[tokio::test]
async fn the_login_page_names_the_client_and_what_it_will_receive() {
    let vendor = Vendor::demo();
    let reply = vendor.authorize(&authorization_request()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    let page = &reply.body;
    assert!(page.contains("<span class=\"name\">Ticket vendor</span>"));
    assert!(page.contains("<strong class=\"client\">festival</strong> asks who you are."));
    assert!(page.contains("you go back to <code>http://festival.test</code>"));
    assert!(page.contains("<li>An identifier for you at the ticket vendor"));
    assert!(page.contains("<li>Your name</li>"));
    assert!(page.contains("<li>Which ticket you hold: green or gold</li>"));
    assert!(page.contains(r#"<link rel="stylesheet" href="/static/vendor.css">"#));
    assert!(page.contains(r#"<form method="post" action="/authorize">"#));
    for (name, value) in authorization_request() {
        let field = format!(r#"<input type="hidden" name="{name}" value="{value}">"#);
        assert!(page.contains(&field), "the form carries {name}");
    }
}

#[tokio::test]
async fn the_login_page_lists_only_what_the_scopes_release() {
    let vendor = Vendor::demo();
    let reply = vendor
        .authorize(&with(authorization_request(), "scope", Some("openid")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.body.contains("<li>Your name</li>"));
    assert!(!reply.body.contains("Which ticket you hold"));
}

#[tokio::test]
async fn a_full_login_gives_a_verifiable_id_token_and_userinfo() {
    let vendor = Vendor::demo();

    let page = vendor.authorize(&authorization_request()).await;
    assert_eq!(page.status, StatusCode::OK);

    let redirect = vendor
        .log_in(
            &authorization_request(),
            "carol",
            "vendor-green-demo",
            "approve",
        )
        .await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    assert_eq!(redirect.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(redirect.location_base(), REDIRECT_URI);
    let code = redirect.location_param("code").expect("a code");
    assert_eq!(code.len(), 43, "256 random bits, base64url");
    assert_eq!(
        redirect.location_params(),
        pairs(&[("code", &code), ("state", STATE), ("iss", ISSUER)])
    );

    let reply = vendor.redeem(&code, VERIFIER).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header(header::CONTENT_TYPE), Some("application/json"));
    assert_eq!(reply.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(reply.header(header::PRAGMA), Some("no-cache"));
    let tokens: TokenResponse = serde_json::from_str(&reply.body).expect("a token response");
    assert_eq!(tokens.token_type, "Bearer");
    assert_eq!(tokens.expires_in, 300);
    assert_eq!(tokens.scope, "openid profile ticket");
    assert_eq!(tokens.access_token.len(), 43);

    let claims = verify_id_token(&vendor, &tokens.id_token).await;
    assert_eq!(
        claims,
        IdTokenClaims {
            iss: ISSUER.to_owned(),
            sub: CAROL.to_owned(),
            aud: CLIENT_ID.to_owned(),
            exp: START + 300,
            iat: START,
            auth_time: START,
            nonce: NONCE.to_owned(),
            azp: CLIENT_ID.to_owned(),
            name: Some("Carol".to_owned()),
            ticket: Some(Ticket::Green),
        }
    );

    let userinfo = vendor
        .get_with_bearer("/userinfo", &tokens.access_token)
        .await;
    assert_eq!(userinfo.status, StatusCode::OK);
    assert_eq!(userinfo.header(header::CACHE_CONTROL), Some("no-store"));
    assert_eq!(
        userinfo.json(),
        json!({ "sub": CAROL, "name": "Carol", "ticket": "green" })
    );
}

#[tokio::test]
async fn a_gold_ticket_holder_gets_a_gold_ticket_claim() {
    let vendor = Vendor::demo();
    let code = vendor
        .code_for(&authorization_request(), "dave", "vendor-gold-demo")
        .await;
    let tokens: TokenResponse =
        serde_json::from_str(&vendor.redeem(&code, VERIFIER).await.body).expect("tokens");
    let claims = verify_id_token(&vendor, &tokens.id_token).await;
    assert_eq!(claims.sub, DAVE);
    assert_eq!(claims.ticket, Some(Ticket::Gold));
}

#[tokio::test]
async fn with_only_the_openid_scope_no_name_or_ticket_is_released() {
    let vendor = Vendor::demo();
    let request = with(authorization_request(), "scope", Some("openid email"));
    let code = vendor
        .code_for(&request, "carol", "vendor-green-demo")
        .await;
    let tokens: TokenResponse =
        serde_json::from_str(&vendor.redeem(&code, VERIFIER).await.body).expect("tokens");
    assert_eq!(tokens.scope, "openid");
    let claims = verify_id_token(&vendor, &tokens.id_token).await;
    assert_eq!((claims.name, claims.ticket), (None, None));
    let userinfo = vendor
        .get_with_bearer("/userinfo", &tokens.access_token)
        .await;
    assert_eq!(userinfo.json(), json!({ "sub": CAROL }));
}

#[tokio::test]
async fn a_login_without_state_gets_a_redirect_without_state() {
    let vendor = Vendor::demo();
    let request = with(authorization_request(), "state", None);
    let redirect = vendor
        .log_in(&request, "carol", "vendor-green-demo", "approve")
        .await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    let names: Vec<String> = redirect
        .location_params()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["code", "iss"]);
}

#[tokio::test]
async fn a_registered_query_in_the_redirect_uri_is_kept() {
    let issuer = ISSUER.parse().expect("a valid URL");
    let vendor = Vendor::with_config(ticket_vendor::VendorConfig::demo(
        issuer,
        "http://festival.test/cb?provider=vendor",
    ));
    let request = with(
        authorization_request(),
        "redirect_uri",
        Some("http://festival.test/cb?provider=vendor"),
    );
    let redirect = vendor
        .log_in(&request, "carol", "vendor-green-demo", "approve")
        .await;
    assert_eq!(redirect.status, StatusCode::SEE_OTHER);
    let params = redirect.location_params();
    assert_eq!(params[0], ("provider".to_owned(), "vendor".to_owned()));
    assert_eq!(params[1].0, "code");
}

#[tokio::test]
async fn the_state_comes_back_exactly_as_sent() {
    let vendor = Vendor::demo();
    let odd_state = "a b&c=d/é?%20";
    let request = with(authorization_request(), "state", Some(odd_state));
    let redirect = vendor
        .log_in(&request, "carol", "vendor-green-demo", "approve")
        .await;
    assert_eq!(redirect.location_param("state").as_deref(), Some(odd_state));
}

#[tokio::test]
async fn the_token_endpoint_accepts_client_secret_post() {
    let vendor = Vendor::demo();
    let code = vendor.code().await;
    let reply = vendor
        .post_form(
            "/token",
            &[
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("redirect_uri", REDIRECT_URI.to_owned()),
                ("code_verifier", VERIFIER.to_owned()),
                ("client_id", CLIENT_ID.to_owned()),
                ("client_secret", common::CLIENT_SECRET.to_owned()),
            ],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_code_so_lessons_are_reproducible() {
    let first = Vendor::demo().code().await;
    let second = Vendor::demo().code().await;
    assert_eq!(first, second);
}

#[tokio::test]
async fn a_hostile_state_is_escaped_on_the_login_page() {
    let vendor = Vendor::demo();
    let request = with(
        authorization_request(),
        "state",
        Some(r#""><script>alert(1)</script>"#),
    );
    let reply = vendor.authorize(&request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.body.contains("<script>"));
    assert!(reply.body.contains(
        r#"<input type="hidden" name="state" value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;">"#
    ));
}
