//! Lesson 02, the wristband: what a signed token is, and every way a forged one is caught.
//!
//! [`transcript`] issues tokens with a fixed key, a frozen clock and seeded token ids, so the
//! output is the same on every run; `main` prints it and the snapshot test pins it.

use std::fmt::Write as _;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wristband_axum::{AuthError, DEFAULT_REALM};
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, TokenError, Verifier, Wristband};

/// 2027-07-02T17:00:00Z: the gates open.
const GATES_OPEN: u64 = 1_814_547_600;
/// The festival's key seed. A real key is generated once and kept secret.
const FESTIVAL_SEED: [u8; 32] = [0x57; 32];
/// A key the festival has never seen.
const ATTACKER_SEED: [u8; 32] = [0x66; 32];
const ISSUER: &str = "https://festival.example";
const AUDIENCE: &str = "festival-api";

/// Runs the lesson and returns its transcript.
///
/// # Panics
///
/// Panics if signing fails on the fixed inputs, which would be a bug in the lesson.
#[allow(clippy::expect_used)]
pub fn transcript() -> String {
    let mut out = String::new();
    let clock = Arc::new(FixedClock::at(GATES_OPEN));
    let key = SigningKey::from_seed(FESTIVAL_SEED);
    let config = TokenConfig::new(ISSUER, AUDIENCE);
    let issuer = Issuer::new(
        key.clone(),
        config.clone(),
        clock.clone(),
        Arc::new(SeededEntropy::new(2)),
    );
    let verifier = Verifier::new(key.key_set(), config.clone(), clock.clone());

    heading(&mut out, "Lesson 02: the wristband");
    line(
        &mut out,
        "The gate has checked a ticket (lesson 01). Instead of asking for the",
    );
    line(
        &mut out,
        "password at every stage, it straps on a wristband: a token signed by the",
    );
    line(&mut out, "festival that any stage can check on its own.");

    heading(&mut out, "Step 1: the festival's signing key");
    line(&mut out, "  algorithm: EdDSA (Ed25519)");
    line(&mut out, &format!("  kid:       {}", key.kid()));
    line(
        &mut out,
        &format!("  public:    {}", URL_SAFE_NO_PAD.encode(key.public_key())),
    );
    line(
        &mut out,
        "Only the gate holds the private half and can sign. Stages hold only the public",
    );
    line(
        &mut out,
        "half, which checks signatures but cannot make them.",
    );

    heading(&mut out, "Step 2: strap on two wristbands");
    let alice = issuer
        .issue("alice", Wristband::Green, "stages")
        .expect("signing");
    let bob = issuer
        .issue("bob", Wristband::Gold, "stages backstage")
        .expect("signing");
    line(&mut out, "alice, green ticket, scope \"stages\":");
    line(&mut out, &format!("  {}", alice.access_token.expose()));
    line(&mut out, "bob, gold ticket, scope \"stages backstage\":");
    line(&mut out, &format!("  {}", bob.access_token.expose()));

    heading(&mut out, "Step 3: read alice's wristband (anyone can)");
    let token = alice.access_token.expose();
    let parts: Vec<&str> = token.split('.').collect();
    line(&mut out, "part 1, the header (base64url-encoded JSON):");
    indent(&mut out, &pretty(&decode_part(parts[0])));
    line(&mut out, "part 2, the claims (base64url-encoded JSON):");
    indent(&mut out, &pretty(&decode_part(parts[1])));
    line(&mut out, "  where the times mean:");
    for (claim, value) in [
        ("iat", alice.claims.iat),
        ("nbf", alice.claims.nbf),
        ("exp", alice.claims.exp),
    ] {
        line(
            &mut out,
            &format!("    {claim} {value} = {}", rfc3339(value)),
        );
    }
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap_or_default();
    line(
        &mut out,
        &format!(
            "part 3, the signature: {} bytes of Ed25519 over \"header.claims\"",
            signature.len()
        ),
    );
    line(&mut out, &format!("  {}", parts[2]));
    line(
        &mut out,
        "Base64url is an encoding, not encryption: never put a secret in a claim.",
    );

    heading(&mut out, "Step 4: a stage checks the wristband");
    match verifier.verify(token) {
        Ok(claims) => {
            line(&mut out, "  verdict: accepted");
            line(
                &mut out,
                &format!(
                    "  sub={} wristband={} scope={:?} jti={}",
                    claims.sub, claims.wristband, claims.scope, claims.jti
                ),
            );
        }
        Err(err) => line(&mut out, &format!("  verdict: refused ({err})")),
    }
    line(
        &mut out,
        "The verifier checked, in order: three parts; alg is EdDSA; typ is at+jwt; no",
    );
    line(
        &mut out,
        "key-carrying header; kid is a key it trusts; the signature; iss, aud, sub,",
    );
    line(
        &mut out,
        "exp and nbf present and right; the time within [nbf, exp).",
    );

    heading(&mut out, "Step 5: every forgery, refused");
    let header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid()});
    let claims: Value = decode_part(parts[1]);

    // Tampering: alice promotes herself to gold.
    let mut promoted = claims.clone();
    promoted["wristband"] = json!("gold");
    promoted["scope"] = json!("stages backstage");
    let tampered = format!("{}.{}.{}", parts[0], encode_part(&promoted), parts[2]);
    attempt(
        &mut out,
        &verifier,
        "alice edits her claims to gold + backstage, keeps the signature",
        &tampered,
    );

    attempt(
        &mut out,
        &verifier,
        "alice re-signs the edited claims with her own key, under the festival's kid",
        &forge(&header, &promoted, Some(ATTACKER_SEED)),
    );

    let attacker = SigningKey::from_seed(ATTACKER_SEED);
    attempt(
        &mut out,
        &verifier,
        "alice signs with her own key and names it with its own kid",
        &forge(
            &json!({"alg": "EdDSA", "typ": "at+jwt", "kid": attacker.kid()}),
            &promoted,
            Some(ATTACKER_SEED),
        ),
    );

    let mut jku = header.clone();
    jku["jku"] = json!("https://alice.example/keys.json");
    attempt(
        &mut out,
        &verifier,
        "alice points the header at her own key set (jku)",
        &forge(&jku, &promoted, Some(ATTACKER_SEED)),
    );

    attempt(
        &mut out,
        &verifier,
        "alice declares \"alg\": \"none\" and drops the signature",
        &forge(
            &json!({"alg": "none", "typ": "at+jwt", "kid": key.kid()}),
            &promoted,
            None,
        ),
    );

    attempt(
        &mut out,
        &verifier,
        "alice signs with HS256, using the festival's public key as the HMAC secret",
        &hs256_with_public_key(&key, &promoted),
    );

    let mut id_token_header = header.clone();
    id_token_header["typ"] = json!("JWT");
    attempt(
        &mut out,
        &verifier,
        "a token of another kind (typ JWT), signed by the festival's own key",
        &forge(&id_token_header, &claims, Some(FESTIVAL_SEED)),
    );

    let merch = Issuer::new(
        key.clone(),
        TokenConfig::new(ISSUER, "merch-shop"),
        clock.clone(),
        Arc::new(SeededEntropy::new(3)),
    )
    .issue("alice", Wristband::Green, "stages")
    .expect("signing");
    attempt(
        &mut out,
        &verifier,
        "a genuine festival token meant for the merch shop (aud \"merch-shop\")",
        merch.access_token.expose(),
    );

    let mut other_issuer = claims.clone();
    other_issuer["iss"] = json!("https://other-festival.example");
    attempt(
        &mut out,
        &verifier,
        "a token whose iss is another festival",
        &forge(&header, &other_issuer, Some(FESTIVAL_SEED)),
    );

    let mut no_exp = claims.clone();
    if let Some(object) = no_exp.as_object_mut() {
        object.remove("exp");
    }
    attempt(
        &mut out,
        &verifier,
        "a token without exp, valid forever if anyone accepted it",
        &forge(&header, &no_exp, Some(FESTIVAL_SEED)),
    );

    clock.set(alice.claims.exp + config.leeway_seconds);
    line(&mut out, "");
    line(
        &mut out,
        &format!(
            "The clock moves to {} (exp plus {} s of tolerated skew).",
            rfc3339(clock_now(&clock)),
            config.leeway_seconds
        ),
    );
    attempt(
        &mut out,
        &verifier,
        "alice's genuine wristband, after it expired",
        token,
    );

    line(&mut out, "");
    line(&mut out, "");
    line(
        &mut out,
        "Every refusal reaches the client as 401 with error=\"invalid_token\": get a new",
    );
    line(
        &mut out,
        "wristband. The description is a coarse hint for honest clients; which check",
    );
    line(
        &mut out,
        "failed is written to the server's log, not told to the forger.",
    );
    out
}

