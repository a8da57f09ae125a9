//! The Wristband festival app: the demo the whole workspace builds toward.
//!
//! One server holds the whole story:
//!
//! - **web pages** for people (askama templates): the line-up, the ticket shop, the gate
//!   (login), the wristband with a token inspector, the stages, food tents and backstage;
//! - **cookie sessions** for browsers (tower-sessions, stored in the database): rotated at login,
//!   destroyed at logout, with idle and absolute timeouts and a CSRF token on every form;
//! - the **JSON API** for programs (`/token`, `/api/*`, `/health`), protected by bearer tokens;
//! - its **OpenAPI document** at `/openapi.json` and interactive docs at `/docs`;
//! - a **SQLite database** (sqlx, migrations embedded) for accounts and the gold ticket quota.
//!
//! Start it from code (as the tests do) with [`build_with`], then drive [`App::router`] with
//! `tower::ServiceExt::oneshot`, or serve it with [`App::serve`]:
//!
//! ```no_run
//! use festival_app::{Config, Inject, build_with};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let mut config = Config::with_data_dir("/tmp/festival-data");
//! config.demo = true; // seeds alice and bob, generates a signing key
//! let app = build_with(config, Inject::system()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! app.serve(listener, std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```

mod config;
pub mod csrf;
mod error;
pub mod inspector;
pub mod lineup;
mod pages;
pub mod policy;
pub mod session;
mod state;
pub mod store;
pub mod templates;
pub mod vendor_login;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::util::option_layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::ExpiredDeletion as _;
use tower_sessions_sqlx_store::SqliteStore;
use utoipa_swagger_ui::{Config as SwaggerConfig, SwaggerUi};
use wristband_api::ApiState;
use wristband_inject::{Clock, Entropy, OsEntropy, SystemClock};
use wristband_passwords::{
    HashParams, HashingPool, LoginThrottle, Password, PasswordHasher, PoolConfig, ThrottleConfig,
};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};

pub use config::Config;
pub use error::{AppError, StartupError};
pub use state::{AppState, Settings};

use crate::store::{DatabaseLocation, Store};

/// The audience (`aud`) of the festival's wristband tokens: its own JSON API.
pub const TOKEN_AUDIENCE: &str = "festival-api";

/// The largest request body accepted. Every festival form fits in a fraction of this; anything
/// larger is refused with `413` before it is read into memory.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;

/// The demo accounts seeded in demo mode: username, password, wristband. The same ticket
/// holders as in the lessons.
pub const DEMO_ACCOUNTS: [(&str, &str, Wristband); 2] = wristband_api::DEMO_TICKET_HOLDERS;

/// The parts of the outside world the app reads, injected so tests can fix them.
pub struct Inject {
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Random bytes for CSRF tokens, token ids, salts and a generated signing key.
    pub entropy: Arc<dyn Entropy>,
    /// argon2id's cost parameters.
    pub hash_params: HashParams,
    /// A signing key to use instead of the configured key file (lessons and tests).
    pub signing_key: Option<SigningKey>,
}

impl Inject {
    /// The real clock, the operating system's random generator, and OWASP hashing parameters.
    pub fn system() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            entropy: Arc::new(OsEntropy),
            hash_params: HashParams::OWASP,
            signing_key: None,
        }
    }
}

