//! The verifier's contract: every token it accepts was made by the festival's issuer for this
//! audience and is within its lifetime; everything else is refused with the reason.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use serde_json::{Value, json};
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_tokens::{Issuer, SigningKey, TokenConfig, TokenError, Verifier, Wristband};

const NOW: u64 = 1_750_000_000;
const SEED: [u8; 32] = [42; 32];

struct Gate {
    clock: Arc<FixedClock>,
    key: SigningKey,
    issuer: Issuer,
    verifier: Verifier,
}

fn config() -> TokenConfig {
    TokenConfig::new("https://festival.example", "festival-api")
}

fn gate() -> Gate {
    let clock = Arc::new(FixedClock::at(NOW));
    let key = SigningKey::from_seed(SEED);
    let issuer = Issuer::new(
        key.clone(),
        config(),
        clock.clone(),
        Arc::new(SeededEntropy::new(9)),
    );
    let verifier = Verifier::new(key.key_set(), config(), clock.clone());
    Gate {
        clock,
        key,
        issuer,
        verifier,
    }
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Builds a compact JWT from raw JSON and signs it with `seed` (or not at all).
fn forge(header: &Value, claims: &Value, seed: Option<[u8; 32]>) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = match seed {
        Some(seed) => {
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            URL_SAFE_NO_PAD.encode(key.sign(message.as_bytes()).to_bytes())
        }
        None => String::new(),
    };
    format!("{message}.{signature}")
}

fn good_header(gate: &Gate) -> Value {
    json!({"alg": "EdDSA", "typ": "at+jwt", "kid": gate.key.kid()})
}

fn good_claims() -> Value {
    json!({
        "iss": "https://festival.example",
        "sub": "alice",
        "aud": "festival-api",
        "exp": NOW + 900,
        "iat": NOW,
        "nbf": NOW,
        "jti": "abc",
        "scope": "stages",
        "wristband": "green",
    })
}

fn refused(gate: &Gate, token: &str) -> TokenError {
    gate.verifier
        .verify(token)
        .expect_err("the token should be refused")
}

#[test]
fn a_freshly_issued_token_verifies_and_carries_its_claims() {
    let gate = gate();
    let issued = gate
        .issuer
        .issue("bob", Wristband::Gold, "stages backstage")
        .unwrap();
    let claims = gate.verifier.verify(issued.access_token.expose()).unwrap();
    assert_eq!(claims, issued.claims);
    assert_eq!(claims.sub, "bob");
    assert_eq!(claims.iss, "https://festival.example");
    assert_eq!(claims.aud, "festival-api");
    assert_eq!(claims.exp, NOW + 900);
    assert_eq!(claims.scopes().collect::<Vec<_>>(), ["stages", "backstage"]);
    assert_eq!(issued.expires_in, 900);
}

#[test]
fn the_header_names_the_algorithm_type_and_key() {
    let gate = gate();
    let issued = gate
        .issuer
        .issue("alice", Wristband::Green, "stages")
        .unwrap();
    let header = jsonwebtoken::decode_header(issued.access_token.expose()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some(gate.key.kid()));
}

#[test]
fn a_hand_built_token_signed_with_the_real_key_verifies() {
    // Sanity check for the forging helper the other tests rely on.
    let gate = gate();
    let token = forge(&good_header(&gate), &good_claims(), Some(SEED));
    assert_eq!(gate.verifier.verify(&token).unwrap().sub, "alice");
}

#[test]
fn a_token_whose_payload_was_edited_is_refused_as_a_bad_signature() {
    let gate = gate();
    let issued = gate
        .issuer
        .issue("alice", Wristband::Green, "stages")
        .unwrap();
    let parts: Vec<&str> = issued.access_token.expose().split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["scope"] = json!("stages backstage");
    claims["wristband"] = json!("gold");
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert_eq!(refused(&gate, &tampered), TokenError::BadSignature);
}

#[test]
fn a_token_signed_by_another_key_under_our_kid_is_refused() {
    let gate = gate();
    let token = forge(&good_header(&gate), &good_claims(), Some([1; 32]));
    assert_eq!(refused(&gate, &token), TokenError::BadSignature);
}

#[test]
fn a_token_signed_by_a_key_we_do_not_know_is_refused_as_unknown_key() {
    let gate = gate();
    let other = SigningKey::from_seed([1; 32]);
    let header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": other.kid()});
    let token = forge(&header, &good_claims(), Some([1; 32]));
    assert_eq!(refused(&gate, &token), TokenError::UnknownKey);

    let no_kid = json!({"alg": "EdDSA", "typ": "at+jwt"});
    let token = forge(&no_kid, &good_claims(), Some(SEED));
    assert_eq!(refused(&gate, &token), TokenError::UnknownKey);
}

#[test]
fn an_unsigned_alg_none_token_is_refused_before_anything_else() {
    let gate = gate();
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": gate.key.kid()});
    let token = forge(&header, &good_claims(), None);
    assert_eq!(
        refused(&gate, &token),
        TokenError::UnsupportedAlgorithm("none".to_owned())
    );
}

