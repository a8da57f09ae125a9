//! The festival's records in SQL: users, the gold ticket quota, linked outside identities.
//!
//! Everything the app stores goes through [`Store`], in plain SQL with bound parameters and no
//! compile-time query checking, so the crate builds on a machine with no database and no
//! `sqlx-cli`. Adding PostgreSQL means a second constructor and migration set; the queries
//! already avoid SQLite-only syntax.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use wristband_passwords::PasswordHash;
use wristband_tokens::Wristband;

/// A festival account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The database id.
    pub id: i64,
    /// The unique login name.
    pub username: String,
    /// The stored password hash; `None` for an account that logs in only through the ticket
    /// vendor.
    pub password_hash: Option<PasswordHash>,
    /// The colour of the account's ticket.
    pub wristband: Wristband,
}

/// A database failure. The message is for logs only: pages show a generic error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A row holds a value the app never writes (a wristband colour or hash it cannot read).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table the row is in.
        table: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

/// Why a ticket purchase did not go through.
#[derive(Debug, thiserror::Error)]
pub enum PurchaseError {
    /// Someone already has this username.
    #[error("username is taken")]
    UsernameTaken,
    /// Every ticket of this colour is sold.
    #[error("sold out")]
    SoldOut,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many tickets of a limited kind exist and how many are sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Tickets in total.
    pub quota: u32,
    /// Tickets sold so far.
    pub sold: u32,
}

impl Quota {
    /// Tickets still for sale.
    pub fn remaining(&self) -> u32 {
        self.quota.saturating_sub(self.sold)
    }
}

/// Where the database lives, as the startup log should say it.
#[derive(Debug, Clone)]
pub struct DatabaseLocation {
    options: SqliteConnectOptions,
    /// `sqlite::memory:` or `?mode=memory`: nothing on disk to protect.
    in_memory: bool,
}

impl DatabaseLocation {
    /// Parses a `sqlite:` URL.
    ///
    /// # Errors
    ///
    /// A message naming the problem, when the URL is not a SQLite URL sqlx can read.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if !url.starts_with("sqlite:") {
            return Err(format!(
                "only sqlite: database URLs are supported (got {:?}); PostgreSQL is not built in yet",
                url.split(':').next().unwrap_or_default()
            ));
        }
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let in_memory = rest.starts_with(":memory:") || rest.contains("mode=memory");
        SqliteConnectOptions::from_str(url)
            .map(|options| Self { options, in_memory })
            .map_err(|err| err.to_string())
    }

    /// A SQLite file, created if missing.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            options: SqliteConnectOptions::new()
                .filename(path.into())
                .create_if_missing(true),
            in_memory: false,
        }
    }

    /// Whether the database lives in memory only, with nothing on disk.
    pub fn is_in_memory(&self) -> bool {
        self.in_memory
    }

    /// The database file's path.
    pub fn path(&self) -> PathBuf {
        self.options.get_filename().to_path_buf()
    }
}

/// Makes the database file readable by its owner only, creating it empty if it is missing.
///
/// The file holds password hashes and live sessions. SQLite creates its `-wal` and `-shm`
/// files with the main file's permissions, so restricting the main file covers all three.
/// Failure is logged, not fatal: on a file system without Unix permissions there is nothing
/// to restrict.
fn restrict_to_owner(path: &std::path::Path) {
    let name = path.as_os_str();
    if name.is_empty() || name == ":memory:" {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let restricted = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)));
        if let Err(err) = restricted {
            tracing::warn!(path = %path.display(), error = %err, "could not restrict the database file to its owner");
        }
    }
}

/// The festival's database.
///
/// Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// The row as SQL returns it, before its values are checked.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    password_hash: Option<String>,
    wristband: String,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt {
            table: "users",
            detail,
        };
        let wristband = row
            .wristband
            .parse()
            .map_err(|_| corrupt(format!("user {} has wristband {:?}", row.id, row.wristband)))?;
        let password_hash = row
            .password_hash
            .as_deref()
            .map(PasswordHash::parse)
            .transpose()
            .map_err(|_| corrupt(format!("user {} has an unreadable password hash", row.id)))?;
        Ok(Self {
            id: row.id,
            username: row.username,
            password_hash,
            wristband,
        })
    }
}

const USER_COLUMNS: &str = "id, username, password_hash, wristband";

