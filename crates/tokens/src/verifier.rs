use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value};
use wristband_inject::Clock;

use crate::{ACCESS_TOKEN_TYPE, Claims, KeySet, TokenConfig, TokenError};

/// Header parameters that would let a token choose its own verification key or demand
/// processing we do not do (RFC 8725 §3.10, RFC 7515 §4.1.11). A wristband never carries them.
const REFUSED_HEADER_PARAMETERS: [&str; 5] = ["jku", "jwk", "x5u", "x5c", "crit"];

/// Checks wristband tokens. Cheap to clone and share between requests: clones share one set
/// of keys and settings (and one cache), so a web framework that clones its state for every
/// request copies two pointers, not the key set.
#[derive(Clone)]
pub struct Verifier {
    settings: Arc<Settings>,
    cache: Option<Arc<VerifiedCache>>,
}

/// What every clone of a [`Verifier`] shares, fixed when it is built.
struct Settings {
    keys: KeySet,
    config: TokenConfig,
    clock: Arc<dyn Clock>,
    validation: Validation,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.settings.keys)
            .field("config", &self.settings.config)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier trusting `keys`, expecting the issuer and audience in `config`, and reading
    /// the time from `clock`.
    pub fn new(keys: KeySet, config: TokenConfig, clock: Arc<dyn Clock>) -> Self {
        let mut validation = Validation::new(Algorithm::EdDSA);
        // jsonwebtoken requires only `exp` by default and checks `iss`/`aud` only when present;
        // a wristband must carry all of these.
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        // Expiry and not-before are checked below against the injected clock instead of the
        // system time jsonwebtoken would read.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        Self {
            settings: Arc::new(Settings {
                keys,
                config,
                clock,
                validation,
            }),
            cache: None,
        }
    }

    /// The same verifier, remembering up to `capacity` tokens that passed every check, so that
    /// a token seen again skips the signature check (tens of microseconds for Ed25519).
    ///
    /// What stays the same: a token is served from the cache only if it is byte for byte one
    /// that fully verified before, with these keys, issuer and audience; its expiry and
    /// not-before are checked against the clock on every use, and an expired entry is dropped.
    /// What is never cached: a token that failed any check, so forged tokens always pay for
    /// the full verification and cannot crowd out good ones. When the cache is full, expired
    /// entries are swept; if it is still full, new tokens are verified in full and not kept.
    ///
    /// A verifier is immutable, so there is no key to remove behind the cache's back: rotating
    /// keys means building a new verifier, which starts with an empty cache. Clones share the
    /// cache.
    #[must_use]
    pub fn with_cache(mut self, capacity: usize) -> Self {
        self.cache = Some(Arc::new(VerifiedCache::new(capacity)));
        self
    }

    /// How many verified tokens the cache holds now (zero without a cache).
    pub fn cached_tokens(&self) -> usize {
        self.cache.as_ref().map_or(0, |cache| cache.len())
    }

    /// The issuer and audience this verifier expects.
    pub fn config(&self) -> &TokenConfig {
        &self.settings.config
    }

    /// Verifies `token` and returns its claims.
    ///
    /// The checks run cheapest first, and nothing in the token is believed until its
    /// signature has been checked with a key chosen by the verifier: header shape, algorithm,
    /// type and key id select nothing the token controls.
    ///
    /// # Errors
    ///
    /// A [`TokenError`] naming the first check that failed.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        self.verify_shared(token).map(Arc::unwrap_or_clone)
    }

    /// [`Verifier::verify`], with the claims behind an [`Arc`]: a token served from the cache
    /// then costs no copy of its claims. Request extractors use this one.
    ///
    /// # Errors
    ///
    /// A [`TokenError`] naming the first check that failed.
    pub fn verify_shared(&self, token: &str) -> Result<Arc<Claims>, TokenError> {
        let Some(cache) = &self.cache else {
            return self.verify_in_full(token).map(Arc::new);
        };
        if let Some(claims) = cache.get(token) {
            return match self.check_times(&claims) {
                Ok(()) => Ok(claims),
                Err(err) => {
                    cache.remove(token);
                    Err(err)
                }
            };
        }
        let claims = Arc::new(self.verify_in_full(token)?);
        cache.insert(token, &claims, |claims| self.check_times(claims).is_ok());
        Ok(claims)
    }

    fn verify_in_full(&self, token: &str) -> Result<Claims, TokenError> {
        let header = read_header(token)?;

        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        if alg != "EdDSA" {
            return Err(TokenError::UnsupportedAlgorithm(alg.to_owned()));
        }
        let typ = header.get("typ").and_then(Value::as_str);
        if !typ.is_some_and(is_access_token_type) {
            return Err(TokenError::WrongType(typ.map(str::to_owned)));
        }
        if let Some(name) = REFUSED_HEADER_PARAMETERS
            .into_iter()
            .find(|name| header.contains_key(*name))
        {
            return Err(TokenError::UntrustedHeader(name));
        }
        let key = header
            .get("kid")
            .and_then(Value::as_str)
            .and_then(|kid| self.settings.keys.get(kid))
            .ok_or(TokenError::UnknownKey)?;

        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.settings.validation)
            .map_err(|err| map_error(err.into_kind()))?
            .claims;
        self.check_times(&claims)?;
        Ok(claims)
    }

    /// Expiry and not-before against the injected clock, with the configured leeway.
    fn check_times(&self, claims: &Claims) -> Result<(), TokenError> {
        let now = self.settings.clock.now();
        let leeway = self.settings.config.leeway_seconds;
        if now >= claims.exp.saturating_add(leeway) {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now.saturating_add(leeway) || claims.iat > now.saturating_add(leeway) {
            return Err(TokenError::NotYetValid);
        }
        Ok(())
    }
}

