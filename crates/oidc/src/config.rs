//! What the festival knows about the provider before talking to it: the issuer, its own client
//! registration, and the time limits it applies.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

/// The scopes asked for when none are configured: `openid` makes the request an OpenID Connect
/// one (OIDC Core §3.1.2.1), `profile` releases the display name, `ticket` the ticket colour.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "ticket"];

/// The client secret the provider issued to the festival.
///
/// `Debug` prints `[redacted]`, so the secret never reaches a log line by accident.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps `secret`.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the one place that sends it (the token request).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// A configuration value the relying party cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The issuer is not an absolute URL.
    #[error("the issuer {0:?} is not a URL")]
    IssuerNotUrl(String),
    /// The issuer uses plain `http` on a host other than this machine, or has a query or fragment.
    #[error(
        "the issuer {0:?} must be an https URL without query or fragment (plain http only on loopback)"
    )]
    IssuerNotSecure(String),
    /// The client id is empty.
    #[error("the client id is empty")]
    EmptyClientId,
    /// The redirect URI is not an absolute URL.
    #[error("the redirect URI {0:?} is not a URL")]
    RedirectUriNotUrl(String),
    /// The scopes do not include `openid`.
    #[error("the scopes must include \"openid\"")]
    MissingOpenidScope,
}

/// Time limits applied to a login. All in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Clock skew tolerated between the festival and the provider when checking `exp` and `iat`.
    pub leeway: u64,
    /// How old an ID token's `iat` may be: the token is fetched right after the code exchange,
    /// so an old one is a replay (OIDC Core §3.1.3.7 step 10 leaves the window to the client).
    pub max_id_token_age: u64,
    /// How long a visitor may spend at the provider between leaving and coming back.
    pub login_lifetime: u64,
    /// The least time between two key-set fetches caused by an unknown `kid`, so that tokens
    /// naming random key ids cannot make the festival hammer the provider.
    pub jwks_refetch_interval: u64,
    /// How long a fetched key set is used before it is fetched again, so a key the provider
    /// withdrew stops being trusted.
    pub jwks_max_age: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            leeway: 60,
            max_id_token_age: 600,
            login_lifetime: 600,
            jwks_refetch_interval: 60,
            jwks_max_age: 3600,
        }
    }
}

/// The festival's registration at one provider.
///
/// These four values are all a real provider needs: the issuer URL (everything else is
/// discovered from it), and the client id, secret and redirect URI it registered.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    issuer: String,
    client_id: String,
    client_secret: ClientSecret,
    redirect_uri: Url,
    scopes: Vec<String>,
    policy: Policy,
}

impl ClientConfig {
    /// A configuration for the provider at `issuer`.
    ///
    /// The issuer is kept exactly as given: OIDC compares issuer identifiers as strings
    /// (OIDC Discovery §4.3), so `https://vendor.example` and `https://vendor.example/` are
    /// different issuers.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the issuer is not an https URL (plain http is allowed only on a
    /// loopback host, for local demos), the client id is empty, or the redirect URI is not a URL.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: ClientSecret,
        redirect_uri: &str,
    ) -> Result<Self, ConfigError> {
        let issuer = issuer.into();
        let parsed = Url::parse(&issuer).map_err(|_| ConfigError::IssuerNotUrl(issuer.clone()))?;
        if !is_secure_endpoint(&parsed) || parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ConfigError::IssuerNotSecure(issuer));
        }
        let client_id = client_id.into();
        if client_id.is_empty() {
            return Err(ConfigError::EmptyClientId);
        }
        let redirect_uri = Url::parse(redirect_uri)
            .map_err(|_| ConfigError::RedirectUriNotUrl(redirect_uri.to_owned()))?;
        Ok(Self {
            issuer,
            client_id,
            client_secret,
            redirect_uri,
            scopes: DEFAULT_SCOPES.map(str::to_owned).to_vec(),
            policy: Policy::default(),
        })
    }

    /// Replaces the requested scopes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingOpenidScope`] if `openid` is not among them: without it the
    /// provider returns no ID token and there is nothing to log in with.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        if !scopes.iter().any(|scope| scope == "openid") {
            return Err(ConfigError::MissingOpenidScope);
        }
        self.scopes = scopes;
        Ok(self)
    }

    /// Replaces the time limits.
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The issuer identifier, exactly as configured.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The client id the provider issued.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret the provider issued.
    pub fn client_secret(&self) -> &ClientSecret {
        &self.client_secret
    }

    /// Where the provider sends the visitor back.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The scopes requested at every login.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The time limits.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

/// `https`, or plain `http` to this machine.
///
/// NOTE: OIDC Discovery §4.3 requires https issuers. Loopback http is accepted so the demo and
/// the tests run offline without certificates; nothing crosses a network there.
pub(crate) fn is_secure_endpoint(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(Host::Domain(domain)) => domain == "localhost",
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(issuer: &str) -> Result<ClientConfig, ConfigError> {
        ClientConfig::new(
            issuer,
            "festival",
            ClientSecret::new("secret"),
            "http://127.0.0.1:8080/auth/vendor/callback",
        )
    }

    #[test]
    fn an_https_issuer_and_a_loopback_http_issuer_are_accepted() {
        assert!(config("https://vendor.example").is_ok());
        assert!(config("http://127.0.0.1:8081").is_ok());
        assert!(config("http://localhost:8081").is_ok());
    }

    #[test]
    fn a_plain_http_issuer_on_the_network_is_refused() {
        assert_eq!(
            config("http://vendor.example").err(),
            Some(ConfigError::IssuerNotSecure(
                "http://vendor.example".to_owned()
            ))
        );
    }

    #[test]
    fn an_issuer_with_a_query_is_refused() {
        assert!(matches!(
            config("https://vendor.example/?tenant=1"),
            Err(ConfigError::IssuerNotSecure(_))
        ));
    }

    #[test]
    fn scopes_without_openid_are_refused() {
        let result = config("https://vendor.example").and_then(|c| c.with_scopes(["profile"]));
        assert_eq!(result.err(), Some(ConfigError::MissingOpenidScope));
    }

    #[test]
    fn the_client_secret_is_redacted_in_debug_output() {
        let rendered = format!("{:?}", ClientSecret::new("festival-demo-secret"));
        assert_eq!(rendered, "ClientSecret([redacted])");
    }
}
