//! What a new account's username and password must look like.
//!
//! The password rules follow OWASP ASVS 4.0.3 §2.1 / ASVS 5.0 §6.2 and NIST SP 800-63B §3.1.1.2:
//! a minimum length, a generous maximum, no composition rules ("one digit, one symbol" makes
//! passwords harder to remember without making them harder to guess), and a refusal of the
//! passwords attackers try first.
//!
//! "The passwords attackers try first" are two lists, both checked:
//!
//! - the table of about 100 000 passwords most often found in breaches that the `passwords`
//!   crate ships (its `common-password` feature); more than 47 000 of them are long enough to
//!   pass the length rule, well beyond ASVS 6.2.4's "at least the top 3000";
//! - a short list of our own, `common-passwords.txt`: words an attacker would try against
//!   this service in particular (`festival2026`, `wristband1`, ASVS 6.2.11), and common
//!   passwords, compared case-insensitively.
//!
//! NOTE: a production service would also ask a breached-password service such as Have I Been
//! Pwned's k-anonymity range API (ASVS 6.2.12); the demo runs offline, so it does not.

use std::collections::HashSet;
use std::sync::LazyLock;

use wristband_passwords::{MAX_PASSWORD_BYTES, Password};

/// The fewest characters a password may have (ASVS 6.2.1).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The fewest characters a username may have.
pub const MIN_USERNAME_CHARS: usize = 3;

/// The most characters a username may have.
pub const MAX_USERNAME_CHARS: usize = 32;

/// Words specific to this service and common passwords, lowercase: refused whatever their case
/// (ASVS 6.2.4, 6.2.11).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Why a username was refused. The `Display` text is shown to the visitor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameProblem {
    /// Shorter than [`MIN_USERNAME_CHARS`] or longer than [`MAX_USERNAME_CHARS`].
    #[error("A username has {MIN_USERNAME_CHARS} to {MAX_USERNAME_CHARS} characters.")]
    Length,
    /// Contains something other than lowercase letters, digits, `.`, `_` and `-`, or does not
    /// start with a letter or digit.
    #[error(
        "A username uses lowercase letters a-z, digits, dots, dashes and underscores, and starts with a letter or digit."
    )]
    Characters,
}

/// Why a password was refused. The `Display` text is shown to the visitor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_PASSWORD_CHARS`] characters.
    #[error(
        "A password needs at least {MIN_PASSWORD_CHARS} characters. A few words in a row make a good one."
    )]
    TooShort,
    /// More than [`MAX_PASSWORD_BYTES`] bytes.
    #[error("A password can be at most {MAX_PASSWORD_BYTES} bytes long.")]
    TooLong,
    /// On the list of the most common passwords.
    #[error(
        "That password is one of the most common passwords; attackers try those first. Please pick another."
    )]
    Common,
    /// The same as the username.
    #[error("A password cannot be the username.")]
    SameAsUsername,
}

