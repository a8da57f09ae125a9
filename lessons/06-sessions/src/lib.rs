//! Lesson 06, the browser's wristband: a cookie session from first visit to logout.
//!
//! [`transcript`] starts the real festival app in-process (an in-memory SQLite database, a
//! fixed clock, seeded randomness, the demo accounts) and walks a browser through it with a
//! cookie jar: the session cookie and its attributes, a login form without its CSRF token, a
//! login that rotates the session id, the old id replayed, a forged and a real logout, the
//! logged-out cookie replayed, and the absolute timeout.
//!
//! Session ids come from tower-sessions' own random generator, so they differ on every run;
//! the snapshot test redacts them by name.

use std::sync::Arc;

use axum::http::header;
use festival_app::{App, Config, Inject, build_with};
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_passwords::HashParams;
use wristband_tokens::SigningKey;
use wristband_transcript::{Exchange, Transcript, request};

/// The lesson's clock: 2025-07-19 12:00:00 UTC, Saturday noon at the festival.
const NOON: u64 = 1_752_926_400;

/// The session cookie's name in a plain-http run (over https it is `__Host-wristband`).
const COOKIE: &str = "wristband";

/// Builds the festival app the lesson talks to.
///
/// # Panics
///
/// If the app cannot start, which would be a bug in the lesson.
#[allow(clippy::expect_used)]
pub async fn festival(clock: Arc<FixedClock>) -> App {
    let mut config = Config::with_data_dir("unused");
    config.demo = true;
    config.database_url = Some("sqlite::memory:".to_owned());
    build_with(
        config,
        Inject {
            clock,
            entropy: Arc::new(SeededEntropy::new(6)),
            // NOTE: cheap hashing so the lesson runs in a blink; the app itself uses OWASP's
            // argon2id parameters (lesson 01).
            hash_params: HashParams {
                memory_kib: 256,
                iterations: 1,
                parallelism: 1,
            },
            signing_key: Some(SigningKey::from_seed([6; 32])),
        },
    )
    .await
    .expect("the festival app starts")
}

/// The value of the hidden `csrf` field in a page, or an empty string.
fn csrf_field(page: &Exchange) -> String {
    let text = page.text();
    let marker = "name=\"csrf\" value=\"";
    text.find(marker)
        .map(|start| start + marker.len())
        .and_then(|start| {
            text[start..]
                .find('"')
                .map(|len| text[start..start + len].to_owned())
        })
        .unwrap_or_default()
}