impl Store {
    /// Opens the database, creating the file if needed, and applies the embedded migrations.
    ///
    /// Connections use write-ahead logging (readers never wait for the writer), enforce foreign
    /// keys (off by default in SQLite), and wait up to five seconds for a lock instead of failing
    /// at once when another request is writing.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or is not a SQLite database, or a migration fails.
    pub async fn open(location: &DatabaseLocation) -> Result<Self, StoreError> {
        if !location.in_memory {
            restrict_to_owner(&location.path());
        }
        let options = location
            .options
            .clone()
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|err| StoreError::Database(err.into()))?;
        Ok(Self { pool })
    }

    /// The connection pool, for the session store that shares the database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, flushing the write-ahead log. Call once at shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Finds an account by its exact username.
    ///
    /// # Errors
    ///
    /// When the query fails or the row is corrupt.
    pub async fn find_user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let query = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?");
        let row: Option<UserRow> = sqlx::query_as(&query)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(User::try_from).transpose()
    }

    /// How many accounts exist.
    ///
    /// # Errors
    ///
    /// When the query fails.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }

    /// Sets the number of gold tickets, keeping the count of tickets already sold.
    ///
    /// # Errors
    ///
    /// When the query fails.
    pub async fn set_gold_quota(&self, quota: u32) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ticket_quota (wristband, quota, sold) VALUES ('gold', ?, 0) \
             ON CONFLICT (wristband) DO UPDATE SET quota = excluded.quota",
        )
        .bind(i64::from(quota))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The gold ticket quota and sales so far.
    ///
    /// # Errors
    ///
    /// When the query fails.
    pub async fn gold_quota(&self) -> Result<Quota, StoreError> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT quota, sold FROM ticket_quota WHERE wristband = 'gold'")
                .fetch_optional(&self.pool)
                .await?;
        let (quota, sold) = row.unwrap_or((0, 0));
        let clamp = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        Ok(Quota {
            quota: clamp(quota),
            sold: clamp(sold),
        })
    }

    /// Sells a ticket: creates the account and, for gold, takes one ticket from the quota.
    ///
    /// Both happen in one transaction. The quota is taken by a single conditional `UPDATE`
    /// whose `WHERE sold < quota` the database evaluates atomically with the write, so however
    /// many purchases race, at most `quota` of them see a changed row. If the account cannot be
    /// created (the username is taken), the transaction rolls back and the ticket returns to
    /// the quota.
    ///
    /// # Errors
    ///
    /// [`PurchaseError::SoldOut`], [`PurchaseError::UsernameTaken`], or a database failure.
    pub async fn buy_ticket(
        &self,
        username: &str,
        password_hash: &PasswordHash,
        wristband: Wristband,
        now: u64,
    ) -> Result<User, PurchaseError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        if wristband == Wristband::Gold {
            // The write comes first in the transaction, so SQLite takes its write lock right
            // away (waiting up to the busy timeout) instead of upgrading a read lock later,
            // which could fail under contention.
            let taken = sqlx::query(
                "UPDATE ticket_quota SET sold = sold + 1 WHERE wristband = 'gold' AND sold < quota",
            )
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            if taken.rows_affected() != 1 {
                return Err(PurchaseError::SoldOut);
            }
        }
        let user = insert_user(&mut tx, username, Some(password_hash), wristband, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(user)
    }

    /// Creates an account outside the ticket shop (demo seeding), counting a gold ticket as
    /// sold even beyond the quota.
    ///
    /// # Errors
    ///
    /// [`PurchaseError::UsernameTaken`] or a database failure.
    pub async fn create_user(
        &self,
        username: &str,
        password_hash: Option<&PasswordHash>,
        wristband: Wristband,
        now: u64,
    ) -> Result<User, PurchaseError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let user = insert_user(&mut tx, username, password_hash, wristband, now).await?;
        if wristband == Wristband::Gold {
            sqlx::query("UPDATE ticket_quota SET sold = sold + 1 WHERE wristband = 'gold'")
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(user)
    }

    /// Replaces an account's password hash, e.g. to upgrade it to stronger parameters after a
    /// successful login. Returns whether an account was updated.
    ///
    /// # Errors
    ///
    /// When the query fails.
    pub async fn replace_password_hash(
        &self,
        username: &str,
        password_hash: &PasswordHash,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE users SET password_hash = ? WHERE username = ?")
            .bind(password_hash.as_str())
            .bind(username)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The account linked to an outside identity: the (`issuer`, `subject`) pair of an
    /// OpenID Connect ID token (OIDC Core §2: `sub` is unique only within its issuer).
    ///
    /// # Errors
    ///
    /// When the query fails or the row is corrupt.
    pub async fn find_external_user(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(
            "SELECT users.id, users.username, users.password_hash, users.wristband \
             FROM external_identities JOIN users ON users.id = external_identities.user_id \
             WHERE external_identities.issuer = ? AND external_identities.subject = ?",
        )
        .bind(issuer)
        .bind(subject)
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    /// Creates an account without a password, linked to an outside identity, in one
    /// transaction: either both rows exist afterwards or neither does.
    ///
    /// # Errors
    ///
    /// [`PurchaseError::UsernameTaken`] when the username or the identity is already in use,
    /// or a database failure.
    pub async fn create_external_user(
        &self,
        issuer: &str,
        subject: &str,
        username: &str,
        wristband: Wristband,
        now: u64,
    ) -> Result<User, PurchaseError> {
        let mut tx = self.pool.begin().await.map_err(StoreError::from)?;
        let user = insert_user(&mut tx, username, None, wristband, now).await?;
        sqlx::query(
            "INSERT INTO external_identities (issuer, subject, user_id, created_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user.id)
        .bind(unix_to_i64(now))
        .execute(&mut *tx)
        .await
        .map_err(unique_violation_is_taken)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(user)
    }
}

async fn insert_user(
    tx: &mut sqlx::SqliteConnection,
    username: &str,
    password_hash: Option<&PasswordHash>,
    wristband: Wristband,
    now: u64,
) -> Result<User, PurchaseError> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (username, password_hash, wristband, created_at) \
         VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(username)
    .bind(password_hash.map(PasswordHash::as_str))
    .bind(wristband.as_str())
    .bind(unix_to_i64(now))
    .fetch_one(&mut *tx)
    .await
    .map_err(unique_violation_is_taken)?;
    Ok(User {
        id,
        username: username.to_owned(),
        password_hash: password_hash.cloned(),
        wristband,
    })
}

fn unique_violation_is_taken(err: sqlx::Error) -> PurchaseError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => PurchaseError::UsernameTaken,
        _ => PurchaseError::Store(err.into()),
    }
}

