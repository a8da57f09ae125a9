//! ID token validation, OIDC Core §3.1.3.7: an honest token passes; each forged variant fails
//! on exactly the check it targets.

mod support;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use support::{CLIENT_ID, ISSUER, NONCE, NOW, TestKey, b64_json, claims, jwks_json};
use wristband_inject::FixedClock;
use wristband_oidc::{IdTokenError, IdTokenValidator, Jwks, Policy, Wristband};

fn validator_for(algorithms: &[&str], clock: Arc<FixedClock>) -> IdTokenValidator {
    IdTokenValidator::new(
        ISSUER,
        CLIENT_ID,
        algorithms.iter().map(|alg| (*alg).to_owned()).collect(),
        clock,
        Policy::default(),
    )
}

struct Setup {
    clock: Arc<FixedClock>,
    validator: IdTokenValidator,
    jwks: Jwks,
    ed: TestKey,
    ec: TestKey,
}

fn setup() -> Setup {
    let clock = Arc::new(FixedClock::at(NOW));
    let ed = TestKey::ed25519("ed-1", 7);
    let ec = TestKey::p256("ec-1", 0x11);
    let jwks = Jwks::from_json(jwks_json(&[&ed, &ec]).to_string().as_bytes()).expect("a key set");
    Setup {
        validator: validator_for(&["EdDSA", "ES256"], clock.clone()),
        clock,
        jwks,
        ed,
        ec,
    }
}

fn validate(setup: &Setup, token: &str) -> Result<wristband_oidc::VerifiedIdentity, IdTokenError> {
    setup.validator.validate(token, NONCE, &setup.jwks)
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().expect("an object").remove(name);
    claims
}

#[test]
fn an_honest_eddsa_token_yields_the_verified_identity() {
    let setup = setup();
    let identity = validate(&setup, &setup.ed.sign(&claims())).expect("a valid token");
    assert_eq!(identity.issuer, ISSUER);
    assert_eq!(identity.subject, "holder-42");
    assert_eq!(identity.name.as_deref(), Some("Carol"));
    assert_eq!(identity.ticket, Some(Wristband::Green));
    assert_eq!(identity.claims["auth_time"], json!(NOW));
    assert_eq!(identity.external_identity().subject, "holder-42");
}

#[test]
fn an_honest_es256_token_is_accepted() {
    let setup = setup();
    let token = setup.ec.sign(&with(claims(), "ticket", json!("gold")));
    let identity = validate(&setup, &token).expect("a valid token");
    assert_eq!(identity.ticket, Some(Wristband::Gold));
}

#[test]
fn an_honest_rs256_token_is_accepted() {
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/rs256.json")).expect("the fixture is JSON");
    let now = fixture["now"].as_u64().expect("a time");
    let validator = validator_for(&["RS256"], Arc::new(FixedClock::at(now)));
    let jwks = Jwks::from_json(fixture["jwks"].to_string().as_bytes()).expect("a key set");
    let token = fixture["id_token"].as_str().expect("a token");
    let nonce = fixture["nonce"].as_str().expect("a nonce");

    let identity = validator
        .validate(token, nonce, &jwks)
        .expect("a valid token");
    assert_eq!(identity.subject, "rsa-holder");
    assert_eq!(identity.ticket, Some(Wristband::Gold));
}

#[test]
fn an_hs256_token_keyed_with_the_rsa_public_key_is_refused_before_any_signature_check() {
    // The classic algorithm confusion: sign with HMAC, using the provider's *public* key as the
    // shared secret, and hope the verifier lets the token choose the algorithm.
    let fixture: Value =
        serde_json::from_str(include_str!("fixtures/rs256.json")).expect("the fixture is JSON");
    let validator = validator_for(&["RS256"], Arc::new(FixedClock::at(NOW)));
    let jwks = Jwks::from_json(fixture["jwks"].to_string().as_bytes()).expect("a key set");
    let public_key = fixture["jwks"]["keys"][0]["n"].as_str().expect("a modulus");
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(public_key.as_bytes()).expect("an HMAC key"),
    )
    .expect("signing");

    assert_eq!(
        validator.validate(&forged, NONCE, &jwks).err(),
        Some(IdTokenError::UnsupportedAlgorithm("HS256".to_owned()))
    );
}