/// A built festival app: database open and migrated, keys loaded, ready to serve.
pub struct App {
    state: AppState,
    sessions: SqliteStore,
    idle_minutes: u32,
    database: PathBuf,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

/// Builds the app with the system clock and randomness.
///
/// # Errors
///
/// See [`build_with`].
pub async fn build(config: Config) -> Result<App, StartupError> {
    build_with(config, Inject::system()).await
}

/// Builds the app: opens and migrates the database, loads (or in demo mode creates) the signing
/// key, sets the gold quota, and seeds the demo accounts in demo mode on an empty database.
///
/// # Errors
///
/// A [`StartupError`] naming what to fix: an unusable database URL or file, a missing or
/// unreadable signing key, a plain-http public URL without `--insecure-cookies`.
pub async fn build_with(config: Config, inject: Inject) -> Result<App, StartupError> {
    let public_url = config.public_url();
    let secure_cookies = config.secure_cookies();
    if !public_url.starts_with("https://") && !config.insecure_cookies && !config.demo {
        return Err(StartupError::InsecurePublicUrl(public_url));
    }

    let vendor = vendor_login::build(&config, &inject)?;

    // The data folder is needed for the default database file and for a generated demo key.
    let generates_key = config.demo && config.signing_key_file.is_none();
    if config.database_url.is_none() || (generates_key && inject.signing_key.is_none()) {
        create_data_dir(&config.data_dir)?;
    }
    let location = match &config.database_url {
        Some(url) => DatabaseLocation::from_url(url).map_err(StartupError::DatabaseUrl)?,
        None => DatabaseLocation::file(config.data_dir.join("festival.db")),
    };
    let database = location.path();
    // A `DATABASE_URL` may name a file in a folder that does not exist yet (`data/` on a fresh
    // checkout); SQLite creates files, not folders.
    if let Some(folder) = database.parent().filter(|folder| {
        config.database_url.is_some()
            && !location.is_in_memory()
            && !folder.as_os_str().is_empty()
            && !folder.exists()
    }) {
        create_data_dir(folder)?;
    }
    let opening = |source| StartupError::Database {
        path: database.clone(),
        source,
    };
    let store = Store::open(&location).await.map_err(opening)?;
    let sessions = SqliteStore::new(store.pool().clone());
    sessions
        .migrate()
        .await
        .map_err(|err| opening(store::StoreError::Database(err)))?;
    store.set_gold_quota(config.gold_quota).await?;

    let key = match inject.signing_key {
        Some(key) => key,
        None => signing_key(&config, inject.entropy.as_ref())?,
    };
    let hasher = PasswordHasher::new(inject.hash_params, inject.entropy.clone())
        .map_err(|err| StartupError::Hashing(err.to_string()))?;
    let defaults = PoolConfig::default();
    let max_concurrent = config
        .max_concurrent_hashes
        .unwrap_or(defaults.max_concurrent);
    let passwords = HashingPool::new(
        hasher,
        PoolConfig {
            max_concurrent,
            max_waiting: config.max_waiting_hashes.unwrap_or(max_concurrent * 16),
        },
    );
    let tokens = TokenConfig::new(public_url.clone(), TOKEN_AUDIENCE);
    let issuer = Issuer::new(
        key.clone(),
        tokens.clone(),
        inject.clock.clone(),
        inject.entropy.clone(),
    );
    let mut verifier = Verifier::new(key.key_set(), tokens, inject.clock.clone());
    if config.token_cache > 0 {
        verifier = verifier.with_cache(config.token_cache);
    }

    let throttle = (config.login_max_failures > 0).then(|| {
        LoginThrottle::new(
            ThrottleConfig {
                max_failures: config.login_max_failures,
                window: Duration::from_secs(u64::from(config.login_failure_window_minutes) * 60),
                ..ThrottleConfig::default()
            },
            inject.clock.clone(),
        )
    });

    if config.demo {
        seed_demo(&store, &passwords, inject.clock.now()).await?;
    }

    let state = AppState {
        store,
        passwords,
        issuer,
        verifier,
        throttle,
        clock: inject.clock,
        entropy: inject.entropy,
        vendor,
        settings: Arc::new(Settings {
            public_url,
            session_max_age: u64::from(config.session_max_hours) * 3600,
            secure_cookies,
            demo: config.demo,
        }),
    };
    Ok(App {
        state,
        sessions,
        idle_minutes: config.session_idle_minutes,
        database,
    })
}

impl App {
    /// The shared state handlers see.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The database file in use.
    pub fn database_path(&self) -> &Path {
        &self.database
    }

    /// The complete router: pages (with sessions), the JSON API, the API docs, the error
    /// fallbacks and the request log.
    pub fn router(&self) -> Router {
        let pages = pages::router()
            .merge(vendor_login::router(&self.state))
            .layer(session::layer(
                self.sessions.clone(),
                &self.state.settings,
                self.idle_minutes,
            ))
            .layer(middleware::map_response_with_state(
                self.state.settings.clone(),
                |State(settings): State<Arc<Settings>>, response: Response| async move {
                    session::complete_cookie_removal(&settings, response)
                },
            ))
            .layer(middleware::map_response(page_headers))
            .with_state(self.state.clone());

        let mut api_state = ApiState::new(
            Arc::new(self.state.store.clone()),
            self.state.passwords.clone(),
            self.state.issuer.clone(),
            self.state.verifier.clone(),
        );
        if let Some(throttle) = &self.state.throttle {
            // The same counts as the gate's: a guess costs the same budget at either door.
            api_state = api_state.with_throttle(throttle.clone());
        }
        let api = wristband_api::router(api_state);
        // `/docs` serves Swagger UI (vendored: no CDN), reading `/openapi.json`. Its Authorize
        // button logs in through `POST /token`, the password flow the document declares.
        let docs = SwaggerUi::new("/docs")
            .url("/openapi.json", wristband_api::openapi())
            // Swagger UI otherwise sends every visitor's browser to an online validator, with
            // the document's address, whenever the host is not localhost. The festival works
            // offline and tells nobody where it runs.
            .config(SwaggerConfig::default().validator_url("none"));
        // Swagger UI loads its own scripts and styles from here and sets inline styles; it
        // needs nothing from anywhere else, and the policy says so.
        let docs = Router::from(docs).layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                 object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
            ),
        ));

        Router::new()
            .merge(pages)
            .merge(api)
            .merge(docs)
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                HeaderName::from_static("x-frame-options"),
                HeaderValue::from_static("DENY"),
            ))
            // Once a browser has seen the festival over https, it refuses plain http for a
            // year, so a network attacker cannot strip TLS from a later visit (RFC 6797).
            .layer(option_layer(self.state.settings.secure_cookies.then(
                || {
                    SetResponseHeaderLayer::if_not_present(
                        header::STRICT_TRANSPORT_SECURITY,
                        HeaderValue::from_static("max-age=31536000"),
                    )
                },
            )))
            .layer(CatchPanicLayer::custom(|_| {
                AppError::Internal("a handler panicked".to_owned()).into_response()
            }))
            .layer(middleware::from_fn(log_request))
    }

    /// Serves the app on `listener` until `shutdown` completes, then finishes the requests in
    /// flight, stops the expired-session cleanup and closes the database.
    ///
    /// # Errors
    ///
    /// When accepting connections fails.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Expired sessions are refused when loaded anyway; deleting them keeps the table small.
        let cleanup = tokio::spawn(
            self.sessions
                .clone()
                .continuously_delete_expired(Duration::from_secs(60)),
        );
        let router = self.router();
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await;
        cleanup.abort();
        self.state.store.close().await;
        served
    }
}

