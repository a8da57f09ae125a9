//! Pins the lesson's transcript. Session ids (random by design) and CSRF tokens are redacted by
//! name, and HTML bodies are summarised, so the snapshot shows the shape of every exchange.

#[tokio::test(flavor = "multi_thread")]
async fn the_lesson_transcript_reads_as_expected() {
    let transcript = lesson_06_sessions::transcript().await;
    insta::with_settings!({
        filters => vec![
            // tower-sessions ids: 16 random bytes, base64url.
            (r"wristband=[A-Za-z0-9_-]{22}", "wristband=[session_id]"),
            // CSRF tokens: 32 bytes, base64url, in a form body or a hidden field.
            (r"csrf=[A-Za-z0-9_-]{43}", "csrf=[csrf_token]"),
            (r#"value="[A-Za-z0-9_-]{43}""#, r#"value="[csrf_token]""#),
            // A removal cookie's date is the server's wall clock, a year back.
            (r"Expires=[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT", "Expires=[date]"),
            // HTML bodies change with every template edit; their length is not the lesson.
            (r"< \[\d+ more lines\]", "< [rest of the page]"),
        ],
        omit_expression => true,
    }, {
        insta::assert_snapshot!("06-sessions-transcript", transcript);
    });
}
