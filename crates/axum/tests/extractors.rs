//! The extractors behind a real router, driven with `oneshot`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;
use wristband_axum::require::{Backstage, Stages};
use wristband_axum::{Authorized, BearerState, BearerToken, CurrentUser};
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};

const NOW: u64 = 1_750_000_000;

struct Fixture {
    clock: Arc<FixedClock>,
    issuer: Issuer,
    verifier: Verifier,
}

impl Fixture {
    fn new() -> Self {
        let clock = Arc::new(FixedClock::at(NOW));
        let key = SigningKey::from_seed([3; 32]);
        let config = TokenConfig::new("https://festival.example", "festival-api");
        Self {
            issuer: Issuer::new(
                key.clone(),
                config.clone(),
                clock.clone(),
                Arc::new(SeededEntropy::new(5)),
            ),
            verifier: Verifier::new(key.key_set(), config, clock.clone()),
            clock,
        }
    }

    fn token(&self, user: &str, wristband: Wristband, scope: &str) -> String {
        self.issuer
            .issue(user, wristband, scope)
            .expect("the fixture key signs")
            .access_token
            .expose()
            .to_owned()
    }
}

async fn me(user: CurrentUser) -> String {
    format!("{} {} [{}]", user.username, user.wristband, user.scopes)
}

async fn stage(user: Authorized<Stages>) -> String {
    format!("{} at the stage", user.username)
}

async fn backstage(user: Authorized<Backstage>) -> String {
    format!("{} backstage", user.username)
}

async fn raw(BearerToken(token): BearerToken) -> String {
    token.expose().len().to_string()
}

fn routes<S: BearerState + Clone + 'static>(state: S) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/stage", get(stage))
        .route("/backstage", get(backstage))
        .route("/raw", get(raw))
        .with_state(state)
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
}

