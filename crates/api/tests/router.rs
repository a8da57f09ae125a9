//! Every row of the API table and every error case, through the real router with `oneshot`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;
use wristband_api::{
    ApiState, DirectoryError, DirectoryFuture, InMemoryUsers, UserDirectory, UserRecord, router,
};
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_passwords::{
    HashParams, HashingPool, LoginThrottle, Password, PasswordHash, PasswordHasher, PoolConfig,
    ThrottleConfig,
};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};

const NOW: u64 = 1_750_000_000;
const FORM: &str = "application/x-www-form-urlencoded";

const BARE_CHALLENGE: &str = r#"Bearer realm="wristband""#;
const EXPIRED_CHALLENGE: &str = r#"Bearer realm="wristband", error="invalid_token", error_description="The access token expired""#;
const FORGED_CHALLENGE: &str = r#"Bearer realm="wristband", error="invalid_token", error_description="The access token signature is invalid""#;
const NO_BACKSTAGE_CHALLENGE: &str = r#"Bearer realm="wristband", error="insufficient_scope", error_description="The access token does not carry the scope this route requires", scope="backstage""#;

struct Festival {
    clock: Arc<FixedClock>,
    users: Arc<InMemoryUsers>,
    state: ApiState,
}

fn hasher(seed: u64) -> PasswordHasher {
    PasswordHasher::new(HashParams::OWASP, Arc::new(SeededEntropy::new(seed)))
        .expect("OWASP parameters are valid")
}

impl Festival {
    fn new() -> Self {
        Self::with_pool(PoolConfig::default())
    }

    fn with_pool(pool: PoolConfig) -> Self {
        let hasher = hasher(1);
        let users = InMemoryUsers::demo(&hasher).expect("demo passwords hash");
        let users = Arc::new(users);
        let clock = Arc::new(FixedClock::at(NOW));
        let key = SigningKey::from_seed([42; 32]);
        let config = TokenConfig::new("https://festival.example", "festival-api");
        let state = ApiState::new(
            users.clone(),
            HashingPool::new(hasher, pool),
            Issuer::new(
                key.clone(),
                config.clone(),
                clock.clone(),
                Arc::new(SeededEntropy::new(2)),
            ),
            Verifier::new(key.key_set(), config, clock.clone()),
        );
        Self {
            clock,
            users,
            state,
        }
    }

    fn router(&self) -> Router {
        router(self.state.clone())
    }

    async fn token(&self, username: &str, password: &str) -> String {
        let answer = self
            .post_form(&format!(
                "grant_type=password&username={username}&password={password}"
            ))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["access_token"].as_str().unwrap().to_owned()
    }

    async fn post_form(&self, form: &str) -> Answer {
        send(
            self.router(),
            Request::post("/token")
                .header(header::CONTENT_TYPE, FORM)
                .body(Body::from(form.to_owned()))
                .unwrap(),
        )
        .await
    }

    async fn get(&self, uri: &str, token: Option<&str>) -> Answer {
        let mut request = Request::get(uri);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        send(self.router(), request.body(Body::empty()).unwrap()).await
    }
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("ASCII header"))
    }
}

async fn send(router: Router, request: Request<Body>) -> Answer {
    let response = router.oneshot(request).await.expect("infallible router");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Answer {
        status,
        headers,
        body,
    }
}

// ---- GET /health ----

#[tokio::test]
async fn health_answers_ok_to_anyone() {
    let festival = Festival::new();
    let answer = festival.get("/health", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, json!({"status": "ok"}));
}

// ---- POST /token: success ----

#[tokio::test]
async fn the_right_password_gets_a_bearer_token_that_must_not_be_cached() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=alice&password=green-wristband-demo")
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.header("pragma"), Some("no-cache"));
    assert_eq!(answer.header("content-type"), Some("application/json"));

    let body = answer.body.as_object().unwrap();
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "expires_in", "scope", "token_type"]);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "stages");

    let claims = festival
        .state
        .verifier
        .verify(body["access_token"].as_str().unwrap())
        .expect("the issued token verifies");
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.wristband, Wristband::Green);
}

#[tokio::test]
async fn a_gold_wristband_gets_stages_and_backstage_by_default() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=bob&password=gold-wristband-demo")
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["scope"], "stages backstage");
}

#[tokio::test]
async fn an_empty_scope_parameter_counts_as_no_scope_parameter() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=bob&password=gold-wristband-demo&scope=")
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["scope"], "stages backstage");
}