/// Checks a username for a new account.
///
/// Usernames are restricted to a small lowercase alphabet so that two accounts can never look
/// alike (`Bob` and `bob`, or a Cyrillic `а` standing in for a Latin `a`).
///
/// # Errors
///
/// The first rule the username breaks.
pub fn check_username(username: &str) -> Result<(), UsernameProblem> {
    let chars = username.chars().count();
    if !(MIN_USERNAME_CHARS..=MAX_USERNAME_CHARS).contains(&chars) {
        return Err(UsernameProblem::Length);
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let starts_well = username
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !starts_well || !username.chars().all(allowed) {
        return Err(UsernameProblem::Characters);
    }
    Ok(())
}

/// Checks a new password for `username`.
///
/// Length counts Unicode characters (ASVS: "characters", and a passphrase in any script
/// counts); the upper bound counts bytes, since that is what the hasher reads.
///
/// # Errors
///
/// The first rule the password breaks.
pub fn check_password(password: &Password, username: &str) -> Result<(), PasswordProblem> {
    let text = password.expose();
    if password.is_too_long() {
        return Err(PasswordProblem::TooLong);
    }
    if text.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    let lowered = text.to_lowercase();
    if lowered == username.to_lowercase() {
        return Err(PasswordProblem::SameAsUsername);
    }
    if is_common(text, &lowered) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

/// Whether a password is on either list. The breach table is case-sensitive (`Password1` and
/// `password1` are separate entries), so both the password as typed and its lowercase form are
/// looked up.
fn is_common(text: &str, lowered: &str) -> bool {
    COMMON_PASSWORDS.contains(lowered)
        || ::passwords::analyzer::is_common_password(text)
        || ::passwords::analyzer::is_common_password(lowered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_password_list_is_loaded_and_lowercase() {
        assert!(COMMON_PASSWORDS.len() > 300);
        assert!(COMMON_PASSWORDS.iter().all(|p| p.to_lowercase() == *p));
    }

    #[test]
    fn passwords_from_the_breach_table_are_refused_though_our_own_list_lacks_them() {
        for common in ["charlie123", "Charlie123", "qwerty123456", "01011986"] {
            assert!(
                !COMMON_PASSWORDS.contains(common.to_lowercase().as_str()),
                "{common} is on our own list: pick a word only the breach table has"
            );
            assert_eq!(
                check_password(&Password::new(common), "carol"),
                Err(PasswordProblem::Common),
                "{common}"
            );
        }
    }

    #[test]
    fn words_specific_to_the_festival_are_refused() {
        for word in ["festival2026", "Wristband1", "GOLDWRISTBAND"] {
            assert_eq!(
                check_password(&Password::new(word), "carol"),
                Err(PasswordProblem::Common),
                "{word}"
            );
        }
    }

    #[test]
    fn an_uncommon_passphrase_is_not_on_either_list() {
        assert_eq!(
            check_password(&Password::new("tent pegs and fairy lights"), "carol"),
            Ok(())
        );
    }

    #[test]
    fn an_eight_character_password_is_long_enough() {
        assert_eq!(check_password(&Password::new("tent-pegs"), "carol"), Ok(()));
        assert_eq!(
            check_password(&Password::new("7-chars"), "carol"),
            Err(PasswordProblem::TooShort)
        );
    }

    #[test]
    fn a_passphrase_of_eight_non_latin_characters_is_long_enough() {
        assert_eq!(check_password(&Password::new("фестиваль"), "carol"), Ok(()));
    }

    #[test]
    fn a_long_passphrase_is_accepted_up_to_the_byte_limit() {
        let long = "a festival of many words ".repeat(50);
        assert_eq!(
            check_password(&Password::new(&long[..MAX_PASSWORD_BYTES]), "carol"),
            Ok(())
        );
        assert_eq!(
            check_password(&Password::new("x".repeat(MAX_PASSWORD_BYTES + 1)), "carol"),
            Err(PasswordProblem::TooLong)
        );
    }

    #[test]
    fn no_composition_rule_applies() {
        assert_eq!(
            check_password(&Password::new("onlylowercaseletters"), "carol"),
            Ok(())
        );
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        for common in ["password", "PASSWORD1", "Qwertyuiop", "iloveyou1"] {
            assert_eq!(
                check_password(&Password::new(common), "carol"),
                Err(PasswordProblem::Common),
                "{common}"
            );
        }
    }

    #[test]
    fn the_username_is_not_a_password() {
        assert_eq!(
            check_password(&Password::new("Carol-the-great"), "carol-the-great"),
            Err(PasswordProblem::SameAsUsername)
        );
    }

    #[test]
    fn usernames_use_a_small_lowercase_alphabet() {
        assert_eq!(check_username("carol"), Ok(()));
        assert_eq!(check_username("dj_9.x-y"), Ok(()));
        assert_eq!(check_username("ab"), Err(UsernameProblem::Length));
        assert_eq!(
            check_username(&"a".repeat(33)),
            Err(UsernameProblem::Length)
        );
        assert_eq!(check_username("Carol"), Err(UsernameProblem::Characters));
        assert_eq!(check_username("-carol"), Err(UsernameProblem::Characters));
        assert_eq!(check_username("car ol"), Err(UsernameProblem::Characters));
        assert_eq!(check_username("cаrol"), Err(UsernameProblem::Characters));
    }
}
