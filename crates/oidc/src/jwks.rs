//! The provider's public signing keys (a JSON Web Key Set, RFC 7517 §5), fetched from its
//! `jwks_uri` and cached.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use jsonwebtoken::DecodingKey;
use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;
use wristband_inject::Clock;

use crate::OidcError;
use crate::config::Policy;
use crate::transport::HttpTransport;

/// The smallest RSA modulus accepted, in bits (NIST SP 800-131A; RFC 7518 §3.3 requires 2048).
const MIN_RSA_BITS: usize = 2048;

/// A public key usable for one signature algorithm.
struct TrustedKey {
    kid: Option<String>,
    alg: &'static str,
    key: DecodingKey,
}

/// A parsed key set: the keys this crate can verify with, each tied to exactly one algorithm.
///
/// Keys of kinds this crate does not verify with (encryption keys, HMAC secrets, curves other
/// than P-256 and Ed25519, RSA moduli under 2048 bits) are skipped, not errors: a provider may
/// publish keys for other clients and other purposes.
#[derive(Default)]
pub struct Jwks {
    keys: Vec<TrustedKey>,
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|key| format!("{}:{}", key.alg, key.kid.as_deref().unwrap_or("-")))
            .collect();
        f.debug_struct("Jwks").field("keys", &keys).finish()
    }
}

impl Jwks {
    /// Parses a JWKS document.
    ///
    /// # Errors
    ///
    /// [`OidcError::Keys`] if the document is not JSON with a `keys` array.
    pub fn from_json(document: &[u8]) -> Result<Self, OidcError> {
        let value: Value = serde_json::from_slice(document)
            .map_err(|err| OidcError::Keys(format!("the key set is not JSON: {err}")))?;
        let entries = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| OidcError::Keys("the key set has no \"keys\" array".to_owned()))?;
        Ok(Self {
            keys: entries.iter().filter_map(trusted_key).collect(),
        })
    }

    /// The key to verify a token signed with `alg` whose header names `kid`.
    ///
    /// Without a `kid`, a key is chosen only if it is the single key for `alg` in the set
    /// (OIDC Core §10.1): guessing among several would let the token pick.
    pub fn find(&self, kid: Option<&str>, alg: &str) -> Option<&DecodingKey> {
        let mut candidates = self.keys.iter().filter(|key| key.alg == alg);
        match kid {
            Some(kid) => candidates
                .find(|key| key.kid.as_deref() == Some(kid))
                .map(|key| &key.key),
            None => match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(&only.key),
                _ => None,
            },
        }
    }

    /// The number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Reads one JWK, or `None` if it is not a signature key this crate can use.
fn trusted_key(jwk: &Value) -> Option<TrustedKey> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    // RFC 7517 §4.2: a key marked for encryption must not verify signatures.
    if text("use").is_some_and(|usage| usage != "sig") {
        return None;
    }
    let (alg, key) = match (text("kty")?, text("crv")) {
        ("RSA", _) => {
            let modulus = URL_SAFE_NO_PAD.decode(text("n")?).ok()?;
            let significant = modulus.iter().skip_while(|byte| **byte == 0).count();
            if significant * 8 < MIN_RSA_BITS {
                return None;
            }
            (
                "RS256",
                DecodingKey::from_rsa_components(text("n")?, text("e")?).ok()?,
            )
        }
        ("EC", Some("P-256")) => (
            "ES256",
            DecodingKey::from_ec_components(text("x")?, text("y")?).ok()?,
        ),
        ("OKP", Some("Ed25519")) => ("EdDSA", DecodingKey::from_ed_components(text("x")?).ok()?),
        _ => return None,
    };
    // A key published for one algorithm is used for that algorithm only (RFC 7517 §4.4):
    // an RSA key marked PS256 is not an RS256 key.
    if text("alg").is_some_and(|declared| declared != alg) {
        return None;
    }
    Some(TrustedKey {
        kid: text("kid").map(str::to_owned),
        alg,
        key,
    })
}

struct CacheState {
    jwks: Option<Arc<Jwks>>,
    fetched_at: u64,
    last_attempt: Option<u64>,
}

/// The provider's key set, fetched on first use and kept for [`Policy::jwks_max_age`].
///
/// A token naming a `kid` the cached set lacks triggers one refetch (the provider may have
/// rotated its keys), but at most once per [`Policy::jwks_refetch_interval`], so a stream of
/// tokens with made-up key ids cannot turn the festival into a flood of requests at the
/// provider. Fetches are serialised: concurrent logins wait for one fetch rather than each
/// starting their own.
pub struct JwksCache {
    transport: Arc<dyn HttpTransport>,
    jwks_uri: Url,
    clock: Arc<dyn Clock>,
    policy: Policy,
    state: Mutex<CacheState>,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("jwks_uri", &self.jwks_uri.as_str())
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A cache for the key set at `jwks_uri`. Nothing is fetched until the first use.
    pub fn new(
        transport: Arc<dyn HttpTransport>,
        jwks_uri: Url,
        clock: Arc<dyn Clock>,
        policy: Policy,
    ) -> Self {
        Self {
            transport,
            jwks_uri,
            clock,
            policy,
            state: Mutex::new(CacheState {
                jwks: None,
                fetched_at: 0,
                last_attempt: None,
            }),
        }
    }