/// Runs the lesson and returns its transcript.
///
/// # Panics
///
/// If the app cannot start, which would be a bug in the lesson.
pub async fn transcript() -> String {
    let clock = Arc::new(FixedClock::at(NOON));
    let app = festival(clock.clone()).await;
    let router = app.router();
    let mut t = Transcript::new().with_cookie_jar().with_body_line_limit(1);

    t.heading("Lesson 06: the browser's wristband");
    t.say(
        "A program shows its wristband token in every request (lessons 03 to 05). A browser \
         cannot be asked to do that: it keeps what a site gives it in cookies and sends them \
         back by itself. So the festival's web pages use a session: the server keeps the \
         visitor's state in its database, and the browser holds only a random session id in a \
         cookie. This transcript drives the real festival app in-process, with a browser-like \
         cookie jar. Only the first line of each HTML page is shown; the lines that matter are \
         quoted.",
    );

    t.heading("Step 1: a first visit to the gate");
    let gate = t.send(&router, request::get("/gate")).await;
    let before_login = t
        .cookies()
        .and_then(|jar| jar.get(COOKIE))
        .unwrap_or_default()
        .to_owned();
    let csrf = csrf_field(&gate);
    t.say(
        "The gate page has a form, and a form needs a CSRF token (step 2), which is kept in a \
         session, so this response starts one. The cookie holds only the session id: 128 random \
         bits, meaningless without the database row they point to. Each attribute defends \
         against something:",
    );
    t.line("  HttpOnly      page scripts cannot read it: an injected script cannot steal it");
    t.line("  SameSite=Lax  not sent on cross-site form posts or subrequests; still sent when");
    t.line("                a link or redirect from another site lands here (the vendor login)");
    t.line("  Path=/        sent to every page of this site, and to no other site");
    t.line("  Max-Age=1800  the idle timeout: 30 minutes, pushed back by every response");
    t.say(
        "Over https the cookie is also Secure (never sent over plain http) and named \
         __Host-wristband: the browser accepts a __Host- cookie only if it is Secure, has \
         Path=/ and no Domain, so a sibling subdomain cannot plant one. This run is plain http \
         on localhost, where a Secure cookie would be dropped, so the app is told it may send \
         the cookie without.",
    );
    t.say("The form carries the session's CSRF token in a hidden field:");
    t.line(&format!(
        "  <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">"
    ));

    t.heading("Step 2: a login form without its CSRF token");
    t.say(
        "Another site can make a visitor's browser post a form here, and the browser attaches \
         the festival's cookie (SameSite=Lax stops that in current browsers, but not in every \
         browser, and not from a sibling subdomain). What the other site cannot do is read this \
         site's pages, so it cannot know the token. A form without it is refused:",
    );
    t.send(
        &router,
        request::post_form(
            "/gate",
            &[("username", "alice"), ("password", "green-wristband-demo")],
        ),
    )
    .await;
    t.say(
        "The server compares the submitted token with the session's in constant time, so the \
         response time does not reveal how many leading characters were right.",
    );

    t.heading("Step 3: logging in rotates the session id");
    let login = t
        .send(
            &router,
            request::post_form(
                "/gate",
                &[
                    ("csrf", &csrf),
                    ("username", "alice"),
                    ("password", "green-wristband-demo"),
                    ("next", ""),
                ],
            ),
        )
        .await;
    let after_login = t
        .cookies()
        .and_then(|jar| jar.get(COOKIE))
        .unwrap_or_default()
        .to_owned();
    t.say(&format!(
        "303 to the wristband page, and a new Set-Cookie. The session id changed at login: {}. \
         The data moved to the new id and the old row was deleted. Without this, an attacker \
         who planted a session id in the victim's browser before login (session fixation) \
         would share the session after it.",
        if before_login != after_login && login.status.as_u16() == 303 {
            "yes"
        } else {
            "NO (this is a bug)"
        }
    ));

    t.heading("Step 4: the id from before login opens nothing");
    t.say("An attacker who knew alice's pre-login session id sends it from their own browser:");
    t.send(
        &router,
        request::with_header(
            request::get("/wristband"),
            header::COOKIE,
            &format!("{COOKIE}={before_login}"),
        ),
    )
    .await;
    t.say(
        "No session behind that id any more: the visitor is a stranger, sent to the gate with \
         the page they wanted as next (the gate accepts only a local path there). The response \
         also tells that browser to drop its useless cookie. Back in alice's browser:",
    );
    if let Some(jar) = t.cookies_mut() {
        jar.set(COOKIE, after_login.clone());
    }

    t.heading("Step 5: wearing the wristband");
    let wristband = t.send(&router, request::get("/wristband")).await;
    let csrf_after_login = csrf_field(&wristband);
    t.say(
        "The browser sends the new cookie by itself and the page shows alice's green \
         wristband. Every response re-sends the cookie with a fresh Max-Age: that is how an \
         active visitor's idle timeout keeps moving. The CSRF token was replaced at login too \
         (it is now a different value), so a token seen before login is worthless after it.",
    );
    if csrf_after_login == csrf {
        t.say("(The token did NOT change: this is a bug.)");
    }

    t.heading("Step 6: a forged logout");
    t.say(
        "Logging out changes state, so it is a POST with a CSRF token, never a GET: a GET \
         logout can be triggered by any image tag on any page.",
    );
    t.send(&router, request::post_form("/logout", &[])).await;
    t.send(&router, request::get("/food")).await;
    t.say("Refused, and alice is still in: the food tent lets her through.");

    t.heading("Step 7: logging out for real");
    t.send(
        &router,
        request::post_form("/logout", &[("csrf", &csrf_after_login)]),
    )
    .await;
    t.say(
        "The server deleted the session row, and the response tells the browser to drop the \
         cookie (Max-Age=0). Deleting the row is the part that matters: a browser may ignore \
         the instruction, or someone may have copied the cookie.",
    );

    t.heading("Step 8: replaying the logged-out cookie");
    t.send(
        &router,
        request::with_header(
            request::get("/wristband"),
            header::COOKIE,
            &format!("{COOKIE}={after_login}"),
        ),
    )
    .await;
    t.say("The copied cookie points at nothing: back to the gate.");

    t.heading("Step 9: the absolute timeout");
    let gate = t.send(&router, request::get("/gate")).await;
    t.send(
        &router,
        request::post_form(
            "/gate",
            &[
                ("csrf", &csrf_field(&gate)),
                ("username", "bob"),
                ("password", "gold-wristband-demo"),
                ("next", "/backstage"),
            ],
        ),
    )
    .await;
    clock.advance(12 * 3600 + 1);
    t.say(
        "Bob logs in. Twelve hours and a second later (the lesson moves its \
         clock, nobody waits), the session ends however active he has been: the login time is kept \
         in the session and checked on every request. An idle timeout alone would let a stolen \
         cookie live forever as long as someone keeps using it.",
    );
    t.send(&router, request::get("/backstage")).await;

    t.heading("What the server kept");
    t.say(
        "Sessions live in the tower_sessions table of the festival's SQLite database, beside \
         the accounts; a background task deletes expired rows every minute. Restarting the app \
         keeps everyone logged in; deleting a row logs that visitor out at once.",
    );
    t.into_string()
}
