//! Pins the lesson's transcript. Tokens are redacted by name, so the snapshot shows the shape
//! of every exchange and survives a change of key or seed.

#[tokio::test]
async fn the_lesson_transcript_reads_as_expected() {
    let transcript = lesson_04_token_endpoint::transcript().await;
    insta::with_settings!({
        filters => vec![
            // A compact JWT: base64url header, payload and signature.
            (r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", "[access_token]"),
        ],
        omit_expression => true,
    }, {
        insta::assert_snapshot!("04-token-endpoint-transcript", transcript);
    });
}
