//! Pins the lesson's transcript, with tokens, signatures, token ids and times redacted by name.
//! The times come from the lesson's frozen clock, so they would not change; they are redacted
//! so that the snapshot pins what the lesson says about them, not the date it happens to use.

#[test]
fn the_lesson_transcript_reads_as_expected() {
    let transcript = lesson_02_tokens::transcript();
    insta::with_settings!({
        filters => vec![
            (r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*", "[access_token]"),
            (r"(?m)^  [A-Za-z0-9_-]{86}$", "  [signature]"),
            (r#""jti": "[A-Za-z0-9_-]{22}""#, r#""jti": "[jti]""#),
            (r"jti=[A-Za-z0-9_-]{22}", "jti=[jti]"),
            (r#""(iat|nbf|exp)": \d+"#, r#""$1": "[$1]""#),
            (r"(?m)^    (iat|nbf|exp) \d+ = \S+$", "    $1 [$1] = [$1 as a date]"),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[time]"),
        ],
        omit_expression => true,
    }, {
        insta::assert_snapshot!("02-tokens-transcript", transcript);
    });
}
