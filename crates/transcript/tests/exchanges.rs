//! Transcripts of a small app, checked line by line.

use axum::Router;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::{get, post};
use wristband_transcript::{Transcript, request};

fn app() -> Router {
    Router::new()
        .route(
            "/login",
            post(|| async {
                (
                    AppendHeaders([
                        (SET_COOKIE, "session=s1; Path=/; HttpOnly"),
                        (SET_COOKIE, "theme=dark"),
                    ]),
                    "welcome",
                )
            }),
        )
        .route(
            "/whoami",
            get(|headers: HeaderMap| async move {
                headers
                    .get(COOKIE)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("none")
                    .to_owned()
            }),
        )
        .route(
            "/logout",
            post(|| async {
                (
                    StatusCode::SEE_OTHER,
                    [
                        (SET_COOKIE, "session=; Max-Age=0; Path=/"),
                        (axum::http::header::LOCATION, "/"),
                    ],
                )
                    .into_response()
            }),
        )
        .route(
            "/page",
            get(|| async { "line 1\nline 2\nline 3\nline 4\n" }),
        )
}

#[tokio::test]
async fn a_cookie_jar_sends_back_what_was_set_and_forgets_what_was_deleted() {
    let app = app();
    let mut transcript = Transcript::new().with_cookie_jar();
    transcript
        .send(&app, request::post_form("/login", &[("username", "alice")]))
        .await;
    let who = transcript.send(&app, request::get("/whoami")).await;
    assert_eq!(who.text(), "session=s1; theme=dark");
    transcript
        .send(&app, request::post_form("/logout", &[]))
        .await;
    let who = transcript.send(&app, request::get("/whoami")).await;
    assert_eq!(who.text(), "theme=dark");

    assert_eq!(
        transcript.as_str(),
        "\
> POST /login HTTP/1.1
> content-type: application/x-www-form-urlencoded
>
> username=alice

< HTTP/1.1 200 OK
< set-cookie: session=s1; Path=/; HttpOnly
< set-cookie: theme=dark
< content-type: text/plain; charset=utf-8
<
< welcome

> GET /whoami HTTP/1.1
> cookie: session=s1; theme=dark

< HTTP/1.1 200 OK
< content-type: text/plain; charset=utf-8
<
< session=s1; theme=dark

> POST /logout HTTP/1.1
> content-type: application/x-www-form-urlencoded
> cookie: session=s1; theme=dark

< HTTP/1.1 303 See Other
< location: /
< set-cookie: session=; Max-Age=0; Path=/

> GET /whoami HTTP/1.1
> cookie: theme=dark

< HTTP/1.1 200 OK
< content-type: text/plain; charset=utf-8
<
< theme=dark
"
    );
}

#[tokio::test]
async fn narration_and_headings_are_set_off_from_exchanges() {
    let app = app();
    let mut transcript = Transcript::new();
    transcript.heading("Step 1");
    transcript.say("Alice asks who she is.");
    transcript
        .send(&app, request::bearer(request::get("/whoami"), "abc"))
        .await;
    transcript.say("She has no cookie.");
    transcript.heading("Step 2");
    transcript.line("  done");
    assert_eq!(
        transcript.into_string(),
        "\
Step 1
------
Alice asks who she is.

> GET /whoami HTTP/1.1
> authorization: Bearer abc

< HTTP/1.1 200 OK
< content-type: text/plain; charset=utf-8
<
< none

She has no cookie.

Step 2
------
  done
"
    );
}

#[tokio::test]
async fn long_bodies_can_be_cut_short() {
    let app = app();
    let mut transcript = Transcript::new().with_body_line_limit(2);
    transcript.send(&app, request::get("/page")).await;
    assert!(
        transcript
            .as_str()
            .ends_with("<\n< line 1\n< line 2\n< [2 more lines]\n"),
        "{}",
        transcript.as_str()
    );
}

#[tokio::test]
async fn repeated_request_headers_are_all_shown() {
    let app = app();
    let mut transcript = Transcript::new();
    let twice = request::with_header(
        request::bearer(request::get("/whoami"), "one"),
        AUTHORIZATION,
        "Bearer two",
    );
    transcript.send(&app, twice).await;
    assert!(
        transcript.as_str().starts_with(
            "> GET /whoami HTTP/1.1\n> authorization: Bearer one\n> authorization: Bearer two\n"
        ),
        "{}",
        transcript.as_str()
    );
}

#[tokio::test]
async fn paragraphs_are_separated_and_lines_stay_together() {
    let app = app();
    let mut transcript = Transcript::new();
    transcript.say("First paragraph.");
    transcript.say("Second paragraph.");
    transcript.line("  a: 1");
    transcript.line("  b: 2");
    transcript.say("Then a request, sent as is:");
    transcript
        .send(
            &app,
            request::post_raw("/login", "application/json", r#"{"b":1,"a":2}"#),
        )
        .await;
    transcript.line("Result: welcome");
    assert!(
        transcript.as_str().starts_with(
            "First paragraph.\n\nSecond paragraph.\n\n  a: 1\n  b: 2\n\nThen a request, sent as is:\n\n\
             > POST /login HTTP/1.1\n> content-type: application/json\n>\n> {\"b\":1,\"a\":2}\n"
        ),
        "{}",
        transcript.as_str()
    );
    assert!(
        transcript
            .as_str()
            .ends_with("< welcome\n\nResult: welcome\n")
    );
}