#[test]
fn an_unsigned_token_with_alg_none_is_refused() {
    let setup = setup();
    let unsigned = format!(
        "{}.{}.",
        b64_json(&json!({ "alg": "none", "typ": "JWT" })),
        b64_json(&claims())
    );
    assert_eq!(
        validate(&setup, &unsigned).err(),
        Some(IdTokenError::UnsupportedAlgorithm("none".to_owned()))
    );
}

#[test]
fn an_algorithm_the_provider_does_not_advertise_is_refused_even_with_a_valid_signature() {
    let setup = setup();
    let eddsa_only = validator_for(&["EdDSA"], setup.clock.clone());
    let token = setup.ec.sign(&claims());
    assert_eq!(
        eddsa_only.validate(&token, NONCE, &setup.jwks).err(),
        Some(IdTokenError::UnsupportedAlgorithm("ES256".to_owned()))
    );
}

#[test]
fn a_token_signed_by_a_key_outside_the_providers_set_is_refused() {
    let setup = setup();
    let attacker = TestKey::ed25519("ed-1", 99);
    assert_eq!(
        validate(&setup, &attacker.sign(&claims())).err(),
        Some(IdTokenError::BadSignature)
    );
}

#[test]
fn a_token_naming_an_unknown_kid_is_refused() {
    let setup = setup();
    let stranger = TestKey::ed25519("ed-2", 7);
    assert_eq!(
        validate(&setup, &stranger.sign(&claims())).err(),
        Some(IdTokenError::UnknownKey)
    );
}

#[test]
fn a_token_with_a_tampered_payload_is_refused() {
    let setup = setup();
    let token = setup.ed.sign(&claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let gold = b64_json(&with(claims(), "ticket", json!("gold")));
    parts[1] = &gold;
    assert_eq!(
        validate(&setup, &parts.join(".")).err(),
        Some(IdTokenError::BadSignature)
    );
}

#[test]
fn a_token_carrying_its_own_key_in_the_header_is_refused() {
    let setup = setup();
    for name in ["jwk", "jku", "x5u", "x5c", "crit"] {
        let header = json!({ "alg": "EdDSA", "typ": "JWT", "kid": "ed-1", name: "anything" });
        let token = setup.ed.sign_with_header(&header, &claims());
        assert!(
            matches!(validate(&setup, &token), Err(IdTokenError::UntrustedHeader(found)) if found == name),
            "header parameter {name} must be refused"
        );
    }
}

#[test]
fn an_access_token_is_not_accepted_as_an_id_token() {
    let setup = setup();
    let header = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": "ed-1" });
    let token = setup.ed.sign_with_header(&header, &claims());
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::WrongType("at+jwt".to_owned()))
    );
}

#[test]
fn a_token_from_another_issuer_is_refused() {
    let setup = setup();
    let token = setup
        .ed
        .sign(&with(claims(), "iss", json!("https://evil.example")));
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::WrongIssuer {
            expected: ISSUER.to_owned(),
            found: "https://evil.example".to_owned(),
        })
    );
}

#[test]
fn an_issuer_differing_only_by_a_trailing_slash_is_refused() {
    let setup = setup();
    let token = setup
        .ed
        .sign(&with(claims(), "iss", json!(format!("{ISSUER}/"))));
    assert!(matches!(
        validate(&setup, &token),
        Err(IdTokenError::WrongIssuer { .. })
    ));
}

#[test]
fn a_token_for_another_client_is_refused() {
    let setup = setup();
    let token = setup.ed.sign(&with(
        with(claims(), "aud", json!("other-app")),
        "azp",
        json!("other-app"),
    ));
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::WrongAudience)
    );
}

#[test]
fn a_token_also_meant_for_an_untrusted_audience_is_refused() {
    let setup = setup();
    let token = setup
        .ed
        .sign(&with(claims(), "aud", json!([CLIENT_ID, "other-app"])));
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::UntrustedAudience("other-app".to_owned()))
    );
}

