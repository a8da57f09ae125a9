//! What the stage door adds to a request: the bearer extractor and the scope check, driven
//! through a real router with `oneshot` (no network).
//!
//! Run with `cargo bench -p wristband-axum --bench gate` (or `just bench`).
//!
//! Three routes answer the same short body: an open one (the baseline: routing and the
//! response alone), a gated one reached with a gold wristband (header parsing, signature
//! check, claims check, scope check), and the same gated route refused to a green wristband
//! (the 403 with its `WWW-Authenticate` challenge). The difference between the first two is
//! the gate's cost per request.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use criterion::Criterion;
use tower::ServiceExt as _;
use wristband_axum::Authorized;
use wristband_axum::require::Backstage;
use wristband_inject::{OsEntropy, SystemClock};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};

async fn open() -> &'static str {
    "welcome"
}

async fn backstage(_user: Authorized<Backstage>) -> &'static str {
    "welcome"
}

fn router(verifier: Verifier) -> Router {
    Router::new()
        .route("/open", get(open))
        .route("/backstage", get(backstage))
        .with_state(verifier)
}

fn request(path: &str, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::get(path);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(Body::empty()).expect("a valid request")
}

fn gate(c: &mut Criterion) {
    let key = SigningKey::generate(&OsEntropy);
    let config = TokenConfig::new("https://festival.example", "festival-api");
    let clock = Arc::new(SystemClock);
    let issuer = Issuer::new(
        key.clone(),
        config.clone(),
        clock.clone(),
        Arc::new(OsEntropy),
    );
    let token = |wristband, scope| {
        issuer
            .issue("bob", wristband, scope)
            .expect("the generated key signs")
            .access_token
            .expose()
            .to_owned()
    };
    let gold = token(Wristband::Gold, "stages backstage");
    let green = token(Wristband::Green, "stages");
    let verifier = Verifier::new(key.key_set(), config, clock);
    let app = router(verifier.clone());
    // As the festival app runs it: tokens that fully verified once are looked up after that.
    let cached_app = router(verifier.with_cache(1024));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");

    let mut group = c.benchmark_group("gate");
    let cases = [
        ("open_route", &app, "/open", None, StatusCode::OK),
        (
            "bearer_and_scope",
            &app,
            "/backstage",
            Some(gold.as_str()),
            StatusCode::OK,
        ),
        (
            "bearer_and_scope_cached",
            &cached_app,
            "/backstage",
            Some(gold.as_str()),
            StatusCode::OK,
        ),
        (
            "missing_scope_403",
            &app,
            "/backstage",
            Some(green.as_str()),
            StatusCode::FORBIDDEN,
        ),
    ];
    for (name, app, path, token, expected) in cases {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let response = app
                    .clone()
                    .oneshot(request(path, token))
                    .await
                    .expect("the router is infallible");
                // Checked on every iteration: a benchmark of the wrong answer measures nothing.
                assert_eq!(response.status(), expected);
                response
            });
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    gate(&mut criterion);
    criterion.final_summary();
}
