//! Run with `cargo run -p ticket-vendor` (`just run` starts it beside the festival app).
//!
//! Every flag has an environment variable: `VENDOR_ADDR`, `VENDOR_ISSUER`, `VENDOR_CLIENT_ID`,
//! `VENDOR_CLIENT_SECRET`, `VENDOR_REDIRECT_URI` (comma-separated for several) and
//! `VENDOR_DATA_DIR`; `RUST_LOG` overrides the log filter. The signing key is kept in
//! `<data dir>/vendor-signing-key` (created with mode 0600 on first start).

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use ticket_vendor::{
    ClientRegistration, DEMO_CLIENT_SECRET, Secret, VendorConfig, VendorSigningKey, VendorState,
    router,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use tracing_subscriber::EnvFilter;
use url::Url;
use wristband_inject::{OsEntropy, SystemClock};

/// The ticket vendor: a small teaching OpenID Connect provider for the Wristband festival.
///
/// Demo ticket holders: carol / vendor-green-demo (green), dave / vendor-gold-demo (gold).
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "VENDOR_ADDR", default_value = "127.0.0.1:8081")]
    addr: SocketAddr,

    /// Issuer URL: what clients configure, and the `iss` of every token. Must be the URL this
    /// server is reached at.
    #[arg(long, env = "VENDOR_ISSUER", default_value = "http://127.0.0.1:8081")]
    issuer: Url,

    /// The registered client's id.
    #[arg(long, env = "VENDOR_CLIENT_ID", default_value = "festival")]
    client_id: String,

    /// The registered client's secret. The default is the public demo secret.
    #[arg(
        long,
        env = "VENDOR_CLIENT_SECRET",
        default_value = DEMO_CLIENT_SECRET,
        hide_default_value = true,
        // `--help` would otherwise print the secret from the environment.
        hide_env_values = true
    )]
    client_secret: Secret,

    /// A redirect URI registered for the client, matched exactly. Repeat the flag (or separate
    /// with commas in the environment variable) to register several.
    #[arg(
        long = "redirect-uri",
        value_name = "URI",
        env = "VENDOR_REDIRECT_URI",
        default_value = "http://127.0.0.1:8080/auth/vendor/callback",
        value_delimiter = ','
    )]
    redirect_uris: Vec<String>,

    /// Folder for the signing key.
    #[arg(long, env = "VENDOR_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("ticket_vendor=info,tower_http=info")),
        )
        .init();
    let args = Args::parse();

    if args.client_secret.matches(DEMO_CLIENT_SECRET) {
        tracing::warn!(
            "using the public demo client secret; set VENDOR_CLIENT_SECRET for anything but a local demo"
        );
    }

    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data folder {}", args.data_dir.display()))?;
    let key_path = args.data_dir.join("vendor-signing-key");
    let signing_key = VendorSigningKey::load_or_create(&key_path, &OsEntropy)
        .with_context(|| format!("loading the signing key {}", key_path.display()))?;
    warn_if_readable_by_others(&key_path);
    tracing::info!(kid = signing_key.kid(), path = %key_path.display(), "signing key ready");

    // The demo ticket holders and lifetimes, with the client and the key taken from the flags
    // and the data folder instead of the demo's.
    let mut config = VendorConfig::demo(args.issuer, String::new());
    config.clients = vec![ClientRegistration::new(
        args.client_id,
        args.client_secret,
        args.redirect_uris,
    )];
    config.signing_key = signing_key;
    let state = VendorState::new(config, Arc::new(SystemClock), Arc::new(OsEntropy))
        .context("checking the configuration")?;
    if state.config().issuer.port_or_known_default() != Some(args.addr.port()) {
        tracing::warn!(
            issuer = state.issuer(),
            addr = %args.addr,
            "the issuer's port differs from the listening port; clients must reach the vendor at the issuer URL"
        );
    }

    // One log line per request: method and path (never the query, which carries codes and
    // nonces), then status and latency.
    let app = router(state.clone()).layer(
        TraceLayer::new_for_http()
            .make_span_with(|request: &axum::extract::Request| {
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = request.uri().path()
                )
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
    );

    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("listening on {}", args.addr))?;
    let local = listener
        .local_addr()
        .context("reading the listening address")?;
    tracing::info!(
        url = %format!("http://{local}"),
        issuer = state.issuer(),
        "ticket vendor listening; demo ticket holders: carol / vendor-green-demo, dave / vendor-gold-demo"
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!("ticket vendor stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, letting in-flight requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// The key file is created private; say so if someone has loosened it since.
fn warn_if_readable_by_others(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the signing key file is readable by other users; chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
