//! A pretend provider for the tests: signing keys made from fixed seeds, and a way to sign any
//! header and claims, including ones no honest provider would produce.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://vendor.example";
pub const CLIENT_ID: &str = "festival";
pub const NOW: u64 = 1_750_000_000;
pub const NONCE: &str = "nonce-of-this-login";

/// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410 §7).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// PKCS#8 wrapping of a raw P-256 private scalar, public key omitted (RFC 5915, RFC 5208).
const P256_PKCS8_PREFIX: [u8; 36] = [
    0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
    0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01,
    0x01, 0x04, 0x20, 0x00,
];

/// One signing key of the pretend provider.
pub struct TestKey {
    pub kid: String,
    pub alg: Algorithm,
    encoding: EncodingKey,
}

impl TestKey {
    /// An Ed25519 key from a one-byte seed pattern.
    pub fn ed25519(kid: &str, seed: u8) -> Self {
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(&[seed; 32]);
        Self {
            kid: kid.to_owned(),
            alg: Algorithm::EdDSA,
            encoding: EncodingKey::from_ed_der(&der),
        }
    }

    /// A P-256 key from a one-byte scalar pattern.
    pub fn p256(kid: &str, scalar: u8) -> Self {
        let mut der = P256_PKCS8_PREFIX[..35].to_vec();
        der.extend_from_slice(&[scalar; 32]);
        Self {
            kid: kid.to_owned(),
            alg: Algorithm::ES256,
            encoding: EncodingKey::from_ec_der(&der),
        }
    }

    /// The public half as a JWK with `kid`, `use` and `alg`.
    pub fn public_jwk(&self) -> Value {
        let jwk = Jwk::from_encoding_key(&self.encoding, self.alg).expect("a public JWK");
        let mut value = serde_json::to_value(jwk).expect("JWK to JSON");
        value["kid"] = json!(self.kid);
        value["use"] = json!("sig");
        value
    }

    /// Signs `claims` with a standard header (`alg`, `typ: JWT`, `kid`).
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }

    /// Signs `claims` under an arbitrary header, to forge header tricks.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let signing_input = format!("{}.{}", b64_json(header), b64_json(claims));
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, self.alg)
                .expect("signing");
        format!("{signing_input}.{signature}")
    }
}

/// The claims an honest provider would put in the ID token of this login.
pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "holder-42",
        "aud": CLIENT_ID,
        "azp": CLIENT_ID,
        "exp": NOW + 300,
        "iat": NOW,
        "auth_time": NOW,
        "nonce": NONCE,
        "name": "Carol",
        "ticket": "green",
    })
}

/// A JWKS document holding the public halves of `keys`.
pub fn jwks_json(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|key| key.public_jwk()).collect::<Vec<_>>() })
}

pub fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"))
}
