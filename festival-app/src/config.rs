//! The app's configuration: command-line flags, each with an environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Everything the festival app can be told at start.
///
/// Every option is a flag and an environment variable (flags win). `festival-app --help` prints
/// this list; `.env.example` at the workspace root shows the variables.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "festival-app",
    version,
    about = "The Wristband festival: buy a ticket, pass the gate, wear a wristband.",
    long_about = "The Wristband festival: buy a ticket, pass the gate, wear a wristband.\n\n\
        Serves the festival's web pages (cookie sessions), the JSON API (bearer tokens) and its \
        OpenAPI documentation at /docs, backed by a SQLite database."
)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "FESTIVAL_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Folder for the database and, in demo mode, the generated signing key. Created if missing.
    #[arg(long, env = "FESTIVAL_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL, e.g. `sqlite://data/festival.db?mode=rwc`. [default: festival.db in the
    /// data folder]
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Demo mode: seed the demo accounts (alice / green-wristband-demo, bob /
    /// gold-wristband-demo) into an empty database, and generate a signing key in the data folder
    /// if none is configured.
    #[arg(long, env = "FESTIVAL_DEMO", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    pub demo: bool,

    /// The PKCS#8 PEM file holding the Ed25519 key that signs wristband tokens. Required outside
    /// demo mode. [default in demo mode: signing-key.pem in the data folder, generated if missing]
    #[arg(long, env = "FESTIVAL_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,

    /// The URL visitors use to reach the festival: the tokens' issuer (`iss`), and whether the
    /// session cookie can be `Secure` (an `https` URL) or not. [default: `http://<addr>`, e.g.
    /// http://127.0.0.1:8080]
    #[arg(long, env = "FESTIVAL_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// How many gold tickets exist. Set at every start; tickets already sold stay sold.
    #[arg(long, env = "FESTIVAL_GOLD_QUOTA", default_value_t = 100)]
    pub gold_quota: u32,

    /// Send the session cookie without `Secure` (named `wristband` instead of `__Host-wristband`),
    /// for plain-http runs (required then, outside demo mode). Implied in demo mode when the
    /// public URL is http.
    #[arg(long, env = "FESTIVAL_INSECURE_COOKIES", value_parser = clap::builder::BoolishValueParser::new(), default_value_t = false)]
    pub insecure_cookies: bool,

    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "FESTIVAL_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: u32,

    /// Hours after login after which a session ends however active it is.
    #[arg(long, env = "FESTIVAL_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u32,

    /// Password hashes computed at the same time (each holds 19 MiB). [default: CPU cores]
    #[arg(long, env = "FESTIVAL_MAX_CONCURRENT_HASHES")]
    pub max_concurrent_hashes: Option<usize>,

    /// Password hashes allowed to wait for a free slot; beyond that, logins get a quick 503.
    /// [default: 16 per concurrent hash]
    #[arg(long, env = "FESTIVAL_MAX_WAITING_HASHES")]
    pub max_waiting_hashes: Option<usize>,

    /// Wristband tokens remembered after a full check, so a token seen again skips the
    /// signature check; expiry is still checked on every request. 0 turns the cache off.
    #[arg(long, env = "FESTIVAL_TOKEN_CACHE", default_value_t = 4096)]
    pub token_cache: usize,

    /// Failed logins allowed per username within the failure window, the gate and
    /// `POST /token` counted together; further attempts for that username are refused (429,
    /// with Retry-After) until the oldest failure leaves the window. 0 turns the throttle off.
    #[arg(long, env = "FESTIVAL_LOGIN_MAX_FAILURES", default_value_t = 10)]
    pub login_max_failures: u32,

    /// Minutes a failed login counts against its username.
    #[arg(
        long,
        env = "FESTIVAL_LOGIN_FAILURE_WINDOW_MINUTES",
        default_value_t = 15
    )]
    pub login_failure_window_minutes: u32,

    /// Issuer URL of the OpenID Connect provider behind "Log in with the ticket vendor"
    /// (everything else is discovered from it). Without it the button is not shown. [default in
    /// demo mode: http://127.0.0.1:8081, the workspace's ticket vendor]
    #[arg(long, env = "VENDOR_ISSUER")]
    pub vendor_issuer: Option<String>,

    /// The festival's client id at the provider.
    #[arg(long, env = "VENDOR_CLIENT_ID", default_value = "festival")]
    pub vendor_client_id: String,

    /// The festival's client secret at the provider; required with --vendor-issuer outside demo
    /// mode. [default in demo mode: the ticket vendor's public demo secret]
    #[arg(long, env = "VENDOR_CLIENT_SECRET", hide_env_values = true)]
    pub vendor_client_secret: Option<String>,
}

impl Config {
    /// The configuration a bare `festival-app` starts with (no flags, no environment), with the
    /// data folder moved to `data_dir`. Tests start from this and change what they need.
    ///
    /// Unlike parsing, this never reads environment variables, so a test's outcome does not
    /// depend on the shell it runs in.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: data_dir.into(),
            database_url: None,
            demo: false,
            signing_key_file: None,
            public_url: None,
            gold_quota: 100,
            insecure_cookies: false,
            session_idle_minutes: 30,
            session_max_hours: 12,
            max_concurrent_hashes: None,
            max_waiting_hashes: None,
            token_cache: 4096,
            login_max_failures: 10,
            login_failure_window_minutes: 15,
            vendor_issuer: None,
            vendor_client_id: crate::vendor_login::DEFAULT_VENDOR_CLIENT_ID.to_owned(),
            vendor_client_secret: None,
        }
    }

    /// The public URL without a trailing slash: the configured one, or `http://<addr>`.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.addr),
        }
    }

    /// Whether the session cookie is sent with `Secure` (and the `__Host-` name prefix): when
    /// the public URL is https and `--insecure-cookies` is not given.
    pub fn secure_cookies(&self) -> bool {
        self.public_url().starts_with("https://") && !self.insecure_cookies
    }
}
