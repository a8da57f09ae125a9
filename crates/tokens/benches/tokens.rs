//! What a wristband costs: issuing one token at the gate, and verifying it at a stage door.
//!
//! Run with `cargo bench -p wristband-tokens --bench tokens` (or `just bench`).
//!
//! Issuing is an Ed25519 signature over the claims; verifying parses the header, looks the key
//! up by `kid` and checks the signature and the claims. Verification runs on every gated
//! request, so it is the figure that decides what the gate adds to a request.

use std::hint::black_box;
use std::sync::Arc;

use criterion::Criterion;
use wristband_inject::{OsEntropy, SystemClock};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, Verifier, Wristband};

fn issuer_and_verifier() -> (Issuer, Verifier) {
    let key = SigningKey::generate(&OsEntropy);
    let config = TokenConfig::new("https://festival.example", "festival-api");
    let clock = Arc::new(SystemClock);
    let issuer = Issuer::new(
        key.clone(),
        config.clone(),
        clock.clone(),
        Arc::new(OsEntropy),
    );
    let verifier = Verifier::new(key.key_set(), config, clock);
    (issuer, verifier)
}

/// Signing a gold wristband, as `POST /token` does after the password check.
fn issue(c: &mut Criterion) {
    let (issuer, _) = issuer_and_verifier();
    c.bench_function("wristband_token/issue", |b| {
        b.iter(|| {
            issuer
                .issue(
                    black_box("bob"),
                    Wristband::Gold,
                    black_box("stages backstage"),
                )
                .expect("the generated key signs")
        });
    });
}

/// Verifying that wristband, as every gated route does.
fn verify(c: &mut Criterion) {
    let (issuer, verifier) = issuer_and_verifier();
    let issued = issuer
        .issue("bob", Wristband::Gold, "stages backstage")
        .expect("the generated key signs");
    let token = issued.access_token.expose();
    c.bench_function("wristband_token/verify", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(token))
                .expect("a fresh token verifies")
        });
    });
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    issue(&mut criterion);
    verify(&mut criterion);
    criterion.final_summary();
}
