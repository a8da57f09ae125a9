//! ID token validation (OIDC Core §3.1.3.7): the provider's signed statement of who logged in.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr as _;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use wristband_inject::Clock;
use wristband_tokens::Wristband;

use crate::config::Policy;
use crate::discovery::SUPPORTED_ALGORITHMS;
use crate::jwks::Jwks;
use crate::linking::ExternalIdentity;

/// Header parameters that would let a token pick its own verification key or demand processing
/// this crate does not do (RFC 8725 §3.10, RFC 7515 §4.1.11). Keys come from the provider's
/// `jwks_uri` and nowhere else.
const REFUSED_HEADER_PARAMETERS: [&str; 5] = ["jku", "jwk", "x5u", "x5c", "crit"];

/// The longest `sub` OIDC Core §2 allows.
const MAX_SUBJECT_LENGTH: usize = 255;

/// Why an ID token was refused. Each variant names the one check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    /// Not three base64url parts, or a header or payload that is not a JSON object.
    #[error("malformed ID token: {0}")]
    Malformed(String),
    /// The header names an algorithm the provider does not advertise or this crate does not
    /// verify (including `none` and every `HS*`).
    #[error("algorithm {0:?} is not accepted")]
    UnsupportedAlgorithm(String),
    /// The `typ` header says this is some other kind of JWT (an access token, for instance).
    #[error("token type {0:?} is not an ID token")]
    WrongType(String),
    /// The header points at a key of its own (`jku`, `jwk`, `x5u`, `x5c`) or carries `crit`.
    #[error("header parameter {0:?} is not accepted")]
    UntrustedHeader(&'static str),
    /// No key in the provider's key set matches the header's `kid` and algorithm.
    #[error("no provider key matches the token's key id")]
    UnknownKey,
    /// The signature does not verify with the provider's key.
    #[error("signature does not verify")]
    BadSignature,
    /// `iss` is not exactly the configured issuer.
    #[error("issued by {found:?}, expected {expected:?}")]
    WrongIssuer {
        /// The issuer the configuration names.
        expected: String,
        /// The issuer the token names.
        found: String,
    },
    /// `aud` does not list this client.
    #[error("the token is meant for another client")]
    WrongAudience,
    /// `aud` lists this client and also an audience the festival does not trust.
    #[error("the token is also meant for {0:?}, which is not trusted")]
    UntrustedAudience(String),
    /// Several audiences but no `azp` saying which of them the token was issued to.
    #[error("several audiences and no authorized party (azp)")]
    MissingAuthorizedParty,
    /// `azp` names another client.
    #[error("the authorized party (azp) is another client")]
    WrongAuthorizedParty,
    /// `exp` has passed (beyond the tolerated clock skew).
    #[error("the token has expired")]
    Expired,
    /// `iat` or `nbf` lies in the future (beyond the tolerated clock skew).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is older than the policy allows: a fresh login yields a fresh token.
    #[error("the token was issued too long ago")]
    TooOld,
    /// `nonce` is not the one this login sent: the token belongs to another login attempt.
    #[error("the nonce does not match this login")]
    NonceMismatch,
    /// A required claim is absent.
    #[error("required claim {0:?} is missing")]
    MissingClaim(&'static str),
    /// A claim is present with the wrong shape or an unknown value.
    #[error("claim {0:?} is invalid")]
    InvalidClaim(&'static str),
}

/// The algorithm and key id an ID token's header names, read before anything is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHeader {
    /// The `alg` header, already checked against the accepted algorithms.
    pub alg: String,
    /// The `kid` header, if any.
    pub kid: Option<String>,
}

/// Who the provider says logged in, after every check passed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedIdentity {
    /// The provider's issuer identifier (the token's `iss`).
    pub issuer: String,
    /// The provider's identifier for the person (the token's `sub`): stable and unique
    /// *within this issuer* only.
    pub subject: String,
    /// The display name, if the provider released one.
    pub name: Option<String>,
    /// The ticket colour the provider vouches for, from the `ticket` claim.
    pub ticket: Option<Wristband>,
    /// Every claim of the token, for display.
    pub claims: Map<String, Value>,
}

impl VerifiedIdentity {
    /// The key the festival links accounts by: (`iss`, `sub`), never an email address.
    pub fn external_identity(&self) -> ExternalIdentity {
        ExternalIdentity {
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
        }
    }
}

/// Checks ID tokens from one provider, for one client.
#[derive(Clone)]
pub struct IdTokenValidator {
    issuer: String,
    client_id: String,
    trusted_audiences: Vec<String>,
    algorithms: Vec<String>,
    clock: Arc<dyn Clock>,
    policy: Policy,
}

impl fmt::Debug for IdTokenValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenValidator")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("algorithms", &self.algorithms)
            .finish_non_exhaustive()
    }
}