#[test]
fn several_trusted_audiences_need_an_authorized_party() {
    let setup = setup();
    let validator = validator_for(&["EdDSA"], setup.clock.clone()).trust_audience("festival-api");
    let two_audiences = with(claims(), "aud", json!([CLIENT_ID, "festival-api"]));

    let without_azp = setup.ed.sign(&without(two_audiences.clone(), "azp"));
    assert_eq!(
        validator.validate(&without_azp, NONCE, &setup.jwks).err(),
        Some(IdTokenError::MissingAuthorizedParty)
    );
    let with_azp = setup.ed.sign(&two_audiences);
    assert!(validator.validate(&with_azp, NONCE, &setup.jwks).is_ok());
}

#[test]
fn an_authorized_party_naming_another_client_is_refused() {
    let setup = setup();
    let token = setup.ed.sign(&with(claims(), "azp", json!("other-app")));
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::WrongAuthorizedParty)
    );
}

#[test]
fn a_token_without_azp_and_with_one_audience_is_accepted() {
    let setup = setup();
    let token = setup.ed.sign(&without(claims(), "azp"));
    assert!(validate(&setup, &token).is_ok());
}

#[test]
fn an_expired_token_is_refused_once_the_leeway_has_passed() {
    let setup = setup();
    let token = setup.ed.sign(&claims());
    setup.clock.set(NOW + 300 + 59);
    assert!(validate(&setup, &token).is_ok(), "within the leeway");
    setup.clock.set(NOW + 300 + 60);
    assert_eq!(validate(&setup, &token).err(), Some(IdTokenError::Expired));
}

#[test]
fn a_token_issued_in_the_future_is_refused() {
    let setup = setup();
    let token = setup.ed.sign(&with(
        with(claims(), "iat", json!(NOW + 120)),
        "exp",
        json!(NOW + 420),
    ));
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::NotYetValid)
    );
}

#[test]
fn a_long_lived_token_issued_long_ago_is_refused_as_too_old() {
    let setup = setup();
    let token = setup.ed.sign(&with(
        with(claims(), "iat", json!(NOW - 3600)),
        "exp",
        json!(NOW + 3600),
    ));
    assert_eq!(validate(&setup, &token).err(), Some(IdTokenError::TooOld));
}

#[test]
fn a_token_with_another_logins_nonce_is_refused() {
    let setup = setup();
    let token = setup
        .ed
        .sign(&with(claims(), "nonce", json!("nonce-of-another-login")));
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::NonceMismatch)
    );
}

#[test]
fn a_token_without_a_nonce_is_refused() {
    let setup = setup();
    let token = setup.ed.sign(&without(claims(), "nonce"));
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::MissingClaim("nonce"))
    );
}

#[test]
fn each_required_claim_is_required() {
    let setup = setup();
    for name in ["iss", "aud", "exp", "iat", "sub"] {
        let token = setup.ed.sign(&without(claims(), name));
        assert!(
            matches!(validate(&setup, &token), Err(IdTokenError::MissingClaim(found)) if found == name),
            "a token without {name} must be refused"
        );
    }
}

#[test]
fn an_unknown_ticket_colour_is_refused_rather_than_guessed() {
    let setup = setup();
    let token = setup.ed.sign(&with(claims(), "ticket", json!("platinum")));
    assert_eq!(
        validate(&setup, &token).err(),
        Some(IdTokenError::InvalidClaim("ticket"))
    );
}

#[test]
fn a_token_without_a_ticket_claim_yields_no_ticket() {
    let setup = setup();
    let token = setup.ed.sign(&without(claims(), "ticket"));
    assert_eq!(validate(&setup, &token).expect("valid").ticket, None);
}

#[test]
fn an_empty_or_overlong_subject_is_refused() {
    let setup = setup();
    for subject in [String::new(), "s".repeat(256)] {
        let token = setup.ed.sign(&with(claims(), "sub", json!(subject)));
        assert_eq!(
            validate(&setup, &token).err(),
            Some(IdTokenError::InvalidClaim("sub"))
        );
    }
}

#[test]
fn garbage_is_refused_as_malformed() {
    let setup = setup();
    for garbage in [
        "",
        "a.b",
        "a.b.c.d",
        "!!!.e30.",
        &URL_SAFE_NO_PAD.encode("[1]"),
    ] {
        assert!(
            matches!(validate(&setup, garbage), Err(IdTokenError::Malformed(_))),
            "{garbage:?} must be malformed"
        );
    }
}