#[tokio::test]
async fn a_request_for_more_scope_than_the_wristband_allows_is_narrowed_and_says_so() {
    let festival = Festival::new();
    let answer = festival
        .post_form(
            "grant_type=password&username=alice&password=green-wristband-demo\
             &scope=stages+backstage",
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["scope"], "stages");
}

#[tokio::test]
async fn a_gold_wristband_may_ask_for_less_and_then_gets_less() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=bob&password=gold-wristband-demo&scope=stages")
        .await;
    assert_eq!(answer.body["scope"], "stages");
    let token = answer.body["access_token"].as_str().unwrap();
    let backstage = festival.get("/api/backstage", Some(token)).await;
    assert_eq!(backstage.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_successful_login_upgrades_a_weak_password_hash() {
    let festival = Festival::new();
    let weak = PasswordHasher::new(
        HashParams {
            memory_kib: 8_192,
            iterations: 1,
            parallelism: 1,
        },
        Arc::new(SeededEntropy::new(9)),
    )
    .unwrap();
    festival.users.insert(UserRecord {
        username: "carol".to_owned(),
        password_hash: weak.hash(&Password::new("an-old-ticket")).unwrap(),
        wristband: Wristband::Green,
    });

    let answer = festival
        .post_form("grant_type=password&username=carol&password=an-old-ticket")
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let stored = festival.users.get("carol").unwrap().password_hash;
    assert_eq!(stored.scheme(), "$argon2id$v=19$m=19456,t=2,p=1");
    // And the upgraded hash still accepts the same password.
    let again = festival
        .post_form("grant_type=password&username=carol&password=an-old-ticket")
        .await;
    assert_eq!(again.status, StatusCode::OK);
}

// ---- POST /token: refusals ----

fn assert_oauth_error(answer: &Answer, status: StatusCode, error: &str) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.body["error"], error, "{answer:?}");
    assert!(answer.body["error_description"].is_string(), "{answer:?}");
    assert_eq!(answer.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn spaces_around_the_username_are_ignored_as_at_the_gate() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=%20alice%20&password=green-wristband-demo")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    let blank = festival
        .post_form("grant_type=password&username=%20%20&password=green-wristband-demo")
        .await;
    assert_oauth_error(&blank, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_wrong_password_is_invalid_grant() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=alice&password=not-her-password")
        .await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(
        answer.body,
        json!({"error": "invalid_grant", "error_description": "The username or password is incorrect"})
    );
}

#[tokio::test]
async fn an_unknown_user_gets_exactly_the_answer_of_a_wrong_password() {
    let festival = Festival::new();
    let wrong_password = festival
        .post_form("grant_type=password&username=alice&password=not-her-password")
        .await;
    let unknown_user = festival
        .post_form("grant_type=password&username=mallory&password=not-her-password")
        .await;
    assert_eq!(unknown_user.status, wrong_password.status);
    assert_eq!(unknown_user.headers, wrong_password.headers);
    assert_eq!(unknown_user.body, wrong_password.body);
}

// ---- POST /token: the throttle on password guessing ----

fn throttled_festival(max_failures: u32) -> Festival {
    let mut festival = Festival::new();
    let throttle = LoginThrottle::new(
        ThrottleConfig {
            max_failures,
            window: Duration::from_secs(600),
            ..ThrottleConfig::default()
        },
        festival.clock.clone(),
    );
    festival.state = festival.state.clone().with_throttle(throttle);
    festival
}

const WRONG_ALICE: &str = "grant_type=password&username=alice&password=not-her-password";
const RIGHT_ALICE: &str = "grant_type=password&username=alice&password=green-wristband-demo";

#[tokio::test]
async fn after_too_many_wrong_passwords_even_the_right_one_waits_with_429_and_retry_after() {
    let festival = throttled_festival(3);
    for _ in 0..3 {
        let answer = festival.post_form(WRONG_ALICE).await;
        assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant");
        festival.clock.advance(10);
    }

    let answer = festival.post_form(RIGHT_ALICE).await;
    assert_oauth_error(
        &answer,
        StatusCode::TOO_MANY_REQUESTS,
        "temporarily_unavailable",
    );
    // The first failure, 30 s ago, leaves the 600 s window in 570 s.
    assert_eq!(answer.header("retry-after"), Some("570"));

    festival.clock.advance(570);
    festival.token("alice", "green-wristband-demo").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guesses_sent_all_at_once_are_held_to_the_same_budget() {
    let festival = throttled_festival(3);
    let mut guesses = tokio::task::JoinSet::new();
    for n in 0..20 {
        let request = Request::post("/token")
            .header(header::CONTENT_TYPE, FORM)
            .body(Body::from(format!(
                "grant_type=password&username=alice&password=guess-{n}"
            )))
            .unwrap();
        guesses.spawn(send(festival.router(), request));
    }
    let mut checked = 0;
    let mut refused = 0;
    while let Some(answer) = guesses.join_next().await {
        match answer.unwrap().status {
            StatusCode::BAD_REQUEST => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((checked, refused), (3, 17));
}

#[tokio::test]
async fn a_throttled_unknown_user_gets_exactly_the_answer_of_a_throttled_ticket_holder() {
    let festival = throttled_festival(2);
    for username in ["alice", "mallory"] {
        for _ in 0..2 {
            festival
                .post_form(&format!(
                    "grant_type=password&username={username}&password=guess"
                ))
                .await;
        }
    }
    let alice = festival
        .post_form("grant_type=password&username=alice&password=guess")
        .await;
    let mallory = festival
        .post_form("grant_type=password&username=mallory&password=guess")
        .await;
    assert_eq!(alice.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(mallory.status, alice.status);
    assert_eq!(mallory.headers, alice.headers);
    assert_eq!(mallory.body, alice.body);
}

#[tokio::test]
async fn a_successful_login_wipes_the_slate_and_other_users_are_never_throttled() {
    let festival = throttled_festival(2);
    festival.post_form(WRONG_ALICE).await;
    festival.token("alice", "green-wristband-demo").await;
    festival.post_form(WRONG_ALICE).await;
    festival.token("alice", "green-wristband-demo").await;

    festival.post_form(WRONG_ALICE).await;
    festival.post_form(WRONG_ALICE).await;
    assert_eq!(
        festival.post_form(RIGHT_ALICE).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    festival.token("bob", "gold-wristband-demo").await;
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request() {
    let festival = Festival::new();
    let answer = festival
        .post_form("username=alice&password=green-wristband-demo")
        .await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn another_grant_type_is_unsupported_grant_type() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=client_credentials&username=alice&password=green-wristband-demo")
        .await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "unsupported_grant_type");
}

#[tokio::test]
async fn a_missing_username_or_password_is_invalid_request() {
    let festival = Festival::new();
    for form in [
        "grant_type=password&password=green-wristband-demo",
        "grant_type=password&username=alice",
        "grant_type=password&username=alice&password=",
    ] {
        let answer = festival.post_form(form).await;
        assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    }
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=alice&username=bob&password=x")
        .await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_json_body_is_invalid_request() {
    let festival = Festival::new();
    let answer = send(
        festival.router(),
        Request::post("/token")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"grant_type":"password","username":"alice","password":"green-wristband-demo"}"#,
            ))
            .unwrap(),
    )
    .await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_body_without_content_type_is_invalid_request() {
    let festival = Festival::new();
    let answer = send(
        festival.router(),
        Request::post("/token")
            .body(Body::from(
                "grant_type=password&username=alice&password=green-wristband-demo",
            ))
            .unwrap(),
    )
    .await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn an_unknown_scope_is_invalid_scope() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=bob&password=gold-wristband-demo&scope=admin")
        .await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_scope");
}

#[tokio::test]
async fn a_green_wristband_asking_only_for_backstage_is_invalid_scope() {
    let festival = Festival::new();
    let answer = festival
        .post_form(
            "grant_type=password&username=alice&password=green-wristband-demo&scope=backstage",
        )
        .await;
    assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_scope");
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let festival = Festival::new();
    let form = format!(
        "grant_type=password&username=alice&password={}",
        "x".repeat(wristband_api::TOKEN_BODY_LIMIT)
    );
    let answer = festival.post_form(&form).await;
    assert_oauth_error(&answer, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request");
}

#[tokio::test]
async fn get_on_the_token_endpoint_is_method_not_allowed() {
    let festival = Festival::new();
    let answer = festival.get("/token", None).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.header("allow"), Some("POST"));
}

#[tokio::test]
async fn a_saturated_hashing_pool_answers_503_with_retry_after() {
    let festival = Festival::with_pool(PoolConfig {
        max_concurrent: 1,
        max_waiting: 0,
    });
    // Occupy the only slot. On this single-threaded test runtime, yielding once lets the
    // spawned hash start and take its slot; it cannot give the slot back until this task
    // yields again, and the request below runs to its answer without yielding.
    let pool = festival.state.passwords.clone();
    let occupant = tokio::spawn(async move { pool.hash(Password::new("occupant")).await });
    tokio::task::yield_now().await;

    let answer = festival
        .post_form("grant_type=password&username=alice&password=green-wristband-demo")
        .await;
    assert_oauth_error(
        &answer,
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
    );
    assert_eq!(answer.header("retry-after"), Some("1"));
    occupant
        .await
        .unwrap()
        .expect("the occupant's hash completes");
}

struct BrokenDirectory;

impl UserDirectory for BrokenDirectory {
    fn find<'a>(&'a self, _username: &'a str) -> DirectoryFuture<'a, Option<UserRecord>> {
        Box::pin(async { Err(DirectoryError::backend("database file is corrupt")) })
    }

    fn replace_password_hash<'a>(
        &'a self,
        _username: &'a str,
        _hash: PasswordHash,
    ) -> DirectoryFuture<'a, ()> {
        Box::pin(async { Err(DirectoryError::backend("database file is corrupt")) })
    }
}

#[tokio::test]
async fn a_failing_user_directory_gives_a_generic_500() {
    let festival = Festival::new();
    let mut state = festival.state.clone();
    state.users = Arc::new(BrokenDirectory);
    let answer = send(
        router(state),
        Request::post("/token")
            .header(header::CONTENT_TYPE, FORM)
            .body(Body::from(
                "grant_type=password&username=alice&password=green-wristband-demo",
            ))
            .unwrap(),
    )
    .await;
    assert_oauth_error(&answer, StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    assert!(
        !answer.body.to_string().contains("corrupt"),
        "the cause is logged, not sent"
    );
}

// ---- GET /api/me ----

#[tokio::test]
async fn me_without_a_token_is_401_with_a_bare_challenge() {
    let festival = Festival::new();
    let answer = festival.get("/api/me", None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some(BARE_CHALLENGE));
}

#[tokio::test]
async fn me_with_a_token_names_the_user_wristband_and_scopes() {
    let festival = Festival::new();
    let token = festival.token("bob", "gold-wristband-demo").await;
    let answer = festival.get("/api/me", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({"username": "bob", "wristband": "gold", "scopes": ["stages", "backstage"]})
    );
}

#[tokio::test]
async fn me_with_an_expired_token_is_401_invalid_token() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    festival.clock.advance(15 * 60 + 30);
    let answer = festival.get("/api/me", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some(EXPIRED_CHALLENGE));
    assert_eq!(answer.body["error"], "invalid_token");
}

#[tokio::test]
async fn me_with_a_tampered_token_is_401_invalid_token() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    let mut forged = token.into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let answer = festival.get("/api/me", Some(&forged)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some(FORGED_CHALLENGE));
}

#[tokio::test]
async fn me_with_a_token_in_the_query_string_is_400_invalid_request() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    let answer = festival
        .get(&format!("/api/me?access_token={token}"), None)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(
            r#"Bearer realm="wristband", error="invalid_request", error_description="Send the access token in the Authorization header, never in the URL""#
        )
    );
}