#[test]
fn an_hs256_token_keyed_with_the_public_key_is_refused() {
    // The classic algorithm-confusion attack: sign with HMAC using the (public) verification
    // key as the secret and hope the verifier lets the header pick the algorithm.
    let gate = gate();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some(gate.key.kid().to_owned());
    let key = jsonwebtoken::EncodingKey::from_secret(&gate.key.public_key()).unwrap();
    let token = jsonwebtoken::encode(&header, &good_claims(), &key).unwrap();
    assert_eq!(
        refused(&gate, &token),
        TokenError::UnsupportedAlgorithm("HS256".to_owned())
    );
}

#[test]
fn a_token_expires_at_exp_plus_the_leeway() {
    let gate = gate();
    let issued = gate
        .issuer
        .issue("alice", Wristband::Green, "stages")
        .unwrap();
    let token = issued.access_token.expose();

    gate.clock.set(NOW + 900 + 29);
    assert!(gate.verifier.verify(token).is_ok(), "within the leeway");
    gate.clock.set(NOW + 900 + 30);
    assert_eq!(refused(&gate, token), TokenError::Expired);
}

#[test]
fn a_token_from_the_future_is_not_valid_yet() {
    let gate = gate();
    let mut claims = good_claims();
    claims["nbf"] = json!(NOW + 3600);
    let token = forge(&good_header(&gate), &claims, Some(SEED));
    assert_eq!(refused(&gate, &token), TokenError::NotYetValid);

    let mut claims = good_claims();
    claims["iat"] = json!(NOW + 3600);
    let token = forge(&good_header(&gate), &claims, Some(SEED));
    assert_eq!(refused(&gate, &token), TokenError::NotYetValid);
}

#[test]
fn a_token_for_another_audience_is_refused() {
    let gate = gate();
    let mut claims = good_claims();
    claims["aud"] = json!("merch-shop");
    let token = forge(&good_header(&gate), &claims, Some(SEED));
    assert_eq!(refused(&gate, &token), TokenError::WrongAudience);
}

#[test]
fn a_token_from_another_issuer_is_refused() {
    let gate = gate();
    let mut claims = good_claims();
    claims["iss"] = json!("https://evil.example");
    let token = forge(&good_header(&gate), &claims, Some(SEED));
    assert_eq!(refused(&gate, &token), TokenError::WrongIssuer);
}

#[test]
fn a_token_missing_a_required_claim_is_refused_and_names_it() {
    let gate = gate();
    for claim in [
        "exp",
        "iss",
        "aud",
        "sub",
        "nbf",
        "iat",
        "jti",
        "scope",
        "wristband",
    ] {
        let mut claims = good_claims();
        claims.as_object_mut().unwrap().remove(claim);
        let token = forge(&good_header(&gate), &claims, Some(SEED));
        assert_eq!(
            refused(&gate, &token),
            TokenError::MissingClaim(claim.to_owned()),
            "without {claim}"
        );
    }
}

#[test]
fn a_token_of_another_type_is_refused_even_with_a_good_signature() {
    let gate = gate();
    for typ in [Some("JWT"), Some("id_token+jwt"), None] {
        let mut header = good_header(&gate);
        match typ {
            Some(typ) => header["typ"] = json!(typ),
            None => {
                header.as_object_mut().unwrap().remove("typ");
            }
        }
        let token = forge(&header, &good_claims(), Some(SEED));
        assert_eq!(
            refused(&gate, &token),
            TokenError::WrongType(typ.map(str::to_owned))
        );
    }
    let mut header = good_header(&gate);
    header["typ"] = json!("application/AT+JWT");
    let token = forge(&header, &good_claims(), Some(SEED));
    assert!(
        gate.verifier.verify(&token).is_ok(),
        "media type form is accepted"
    );
}

#[test]
fn a_token_pointing_at_its_own_key_is_refused() {
    let gate = gate();
    let attacker = SigningKey::from_seed([66; 32]);
    for (name, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("jwk", attacker.public_jwk()),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("x5c", json!(["MIIB..."])),
        ("crit", json!(["exp"])),
    ] {
        let mut header = good_header(&gate);
        header[name] = value;
        let token = forge(&header, &good_claims(), Some([66; 32]));
        assert_eq!(
            refused(&gate, &token),
            TokenError::UntrustedHeader(name),
            "{name}"
        );
    }
}

#[test]
fn garbage_is_refused_as_malformed() {
    let gate = gate();
    for token in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.sig", "e30.e30.c2ln"] {
        assert!(
            matches!(
                refused(&gate, token),
                TokenError::Malformed(_) | TokenError::UnsupportedAlgorithm(_)
            ),
            "{token:?}"
        );
    }
}

