//! Lesson 05, green and gold: scopes decide which doors a wristband opens.
//!
//! [`transcript`] builds the festival's JSON API with alice (green) and bob (gold), and walks
//! them to the main stage and to backstage. Then it shows what happens when a client asks for
//! more scope than the wristband allows, for scope it cannot have at all, and for less than it
//! could have. Clock, salts and token ids are injected and fixed, so the transcript is the same
//! on every run.

use std::sync::Arc;

use axum::Router;
use wristband_api::{ApiState, InMemoryUsers, router};
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_passwords::{HashParams, HashingPool, PasswordHasher, PoolConfig};
use wristband_scopes::{Scope, entitlements};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};
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
    let hasher = PasswordHasher::new(HashParams::OWASP, Arc::new(SeededEntropy::new(5)))
        .expect("OWASP parameters are valid");
    let users = InMemoryUsers::demo(&hasher).expect("the demo passwords hash");
    let key = SigningKey::from_seed([5; 32]);
    let config = TokenConfig::new("https://festival.example", "festival-api");
    router(ApiState::new(
        Arc::new(users),
        HashingPool::new(hasher, PoolConfig::default()),
        Issuer::new(
            key.clone(),
            config.clone(),
            clock.clone(),
            Arc::new(SeededEntropy::new(5)),
        ),
        Verifier::new(key.key_set(), config, clock),
    ))
}

/// Logs in at `/token`, writing the exchange down, and returns the access token (empty if the
/// gate refused, so the next exchange shows the refusal).
async fn log_in(
    t: &mut Transcript,
    app: &Router,
    username: &str,
    password: &str,
    scope: Option<&str>,
) -> String {
    let mut fields = vec![
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ];
    if let Some(scope) = scope {
        fields.push(("scope", scope));
    }
    let exchange = t.send(app, request::post_form("/token", &fields)).await;
    exchange.json_str("access_token").unwrap_or_default()
}

/// Runs the lesson and returns its transcript.
pub async fn transcript() -> String {
    let app = festival();
    let mut t = Transcript::new();

    t.heading("Lesson 05: green and gold");
    t.say(
        "A token's scope lists what it may be used for, as space-separated names (RFC 6749 \
         §3.3). The festival knows two scopes, and each wristband colour is entitled to a \
         set of them:",
    );
    for scope in Scope::ALL {
        t.line(&format!("  {:<10} {}", scope.as_str(), scope.description()));
    }
    t.line("");
    for wristband in [Wristband::Green, Wristband::Gold] {
        t.line(&format!(
            "  {:<10} entitled to: {}",
            wristband.as_str(),
            entitlements(wristband)
        ));
    }
    t.say(
        "Each route declares the scopes it needs in its handler's type: \
         Authorized<Stages> for GET /api/stages/{stage}, Authorized<Backstage> for \
         GET /api/backstage. The check runs before the handler.",
    );

    t.heading("Step 1: Alice, green wristband");
    let alice = log_in(&mut t, &app, "alice", "green-wristband-demo", None).await;
    t.say(
        "She asked for no scope in particular, so she got everything green is entitled to: \
         stages.",
    );
    t.send(
        &app,
        request::bearer(request::get("/api/stages/main"), &alice),
    )
    .await;
    t.say("At the backstage door:");
    t.send(
        &app,
        request::bearer(request::get("/api/backstage"), &alice),
    )
    .await;
    t.say(
        "403 Forbidden with error=\"insufficient_scope\" and scope=\"backstage\": the token \
         is valid, and the challenge names the scope it would need (RFC 6750 §3.1). Not \
         401: Alice proved who she is, and logging in again would not change her wristband. \
         FastAPI's tutorial answers 401 here; a client following RFC 6750 would then throw \
         away a good token and ask Alice for her password again, to no avail.",
    );

    t.heading("Step 2: Bob, gold wristband");
    let bob = log_in(&mut t, &app, "bob", "gold-wristband-demo", None).await;
    t.say("Gold includes everything green does. The main stage first:");
    t.send(
        &app,
        request::bearer(request::get("/api/stages/main"), &bob),
    )
    .await;
    t.say("And the door Alice could not pass:");
    t.send(&app, request::bearer(request::get("/api/backstage"), &bob))
        .await;

    t.heading("Step 3: asking for more than the wristband allows");
    t.say(
        "Alice's app asks for both scopes. A request is a wish, never a claim: the gate \
         grants the part of it her wristband allows and says so in the response's scope \
         (RFC 6749 §3.3, §5.1).",
    );
    let narrowed = log_in(
        &mut t,
        &app,
        "alice",
        "green-wristband-demo",
        Some("stages backstage"),
    )
    .await;
    t.send(
        &app,
        request::bearer(request::get("/api/backstage"), &narrowed),
    )
    .await;
    t.say(
        "The narrowed token opens what green opens, and nothing more. A client must read the \
         granted scope rather than assume it got what it asked for.",
    );

    t.heading("Step 4: asking only for what the wristband lacks");
    log_in(
        &mut t,
        &app,
        "alice",
        "green-wristband-demo",
        Some("backstage"),
    )
    .await;
    t.say(
        "Nothing asked for can be granted, so the gate refuses with invalid_scope (RFC 6749 \
         §5.2) instead of handing out a token that opens nothing. An unknown scope name gets \
         the same answer:",
    );
    log_in(
        &mut t,
        &app,
        "bob",
        "gold-wristband-demo",
        Some("stages admin"),
    )
    .await;

    t.heading("Step 5: asking for less");
    t.say(
        "Bob's phone app only ever gets him into the stages, so it asks for stages alone. A \
         token that leaks can then do only what it was made for (RFC 9700 §2.3, \
         access token privilege restriction).",
    );
    let least = log_in(&mut t, &app, "bob", "gold-wristband-demo", Some("stages")).await;
    t.send(
        &app,
        request::bearer(request::get("/api/backstage"), &least),
    )
    .await;
    t.say("Bob's gold wristband is entitled to backstage; this token of his is not.");
    t.into_string()
}
