use crate::IdTokenError;
use crate::transport::TransportError;

/// Why a login through the provider did not complete.
///
/// The variants fall in two groups, told apart by [`OidcError::is_visitor_caused`]:
///
/// - **the visitor's side**: they declined at the provider, came back too late, came back
///   twice, or the callback does not belong to their login (a swapped `state`, a wrong `iss`:
///   the signs of a login-CSRF or mix-up attack). The festival says so plainly and lets them
///   try again; nothing is wrong with the festival.
/// - **the provider's or the configuration's side**: the provider is down, its metadata or
///   keys are unusable, it refused the festival's client credentials, or it sent an ID token
///   that fails validation. The visitor gets a generic "could not log you in"; the operator
///   gets the cause in the log.
///
/// No variant carries a token, code, secret or nonce, so every one is safe to log.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The visitor declined at the provider (`error=access_denied`, RFC 6749 §4.1.2.1).
    #[error("the visitor declined at the provider")]
    Denied,
    /// The callback arrived with no login in progress in this session: a replayed callback,
    /// a second tab, or an expired session.
    #[error("no login is in progress for this session")]
    NoLoginInProgress,
    /// The callback's `state` is missing or is not this session's (RFC 6749 §10.12): someone
    /// may be trying to log the visitor in as somebody else.
    #[error("the state parameter does not match this session's login")]
    StateMismatch,
    /// The visitor took longer than [`crate::Policy::login_lifetime`] at the provider.
    #[error("the login took too long")]
    LoginExpired,
    /// The callback has neither a code nor an error.
    #[error("the callback is malformed: {0}")]
    MalformedCallback(&'static str),
    /// The callback's `iss` is not the provider's, or is missing although the provider always
    /// sends it (RFC 9207 §2.4): the response may come from another provider (a mix-up attack).
    #[error("the callback names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The `iss` parameter of the callback, if any.
        found: Option<String>,
    },
    /// The token endpoint refused the code (`invalid_grant`): already used, expired, issued to
    /// another client, or the PKCE verifier does not match.
    #[error("the provider refused the authorization code")]
    CodeRejected,
    /// The provider answered the authorization request with an error other than
    /// `access_denied`.
    #[error("the provider answered the login with error {error:?}")]
    ProviderRefused {
        /// The `error` code.
        error: String,
        /// The provider's `error_description`, if any.
        description: Option<String>,
    },
    /// No response from the provider.
    #[error("the provider is unreachable: {0}")]
    ProviderUnreachable(#[source] TransportError),
    /// The discovery document is missing, invalid, or names another issuer.
    #[error("discovery failed: {0}")]
    Discovery(String),
    /// The key set is missing or invalid.
    #[error("the provider's keys are unusable: {0}")]
    Keys(String),
    /// The token endpoint refused the festival's client credentials (`invalid_client`,
    /// `unauthorized_client`): a configuration mistake.
    #[error("the provider refused the client: {0}")]
    ClientRejected(String),
    /// The token endpoint answered with something that is not a usable token response.
    #[error("unexpected token endpoint response: {0}")]
    TokenEndpoint(String),
    /// The ID token failed validation.
    #[error("the ID token was refused: {0}")]
    IdToken(#[from] IdTokenError),
}

impl OidcError {
    /// Whether the visitor's side caused this (declined, late, replayed, or a callback that is
    /// not theirs) rather than the provider or the configuration.
    pub fn is_visitor_caused(&self) -> bool {
        matches!(
            self,
            Self::Denied
                | Self::NoLoginInProgress
                | Self::StateMismatch
                | Self::LoginExpired
                | Self::MalformedCallback(_)
                | Self::IssuerMismatch { .. }
                | Self::CodeRejected
        )
    }

    /// A sentence for the visitor, revealing nothing about the provider's internals.
    pub fn visitor_message(&self) -> &'static str {
        match self {
            Self::Denied => {
                "You declined to share your ticket with the festival, so you are not logged in."
            }
            Self::NoLoginInProgress => {
                "That login link has already been used or has expired. Please start again."
            }
            Self::CodeRejected => {
                "The ticket vendor did not accept that login link: it was already used, has expired, or belongs to another login. Please start again."
            }
            Self::StateMismatch | Self::IssuerMismatch { .. } => {
                "That login response does not belong to a login you started here, so it was refused. Please start again."
            }
            Self::MalformedCallback(_) => {
                "That login response was incomplete, so it was refused. Please start again."
            }
            Self::LoginExpired => "The login took too long. Please start again.",
            Self::ProviderUnreachable(_) => {
                "The ticket vendor cannot be reached right now. Please try again later, or use your festival password."
            }
            Self::ProviderRefused { .. }
            | Self::Discovery(_)
            | Self::Keys(_)
            | Self::ClientRejected(_)
            | Self::TokenEndpoint(_)
            | Self::IdToken(_) => {
                "The ticket vendor's answer could not be verified, so you are not logged in. Please try again later."
            }
        }
    }
}