    /// The cached key set, fetched first if there is none yet or it is older than the
    /// policy allows.
    ///
    /// # Errors
    ///
    /// [`OidcError::ProviderUnreachable`] or [`OidcError::Keys`] if a needed fetch fails.
    pub async fn current(&self) -> Result<Arc<Jwks>, OidcError> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        let fresh = now.saturating_sub(state.fetched_at) < self.policy.jwks_max_age;
        match state.jwks.clone() {
            Some(jwks) if fresh => Ok(jwks),
            _ => self.fetch_into(&mut state, now).await,
        }
    }

    /// Fetches the key set again because a token named a key the cached set lacks.
    ///
    /// Returns `Ok(None)` without fetching if the last fetch was too recent: the unknown key is
    /// then simply unknown.
    ///
    /// # Errors
    ///
    /// [`OidcError::ProviderUnreachable`] or [`OidcError::Keys`] if the fetch fails.
    pub async fn refresh_for_unknown_key(&self) -> Result<Option<Arc<Jwks>>, OidcError> {
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        if state
            .last_attempt
            .is_some_and(|last| now.saturating_sub(last) < self.policy.jwks_refetch_interval)
        {
            tracing::warn!("unknown signing key, but the key set was fetched moments ago");
            return Ok(None);
        }
        self.fetch_into(&mut state, now).await.map(Some)
    }

    async fn fetch_into(&self, state: &mut CacheState, now: u64) -> Result<Arc<Jwks>, OidcError> {
        state.last_attempt = Some(now);
        let jwks = Arc::new(self.fetch().await?);
        tracing::info!(keys = jwks.len(), "fetched the provider's signing keys");
        state.jwks = Some(jwks.clone());
        state.fetched_at = now;
        Ok(jwks)
    }

    async fn fetch(&self) -> Result<Jwks, OidcError> {
        let request = http::Request::get(self.jwks_uri.as_str())
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|err| OidcError::Keys(format!("could not build the request: {err}")))?;
        let response = self
            .transport
            .send(request)
            .await
            .map_err(OidcError::ProviderUnreachable)?;
        if response.status() != StatusCode::OK {
            return Err(OidcError::Keys(format!(
                "{} answered {}",
                self.jwks_uri,
                response.status()
            )));
        }
        Jwks::from_json(response.body())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set(keys: Value) -> Jwks {
        Jwks::from_json(json!({ "keys": keys }).to_string().as_bytes()).expect("a key set")
    }

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn an_ed25519_key_is_found_by_kid_and_algorithm() {
        let jwks = set(json!([{ "kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "k1" }]));
        assert!(jwks.find(Some("k1"), "EdDSA").is_some());
        assert!(jwks.find(Some("k2"), "EdDSA").is_none());
        assert!(jwks.find(Some("k1"), "RS256").is_none());
    }

    #[test]
    fn without_a_kid_the_only_key_for_the_algorithm_is_used() {
        let one = set(json!([{ "kty": "OKP", "crv": "Ed25519", "x": ED_X }]));
        assert!(one.find(None, "EdDSA").is_some());
        let two = set(json!([
            { "kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "a" },
            { "kty": "OKP", "crv": "Ed25519", "x": ED_X, "kid": "b" },
        ]));
        assert!(two.find(None, "EdDSA").is_none());
    }

    #[test]
    fn encryption_keys_hmac_secrets_and_short_rsa_keys_are_skipped() {
        let jwks = set(json!([
            { "kty": "OKP", "crv": "Ed25519", "x": ED_X, "use": "enc", "kid": "enc" },
            { "kty": "oct", "k": "c2VjcmV0", "kid": "hmac" },
            { "kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc5u8; 128]), "e": "AQAB", "kid": "rsa1024" },
        ]));
        assert!(jwks.is_empty());
    }

    #[test]
    fn a_key_declared_for_another_algorithm_is_skipped() {
        let jwks = set(json!([
            { "kty": "RSA", "n": URL_SAFE_NO_PAD.encode([0xc5u8; 256]), "e": "AQAB", "alg": "PS256", "kid": "pss" },
        ]));
        assert!(jwks.find(Some("pss"), "RS256").is_none());
    }

    #[test]
    fn a_document_without_keys_is_an_error() {
        assert!(matches!(Jwks::from_json(b"{}"), Err(OidcError::Keys(_))));
    }
}
