use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::{Digest as _, Sha256};
use wristband_inject::Entropy;

/// An Ed25519 key that signs wristbands, with the `kid` that names it.
///
/// `Debug` prints only the `kid`. Clones share the key material.
#[derive(Clone)]
pub struct SigningKey {
    inner: Arc<KeyMaterial>,
}

struct KeyMaterial {
    kid: String,
    secret: ed25519_dalek::SigningKey,
    encoding: EncodingKey,
}

impl SigningKey {
    /// Builds the key from its 32-byte seed (the Ed25519 private key).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self::from_dalek(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// A fresh random key.
    pub fn generate(entropy: &dyn Entropy) -> Self {
        let mut seed = [0u8; 32];
        entropy.fill(&mut seed);
        Self::from_seed(seed)
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    ///
    /// # Errors
    ///
    /// Returns an error if the text is not an Ed25519 PKCS#8 key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, ed25519_dalek::pkcs8::Error> {
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map(Self::from_dalek)
    }

    /// The key as PKCS#8 PEM, for storing it. Treat the result as a secret.
    ///
    /// # Errors
    ///
    /// Returns an error only if encoding fails, which it does not for a valid key.
    pub fn to_pkcs8_pem(&self) -> Result<String, ed25519_dalek::pkcs8::Error> {
        self.inner
            .secret
            .to_pkcs8_pem(Default::default())
            .map(|pem| pem.to_string())
    }

    fn from_dalek(secret: ed25519_dalek::SigningKey) -> Self {
        // `to_pkcs8_der` cannot fail for an in-memory Ed25519 key; jsonwebtoken wants DER.
        let der = secret
            .to_pkcs8_der()
            .map(|doc| doc.as_bytes().to_vec())
            .unwrap_or_default();
        let kid = thumbprint(secret.verifying_key().as_bytes());
        Self {
            inner: Arc::new(KeyMaterial {
                kid,
                encoding: EncodingKey::from_ed_der(&der),
                secret,
            }),
        }
    }

    /// The key id: the RFC 7638 JWK thumbprint of the public key, so the same key always has
    /// the same `kid` and two keys never share one.
    pub fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.inner.secret.verifying_key().to_bytes()
    }

    /// A key set holding only this key's public half: what a verifier needs, and all it needs.
    pub fn key_set(&self) -> KeySet {
        let mut keys = KeySet::default();
        keys.insert(self.kid(), self.public_key());
        keys
    }

    /// The public key as a JSON Web Key (RFC 8037), suitable for a JWKS document.
    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.public_key()),
            "kid": self.kid(),
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.inner.encoding
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.inner.kid)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key: SHA-256 over the JWK's required members in
/// lexicographic order, base64url-encoded.
fn thumbprint(public_key: &[u8; 32]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public_key)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The public keys a verifier trusts, by `kid`.
///
/// The set is fixed by configuration. A token cannot add to it: keys named in a token's header
/// (`jku`, `jwk`, `x5u`) are never fetched or used. Holding several keys lets a service rotate:
/// sign with the new key while tokens signed by the old one are still honoured until they expire.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, DecodingKey>,
}

impl KeySet {
    /// Trusts `public_key` for tokens whose header says `kid`.
    pub fn insert(&mut self, kid: impl Into<String>, public_key: [u8; 32]) {
        self.keys
            .insert(kid.into(), DecodingKey::from_ed_der(&public_key));
    }

    /// Adds another signing key's public half (for rotation).
    pub fn with(mut self, key: &SigningKey) -> Self {
        self.insert(key.kid(), key.public_key());
        self
    }

    /// The key for `kid`, if trusted.
    pub(crate) fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    /// The trusted key ids, sorted.
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.kids())
            .finish()
    }
}