fn attempt(out: &mut String, verifier: &Verifier, what: &str, token: &str) {
    line(out, "");
    line(out, &format!("* {what}"));
    match verifier.verify(token) {
        Ok(claims) => line(
            out,
            &format!("  ACCEPTED as {} (this is a bug)", claims.sub),
        ),
        Err(err) => {
            line(out, &format!("  verifier: {err}"));
            line(out, &format!("  server answers: {}", http_answer(&err)));
        }
    }
}

/// The response a server built on this verifier sends (RFC 6750 §3.1): the status and challenge
/// come from `wristband-axum`, the same code the festival's API answers with.
fn http_answer(err: &TokenError) -> String {
    let refusal = AuthError::InvalidToken(err.clone());
    format!(
        "{}, WWW-Authenticate: {}",
        refusal.status().as_u16(),
        refusal
            .challenge(DEFAULT_REALM)
            .to_str()
            .unwrap_or("[not ASCII]")
    )
}

fn decode_part(part: &str) -> Value {
    URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Builds a token by hand, the way an attacker would.
fn forge(header: &Value, claims: &Value, seed: Option<[u8; 32]>) -> String {
    let message = format!("{}.{}", encode_part(header), encode_part(claims));
    let signature = seed.map_or_else(String::new, |seed| {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        URL_SAFE_NO_PAD.encode(key.sign(message.as_bytes()).to_bytes())
    });
    format!("{message}.{signature}")
}

fn hs256_with_public_key(key: &SigningKey, claims: &Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(key.kid().to_owned());
    jsonwebtoken::EncodingKey::from_secret(&key.public_key())
        .and_then(|secret| jsonwebtoken::encode(&header, claims, &secret))
        .unwrap_or_default()
}

fn clock_now(clock: &FixedClock) -> u64 {
    use wristband_inject::Clock as _;
    clock.now()
}

fn rfc3339(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|time| time.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn indent(out: &mut String, text: &str) {
    for text_line in text.lines() {
        line(out, &format!("  {text_line}"));
    }
}

fn heading(out: &mut String, title: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "{}", "-".repeat(title.chars().count()));
}

fn line(out: &mut String, text: &str) {
    let _ = writeln!(out, "{text}");
}
