//! The JSON the vendor hands out: scopes, ID token claims, token responses and userinfo.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::Ticket;

/// The scopes the vendor understands, as a set.
///
/// `openid` makes the request an OpenID Connect one (and is required); `profile` releases the
/// holder's `name`; `ticket` releases the `ticket` claim. Other values a client asks for are
/// ignored, as OIDC Core §3.1.2.1 asks; the token response's `scope` says what was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    /// `openid`: an ID token with the holder's `sub`.
    pub openid: bool,
    /// `profile`: the holder's display name.
    pub profile: bool,
    /// `ticket`: the ticket colour.
    pub ticket: bool,
}

impl Scopes {
    /// Every scope the vendor supports, in the order it lists them.
    pub const SUPPORTED: [&'static str; 3] = ["openid", "profile", "ticket"];

    /// The supported scopes named in a space-separated `scope` parameter (RFC 6749 §3.3).
    pub fn parse(scope: &str) -> Self {
        let mut scopes = Self::default();
        for value in scope.split(' ') {
            match value {
                "openid" => scopes.openid = true,
                "profile" => scopes.profile = true,
                "ticket" => scopes.ticket = true,
                _ => {}
            }
        }
        scopes
    }
}

impl fmt::Display for Scopes {
    /// The granted scopes, space-separated, in the order of [`Scopes::SUPPORTED`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let granted = [self.openid, self.profile, self.ticket];
        let names: Vec<&str> = Self::SUPPORTED
            .iter()
            .zip(granted)
            .filter_map(|(name, on)| on.then_some(*name))
            .collect();
        f.write_str(&names.join(" "))
    }
}

/// The claims of an ID token the vendor signs (OIDC Core §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    /// The issuer identifier, exactly as in discovery.
    pub iss: String,
    /// The holder's stable, opaque subject identifier.
    pub sub: String,
    /// The client the token is for: its `client_id`, and nothing else.
    pub aud: String,
    /// Expiry, in seconds since the epoch.
    pub exp: u64,
    /// Issue time, in seconds since the epoch.
    pub iat: u64,
    /// When the holder typed their password, in seconds since the epoch.
    pub auth_time: u64,
    /// The `nonce` the client sent in its authorization request, returned unchanged.
    pub nonce: String,
    /// The authorized party: the client the token was issued to (equal to `aud`).
    pub azp: String,
    /// The holder's display name (only with the `profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ticket the holder bought (only with the `ticket` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
}

/// A successful token endpoint response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// An opaque access token for `/userinfo`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The signed ID token.
    pub id_token: String,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// The userinfo endpoint's answer (OIDC Core §5.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The holder's subject identifier, the same as the ID token's `sub`.
    pub sub: String,
    /// The holder's display name (only with the `profile` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ticket the holder bought (only with the `ticket` scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Ticket>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_scopes_are_ignored_and_the_rest_are_listed_in_order() {
        let scopes = Scopes::parse("ticket email openid");
        assert_eq!(scopes.to_string(), "openid ticket");
    }

    #[test]
    fn an_empty_scope_grants_nothing() {
        assert_eq!(Scopes::parse(""), Scopes::default());
    }
}