impl IdTokenValidator {
    /// A validator expecting tokens from `issuer` for `client_id`, signed with one of
    /// `algorithms` (those the provider advertises; anything outside [`SUPPORTED_ALGORITHMS`]
    /// is dropped), with time read from `clock`.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        algorithms: Vec<String>,
        clock: Arc<dyn Clock>,
        policy: Policy,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            trusted_audiences: Vec::new(),
            algorithms: algorithms
                .into_iter()
                .filter(|alg| SUPPORTED_ALGORITHMS.contains(&alg.as_str()))
                .collect(),
            clock,
            policy,
        }
    }

    /// Also accepts tokens whose `aud` lists `audience` beside this client (OIDC Core §3.1.3.7
    /// step 3). By default no other audience is trusted.
    pub fn trust_audience(mut self, audience: impl Into<String>) -> Self {
        self.trusted_audiences.push(audience.into());
        self
    }

    /// Reads and checks the header: shape, algorithm, type and header parameters.
    ///
    /// # Errors
    ///
    /// [`IdTokenError::Malformed`], [`IdTokenError::UnsupportedAlgorithm`],
    /// [`IdTokenError::WrongType`] or [`IdTokenError::UntrustedHeader`].
    pub fn header(&self, token: &str) -> Result<TokenHeader, IdTokenError> {
        let header = read_header(token)?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        // The algorithm allow-list comes from the provider's metadata, never from the token
        // (OIDC Core §3.1.3.7 step 7, RFC 8725 §3.1).
        if !self.algorithms.iter().any(|accepted| accepted == alg) {
            return Err(IdTokenError::UnsupportedAlgorithm(alg.to_owned()));
        }
        if let Some(typ) = header.get("typ") {
            let typ = typ.as_str().unwrap_or_default().to_ascii_lowercase();
            // `JWT` (or nothing) is what ID tokens carry; `at+jwt` and the like mark tokens of
            // another kind that must not pass as an ID token (RFC 8725 §3.11).
            if typ.strip_prefix("application/").unwrap_or(&typ) != "jwt" {
                return Err(IdTokenError::WrongType(typ));
            }
        }
        if let Some(name) = REFUSED_HEADER_PARAMETERS
            .into_iter()
            .find(|name| header.contains_key(*name))
        {
            return Err(IdTokenError::UntrustedHeader(name));
        }
        Ok(TokenHeader {
            alg: alg.to_owned(),
            kid: header.get("kid").and_then(Value::as_str).map(str::to_owned),
        })
    }

    /// Validates `token` against the provider's `keys` and the `expected_nonce` this login sent.
    ///
    /// The checks run in this order, and the first failure is returned: header (shape,
    /// algorithm, type), key lookup, signature, `iss`, `aud`, `azp`, `exp`, `iat`/`nbf`,
    /// `nonce`, then the shape of `sub` and `ticket`. No claim is believed before the signature
    /// has been verified with a key the festival fetched itself.
    ///
    /// # Errors
    ///
    /// The [`IdTokenError`] of the first failed check.
    pub fn validate(
        &self,
        token: &str,
        expected_nonce: &str,
        keys: &Jwks,
    ) -> Result<VerifiedIdentity, IdTokenError> {
        let header = self.header(token)?;
        let key = keys
            .find(header.kid.as_deref(), &header.alg)
            .ok_or(IdTokenError::UnknownKey)?;
        let claims = verify_signature(token, &header.alg, key)?;

        let issuer = string_claim(&claims, "iss")?;
        if issuer != self.issuer {
            return Err(IdTokenError::WrongIssuer {
                expected: self.issuer.clone(),
                found: issuer.to_owned(),
            });
        }
        self.check_audience(&claims)?;
        self.check_times(&claims)?;

        let nonce = string_claim(&claims, "nonce")?;
        if !same_secret(nonce, expected_nonce) {
            return Err(IdTokenError::NonceMismatch);
        }

        let subject = string_claim(&claims, "sub")?;
        if subject.is_empty() || subject.len() > MAX_SUBJECT_LENGTH {
            return Err(IdTokenError::InvalidClaim("sub"));
        }
        let ticket = match claims.get("ticket") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_str()
                    .and_then(|colour| colour.parse::<Wristband>().ok())
                    .ok_or(IdTokenError::InvalidClaim("ticket"))?,
            ),
        };
        // NOTE: `at_hash` is not checked. It is optional in the code flow (OIDC Core §3.1.3.8)
        // and only binds the access token, which the festival never uses.
        let name = claims
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(VerifiedIdentity {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            name,
            ticket,
            claims,
        })
    }

    /// OIDC Core §3.1.3.7 steps 3 to 5.
    fn check_audience(&self, claims: &Map<String, Value>) -> Result<(), IdTokenError> {
        let audiences: Vec<&str> = match claims.get("aud") {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many
                .iter()
                .map(|aud| aud.as_str().ok_or(IdTokenError::InvalidClaim("aud")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(IdTokenError::InvalidClaim("aud")),
            None => return Err(IdTokenError::MissingClaim("aud")),
        };
        if !audiences.contains(&self.client_id.as_str()) {
            return Err(IdTokenError::WrongAudience);
        }
        if let Some(stranger) = audiences.iter().find(|aud| {
            **aud != self.client_id && !self.trusted_audiences.iter().any(|trusted| trusted == *aud)
        }) {
            return Err(IdTokenError::UntrustedAudience((*stranger).to_owned()));
        }
        let azp = match claims.get("azp") {
            None => None,
            Some(Value::String(azp)) => Some(azp.as_str()),
            Some(_) => return Err(IdTokenError::InvalidClaim("azp")),
        };
        let distinct: HashSet<&str> = audiences.iter().copied().collect();
        if distinct.len() > 1 && azp.is_none() {
            return Err(IdTokenError::MissingAuthorizedParty);
        }
        if azp.is_some_and(|azp| azp != self.client_id) {
            return Err(IdTokenError::WrongAuthorizedParty);
        }
        Ok(())
    }

    /// OIDC Core §3.1.3.7 steps 9 and 10, against the injected clock.
    fn check_times(&self, claims: &Map<String, Value>) -> Result<(), IdTokenError> {
        let now = self.clock.now();
        let leeway = self.policy.leeway;
        let exp = time_claim(claims, "exp")?.ok_or(IdTokenError::MissingClaim("exp"))?;
        if now >= exp.saturating_add(leeway) {
            return Err(IdTokenError::Expired);
        }
        let iat = time_claim(claims, "iat")?.ok_or(IdTokenError::MissingClaim("iat"))?;
        if iat > now.saturating_add(leeway) {
            return Err(IdTokenError::NotYetValid);
        }
        if now > iat.saturating_add(self.policy.max_id_token_age + leeway) {
            return Err(IdTokenError::TooOld);
        }
        if time_claim(claims, "nbf")?.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(IdTokenError::NotYetValid);
        }
        Ok(())
    }
}

