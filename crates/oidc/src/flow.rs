//! The authorization code flow with PKCE (RFC 6749 §4.1, RFC 7636), as OpenID Connect uses it
//! (OIDC Core §3.1), on the `oauth2` crate.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use url::Url;
use wristband_inject::{Clock, Entropy};

use crate::discovery::{ProviderMetadata, discover};
use crate::id_token::same_secret;
use crate::jwks::JwksCache;
use crate::transport::{HttpRequest, HttpTransport, TransportError, TransportFuture};
use crate::{ClientConfig, IdTokenValidator, OidcError, VerifiedIdentity};

/// The token response fields OpenID Connect adds to OAuth 2.0 (OIDC Core §3.1.3.3).
#[derive(Clone, Default, Serialize, Deserialize)]
struct IdTokenFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl fmt::Debug for IdTokenFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenFields")
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl ExtraTokenFields for IdTokenFields {}

type OidcTokenResponse = StandardTokenResponse<IdTokenFields, BasicTokenType>;

/// An `oauth2` client with the authorization and token endpoints set, which is all the
/// code flow needs.
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    OidcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// The one-time values of a login in progress, kept in the visitor's session between
/// sending them to the provider and their return.
///
/// - `state` binds the callback to this browser session (RFC 6749 §10.12): a callback carrying
///   another `state` is someone else's login being pushed into this browser (login CSRF).
/// - the PKCE verifier binds the code to this login (RFC 7636): a code stolen on its way back
///   is useless without it, because only its SHA-256 went out with the request.
/// - `nonce` binds the ID token to this login (OIDC Core §3.1.2.1): a token from another
///   login cannot be replayed into this one.
///
/// It is single-use: take it *out* of the session before calling
/// [`RelyingParty::finish_login`], so a replayed callback finds nothing. `Debug` redacts every
/// value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    issuer: String,
    state: String,
    nonce: String,
    pkce_verifier: String,
    started_at: u64,
}

impl PendingLogin {
    /// The `state` sent to the provider (shown by lessons; compare it only through
    /// [`RelyingParty::finish_login`]).
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The `nonce` sent to the provider; an ID token for this login must carry it.
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The PKCE code verifier; only its SHA-256 left the festival.
    pub fn pkce_verifier(&self) -> &str {
        &self.pkce_verifier
    }

    /// When the login started, in seconds since the epoch.
    pub fn started_at(&self) -> u64 {
        self.started_at
    }
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("issuer", &self.issuer)
            .field("state", &"[redacted]")
            .field("nonce", &"[redacted]")
            .field("pkce_verifier", &"[redacted]")
            .field("started_at", &self.started_at)
            .finish()
    }
}

/// Where to send the visitor, and what to remember until they come back.
#[derive(Debug, Clone)]
pub struct LoginStart {
    /// The provider's authorization URL with every parameter set: redirect the browser here
    /// (303 See Other after a POST).
    pub authorization_url: Url,
    /// Store this in the visitor's session.
    pub pending: PendingLogin,
}

/// The query parameters of the redirect back from the provider (RFC 6749 §4.1.2 and §4.1.2.1,
/// RFC 9207 §2). Every field is optional so that any callback parses and is then judged by
/// [`RelyingParty::finish_login`].
#[derive(Clone, Default, Deserialize)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` the festival sent, returned unchanged.
    pub state: Option<String>,
    /// The issuer of the response (RFC 9207).
    pub iss: Option<String>,
    /// An error code, when the provider did not issue a code.
    pub error: Option<String>,
    /// A human-readable explanation of `error`.
    pub error_description: Option<String>,
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

/// What discovery produced: everything needed to run logins against one provider.
struct Provider {
    metadata: ProviderMetadata,
    oauth: OAuthClient,
    validator: IdTokenValidator,
    keys: JwksCache,
}

/// The festival's side of "log in with the ticket vendor": one provider, one client
/// registration.
///
/// Discovery happens on first use, not at construction, so the festival starts even while the
/// provider is down (the login button then explains the provider cannot be reached, and works
/// as soon as it is back). A successful discovery is kept for the life of the value.
pub struct RelyingParty {
    config: ClientConfig,
    transport: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
    provider: Mutex<Option<Arc<Provider>>>,
}