fn unix_to_i64(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

/// The JSON API's token endpoint looks ticket holders up here.
impl wristband_api::UserDirectory for Store {
    fn find<'a>(
        &'a self,
        username: &'a str,
    ) -> wristband_api::DirectoryFuture<'a, Option<wristband_api::UserRecord>> {
        Box::pin(async move {
            let user = self
                .find_user(username)
                .await
                .map_err(wristband_api::DirectoryError::backend)?;
            // An account without a password (created through the ticket vendor) cannot use the
            // password grant. To the token endpoint it does not exist, which costs the same
            // dummy hash and gives the same answer as an unknown username.
            Ok(user.and_then(|user| {
                Some(wristband_api::UserRecord {
                    password_hash: user.password_hash?,
                    username: user.username,
                    wristband: user.wristband,
                })
            }))
        })
    }

    fn replace_password_hash<'a>(
        &'a self,
        username: &'a str,
        hash: PasswordHash,
    ) -> wristband_api::DirectoryFuture<'a, ()> {
        Box::pin(async move {
            let updated = Store::replace_password_hash(self, username, &hash)
                .await
                .map_err(wristband_api::DirectoryError::backend)?;
            if updated {
                Ok(())
            } else {
                Err(wristband_api::DirectoryError::UnknownUser(
                    username.to_owned(),
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseLocation;

    #[test]
    fn memory_urls_are_recognised_so_no_file_is_created_for_them() {
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite:festival?mode=memory",
        ] {
            let location = DatabaseLocation::from_url(url).expect("a valid URL");
            assert!(location.in_memory, "{url} is in memory");
        }
        for url in ["sqlite:festival.db", "sqlite://data/festival.db?mode=rwc"] {
            let location = DatabaseLocation::from_url(url).expect("a valid URL");
            assert!(!location.in_memory, "{url} is a file");
        }
        assert!(!DatabaseLocation::file("festival.db").in_memory);
    }

    #[test]
    fn other_databases_are_refused_with_a_reason() {
        let err = DatabaseLocation::from_url("postgres://localhost/festival")
            .expect_err("postgres is not built in");
        assert!(err.contains("only sqlite:"), "{err}");
    }
}
