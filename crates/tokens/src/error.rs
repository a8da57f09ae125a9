/// Why a token was refused.
///
/// Every variant means the same thing to a client (RFC 6750 `invalid_token`: get a new token),
/// but the server logs which check failed. [`TokenError::description`] gives a short text that
/// is safe to send back in `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts, or a header or payload that is not JSON.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header names an algorithm other than the one pinned (including `none`).
    #[error("algorithm {0:?} is not accepted")]
    UnsupportedAlgorithm(String),
    /// The `typ` header is missing or is not `at+jwt`.
    #[error("token type {} is not an access token", .0.as_deref().unwrap_or("(none)"))]
    WrongType(Option<String>),
    /// The header points at a key elsewhere (`jku`, `jwk`, `x5u`, `x5c`) or carries `crit`.
    #[error("header parameter {0:?} is not accepted")]
    UntrustedHeader(&'static str),
    /// No `kid`, or a `kid` that is not in the verifier's key set.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not match the header and claims.
    #[error("signature does not verify")]
    BadSignature,
    /// `exp` has passed.
    #[error("token has expired")]
    Expired,
    /// `nbf` or `iat` lies in the future.
    #[error("token is not valid yet")]
    NotYetValid,
    /// `iss` is not this verifier's issuer.
    #[error("token was issued by someone else")]
    WrongIssuer,
    /// `aud` does not name this verifier's audience.
    #[error("token is meant for another audience")]
    WrongAudience,
    /// A required claim is absent.
    #[error("required claim {0:?} is missing")]
    MissingClaim(String),
    /// A claim is present but has the wrong shape.
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
}

impl TokenError {
    /// A short description, safe to return to the client.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "The access token is malformed",
            Self::UnsupportedAlgorithm(_) | Self::UntrustedHeader(_) | Self::WrongType(_) => {
                "The access token is not a wristband token"
            }
            Self::UnknownKey | Self::BadSignature => "The access token signature is invalid",
            Self::Expired => "The access token expired",
            Self::NotYetValid => "The access token is not valid yet",
            Self::WrongIssuer | Self::WrongAudience => "The access token is not for this service",
            Self::MissingClaim(_) | Self::InvalidClaims(_) => "The access token claims are invalid",
        }
    }
}

/// Why a token could not be issued. Always a server-side problem.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The signing library refused the key or the claims.
    #[error("could not sign token: {0}")]
    Signing(String),
}