#[test]
fn rotation_keeps_old_tokens_valid_while_new_ones_use_the_new_key() {
    let gate = gate();
    let old_token = gate
        .issuer
        .issue("alice", Wristband::Green, "stages")
        .unwrap();
    let new_key = SigningKey::from_seed([43; 32]);
    let new_issuer = Issuer::new(
        new_key.clone(),
        config(),
        gate.clock.clone(),
        Arc::new(SeededEntropy::new(10)),
    );
    let both = gate.key.key_set().with(&new_key);
    let verifier = Verifier::new(both, config(), gate.clock.clone());
    let new_token = new_issuer
        .issue("alice", Wristband::Green, "stages")
        .unwrap();
    assert!(verifier.verify(old_token.access_token.expose()).is_ok());
    assert!(verifier.verify(new_token.access_token.expose()).is_ok());
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let gate = gate();
    let issued = gate
        .issuer
        .issue("alice", Wristband::Green, "stages")
        .unwrap();
    assert_eq!(
        format!("{:?}", issued.access_token),
        "AccessToken([redacted])"
    );
    let key_debug = format!("{:?}", gate.key);
    assert!(key_debug.contains("[redacted]") && key_debug.contains(gate.key.kid()));
    let pem = gate.key.to_pkcs8_pem().unwrap();
    assert!(!key_debug.contains(&pem));
}

#[test]
fn a_key_survives_a_round_trip_through_pem() {
    let key = SigningKey::from_seed(SEED);
    let pem = key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let back = SigningKey::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(back.kid(), key.kid());
}

// The verified-token cache: the same answers as a verifier without one.

fn cached_gate(capacity: usize) -> Gate {
    let gate = gate();
    Gate {
        verifier: gate.verifier.clone().with_cache(capacity),
        ..gate
    }
}

#[test]
fn a_cached_token_verifies_again_with_the_same_claims() {
    let gate = cached_gate(8);
    let issued = gate
        .issuer
        .issue("bob", Wristband::Gold, "stages backstage")
        .unwrap();
    let first = gate.verifier.verify(issued.access_token.expose()).unwrap();
    assert_eq!(gate.verifier.cached_tokens(), 1);
    let second = gate.verifier.verify(issued.access_token.expose()).unwrap();
    assert_eq!(first, second);
    assert_eq!(second, issued.claims);
}

#[test]
fn a_cached_token_still_expires_and_leaves_the_cache() {
    let gate = cached_gate(8);
    let issued = gate
        .issuer
        .issue("alice", Wristband::Green, "stages")
        .unwrap();
    let token = issued.access_token.expose();
    gate.verifier.verify(token).unwrap();

    gate.clock.set(NOW + 900 + 30);
    assert_eq!(refused(&gate, token), TokenError::Expired);
    assert_eq!(gate.verifier.cached_tokens(), 0);
}

#[test]
fn a_token_edited_after_its_original_was_cached_is_still_refused() {
    let gate = cached_gate(8);
    let issued = gate
        .issuer
        .issue("alice", Wristband::Green, "stages")
        .unwrap();
    gate.verifier.verify(issued.access_token.expose()).unwrap();

    let parts: Vec<&str> = issued.access_token.expose().split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["scope"] = json!("stages backstage");
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert_eq!(refused(&gate, &tampered), TokenError::BadSignature);
    // The signature alone, reused on the edited payload, is no key into the cache either.
    let spliced = format!("{}.{}.{}", parts[0], parts[1], "A".repeat(parts[2].len()));
    assert_eq!(refused(&gate, &spliced), TokenError::BadSignature);
}

#[test]
fn refused_tokens_are_never_cached() {
    let gate = cached_gate(8);
    let forged = forge(&good_header(&gate), &good_claims(), Some([1; 32]));
    for _ in 0..3 {
        assert_eq!(refused(&gate, &forged), TokenError::BadSignature);
    }
    assert_eq!(gate.verifier.cached_tokens(), 0);
}

#[test]
fn a_full_cache_keeps_its_bound_and_still_verifies_new_tokens() {
    let gate = cached_gate(2);
    let tokens: Vec<_> = (0..4)
        .map(|n| {
            gate.issuer
                .issue(&format!("holder-{n}"), Wristband::Green, "stages")
                .unwrap()
        })
        .collect();
    for issued in &tokens {
        let claims = gate.verifier.verify(issued.access_token.expose()).unwrap();
        assert_eq!(claims, issued.claims);
        assert!(gate.verifier.cached_tokens() <= 2);
    }

    // Once the cached ones expire, a sweep makes room for tokens issued later.
    gate.clock.set(NOW + 900 + 30);
    let later = gate
        .issuer
        .issue("late-arrival", Wristband::Gold, "stages backstage")
        .unwrap();
    gate.verifier.verify(later.access_token.expose()).unwrap();
    assert_eq!(gate.verifier.cached_tokens(), 1);
}

#[test]
fn clones_share_one_cache() {
    let gate = cached_gate(8);
    let issued = gate.issuer.issue("bob", Wristband::Gold, "stages").unwrap();
    let clone = gate.verifier.clone();
    clone.verify(issued.access_token.expose()).unwrap();
    assert_eq!(gate.verifier.cached_tokens(), 1);
    assert_eq!(
        gate.verifier.verify("not.a.token"),
        clone.verify("not.a.token")
    );
}
