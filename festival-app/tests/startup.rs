//! Starting the app: configuration errors, the database, demo seeding, the signing key, and
//! what survives a restart.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::{FAST_HASHING, TestApp, test_config};
use festival_app::{Config, Inject, StartupError, build_with};
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_passwords::HashParams;

fn inject() -> Inject {
    Inject {
        clock: Arc::new(FixedClock::at(common::NOON)),
        entropy: Arc::new(SeededEntropy::new(1)),
        hash_params: FAST_HASHING,
        signing_key: None,
    }
}

async fn start(config: Config) -> Result<festival_app::App, StartupError> {
    build_with(config, inject()).await
}

#[test]
fn the_test_defaults_match_the_command_line_defaults() {
    use clap::{CommandFactory as _, FromArgMatches as _};
    // Environment variables are switched off, so a local `.env` cannot change the outcome.
    let command = Config::command().mut_args(|arg| arg.env(None));
    let matches = command
        .try_get_matches_from(["festival-app", "--data-dir", "somewhere"])
        .unwrap();
    let parsed = Config::from_arg_matches(&matches).unwrap();
    let built = Config::with_data_dir("somewhere");
    assert_eq!(format!("{parsed:?}"), format!("{built:?}"));
}

#[tokio::test]
async fn without_demo_mode_nothing_is_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.demo = false;
    let app = start(config).await.unwrap();
    assert_eq!(app.state().store.count_users().await.unwrap(), 0);
}

#[tokio::test]
async fn demo_mode_seeds_alice_and_bob() {
    let festival = TestApp::demo().await;
    let store = &festival.app.state().store;
    let alice = store.find_user("alice").await.unwrap().unwrap();
    let bob = store.find_user("bob").await.unwrap().unwrap();
    assert_eq!(alice.wristband.as_str(), "green");
    assert_eq!(bob.wristband.as_str(), "gold");
}

#[tokio::test]
async fn demo_mode_never_seeds_a_database_that_has_accounts() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let first = TestApp::in_dir(dir.clone(), |config| config.demo = false).await;
    first
        .browser()
        .buy("carol", "three tents and a kettle", "green")
        .await;
    first.app.state().store.close().await;

    let second = TestApp::in_dir(dir, |_| {}).await;
    let store = &second.app.state().store;
    assert!(store.find_user("alice").await.unwrap().is_none());
    assert_eq!(store.count_users().await.unwrap(), 1);
}

#[tokio::test]
async fn accounts_and_sessions_survive_a_restart() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let first = TestApp::in_dir(dir.clone(), |_| {}).await;
    let mut browser = first.browser();
    browser
        .buy("carol", "three tents and a kettle", "gold")
        .await;
    browser
        .log_in("carol", "three tents and a kettle", "")
        .await;
    let cookie = browser.cookie.clone();
    first.app.state().store.close().await;

    let second = TestApp::in_dir(dir, |_| {}).await;
    let mut returning = second.browser();
    returning.cookie = cookie;
    let page = returning.get("/backstage").await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "same session, same gold wristband"
    );
    let quota = second.app.state().store.gold_quota().await.unwrap();
    assert_eq!(quota.sold, 2, "bob's and carol's");
}

#[tokio::test]
async fn outside_demo_mode_a_signing_key_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.demo = false;
    config.signing_key_file = None;
    let err = start(config).await.unwrap_err();
    assert!(matches!(err, StartupError::NoSigningKey));
    assert!(err.to_string().contains("FESTIVAL_SIGNING_KEY_FILE"));
}

#[tokio::test]
async fn a_missing_key_file_outside_demo_mode_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.demo = false;
    config.signing_key_file = Some(dir.path().join("nope.pem"));
    let err = start(config).await.unwrap_err();
    assert!(err.to_string().contains("nope.pem"), "{err}");
    assert!(!dir.path().join("nope.pem").exists(), "not generated");
}

#[tokio::test]
async fn a_key_file_that_is_not_a_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.pem");
    std::fs::write(&path, "not a key").unwrap();
    let mut config = test_config(&dir);
    config.signing_key_file = Some(path);
    let err = start(config).await.unwrap_err();
    assert!(
        err.to_string().contains("not an Ed25519 PKCS#8 PEM key"),
        "{err}"
    );
}