/// Checks the signature with `key` and returns the payload. Expiry and audience are checked by
/// the caller against the injected clock and the client's own rules, so jsonwebtoken's own
/// claim checks are switched off here.
fn verify_signature(
    token: &str,
    alg: &str,
    key: &jsonwebtoken::DecodingKey,
) -> Result<Map<String, Value>, IdTokenError> {
    let algorithm =
        Algorithm::from_str(alg).map_err(|_| IdTokenError::UnsupportedAlgorithm(alg.to_owned()))?;
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.leeway = 0;
    jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|err| match err.into_kind() {
            ErrorKind::InvalidSignature
            | ErrorKind::InvalidEcdsaKey
            | ErrorKind::InvalidRsaKey(_) => IdTokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                IdTokenError::UnsupportedAlgorithm(alg.to_owned())
            }
            other => IdTokenError::Malformed(format!("{other:?}")),
        })
}

fn read_header(token: &str) -> Result<Map<String, Value>, IdTokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed(
            "expected three dot-separated parts".to_owned(),
        ));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| IdTokenError::Malformed("header is not base64url".to_owned()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| IdTokenError::Malformed("header is not a JSON object".to_owned()))
}

fn string_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, IdTokenError> {
    match claims.get(name) {
        Some(Value::String(value)) => Ok(value),
        Some(_) => Err(IdTokenError::InvalidClaim(name)),
        None => Err(IdTokenError::MissingClaim(name)),
    }
}

/// A NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional.
fn time_claim(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<u64>, IdTokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(value) => value
            .as_u64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                    // Truncation is the intent: NumericDate fractions are below our resolution.
                    .map(|seconds| seconds as u64)
            })
            .map(Some)
            .ok_or(IdTokenError::InvalidClaim(name)),
    }
}

/// Compares two secrets in constant time. Both are hashed first so that neither the position
/// of the first difference nor the length of the expected value shows in the timing.
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    given.ct_eq(&expected).into()
}

/// A JWT's header and payload, decoded but *not verified*.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedJwt {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
}

/// Decodes the header and payload of a JWT *without verifying anything*, for display only.
///
/// Lessons use this to show what is inside a token before validating it; nothing read this way
/// may be trusted.
///
/// # Errors
///
/// [`IdTokenError::Malformed`] if the token is not three parts of base64url JSON objects.
pub fn decode_unverified(token: &str) -> Result<UnverifiedJwt, IdTokenError> {
    let header = read_header(token)?;
    let payload = token
        .split('.')
        .nth(1)
        .ok_or_else(|| IdTokenError::Malformed("no payload".to_owned()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| IdTokenError::Malformed("payload is not base64url".to_owned()))?;
    let claims = serde_json::from_slice(&bytes)
        .map_err(|_| IdTokenError::Malformed("payload is not a JSON object".to_owned()))?;
    Ok(UnverifiedJwt { header, claims })
}
