//! What the vendor knows before it starts: its issuer URL, its registered clients, its ticket
//! holders and its signing key.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use crate::key::VendorSigningKey;

/// A secret string (a client secret or a ticket holder's password).
///
/// `Debug` prints `[redacted]`, so a secret never reaches a log line by accident, and
/// [`Secret::matches`] compares in constant time.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value` as a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` equals this secret.
    ///
    /// Both sides are hashed with SHA-256 first and the 32-byte digests compared with
    /// [`subtle::ConstantTimeEq`]: the comparison takes the same time however many leading
    /// bytes match, and does not return early when the lengths differ, so an attacker cannot
    /// guess the secret byte by byte from response times.
    pub fn matches(&self, candidate: &str) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let given = Sha256::digest(candidate.as_bytes());
        expected.ct_eq(&given).into()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    /// Any string is a valid secret (so a command-line parser can read one).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(value))
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// The kind of ticket a holder bought from the vendor; the festival turns it into a wristband.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ticket {
    /// General admission.
    Green,
    /// VIP: general admission and backstage.
    Gold,
}

impl Ticket {
    /// The claim value: `"green"` or `"gold"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ticket::Green => "green",
            Ticket::Gold => "gold",
        }
    }
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An application allowed to ask the vendor who a visitor is (an OAuth 2.0 confidential client).
///
/// Registration is static: there is no dynamic client registration endpoint.
#[derive(Debug, Clone)]
pub struct ClientRegistration {
    /// The client's public identifier, sent as `client_id`.
    pub client_id: String,
    /// The secret the client authenticates with at the token endpoint.
    pub client_secret: Secret,
    /// Every redirect URI the client may use, compared with the request's `redirect_uri` as
    /// exact strings (RFC 9700 §2.1): no prefix matching, no normalisation, no wildcards.
    pub redirect_uris: Vec<String>,
}

impl ClientRegistration {
    /// A client with one or more exact redirect URIs.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
        redirect_uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uris: redirect_uris.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether `redirect_uri` is, character for character, one of the registered URIs.
    pub fn allows_redirect_uri(&self, redirect_uri: &str) -> bool {
        self.redirect_uris.iter().any(|uri| uri == redirect_uri)
    }
}

/// Someone who bought a ticket from the vendor and can log in on its login page.
#[derive(Debug, Clone)]
pub struct VendorUser {
    /// What the holder types on the vendor's login page. Never sent to clients.
    pub username: String,
    /// The holder's vendor password.
    pub password: Secret,
    /// Display name, released with the `profile` scope.
    pub name: String,
    /// The ticket bought, released with the `ticket` scope.
    pub ticket: Ticket,
    /// The stable, opaque subject identifier (`sub`) clients key accounts on.
    ///
    /// It is deliberately not the username: usernames can change or be reused, and a client
    /// must link accounts by (`iss`, `sub`) only (OIDC Core §5.7).
    pub subject: String,
}

/// Everything the vendor needs to run.
#[derive(Debug, Clone)]
pub struct VendorConfig {
    /// The issuer identifier: the URL clients configure, and the `iss` of every ID token.
    ///
    /// It must be `http` or `https` with no query or fragment. It is written without a trailing
    /// slash (`http://127.0.0.1:8081`), and every endpoint URL is this string plus a path. When
    /// the issuer has a path, mount [`crate::router`] under that path.
    pub issuer: Url,
    /// The registered clients.
    pub clients: Vec<ClientRegistration>,
    /// The ticket holders who can log in.
    pub users: Vec<VendorUser>,
    /// The key that signs ID tokens; its public half is published at `/jwks`.
    pub signing_key: VendorSigningKey,
    /// How long an authorization code stays redeemable (RFC 6749 §4.1.2 recommends at most
    /// ten minutes; 60 seconds is plenty for a redirect).
    pub code_ttl: Duration,
    /// How long access tokens and ID tokens stay valid.
    pub token_ttl: Duration,
}

/// The demo client's identifier.
pub const DEMO_CLIENT_ID: &str = "festival";
/// The demo client's secret. Public knowledge: never use it outside a local demo.
pub const DEMO_CLIENT_SECRET: &str = "festival-demo-secret";

/// The seed of the demo signing key. It is published here, so anyone can forge ID tokens signed
/// with it: it exists only so lessons print the same tokens on every run.
const DEMO_KEY_SEED: [u8; 32] = *b"ticket-vendor-demo-key-not-secrt";