/// Tokens that passed every check, keyed by the whole token text.
struct VerifiedCache {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, Arc<Claims>, TokenHasher>>,
}

/// The key of every lookup is a whole token, a few hundred bytes hashed on every gated
/// request. foldhash does that several times faster than std's SipHash. Its weaker guarantee
/// against crafted collisions costs nothing here: only tokens that passed every check are ever
/// inserted, and nobody can make those without the signing key, so a client can choose what
/// it looks up but not what it would collide with.
type TokenHasher = foldhash::quality::RandomState;

impl fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys are bearer tokens: never print them.
        write!(f, "VerifiedCache({}/{})", self.len(), self.capacity)
    }
}

impl VerifiedCache {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::with_capacity_and_hasher(
                capacity.min(1024),
                TokenHasher::default(),
            )),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<Claims>, TokenHasher>> {
        // The map is only ever changed by single inserts and removes, so a panic elsewhere
        // cannot leave it half-written.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn len(&self) -> usize {
        self.entries().len()
    }

    fn get(&self, token: &str) -> Option<Arc<Claims>> {
        self.entries().get(token).cloned()
    }

    fn remove(&self, token: &str) {
        self.entries().remove(token);
    }

    fn insert(&self, token: &str, claims: &Arc<Claims>, still_valid: impl Fn(&Claims) -> bool) {
        let mut entries = self.entries();
        if entries.len() >= self.capacity {
            entries.retain(|_, claims| still_valid(claims));
            if entries.len() >= self.capacity {
                return;
            }
        }
        entries.insert(token.into(), claims.clone());
    }
}

/// `at+jwt`, compared case-insensitively, with or without the `application/` prefix
/// (RFC 7515 §4.1.9, RFC 9068 §4).
fn is_access_token_type(typ: &str) -> bool {
    let typ = typ.to_ascii_lowercase();
    typ.strip_prefix("application/").unwrap_or(&typ) == ACCESS_TOKEN_TYPE
}

fn read_header(token: &str) -> Result<Map<String, Value>, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed(
            "expected three dot-separated parts".to_owned(),
        ));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| TokenError::Malformed("header is not base64url".to_owned()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed("header is not a JSON object".to_owned()))
}

fn map_error(kind: ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            TokenError::UnsupportedAlgorithm("EdDSA expected".to_owned())
        }
        ErrorKind::MissingRequiredClaim(claim) => TokenError::MissingClaim(claim),
        ErrorKind::InvalidClaimFormat(claim) => TokenError::InvalidClaims(claim),
        ErrorKind::Json(err) => {
            let message = err.to_string();
            match message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                Some(claim) => TokenError::MissingClaim(claim.to_owned()),
                None => TokenError::InvalidClaims(message),
            }
        }
        other => TokenError::Malformed(format!("{other:?}")),
    }
}