#[tokio::test]
async fn me_with_a_malformed_authorization_header_is_400_invalid_request() {
    let festival = Festival::new();
    let answer = send(
        festival.router(),
        Request::get("/api/me")
            .header(header::AUTHORIZATION, "Bearer two tokens")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(
            r#"Bearer realm="wristband", error="invalid_request", error_description="The Authorization header must be: Bearer <token>""#
        )
    );
}

#[tokio::test]
async fn a_token_sent_in_the_header_and_the_query_is_400_invalid_request() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    let answer = festival
        .get(
            &format!("/api/stages/main?access_token={token}"),
            Some(&token),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(
            r#"Bearer realm="wristband", error="invalid_request", error_description="Send the access token one way only: in the Authorization header""#
        )
    );
    assert_eq!(answer.body["error"], "invalid_request");
}

#[tokio::test]
async fn two_authorization_headers_are_400_invalid_request() {
    let festival = Festival::new();
    let token = festival.token("bob", "gold-wristband-demo").await;
    let bearer = format!("Bearer {token}");
    let answer = send(
        festival.router(),
        Request::get("/api/backstage")
            .header(header::AUTHORIZATION, &bearer)
            .header(header::AUTHORIZATION, &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(
            r#"Bearer realm="wristband", error="invalid_request", error_description="Send exactly one Authorization header""#
        )
    );
}

#[tokio::test]
async fn me_with_basic_credentials_is_401_with_a_bare_challenge() {
    let festival = Festival::new();
    let answer = send(
        festival.router(),
        Request::get("/api/me")
            .header(header::AUTHORIZATION, "Basic YWxpY2U6Z3JlZW4=")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some(BARE_CHALLENGE));
}

// ---- GET /api/stages/{stage} ----

#[tokio::test]
async fn a_green_wristband_is_welcome_at_the_main_stage() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    let answer = festival.get("/api/stages/main", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({"stage": "main", "welcome": "Welcome to the Main Stage, alice."})
    );
}

