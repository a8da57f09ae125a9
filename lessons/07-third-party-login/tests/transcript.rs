//! Pins the lesson's transcript. Every one-time value (state, nonce, PKCE values, codes, session
//! ids, tokens, client credentials) is redacted by name, so the snapshot shows the shape of the
//! dance and stays readable.

#[test]
fn the_lesson_transcript_reads_as_expected() {
    let transcript = lesson_07_third_party_login::transcript();
    insta::with_settings!({
        filters => vec![
            (r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*", "[id_token]"),
            (r#""access_token": "[^"]+""#, r#""access_token": "[access_token]""#),
            (r"Basic [A-Za-z0-9+/=]+", "Basic [client_credentials]"),
            (r"code_challenge=[A-Za-z0-9_-]+", "code_challenge=[code_challenge]"),
            (r"code_verifier=[A-Za-z0-9_-]+", "code_verifier=[code_verifier]"),
            (r"([?&\s])code=[A-Za-z0-9_-]+", "${1}code=[code]"),
            (r"state=[A-Za-z0-9_-]+", "state=[state]"),
            (r"nonce=[A-Za-z0-9_-]+", "nonce=[nonce]"),
            (r"festival_session=[A-Za-z0-9_-]+", "festival_session=[session_id]"),
        ],
        omit_expression => true,
    }, {
        insta::assert_snapshot!("07-third-party-login-transcript", transcript);
    });
}

#[test]
fn carol_ends_up_logged_in_and_every_attack_is_refused() {
    let transcript = lesson_07_third_party_login::transcript();
    assert!(transcript.contains("Welcome, Carol! The ticket vendor vouches for a green ticket."));
    assert_eq!(
        transcript
            .matches("login refused: the state parameter does not match")
            .count(),
        1
    );
    assert_eq!(
        transcript
            .matches("login refused: the provider refused the authorization code")
            .count(),
        2
    );
    assert!(transcript.contains("login refused: no login is in progress for this session"));
    assert!(transcript.contains("login refused: the visitor declined at the provider"));
}
