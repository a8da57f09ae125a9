//! Lesson 09, the map at the entrance: the OpenAPI document the festival generates from its code.
//!
//! [`transcript`] starts the festival app in-process (in-memory SQLite, fixed clock, seeded
//! randomness, the demo accounts), fetches `/openapi.json`, and prints the parts that say who
//! may go where: the two security schemes, and each operation's security requirement with its
//! scopes. Then it shows the docs page at `/docs`, and does by hand what its Authorize button
//! does: the password flow at `/token`, and the token at a locked route.

use std::sync::Arc;

use festival_app::{App, Config, Inject, build_with};
use serde_json::Value;
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_passwords::HashParams;
use wristband_tokens::SigningKey;
use wristband_transcript::{Transcript, request};

/// The lesson's clock: 2025-07-19 12:00:00 UTC, Saturday noon at the festival.
const NOON: u64 = 1_752_926_400;

/// Builds the festival app the lesson talks to.
///
/// # Panics
///
/// If the app cannot start, which would be a bug in the lesson.
#[allow(clippy::expect_used)]
pub async fn festival() -> App {
    let mut config = Config::with_data_dir("unused");
    config.demo = true;
    config.database_url = Some("sqlite::memory:".to_owned());
    build_with(
        config,
        Inject {
            clock: Arc::new(FixedClock::at(NOON)),
            entropy: Arc::new(SeededEntropy::new(9)),
            // NOTE: cheap hashing so the lesson runs in a blink; the app itself uses OWASP's
            // argon2id parameters (lesson 01).
            hash_params: HashParams {
                memory_kib: 256,
                iterations: 1,
                parallelism: 1,
            },
            signing_key: Some(SigningKey::from_seed([9; 32])),
        },
    )
    .await
    .expect("the festival app starts")
}

/// One operation's security requirement in words: `open`, or the schemes with their scopes.
fn requirement(operation: &Value) -> String {
    let alternatives: Vec<String> = operation
        .get("security")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_object)
                .filter(|requirement| !requirement.is_empty())
                .map(|requirement| {
                    requirement
                        .iter()
                        .map(|(scheme, scopes)| {
                            let scopes: Vec<&str> = scopes
                                .as_array()
                                .map(|list| list.iter().filter_map(Value::as_str).collect())
                                .unwrap_or_default();
                            if scopes.is_empty() {
                                scheme.clone()
                            } else {
                                format!("{scheme} [{}]", scopes.join(" "))
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" and ")
                })
                .collect()
        })
        .unwrap_or_default();
    if alternatives.is_empty() {
        "open (no security requirement)".to_owned()
    } else {
        alternatives.join(", or ")
    }
}

/// Pretty JSON, each line indented by two spaces, for quoting part of the document.
fn quote(t: &mut Transcript, value: &Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    for line in text.lines() {
        t.line(&format!("  {line}"));
    }
}

/// Runs the lesson and returns its transcript.
///
/// # Panics
///
/// If the app cannot start, which would be a bug in the lesson.
pub async fn transcript() -> String {
    let app = festival().await;
    let router = app.router();
    let mut t = Transcript::new().with_body_line_limit(12);

    t.heading("Lesson 09: the map at the entrance");
    t.say(
        "A festival prints a map: which gates are open to everyone, which need a wristband, \
         which need a gold one. An API's map is its OpenAPI document. The festival generates it \
         from the code (utoipa annotations on the very handlers that serve the routes), so the \
         map cannot drift from the ground. It is served at /openapi.json; long bodies are cut \
         to their first twelve lines here, and the parts that matter are quoted.",
    );

    t.heading("Step 1: fetching the document");
    let document = t
        .send(&router, request::get("/openapi.json"))
        .await
        .json()
        .unwrap_or_default();
    t.say(&format!(
        "An OpenAPI {} document titled {:?}.",
        document["openapi"].as_str().unwrap_or("?"),
        document["info"]["title"].as_str().unwrap_or("?"),
    ));

    t.heading("Step 2: the locks, declared once");
    t.say(
        "components.securitySchemes names the ways to show a wristband. \"bearer\" is an HTTP \
         bearer token (RFC 6750) in JWT format: paste a token. \"oauth2\" is the password flow \
         with its token URL and the scopes it can grant, with a description for each: let the \
         docs page log in for you.",
    );
    quote(&mut t, &document["components"]["securitySchemes"]);

    t.heading("Step 3: which doors are locked, and with which scopes");
    t.say(
        "Each operation carries a security list: a list of alternatives, any one of which \
         suffices, each naming schemes and the scopes it needs. An operation without one is \
         open. Read straight from the document:",
    );
    if let Some(paths) = document["paths"].as_object() {
        for (path, item) in paths {
            if let Some(item) = item.as_object() {
                for (method, operation) in item {
                    t.line(&format!(
                        "  {:<6} {:<20} {}",
                        method.to_uppercase(),
                        path,
                        requirement(operation)
                    ));
                }
            }
        }
    }
    t.say(
        "GET /api/me needs a valid token but no particular scope, so its requirement lists the \
         schemes with empty scope lists. The backstage door, exactly as the document says it:",
    );
    quote(
        &mut t,
        &document["paths"]["/api/backstage"]["get"]["security"],
    );
    t.say("And the answers it documents besides 200, each a promise the router keeps:");
    if let Some(responses) = document["paths"]["/api/backstage"]["get"]["responses"].as_object() {
        for (status, response) in responses {
            t.line(&format!(
                "  {status}  {}",
                response["description"].as_str().unwrap_or_default()
            ));
        }
    }

    t.heading("Step 4: the docs page");
    t.send(&router, request::get("/docs")).await;
    t.send(&router, request::get("/docs/")).await;
    t.say(
        "Swagger UI, served from the app itself (vendored into the binary, no CDN), reading \
         /openapi.json. It draws a lock on every operation with a security requirement, and \
         none on /token and /health. Its Authorize button offers both schemes: paste a token \
         for \"bearer\", or type a username and password for \"oauth2\".",
    );

    t.heading("Step 5: what Authorize does");
    t.say(
        "For the password flow, Swagger UI posts the form to the document's tokenUrl, asking \
         for the scopes ticked in its dialog. Bob, gold wristband, asks for both:",
    );
    let token = t
        .send(
            &router,
            request::post_form(
                "/token",
                &[
                    ("grant_type", "password"),
                    ("username", "bob"),
                    ("password", "gold-wristband-demo"),
                    ("scope", "stages backstage"),
                ],
            ),
        )
        .await
        .json_str("access_token")
        .unwrap_or_default();
    t.say(
        "From then on it sends the token with every \"Try it out\" request on a locked \
         operation. Without it, the lock means what it says:",
    );
    t.send(&router, request::get("/api/backstage")).await;
    t.send(
        &router,
        request::bearer(request::get("/api/backstage"), &token),
    )
    .await;
    t.say("And an open route stays open without any token:");
    t.send(&router, request::get("/health")).await;

    t.heading("A warning on the map");
    t.say(
        "The document is for reading, not for enforcing: the locks on the map are drawn from \
         the same annotations, but the doors are locked by the extractors in the handlers \
         (lessons 03 and 05). A route that forgot its extractor would still be drawn with a \
         lock if annotated so; the router tests, not the document, prove each door holds.",
    );
    t.into_string()
}