impl VendorConfig {
    /// The demo configuration: the festival as the only client, two ticket holders
    /// (`carol` / `vendor-green-demo` holds a green ticket, `dave` / `vendor-gold-demo` a gold
    /// one), a 60-second code lifetime and 5-minute tokens.
    ///
    /// The signing key is derived from a published seed, so the output of lessons is
    /// reproducible. Replace [`VendorConfig::signing_key`] with a generated or loaded key for
    /// anything but a lesson (the `ticket-vendor` binary does).
    pub fn demo(issuer: Url, festival_redirect_uri: impl Into<String>) -> Self {
        Self {
            issuer,
            clients: vec![ClientRegistration::new(
                DEMO_CLIENT_ID,
                DEMO_CLIENT_SECRET,
                [festival_redirect_uri.into()],
            )],
            users: demo_users(),
            signing_key: VendorSigningKey::from_seed(DEMO_KEY_SEED),
            code_ttl: Duration::from_secs(60),
            token_ttl: Duration::from_secs(300),
        }
    }

    /// The issuer as the exact string used in `iss` and in discovery: the URL without a trailing
    /// slash.
    pub fn issuer_string(&self) -> String {
        issuer_string(&self.issuer)
    }

    /// Checks the configuration for mistakes that would make the vendor unsafe or unusable.
    ///
    /// # Errors
    ///
    /// Returns the first problem found: an issuer that is not a plain `http(s)` URL, a duplicate
    /// client id, username or subject, a client without redirect URIs, a redirect URI that is not
    /// an absolute URL or carries a fragment (RFC 6749 §3.1.2), or a lifetime under one second.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let issuer = &self.issuer;
        if !matches!(issuer.scheme(), "http" | "https") || !issuer.has_host() {
            return Err(ConfigError::Issuer(
                "it must be an http or https URL with a host",
            ));
        }
        // OIDC Discovery §3 and RFC 8414 §2: the issuer has no query and no fragment.
        if issuer.query().is_some() || issuer.fragment().is_some() {
            return Err(ConfigError::Issuer(
                "it must not carry a query or a fragment",
            ));
        }
        if !issuer.username().is_empty() || issuer.password().is_some() {
            return Err(ConfigError::Issuer("it must not carry credentials"));
        }

        for (index, client) in self.clients.iter().enumerate() {
            if client.client_id.is_empty() {
                return Err(ConfigError::EmptyClientId);
            }
            if self.clients[..index]
                .iter()
                .any(|other| other.client_id == client.client_id)
            {
                return Err(ConfigError::DuplicateClient(client.client_id.clone()));
            }
            if client.redirect_uris.is_empty() {
                return Err(ConfigError::NoRedirectUri(client.client_id.clone()));
            }
            for uri in &client.redirect_uris {
                let valid = Url::parse(uri)
                    .map(|parsed| parsed.fragment().is_none() && parsed.has_host())
                    .unwrap_or(false);
                if !valid {
                    return Err(ConfigError::RedirectUri {
                        client_id: client.client_id.clone(),
                        uri: uri.clone(),
                    });
                }
            }
        }

        for (index, user) in self.users.iter().enumerate() {
            let earlier = &self.users[..index];
            if earlier.iter().any(|other| other.username == user.username) {
                return Err(ConfigError::DuplicateUsername(user.username.clone()));
            }
            // OIDC Core §2: `sub` is at most 255 ASCII characters and never reassigned.
            if user.subject.is_empty() || user.subject.len() > 255 || !user.subject.is_ascii() {
                return Err(ConfigError::Subject(user.username.clone()));
            }
            if earlier.iter().any(|other| other.subject == user.subject) {
                return Err(ConfigError::DuplicateSubject(user.subject.clone()));
            }
        }

        if self.code_ttl.as_secs() == 0 || self.token_ttl.as_secs() == 0 {
            return Err(ConfigError::Lifetime);
        }
        Ok(())
    }
}

/// The issuer URL as a string without its trailing slash (the `url` crate always writes a `/`
/// path for `http://host`, but clients configure and compare `http://host`).
pub(crate) fn issuer_string(issuer: &Url) -> String {
    let text = issuer.as_str();
    text.strip_suffix('/').unwrap_or(text).to_owned()
}