impl fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelyingParty")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// A relying party for the provider in `config`, talking to it through `transport`, reading
    /// time from `clock` and drawing `state`, nonce and PKCE verifier from `entropy`.
    pub fn new(
        config: ClientConfig,
        transport: Arc<dyn HttpTransport>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
    ) -> Self {
        Self {
            config,
            transport,
            clock,
            entropy,
            provider: Mutex::new(None),
        }
    }

    /// The configuration this relying party was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The provider's discovery document, fetched on first use.
    ///
    /// # Errors
    ///
    /// [`OidcError::ProviderUnreachable`] or [`OidcError::Discovery`].
    pub async fn metadata(&self) -> Result<ProviderMetadata, OidcError> {
        Ok(self.provider().await?.metadata.clone())
    }

    async fn provider(&self) -> Result<Arc<Provider>, OidcError> {
        let mut slot = self.provider.lock().await;
        if let Some(provider) = slot.as_ref() {
            return Ok(provider.clone());
        }
        let metadata = discover(self.transport.as_ref(), self.config.issuer()).await?;
        tracing::info!(issuer = %metadata.issuer, "discovered the OpenID provider");
        let provider = Arc::new(self.build_provider(metadata));
        *slot = Some(provider.clone());
        Ok(provider)
    }

    fn build_provider(&self, metadata: ProviderMetadata) -> Provider {
        let auth_type = if metadata.prefers_secret_in_body() {
            AuthType::RequestBody
        } else {
            AuthType::BasicAuth
        };
        let oauth = oauth2::Client::new(ClientId::new(self.config.client_id().to_owned()))
            .set_client_secret(oauth2::ClientSecret::new(
                self.config.client_secret().expose().to_owned(),
            ))
            .set_auth_type(auth_type)
            .set_auth_uri(AuthUrl::from_url(metadata.authorization_endpoint.clone()))
            .set_token_uri(TokenUrl::from_url(metadata.token_endpoint.clone()))
            .set_redirect_uri(RedirectUrl::from_url(self.config.redirect_uri().clone()));
        let validator = IdTokenValidator::new(
            metadata.issuer.clone(),
            self.config.client_id(),
            metadata.accepted_algorithms(),
            self.clock.clone(),
            *self.config.policy(),
        );
        let keys = JwksCache::new(
            self.transport.clone(),
            metadata.jwks_uri.clone(),
            self.clock.clone(),
            *self.config.policy(),
        );
        Provider {
            metadata,
            oauth,
            validator,
            keys,
        }
    }

    /// Starts a login: fresh `state`, nonce and PKCE verifier, and the URL to send the
    /// visitor to.
    ///
    /// # Errors
    ///
    /// [`OidcError::ProviderUnreachable`] or [`OidcError::Discovery`] if the provider has not
    /// been discovered yet and cannot be.
    #[tracing::instrument(skip_all, fields(issuer = %self.config.issuer()))]
    pub async fn start_login(&self) -> Result<LoginStart, OidcError> {
        let provider = self.provider().await?;
        let pending = PendingLogin {
            issuer: self.config.issuer().to_owned(),
            state: self.random_value(),
            nonce: self.random_value(),
            pkce_verifier: self.random_value(),
            started_at: self.clock.now(),
        };
        let verifier = PkceCodeVerifier::new(pending.pkce_verifier.clone());
        let state = pending.state.clone();
        let (authorization_url, _state) = provider
            .oauth
            .authorize_url(move || CsrfToken::new(state))
            .add_scopes(self.config.scopes().iter().cloned().map(Scope::new))
            .add_extra_param("nonce", pending.nonce.clone())
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier))
            .url();
        Ok(LoginStart {
            authorization_url,
            pending,
        })
    }

    /// 32 random bytes, base64url: 256 bits, beyond guessing; 43 characters, a valid PKCE
    /// verifier (RFC 7636 §4.1 asks for 43 to 128).
    fn random_value(&self) -> String {
        let mut bytes = [0u8; 32];
        self.entropy.fill(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Finishes a login when the visitor comes back with `callback`.
    ///
    /// `pending` is what [`RelyingParty::start_login`] returned for this session, already
    /// *removed* from the session (single use); `None` if the session held none.
    ///
    /// The checks, in order: a login is in progress; `state` matches (constant time); the login
    /// is not older than [`crate::Policy::login_lifetime`]; `iss` is the provider's (RFC 9207);
    /// the provider did not return an error; then the code is exchanged with the client secret
    /// and PKCE verifier, and the ID token is validated (see [`IdTokenValidator::validate`]).
    ///
    /// # Errors
    ///
    /// An [`OidcError`]; [`OidcError::is_visitor_caused`] tells which side caused it.
    #[tracing::instrument(skip_all, fields(issuer = %self.config.issuer()))]
    pub async fn finish_login(
        &self,
        pending: Option<PendingLogin>,
        callback: &CallbackParams,
    ) -> Result<VerifiedIdentity, OidcError> {
        let pending = pending.ok_or(OidcError::NoLoginInProgress)?;
        let state_matches = callback
            .state
            .as_deref()
            .is_some_and(|state| same_secret(state, &pending.state));
        if !state_matches || pending.issuer != self.config.issuer() {
            return Err(OidcError::StateMismatch);
        }
        let now = self.clock.now();
        if now
            > pending
                .started_at
                .saturating_add(self.config.policy().login_lifetime)
        {
            return Err(OidcError::LoginExpired);
        }

        let provider = self.provider().await?;
        check_issuer_parameter(&provider.metadata, callback.iss.as_deref())?;
        if let Some(error) = &callback.error {
            return Err(if error == "access_denied" {
                OidcError::Denied
            } else {
                OidcError::ProviderRefused {
                    error: error.clone(),
                    description: callback.error_description.clone(),
                }
            });
        }
        let code = callback
            .code
            .as_deref()
            .filter(|code| !code.is_empty())
            .ok_or(OidcError::MalformedCallback("neither a code nor an error"))?;

        let id_token = self.exchange(&provider, code, &pending).await?;
        let header = provider.validator.header(&id_token)?;
        let mut keys = provider.keys.current().await?;
        let known = keys.find(header.kid.as_deref(), &header.alg).is_some();
        if !known {
            // The provider may have rotated its keys since the set was cached.
            if let Some(refreshed) = provider.keys.refresh_for_unknown_key().await? {
                keys = refreshed;
            }
        }
        let identity = provider
            .validator
            .validate(&id_token, &pending.nonce, &keys)?;
        tracing::info!(subject = %identity.subject, "ID token validated");
        Ok(identity)
    }

    /// Exchanges the code for tokens (RFC 6749 §4.1.3) and returns the ID token.
    async fn exchange(
        &self,
        provider: &Provider,
        code: &str,
        pending: &PendingLogin,
    ) -> Result<String, OidcError> {
        let http = OAuthHttp(self.transport.as_ref());
        let response = provider
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|err| match err {
                RequestTokenError::ServerResponse(response) => match response.error() {
                    BasicErrorResponseType::InvalidGrant => OidcError::CodeRejected,
                    BasicErrorResponseType::InvalidClient
                    | BasicErrorResponseType::UnauthorizedClient => {
                        OidcError::ClientRejected(response.error().to_string())
                    }
                    // Debug-quoted: the code is the provider's text and goes into a log line.
                    other => OidcError::TokenEndpoint(format!("error {:?}", other.as_ref())),
                },
                RequestTokenError::Request(err) => OidcError::ProviderUnreachable(err),
                RequestTokenError::Parse(err, _body) => {
                    OidcError::TokenEndpoint(format!("unreadable response: {err}"))
                }
                RequestTokenError::Other(message) => OidcError::TokenEndpoint(message),
            })?;
        response
            .extra_fields()
            .id_token
            .clone()
            .ok_or_else(|| OidcError::TokenEndpoint("no id_token in the response".to_owned()))
    }
}

/// Lends the relying party's transport to `oauth2` for the token request.
struct OAuthHttp<'t>(&'t dyn HttpTransport);

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp<'_> {
    type Error = TransportError;
    type Future = TransportFuture<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        self.0.send(request)
    }
}

/// RFC 9207 §2.4: a callback's `iss`, when present, must be the provider's issuer; when the
/// provider says it always sends one, a callback without it is refused too.
fn check_issuer_parameter(metadata: &ProviderMetadata, iss: Option<&str>) -> Result<(), OidcError> {
    let mismatch = |found: Option<&str>| OidcError::IssuerMismatch {
        expected: metadata.issuer.clone(),
        found: found.map(str::to_owned),
    };
    match iss {
        Some(iss) if iss != metadata.issuer => Err(mismatch(Some(iss))),
        None if metadata.authorization_response_iss_parameter_supported => Err(mismatch(None)),
        _ => Ok(()),
    }
}
