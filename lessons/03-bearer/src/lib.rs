//! Lesson 03, the stage door: a route that needs a wristband, and what it answers without one.
//!
//! [`transcript`] builds a one-route app whose handler asks for a
//! [`CurrentUser`](wristband_axum::CurrentUser), then sends it the requests a festival door
//! sees: none, a good wristband, a forged one, an expired one, and two ways of showing a token
//! wrongly. The clock is a [`FixedClock`] and token ids come from a seeded generator, so the
//! transcript is the same on every run.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use wristband_axum::CurrentUser;
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};
use wristband_transcript::{Transcript, request};

/// The lesson's clock starts here: 2025-06-15 15:06:40 UTC, a festival afternoon.
const START: u64 = 1_750_000_000;

/// The handler behind the door. Asking for `CurrentUser` is the whole of the protection: axum
/// runs the extractor first, and the handler body only runs with a verified token.
async fn me(user: CurrentUser) -> Json<Value> {
    Json(json!({
        "username": user.username,
        "wristband": user.wristband,
        "scopes": user.scopes,
    }))
}

/// Runs the lesson and returns its transcript.
///
/// # Panics
///
/// Panics if the fixed demo key fails to sign, which would be a bug in the lesson.
#[allow(clippy::expect_used)]
pub async fn transcript() -> String {
    let clock = Arc::new(FixedClock::at(START));
    let key = SigningKey::from_seed([3; 32]);
    let config = TokenConfig::new("https://festival.example", "festival-api");
    let issuer = Issuer::new(
        key.clone(),
        config.clone(),
        clock.clone(),
        Arc::new(SeededEntropy::new(3)),
    );
    let verifier = Verifier::new(key.key_set(), config, clock.clone());
    let app = Router::new()
        .route("/users/me", get(me))
        .with_state(verifier);

    let mut t = Transcript::new();
    t.heading("Lesson 03: the stage door");
    t.say(
        "Every door at the festival checks wristbands, not tickets. In HTTP the wristband \
         is a bearer token in one header: Authorization: Bearer <token> (RFC 6750 §2.1). \
         The app here has one route, GET /users/me, whose handler takes a CurrentUser. \
         axum runs that extractor before the handler: no valid token, no handler.",
    );

    t.heading("Step 1: no wristband");
    t.say("Alice walks up without showing anything.");
    t.send(&app, request::get("/users/me")).await;
    t.say(
        "401 with a bare challenge: the scheme (Bearer) and the realm, and no error code. \
         RFC 6750 §3.1 keeps error codes for requests that tried to authenticate; a client \
         that sent nothing may simply not know the route is protected.",
    );

    t.heading("Step 2: a good wristband");
    let issued = issuer
        .issue("alice", Wristband::Green, "stages")
        .expect("the demo key signs");
    let token = issued.access_token.expose().to_owned();
    t.say(&format!(
        "The gate gave Alice a green wristband (lesson 04 shows how): a JWT signed with the \
         festival's Ed25519 key, valid for {} seconds.",
        issued.expires_in
    ));
    t.send(&app, request::bearer(request::get("/users/me"), &token))
        .await;
    t.say(
        "The extractor verified the signature, the type (at+jwt), issuer, audience and \
         expiry, and handed the handler a CurrentUser built from the claims.",
    );

    t.heading("Step 3: a forged wristband");
    let forged = with_claims(&token, |claims| {
        claims["wristband"] = json!("gold");
        claims["scope"] = json!("stages backstage");
    });
    t.say(
        "Anyone can read a JWT: the middle part is base64url-encoded JSON. Alice decodes it, \
         changes \"wristband\": \"green\" to \"gold\" and the scope to \"stages backstage\", \
         encodes it again and keeps the original signature.",
    );
    t.send(&app, request::bearer(request::get("/users/me"), &forged))
        .await;
    t.say(
        "The signature covers header and claims; it no longer matches, and only the holder \
         of the private key could make one that does. 401 with error=\"invalid_token\": the \
         client should get a new token.",
    );

    t.heading("Step 4: an expired wristband");
    clock.advance(issued.expires_in + 30);
    t.say(&format!(
        "The festival clock moves on by {} seconds: the token's lifetime plus the 30 seconds \
         of clock skew the verifier tolerates. Nobody sleeps; the lesson moves an injected \
         clock.",
        issued.expires_in + 30
    ));
    t.send(&app, request::bearer(request::get("/users/me"), &token))
        .await;
    t.say(
        "Same status and error code, a different description. A stolen bearer token works \
         for whoever holds it, so short lifetimes limit the damage (RFC 6750 §5.3).",
    );

    t.heading("Step 5: showing a wristband the wrong way");
    let fresh = issuer
        .issue("alice", Wristband::Green, "stages")
        .expect("the demo key signs");
    let fresh = fresh.access_token.expose().to_owned();
    t.say("Basic credentials are not a bearer token, so the door answers as if nothing was shown:");
    t.send(
        &app,
        request::with_header(
            request::get("/users/me"),
            axum::http::header::AUTHORIZATION,
            "Basic YWxpY2U6Z3JlZW4td3Jpc3RiYW5kLWRlbW8=",
        ),
    )
    .await;
    t.say(
        "RFC 6750 §2.3 also allows the token in the URL as ?access_token=. URLs end up in \
         server logs, browser history and Referer headers, so this door refuses it outright \
         and says where the token belongs:",
    );
    t.send(
        &app,
        request::get(&format!("/users/me?access_token={fresh}")),
    )
    .await;
    t.say(
        "400 invalid_request is RFC 6750's answer to a malformed request; the same answer \
         goes to a request with two Authorization headers, or with Bearer and no token.",
    );
    t.into_string()
}

/// Re-encodes the claims of `token` after `edit`, keeping its header and signature: a forgery.
fn with_claims(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return token.to_owned();
    };
    let Some(mut claims) = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
    else {
        return token.to_owned();
    };
    edit(&mut claims);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.{signature}")
}
