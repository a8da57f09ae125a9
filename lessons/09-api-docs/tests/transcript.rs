//! Pins the lesson's transcript. Tokens are redacted by name, and long bodies are summarised,
//! so the snapshot shows the document's security parts and the shape of every exchange.

#[tokio::test(flavor = "multi_thread")]
async fn the_lesson_transcript_reads_as_expected() {
    let transcript = lesson_09_api_docs::transcript().await;
    insta::with_settings!({
        filters => vec![
            // A compact JWT: base64url header, payload and signature.
            (r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", "[access_token]"),
            // Long bodies (the whole document, the Swagger UI page) change with every edit.
            (r"< \[\d+ more lines\]", "< [rest of the body]"),
        ],
        omit_expression => true,
    }, {
        insta::assert_snapshot!("09-api-docs-transcript", transcript);
    });
}
