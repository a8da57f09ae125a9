//! Where the gate looks up ticket holders.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{PoisonError, RwLock};

use wristband_passwords::{HashError, Password, PasswordHash, PasswordHasher};
use wristband_tokens::Wristband;

/// A ticket holder as the gate sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The name they log in with.
    pub username: String,
    /// Their stored password hash (its `Debug` hides salt and hash).
    pub password_hash: PasswordHash,
    /// The wristband their ticket buys.
    pub wristband: Wristband,
}

/// Why the user directory could not answer. Always the server's problem, never the user's: the
/// token endpoint answers it with a generic `500` and logs the cause.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The user to update does not exist (for example, deleted a moment after logging in).
    #[error("no user named {0:?}")]
    UnknownUser(String),
    /// The storage behind the directory failed.
    #[error("user directory unavailable: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DirectoryError {
    /// Wraps a storage error.
    pub fn backend(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Backend(error.into())
    }
}

/// The future returned by [`UserDirectory`] methods: boxed, so the trait stays object-safe and
/// the API state can hold any directory as `Arc<dyn UserDirectory>`.
pub type DirectoryFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, DirectoryError>> + Send + 'a>>;

/// The store of ticket holders the token endpoint checks credentials against.
///
/// The festival app implements it over its database; [`InMemoryUsers`] serves lessons and tests.
/// Implementations return futures built with `Box::pin(async move { … })`.
pub trait UserDirectory: Send + Sync + 'static {
    /// The user named exactly `username`, or `None` if there is none.
    ///
    /// # Errors
    ///
    /// [`DirectoryError`] if the store cannot be read. "No such user" is `Ok(None)`, not an error.
    fn find<'a>(&'a self, username: &'a str) -> DirectoryFuture<'a, Option<UserRecord>>;

    /// Replaces the stored hash of `username`, after a successful login showed that the old one
    /// was made with weaker parameters than the current ones.
    ///
    /// # Errors
    ///
    /// [`DirectoryError::UnknownUser`] if there is no such user; [`DirectoryError::Backend`] if
    /// the store cannot be written.
    fn replace_password_hash<'a>(
        &'a self,
        username: &'a str,
        hash: PasswordHash,
    ) -> DirectoryFuture<'a, ()>;
}

/// The demo ticket holders shared by the lessons, the tests and the demo app:
/// username, password, wristband.
pub const DEMO_TICKET_HOLDERS: [(&str, &str, Wristband); 2] = [
    ("alice", "green-wristband-demo", Wristband::Green),
    ("bob", "gold-wristband-demo", Wristband::Gold),
];

/// A [`UserDirectory`] held in memory, for lessons and tests. Nothing survives a restart.
#[derive(Default)]
pub struct InMemoryUsers {
    users: RwLock<HashMap<String, UserRecord>>,
}

impl fmt::Debug for InMemoryUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<&str> = users.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("InMemoryUsers")
            .field("users", &names)
            .finish()
    }
}

impl InMemoryUsers {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a user whose password is hashed now with `hasher`; replaces any user of that name.
    ///
    /// # Errors
    ///
    /// [`HashError`] if the password cannot be hashed (for example, it is too long).
    pub fn with_user(
        self,
        username: &str,
        password: &Password,
        wristband: Wristband,
        hasher: &PasswordHasher,
    ) -> Result<Self, HashError> {
        let password_hash = hasher.hash(password)?;
        self.insert(UserRecord {
            username: username.to_owned(),
            password_hash,
            wristband,
        });
        Ok(self)
    }

    /// A directory holding the [`DEMO_TICKET_HOLDERS`], alice (green) and bob (gold), with
    /// their passwords hashed now by `hasher`.
    ///
    /// # Errors
    ///
    /// [`HashError`] if hashing fails.
    pub fn demo(hasher: &PasswordHasher) -> Result<Self, HashError> {
        DEMO_TICKET_HOLDERS.iter().try_fold(
            Self::new(),
            |users, (username, password, wristband)| {
                users.with_user(username, &Password::new(*password), *wristband, hasher)
            },
        )
    }

    /// Adds `record`, replacing any user of the same name.
    pub fn insert(&self, record: UserRecord) {
        let mut users = self.users.write().unwrap_or_else(PoisonError::into_inner);
        users.insert(record.username.clone(), record);
    }

    /// The stored record of `username`, read synchronously (for tests and lessons).
    pub fn get(&self, username: &str) -> Option<UserRecord> {
        let users = self.users.read().unwrap_or_else(PoisonError::into_inner);
        users.get(username).cloned()
    }
}

// A poisoned lock only means a thread panicked while holding it; every write here replaces a
// whole entry, so the map is still consistent and can be used.
impl UserDirectory for InMemoryUsers {
    fn find<'a>(&'a self, username: &'a str) -> DirectoryFuture<'a, Option<UserRecord>> {
        let found = self.get(username);
        Box::pin(async move { Ok(found) })
    }

    fn replace_password_hash<'a>(
        &'a self,
        username: &'a str,
        hash: PasswordHash,
    ) -> DirectoryFuture<'a, ()> {
        let mut users = self.users.write().unwrap_or_else(PoisonError::into_inner);
        let outcome = match users.get_mut(username) {
            Some(record) => {
                record.password_hash = hash;
                Ok(())
            }
            None => Err(DirectoryError::UnknownUser(username.to_owned())),
        };
        Box::pin(async move { outcome })
    }
}
