//! Pins the lesson's transcript, with tokens, signatures and token ids redacted by name.
//! The times stay: they come from the lesson's frozen clock and are part of what it teaches.

#[test]
fn the_lesson_transcript_reads_as_expected() {
    let transcript = lesson_02_tokens::transcript();
    insta::with_settings!({
        filters => vec![
            (r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*", "[access_token]"),
            (r"(?m)^  [A-Za-z0-9_-]{86}$", "  [signature]"),
            (r#""jti": "[A-Za-z0-9_-]{22}""#, r#""jti": "[jti]""#),
            (r"jti=[A-Za-z0-9_-]{22}", "jti=[jti]"),
        ],
        omit_expression => true,
    }, {
        insta::assert_snapshot!("02-tokens-transcript", transcript);
    });
}