fn demo_users() -> Vec<VendorUser> {
    vec![
        VendorUser {
            username: "carol".to_owned(),
            password: Secret::new("vendor-green-demo"),
            name: "Carol".to_owned(),
            ticket: Ticket::Green,
            subject: "tv-5b0c8f1e-2d4a-4f6b-9c3e-7a1d2e3f4a5b".to_owned(),
        },
        VendorUser {
            username: "dave".to_owned(),
            password: Secret::new("vendor-gold-demo"),
            name: "Dave".to_owned(),
            ticket: Ticket::Gold,
            subject: "tv-9e4d7c2b-6a1f-4e8d-b5c3-1f2e3d4c5b6a".to_owned(),
        },
    ]
}

/// A configuration mistake found by [`VendorConfig::validate`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The issuer URL is unusable.
    #[error("the issuer URL is invalid: {0}")]
    Issuer(&'static str),
    /// A client has an empty `client_id`.
    #[error("a client has an empty client_id")]
    EmptyClientId,
    /// Two clients share a `client_id`.
    #[error("client_id {0:?} is registered twice")]
    DuplicateClient(String),
    /// A client has no redirect URI, so no authorization could ever complete.
    #[error("client {0:?} has no redirect URI")]
    NoRedirectUri(String),
    /// A redirect URI is not an absolute URL, or it carries a fragment.
    #[error("client {client_id:?} has an invalid redirect URI {uri:?} (absolute URL, no fragment)")]
    RedirectUri {
        /// The client it belongs to.
        client_id: String,
        /// The offending URI.
        uri: String,
    },
    /// Two users share a username.
    #[error("username {0:?} is used twice")]
    DuplicateUsername(String),
    /// A user's subject is empty, longer than 255 characters or not ASCII.
    #[error("user {0:?} has an invalid subject (1 to 255 ASCII characters)")]
    Subject(String),
    /// Two users share a subject identifier.
    #[error("subject {0:?} is used twice")]
    DuplicateSubject(String),
    /// A lifetime is shorter than one second.
    #[error("code_ttl and token_ttl must be at least one second")]
    Lifetime,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> VendorConfig {
        VendorConfig::demo(
            Url::parse("http://127.0.0.1:8081").expect("a valid URL"),
            "http://127.0.0.1:8080/auth/vendor/callback",
        )
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        let client = ClientRegistration::new("festival", "hunter2", ["http://x.test/cb"]);
        assert!(!format!("{client:?}").contains("hunter2"));
    }

    #[test]
    fn a_secret_matches_only_itself() {
        let secret = Secret::new("festival-demo-secret");
        assert!(secret.matches("festival-demo-secret"));
        assert!(!secret.matches("festival-demo-secreT"));
        assert!(!secret.matches("festival-demo-secret "));
        assert!(!secret.matches(""));
    }

    #[test]
    fn the_issuer_string_has_no_trailing_slash() {
        assert_eq!(demo().issuer_string(), "http://127.0.0.1:8081");
    }

    #[test]
    fn the_demo_configuration_is_valid() {
        demo().validate().expect("the demo configuration is valid");
    }

    #[test]
    fn a_redirect_uri_with_a_fragment_is_refused() {
        let mut config = demo();
        config.clients[0].redirect_uris = vec!["http://127.0.0.1:8080/cb#x".to_owned()];
        assert!(matches!(
            config.validate(),
            Err(ConfigError::RedirectUri { .. })
        ));
    }

    #[test]
    fn a_relative_redirect_uri_is_refused() {
        let mut config = demo();
        config.clients[0].redirect_uris = vec!["/auth/vendor/callback".to_owned()];
        assert!(matches!(
            config.validate(),
            Err(ConfigError::RedirectUri { .. })
        ));
    }

    #[test]
    fn an_issuer_with_a_query_is_refused() {
        let mut config = demo();
        config.issuer = Url::parse("http://127.0.0.1:8081/?tenant=1").expect("a valid URL");
        assert!(matches!(config.validate(), Err(ConfigError::Issuer(_))));
    }

    #[test]
    fn two_users_with_the_same_subject_are_refused() {
        let mut config = demo();
        config.users[1].subject = config.users[0].subject.clone();
        assert!(matches!(
            config.validate(),
            Err(ConfigError::DuplicateSubject(_))
        ));
    }

    #[test]
    fn a_zero_code_lifetime_is_refused() {
        let mut config = demo();
        config.code_ttl = Duration::ZERO;
        assert!(matches!(config.validate(), Err(ConfigError::Lifetime)));
    }
}
