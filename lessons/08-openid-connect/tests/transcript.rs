//! Pins the lesson's transcript, with tokens, nonces and times redacted by name. Key ids and
//! subjects stay: they are fixed by the lesson's seeded keys, and part of what it teaches.

#[test]
fn the_lesson_transcript_reads_as_expected() {
    let transcript = lesson_08_openid_connect::transcript();
    insta::with_settings!({
        filters => vec![
            (r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*", "[id_token]"),
            (r#""nonce": "[A-Za-z0-9_-]+""#, r#""nonce": "[nonce]""#),
            (r#""(iat|exp|auth_time)": \d+"#, r#""$1": "[$1]""#),
            (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[time]"),
        ],
        omit_expression => true,
    }, {
        insta::assert_snapshot!("08-openid-connect-transcript", transcript);
    });
}

#[test]
fn the_genuine_token_is_accepted_and_every_forgery_refused() {
    let transcript = lesson_08_openid_connect::transcript();
    assert_eq!(transcript.matches("verdict: accepted").count(), 1);
    assert_eq!(transcript.matches("festival: refused:").count(), 10);
    assert!(!transcript.contains("ACCEPTED"));
}

#[test]
fn the_vendor_login_links_to_a_new_account_not_the_festivals_own_dave() {
    let transcript = lesson_08_openid_connect::transcript();
    assert!(
        transcript
            .contains("first vendor login                 no link yet: created account dave-2")
    );
    assert!(
        transcript.contains("second vendor login                found the linked account dave-2")
    );
}
