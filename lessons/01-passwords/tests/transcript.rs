//! Pins the lesson's transcript. Salts and hash outputs are redacted by name, so the snapshot
//! shows the structure of each PHC string and survives a change of seed.

#[test]
fn the_lesson_transcript_reads_as_expected() {
    let transcript = lesson_01_passwords::transcript();
    insta::with_settings!({
        filters => vec![
            // A full PHC string: keep algorithm and parameters, name the random parts.
            (r"(\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}", "$1$$[salt]$$[hash]"),
            // The salt and output shown on their own in the explanation.
            (r"salt:   [A-Za-z0-9+/]{22}", "salt:   [salt]"),
            (r"output: [A-Za-z0-9+/]{43}", "output: [hash]"),
        ],
        omit_expression => true,
    }, {
        insta::assert_snapshot!("01-passwords-transcript", transcript);
    });
}