#[tokio::test]
async fn demo_mode_generates_a_private_signing_key_once_and_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.signing_key_file = None;
    let first = start(config.clone()).await.unwrap();
    let path = dir.path().join("signing-key.pem");
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let kid = first
        .state()
        .issuer
        .issue("x", wristband_tokens::Wristband::Green, "stages");
    first.state().store.close().await;

    let second = build_with(
        config,
        Inject {
            entropy: Arc::new(SeededEntropy::new(99)),
            ..inject()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        pem,
        "not regenerated"
    );
    let token = kid.unwrap().access_token;
    assert!(
        second.state().verifier.verify(token.expose()).is_ok(),
        "same key"
    );
}

#[tokio::test]
async fn plain_http_without_insecure_cookies_is_refused_outside_demo_mode() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.demo = false;
    config.insecure_cookies = false;
    let err = start(config).await.unwrap_err();
    assert!(matches!(err, StartupError::InsecurePublicUrl(_)));
    assert!(err.to_string().contains("--insecure-cookies"));
}

#[tokio::test]
async fn a_broken_database_file_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("festival.db"),
        b"this is not a database, just text",
    )
    .unwrap();
    let err = start(test_config(&dir)).await.unwrap_err();
    assert!(matches!(err, StartupError::Database { .. }), "{err}");
    assert!(err.to_string().contains("festival.db"), "{err}");
}

#[tokio::test]
async fn a_non_sqlite_database_url_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.database_url = Some("postgres://localhost/festival".to_owned());
    let err = start(config).await.unwrap_err();
    assert!(matches!(err, StartupError::DatabaseUrl(_)));
    assert!(err.to_string().contains("only sqlite"), "{err}");
}

#[tokio::test]
async fn a_sqlite_database_url_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    let file = dir.path().join("elsewhere.db");
    config.database_url = Some(format!("sqlite://{}?mode=rwc", file.display()));
    let app = start(config).await.unwrap();
    assert_eq!(app.database_path(), file);
    assert!(file.exists());
}

#[tokio::test]
async fn a_hash_made_with_weaker_parameters_is_upgraded_at_login() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let first = TestApp::in_dir(dir.clone(), |_| {}).await;
    let before = first
        .app
        .state()
        .store
        .find_user("alice")
        .await
        .unwrap()
        .unwrap();
    first.app.state().store.close().await;

    let stronger = HashParams {
        memory_kib: 512,
        ..FAST_HASHING
    };
    let mut config = test_config(&dir);
    config.demo = true;
    let app = build_with(
        config,
        Inject {
            hash_params: stronger,
            ..inject()
        },
    )
    .await
    .unwrap();
    let festival = TestApp {
        router: app.router(),
        app,
        clock: Arc::new(FixedClock::at(common::NOON)),
        dir,
    };
    festival.logged_in("alice", "green-wristband-demo").await;
    let after = festival
        .app
        .state()
        .store
        .find_user("alice")
        .await
        .unwrap()
        .unwrap();
    assert_ne!(before.password_hash, after.password_hash);
    assert!(after.password_hash.unwrap().as_str().contains("m=512,"));
}

#[tokio::test]
async fn an_in_memory_database_and_an_injected_key_need_no_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("never-created");
    let mut config = Config::with_data_dir(&data);
    config.demo = true;
    config.database_url = Some("sqlite::memory:".to_owned());
    let app = build_with(
        config,
        Inject {
            signing_key: Some(wristband_tokens::SigningKey::from_seed([4; 32])),
            ..inject()
        },
    )
    .await
    .unwrap();
    assert_eq!(app.state().store.count_users().await.unwrap(), 2);
    assert!(!data.exists());
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_file_is_readable_by_its_owner_only_even_in_an_existing_folder() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("festival.db");
    // A file left world-readable by an earlier version or by hand is tightened too.
    std::fs::write(&database, b"").unwrap();
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let app = start(test_config(&dir)).await.unwrap();
    assert_eq!(app.database_path(), database);
    let mode = std::fs::metadata(&database).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