#[tokio::test]
async fn every_stage_of_the_lineup_answers() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    for stage in wristband_api::lineup::STAGES {
        let answer = festival
            .get(&format!("/api/stages/{}", stage.slug), Some(&token))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", stage.slug);
        assert_eq!(answer.body["stage"], stage.slug);
    }
}

#[tokio::test]
async fn an_unknown_stage_is_404_with_a_json_error() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    let answer = festival.get("/api/stages/moon", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body["error"], "not_found");
    assert!(!answer.body.to_string().contains("moon"));
}

#[tokio::test]
async fn an_anonymous_caller_learns_nothing_about_which_stages_exist() {
    let festival = Festival::new();
    for path in ["/api/stages/main", "/api/stages/moon"] {
        let answer = festival.get(path, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer.header("www-authenticate"), Some(BARE_CHALLENGE));
    }
}

#[tokio::test]
async fn a_token_without_the_stages_scope_is_403_at_a_stage() {
    let festival = Festival::new();
    let answer = festival
        .post_form("grant_type=password&username=bob&password=gold-wristband-demo&scope=backstage")
        .await;
    let token = answer.body["access_token"].as_str().unwrap().to_owned();
    let answer = festival.get("/api/stages/main", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(
            r#"Bearer realm="wristband", error="insufficient_scope", error_description="The access token does not carry the scope this route requires", scope="stages""#
        )
    );
}

