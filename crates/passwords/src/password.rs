use std::fmt;

/// The longest password accepted, in bytes.
///
/// OWASP ASVS asks that passwords of at least 64 characters be allowed; 1024 bytes leaves room
/// for any passphrase while stopping a megabyte-long "password" from being fed to the hasher.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password as typed by a person.
///
/// It cannot be printed by accident: `Debug` shows `[redacted]` and there is no `Display`.
/// Read it with [`Password::expose`] at the one place that needs the characters.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Self(password.into())
    }

    /// The password's characters. Call this only to hash or verify it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the password is longer than [`MAX_PASSWORD_BYTES`].
    pub fn is_too_long(&self) -> bool {
        self.0.len() > MAX_PASSWORD_BYTES
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

impl From<String> for Password {
    fn from(password: String) -> Self {
        Self(password)
    }
}

impl From<&str> for Password {
    fn from(password: &str) -> Self {
        Self(password.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_the_password() {
        let password = Password::new("hunter2-but-longer");
        assert_eq!(format!("{password:?}"), "Password([redacted])");
    }

    #[test]
    fn a_64_character_passphrase_is_not_too_long() {
        assert!(!Password::new("a".repeat(64)).is_too_long());
        assert!(Password::new("a".repeat(MAX_PASSWORD_BYTES + 1)).is_too_long());
    }
}