async fn send(router: Router, uri: &str, authorization: &[&str]) -> Answer {
    let mut request = Request::get(uri);
    for value in authorization {
        request = request.header(header::AUTHORIZATION, *value);
    }
    let response = router
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .expect("the router is infallible");
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|value| value.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        challenge,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

#[tokio::test]
async fn a_request_without_a_token_gets_401_and_a_bare_challenge() {
    let fixture = Fixture::new();
    let answer = send(routes(fixture.verifier), "/me", &[]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="wristband""#)
    );
    assert_eq!(
        answer.body,
        r#"{"error_description":"This route needs an access token: send Authorization: Bearer <token>"}"#
    );
}

#[tokio::test]
async fn basic_credentials_count_as_no_token() {
    let fixture = Fixture::new();
    let answer = send(routes(fixture.verifier), "/me", &["Basic YWxpY2U6c2VjcmV0"]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="wristband""#)
    );
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_as_the_current_user() {
    let fixture = Fixture::new();
    let token = fixture.token("alice", Wristband::Green, "stages");
    let answer = send(
        routes(fixture.verifier),
        "/me",
        &[&format!("Bearer {token}")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.challenge, None);
    assert_eq!(answer.body, "alice green [stages]");
}

#[tokio::test]
async fn a_tampered_token_is_refused_with_invalid_token() {
    let fixture = Fixture::new();
    let token = fixture.token("alice", Wristband::Green, "stages");
    // Swap the payload for one claiming a gold wristband, keeping alice's signature.
    let gold = fixture.token("alice", Wristband::Gold, "stages backstage");
    let mut parts: Vec<&str> = token.split('.').collect();
    parts[1] = gold.split('.').nth(1).unwrap();
    let forged = parts.join(".");

    let answer = send(
        routes(fixture.verifier),
        "/backstage",
        &[&format!("Bearer {forged}")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_token", error_description="The access token signature is invalid""#
        )
    );
    assert_eq!(
        answer.body,
        r#"{"error":"invalid_token","error_description":"The access token signature is invalid"}"#
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_with_invalid_token() {
    let fixture = Fixture::new();
    let token = fixture.token("alice", Wristband::Green, "stages");
    fixture.clock.advance(15 * 60 + 30);
    let answer = send(
        routes(fixture.verifier),
        "/me",
        &[&format!("Bearer {token}")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_token", error_description="The access token expired""#
        )
    );
}

#[tokio::test]
async fn a_token_that_is_not_a_jwt_is_refused_with_invalid_token() {
    let fixture = Fixture::new();
    let answer = send(routes(fixture.verifier), "/me", &["Bearer not-a-jwt"]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_token", error_description="The access token is malformed""#
        )
    );
}

#[tokio::test]
async fn a_token_with_a_scope_this_service_does_not_know_is_refused() {
    let fixture = Fixture::new();
    let token = fixture.token("mallory", Wristband::Gold, "stages admin");
    let answer = send(
        routes(fixture.verifier),
        "/me",
        &[&format!("Bearer {token}")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_token", error_description="The access token claims are invalid""#
        )
    );
}

#[tokio::test]
async fn a_green_wristband_at_backstage_gets_403_insufficient_scope() {
    let fixture = Fixture::new();
    let token = fixture.token("alice", Wristband::Green, "stages");
    let answer = send(
        routes(fixture.verifier),
        "/backstage",
        &[&format!("Bearer {token}")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="insufficient_scope", error_description="The access token does not carry the scope this route requires", scope="backstage""#
        )
    );
    assert_eq!(
        answer.body,
        r#"{"error":"insufficient_scope","error_description":"The access token does not carry the scope this route requires"}"#
    );
}

#[tokio::test]
async fn a_gold_wristband_enters_both_the_stage_and_backstage() {
    let fixture = Fixture::new();
    let token = fixture.token("bob", Wristband::Gold, "stages backstage");
    let bearer = format!("Bearer {token}");
    let router = routes(fixture.verifier);
    let stage = send(router.clone(), "/stage", &[&bearer]).await;
    assert_eq!(
        (stage.status, stage.body.as_str()),
        (StatusCode::OK, "bob at the stage")
    );
    let back = send(router, "/backstage", &[&bearer]).await;
    assert_eq!(
        (back.status, back.body.as_str()),
        (StatusCode::OK, "bob backstage")
    );
}

#[tokio::test]
async fn a_gold_token_narrowed_to_stages_does_not_open_backstage() {
    let fixture = Fixture::new();
    let token = fixture.token("bob", Wristband::Gold, "stages");
    let answer = send(
        routes(fixture.verifier),
        "/backstage",
        &[&format!("Bearer {token}")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_token_in_the_query_string_is_refused_with_invalid_request() {
    let fixture = Fixture::new();
    let token = fixture.token("alice", Wristband::Green, "stages");
    let answer = send(
        routes(fixture.verifier),
        &format!("/me?access_token={token}"),
        &[],
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_request", error_description="Send the access token in the Authorization header, never in the URL""#
        )
    );
}

#[tokio::test]
async fn a_token_sent_in_the_header_and_the_query_is_refused_with_invalid_request() {
    let fixture = Fixture::new();
    let token = fixture.token("alice", Wristband::Green, "stages");
    let answer = send(
        routes(fixture.verifier),
        &format!("/me?access_token={token}"),
        &[&format!("Bearer {token}")],
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_request", error_description="Send the access token one way only: in the Authorization header""#
        )
    );
}

#[tokio::test]
async fn two_authorization_headers_are_refused_with_invalid_request() {
    let fixture = Fixture::new();
    let token = fixture.token("alice", Wristband::Green, "stages");
    let bearer = format!("Bearer {token}");
    let answer = send(routes(fixture.verifier), "/me", &[&bearer, &bearer]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_request", error_description="Send exactly one Authorization header""#
        )
    );
}

#[tokio::test]
async fn bearer_without_a_token_is_refused_with_invalid_request() {
    let fixture = Fixture::new();
    let answer = send(routes(fixture.verifier), "/raw", &["Bearer"]).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_request", error_description="The Authorization header must be: Bearer <token>""#
        )
    );
}

#[tokio::test]
async fn the_bearer_token_extractor_passes_the_token_on_unverified() {
    let fixture = Fixture::new();
    let answer = send(routes(fixture.verifier), "/raw", &["bearer abc.def"]).await;
    assert_eq!((answer.status, answer.body.as_str()), (StatusCode::OK, "7"));
}

#[derive(Clone)]
struct FestivalState {
    verifier: Verifier,
}

impl BearerState for FestivalState {
    fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    fn realm(&self) -> &str {
        "festival"
    }
}

#[tokio::test]
async fn the_realm_comes_from_the_state() {
    let fixture = Fixture::new();
    let state = FestivalState {
        verifier: fixture.verifier,
    };
    let answer = send(routes(state), "/me", &[]).await;
    assert_eq!(
        answer.challenge.as_deref(),
        Some(r#"Bearer realm="festival""#)
    );
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused_with_invalid_token() {
    let fixture = Fixture::new();
    let stranger = Issuer::new(
        SigningKey::from_seed([9; 32]),
        TokenConfig::new("https://festival.example", "festival-api"),
        fixture.clock.clone(),
        Arc::new(SeededEntropy::new(1)),
    );
    let token = stranger
        .issue("mallory", Wristband::Gold, "stages backstage")
        .unwrap();
    let answer = send(
        routes(fixture.verifier),
        "/backstage",
        &[&format!("Bearer {}", token.access_token.expose())],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.challenge.as_deref(),
        Some(
            r#"Bearer realm="wristband", error="invalid_token", error_description="The access token signature is invalid""#
        )
    );
}

#[tokio::test]
async fn a_verified_user_is_written_into_the_identity_slot_for_the_request_log() {
    let fixture = Fixture::new();
    let token = fixture.token("bob", Wristband::Gold, "stages backstage");
    for (authorization, expected) in [
        (format!("Bearer {token}"), Some("bob".to_owned())),
        ("Bearer not-a-token".to_owned(), None),
    ] {
        let slot = wristband_axum::IdentitySlot::default();
        let mut request = Request::get("/me")
            .header(header::AUTHORIZATION, authorization)
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(slot.clone());
        routes(fixture.verifier.clone())
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(slot.get(), expected);
    }
}
