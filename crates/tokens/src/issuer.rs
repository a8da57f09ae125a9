use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header};
use wristband_inject::{Clock, Entropy};

use crate::{ACCESS_TOKEN_TYPE, Claims, IssueError, SigningKey, Wristband};

/// What issuer and verifier agree on: who signs, for whom, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// The `iss` value: the festival's URL.
    pub issuer: String,
    /// The `aud` value: the API the tokens are for.
    pub audience: String,
    /// Lifetime of an access token in seconds. Short, because a bearer token cannot be taken
    /// back once stolen: RFC 6750 §5.3 asks for short-lived bearer tokens.
    pub ttl_seconds: u64,
    /// Clock skew tolerated by the verifier, in seconds.
    pub leeway_seconds: u64,
}

impl TokenConfig {
    /// Fifteen-minute tokens, with thirty seconds of tolerated clock skew.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            ttl_seconds: 15 * 60,
            leeway_seconds: 30,
        }
    }
}

/// A signed access token. `Debug` prints `[redacted]`: whoever holds it is let in.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a compact JWT received from a client.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The compact JWT, for the `Authorization` header or a token response.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// A token just issued, with what went into it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token to hand to the client.
    pub access_token: AccessToken,
    /// Its claims, for logging (`jti`) and for the token response (`scope`).
    pub claims: Claims,
    /// Seconds until it expires, for the token response's `expires_in`.
    pub expires_in: u64,
}

/// Makes wristband tokens. Cheap to clone: clones share one key and configuration.
#[derive(Clone)]
pub struct Issuer(Arc<IssuerParts>);

struct IssuerParts {
    key: SigningKey,
    config: TokenConfig,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("kid", &self.0.key.kid())
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// An issuer signing with `key`, reading time from `clock` and token ids from `entropy`.
    pub fn new(
        key: SigningKey,
        config: TokenConfig,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
    ) -> Self {
        Self(Arc::new(IssuerParts {
            key,
            config,
            clock,
            entropy,
        }))
    }

    /// The configuration tokens are issued under.
    pub fn config(&self) -> &TokenConfig {
        &self.0.config
    }

    /// Issues a token for `subject` wearing `wristband`, granting `scope` (space-separated).
    ///
    /// The caller decides the scope; this crate does not know which scopes a wristband may
    /// carry (see the `wristband-scopes` crate).
    ///
    /// # Errors
    ///
    /// [`IssueError::Signing`] if signing fails, which is a server bug.
    #[tracing::instrument(skip_all, fields(sub = subject, jti), err)]
    pub fn issue(
        &self,
        subject: &str,
        wristband: Wristband,
        scope: &str,
    ) -> Result<IssuedToken, IssueError> {
        let now = self.0.clock.now();
        let mut id = [0u8; 16];
        self.0.entropy.fill(&mut id);
        let claims = Claims {
            iss: self.0.config.issuer.clone(),
            sub: subject.to_owned(),
            aud: self.0.config.audience.clone(),
            exp: now + self.0.config.ttl_seconds,
            iat: now,
            nbf: now,
            jti: URL_SAFE_NO_PAD.encode(id),
            scope: scope.to_owned(),
            wristband,
        };
        tracing::Span::current().record("jti", claims.jti.as_str());

        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.0.key.kid().to_owned());
        let token = jsonwebtoken::encode(&header, &claims, self.0.key.encoding_key())
            .map_err(|err| IssueError::Signing(err.to_string()))?;

        Ok(IssuedToken {
            access_token: AccessToken(token),
            claims,
            expires_in: self.0.config.ttl_seconds,
        })
    }
}