fn create_data_dir(path: &Path) -> Result<(), StartupError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        // The folder may hold the signing key: readable by the app's own user only.
        builder.mode(0o700);
    }
    builder
        .create(path)
        .map_err(|source| StartupError::DataDir {
            path: path.to_owned(),
            source,
        })
}

/// Loads the signing key from its file; in demo mode, generates the file first if it is missing.
fn signing_key(config: &Config, entropy: &dyn Entropy) -> Result<SigningKey, StartupError> {
    let path = match (&config.signing_key_file, config.demo) {
        (Some(path), _) => path.clone(),
        (None, true) => config.data_dir.join("signing-key.pem"),
        (None, false) => return Err(StartupError::NoSigningKey),
    };
    let failed = |reason: String| StartupError::SigningKey {
        path: path.clone(),
        reason,
    };
    match std::fs::read_to_string(&path) {
        Ok(pem) => SigningKey::from_pkcs8_pem(&pem)
            .map_err(|err| failed(format!("not an Ed25519 PKCS#8 PEM key ({err})"))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && config.demo => {
            let key = SigningKey::generate(entropy);
            let pem = key
                .to_pkcs8_pem()
                .map_err(|err| failed(format!("cannot encode a new key ({err})")))?;
            write_secret_file(&path, pem.as_bytes())
                .map_err(|err| failed(format!("cannot write a new key ({err})")))?;
            tracing::info!(path = %path.display(), kid = key.kid(), "generated a demo signing key");
            Ok(key)
        }
        Err(err) => Err(failed(format!("cannot read it ({err})"))),
    }
}

/// Writes a new file readable by its owner only. Refuses to overwrite an existing file.
fn write_secret_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Seeds the demo accounts, but only into a database with no accounts at all: demo mode must
/// never add known passwords to a database that real people use.
async fn seed_demo(store: &Store, passwords: &HashingPool, now: u64) -> Result<(), StartupError> {
    if store.count_users().await? > 0 {
        tracing::info!("demo mode: accounts exist already, nothing seeded");
        return Ok(());
    }
    for (username, password, wristband) in DEMO_ACCOUNTS {
        let hash = passwords
            .hash(Password::new(password))
            .await
            .map_err(|err| StartupError::Seed(err.to_string()))?;
        store
            .create_user(username, Some(&hash), wristband, now)
            .await
            .map_err(|err| StartupError::Seed(err.to_string()))?;
    }
    tracing::info!("demo mode: seeded the demo accounts");
    Ok(())
}

/// Whether `path` belongs to the JSON API, whose errors are JSON rather than pages.
fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || matches!(path, "/api" | "/token" | "/health" | "/openapi.json")
}

/// The headers every HTML page carries, error pages from the fallbacks included.
async fn page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    // The pages load nothing from elsewhere and run no script at all; a policy that says so
    // turns any markup injection into inert text.
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; \
             frame-ancestors 'none'",
        ));
    // Pages show who is logged in (and a token): never from a shared cache.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn not_found(uri: Uri) -> Response {
    if is_api_path(uri.path()) {
        json_error(StatusCode::NOT_FOUND, "not_found", "No such API route")
    } else {
        page_headers(AppError::NotFound.into_response()).await
    }
}

async fn method_not_allowed(uri: Uri) -> Response {
    if is_api_path(uri.path()) {
        json_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This route does not accept this method",
        )
    } else {
        page_headers(AppError::MethodNotAllowed.into_response()).await
    }
}

fn json_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// Writes one log line per request: method, path, status, latency, and the user if a page
/// found a login or an API route verified a bearer token. The query string is left out: it can carry things that do not belong in logs.
async fn log_request(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let user = wristband_axum::IdentitySlot::default();
    request.extensions_mut().insert(user.clone());
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "festival_app::http",
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = format_args!("{latency_ms:.1}"),
        user = user.take().as_deref(),
        "request"
    );
    response
}
