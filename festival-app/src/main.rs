//! Run with `just run` (demo mode, beside the ticket vendor), or directly:
//! `cargo run -p festival-app -- --demo`, or `cargo run -p festival-app -- --help` for every
//! option.
//!
//! Reads `FESTIVAL_ADDR`, `FESTIVAL_DATA_DIR`, `DATABASE_URL`, `FESTIVAL_DEMO`,
//! `FESTIVAL_SIGNING_KEY_FILE`, `FESTIVAL_PUBLIC_URL`, `FESTIVAL_GOLD_QUOTA`,
//! `FESTIVAL_INSECURE_COOKIES`, `FESTIVAL_SESSION_IDLE_MINUTES`, `FESTIVAL_SESSION_MAX_HOURS`,
//! `FESTIVAL_MAX_CONCURRENT_HASHES`, `FESTIVAL_MAX_WAITING_HASHES`, `FESTIVAL_TOKEN_CACHE`,
//! `FESTIVAL_LOGIN_MAX_FAILURES`, `FESTIVAL_LOGIN_FAILURE_WINDOW_MINUTES`, `VENDOR_ISSUER`,
//! `VENDOR_CLIENT_ID`, `VENDOR_CLIENT_SECRET` (see `.env.example`), and `RUST_LOG` for the log
//! filter (default
//! `festival_app=info,wristband_oidc=info,wristband_passwords=info,tower_http=info`).

use std::io::IsTerminal as _;

use anyhow::Context as _;
use clap::Parser as _;
use festival_app::{Config, DEMO_ACCOUNTS};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        // Colours for a person at a terminal; plain text for files, pipes and log collectors.
        .with_ansi(std::io::stdout().is_terminal())
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            EnvFilter::new(
                "festival_app=info,wristband_oidc=info,wristband_passwords=info,tower_http=info",
            )
        }))
        .init();

    let addr = config.addr;
    let demo = config.demo;
    let public_url = config.public_url();
    if demo && !config.secure_cookies() {
        tracing::warn!(
            "demo mode over plain http: the session cookie is sent without Secure; \
             serve over https for anything but a local demo"
        );
    }
    let app = festival_app::build(config)
        .await
        .context("the festival app could not start")?;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on {addr} (set FESTIVAL_ADDR to another address)")
    })?;
    let local = listener
        .local_addr()
        .context("listening socket has no address")?;

    tracing::info!(database = %app.database_path().display(), "database ready");
    tracing::info!("festival open at http://{local}/ (public URL {public_url}); API docs at /docs");
    if demo {
        for (username, password, wristband) in DEMO_ACCOUNTS {
            tracing::info!("demo login: {username} / {password} ({wristband} wristband)");
        }
    }

    app.serve(listener, shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    tracing::info!("festival closed");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM (what `docker stop`, systemd and `just run` send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
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
    tracing::info!("shutting down: finishing requests in flight");
}
