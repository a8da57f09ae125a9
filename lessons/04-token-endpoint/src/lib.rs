//! Lesson 04, the gate: the token endpoint that trades a username and password for a wristband.
//!
//! [`transcript`] builds the festival's JSON API ([`wristband_api::router`]) with two demo
//! ticket holders, logs in at `POST /token`, uses the token, and then shows every way the gate
//! says no. Clock, salts and token ids are injected and fixed, so the transcript is the same on
//! every run.

use std::sync::Arc;

use axum::Router;
use wristband_api::{ApiState, InMemoryUsers, router};
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_passwords::{HashParams, HashingPool, PasswordHasher, PoolConfig};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier};
use wristband_transcript::{Transcript, request};

/// The lesson's clock: 2025-06-15 15:06:40 UTC.
const START: u64 = 1_750_000_000;

/// The festival API with the demo ticket holders: alice (green) and bob (gold).
///
/// # Panics
///
/// Panics if hashing the fixed demo passwords fails, which would be a bug in the lesson.
#[allow(clippy::expect_used)]
pub fn festival() -> Router {
    let clock = Arc::new(FixedClock::at(START));
    // Seeded salts make the lesson repeatable. A real server uses `PasswordHasher::owasp()`,
    // which draws salts from the operating system.
    let hasher = PasswordHasher::new(HashParams::OWASP, Arc::new(SeededEntropy::new(4)))
        .expect("OWASP parameters are valid");
    let users = InMemoryUsers::demo(&hasher).expect("the demo passwords hash");
    let key = SigningKey::from_seed([4; 32]);
    let config = TokenConfig::new("https://festival.example", "festival-api");
    router(ApiState::new(
        Arc::new(users),
        HashingPool::new(hasher, PoolConfig::default()),
        Issuer::new(
            key.clone(),
            config.clone(),
            clock.clone(),
            Arc::new(SeededEntropy::new(4)),
        ),
        Verifier::new(key.key_set(), config, clock),
    ))
}

/// Runs the lesson and returns its transcript.
pub async fn transcript() -> String {
    let app = festival();
    let mut t = Transcript::new();

    t.heading("Lesson 04: the gate");
    t.say(
        "At the gate you show your ticket once and get a wristband. Here the ticket is a \
         username and password, the gate is POST /token, and the wristband is the access \
         token it answers with. This is the OAuth 2.0 \"resource owner password credentials\" \
         grant (RFC 6749 §4.3), the one FastAPI's tutorial is built on.",
    );
    t.say(
        "Be warned: RFC 9700 §2.4 says this grant MUST NOT be used. The client sees the \
         user's password, and the grant cannot do multi-factor login or \"log in with\" \
         another provider. The festival app's own login and lesson 07's authorization-code \
         flow are how it should be done.",
    );

    t.heading("Step 1: Alice logs in");
    t.say(
        "The request is a form (application/x-www-form-urlencoded), as RFC 6749 §4.3.2 \
         requires: grant_type=password, username, password.",
    );
    let login = t
        .send(
            &app,
            request::post_form(
                "/token",
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", "green-wristband-demo"),
                ],
            ),
        )
        .await;
    t.say(
        "The answer follows RFC 6749 §5.1: the token, its type, seconds until it expires, \
         and the scope granted. Cache-Control: no-store (and Pragma: no-cache for old \
         caches) keeps the token out of every cache between here and Alice.",
    );
    let token = login.json_str("access_token").unwrap_or_default();

    t.heading("Step 2: Alice shows her wristband");
    t.send(&app, request::bearer(request::get("/api/me"), &token))
        .await;
    t.say("Lesson 03's door, now behind a real gate.");

    t.heading("Step 3: a wrong password");
    let wrong_password = t
        .send(
            &app,
            request::post_form(
                "/token",
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", "green-wristband-dem0"),
                ],
            ),
        )
        .await;
    t.say(
        "400 with error=\"invalid_grant\" (RFC 6749 §5.2). Not 401: at the token endpoint \
         that status means the client application failed to authenticate (invalid_client), \
         and it was Alice's password that was wrong, not her app.",
    );

    t.heading("Step 4: a username nobody has");
    let unknown_user = t
        .send(
            &app,
            request::post_form(
                "/token",
                &[
                    ("grant_type", "password"),
                    ("username", "mallory"),
                    ("password", "green-wristband-dem0"),
                ],
            ),
        )
        .await;
    let identical = wrong_password.status == unknown_user.status
        && wrong_password.headers == unknown_user.headers
        && wrong_password.body == unknown_user.body;
    t.line(&format!(
        "Same status, same headers, same body as the wrong password: {}",
        if identical { "yes" } else { "NO" }
    ));
    t.say(
        "If Mallory could tell \"no such user\" from \"wrong password\", the gate would \
         hand out the list of ticket holders. The text is identical, and so is the cost: for \
         an unknown user the gate still runs argon2id, against a dummy hash, so a stopwatch \
         learns nothing either.",
    );

    t.heading("Step 5: requests the gate does not understand");
    t.say("A grant type the gate does not serve:");
    t.send(
        &app,
        request::post_form(
            "/token",
            &[
                ("grant_type", "client_credentials"),
                ("username", "alice"),
                ("password", "green-wristband-demo"),
            ],
        ),
    )
    .await;
    t.say("No grant type at all:");
    t.send(
        &app,
        request::post_form(
            "/token",
            &[("username", "alice"), ("password", "green-wristband-demo")],
        ),
    )
    .await;
    t.say("JSON instead of a form:");
    t.send(
        &app,
        request::post_raw(
            "/token",
            "application/json",
            r#"{"grant_type":"password","username":"alice","password":"green-wristband-demo"}"#,
        ),
    )
    .await;
    t.say(
        "unsupported_grant_type for a grant it knows nothing of, invalid_request for a \
         request it cannot read (RFC 6749 §5.2). None of them reaches the password check.",
    );
    t.into_string()
}