// ---- GET /api/backstage ----

#[tokio::test]
async fn a_gold_wristband_is_welcome_backstage() {
    let festival = Festival::new();
    let token = festival.token("bob", "gold-wristband-demo").await;
    let answer = festival.get("/api/backstage", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({"area": "backstage", "welcome": "Welcome backstage, bob."})
    );
}

#[tokio::test]
async fn a_green_wristband_backstage_is_403_insufficient_scope() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    let answer = festival.get("/api/backstage", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.header("www-authenticate"),
        Some(NO_BACKSTAGE_CHALLENGE)
    );
    assert_eq!(
        answer.body,
        json!({
            "error": "insufficient_scope",
            "error_description": "The access token does not carry the scope this route requires"
        })
    );
}

#[tokio::test]
async fn backstage_without_a_token_is_401_with_a_bare_challenge() {
    let festival = Festival::new();
    let answer = festival.get("/api/backstage", None).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some(BARE_CHALLENGE));
    assert_eq!(
        answer.body,
        json!({"error_description": "This route needs an access token: send Authorization: Bearer <token>"})
    );
}

#[tokio::test]
async fn backstage_with_an_expired_gold_token_is_401_invalid_token() {
    let festival = Festival::new();
    let token = festival.token("bob", "gold-wristband-demo").await;
    festival.clock.advance(3600);
    let answer = festival.get("/api/backstage", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some(EXPIRED_CHALLENGE));
}

#[tokio::test]
async fn a_stage_with_an_expired_token_is_401_invalid_token() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    festival.clock.advance(15 * 60 + 30);
    let answer = festival.get("/api/stages/main", Some(&token)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some(EXPIRED_CHALLENGE));
}

#[tokio::test]
async fn a_stage_with_a_forged_token_is_401_invalid_token() {
    let festival = Festival::new();
    let token = festival.token("alice", "green-wristband-demo").await;
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let forged = format!("{signed}.{flipped}{}", &signature[1..]);
    let answer = festival.get("/api/stages/main", Some(&forged)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.header("www-authenticate"), Some(FORGED_CHALLENGE));
}

// ---- Outside the table ----

#[tokio::test]
async fn a_path_outside_the_table_is_404() {
    let festival = Festival::new();
    let answer = festival.get("/api/secrets", None).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn posting_to_a_gated_route_is_method_not_allowed() {
    let festival = Festival::new();
    let answer = send(
        festival.router(),
        Request::builder()
            .method(Method::POST)
            .uri("/api/backstage")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
}
