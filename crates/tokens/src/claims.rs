use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The colour of a wristband: what kind of ticket its wearer showed at the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wristband {
    /// General admission: stages and food tents.
    Green,
    /// VIP: everything green has, and backstage too.
    Gold,
}

impl Wristband {
    /// The lowercase name used in tokens, JSON and forms: `green` or `gold`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Green => "green",
            Self::Gold => "gold",
        }
    }
}

impl fmt::Display for Wristband {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was neither `green` nor `gold`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a wristband is either \"green\" or \"gold\"")]
pub struct UnknownWristband;

impl FromStr for Wristband {
    type Err = UnknownWristband;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "green" => Ok(Self::Green),
            "gold" => Ok(Self::Gold),
            _ => Err(UnknownWristband),
        }
    }
}

/// The claims inside a wristband token.
///
/// All fields are required: a token missing any of them is refused by the verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer: who made the token (RFC 7519 §4.1.1).
    pub iss: String,
    /// Subject: the username the token speaks for (§4.1.2).
    pub sub: String,
    /// Audience: the service the token is meant for (§4.1.3).
    pub aud: String,
    /// Expiry, in seconds since the epoch (§4.1.4).
    pub exp: u64,
    /// Issued at (§4.1.6).
    pub iat: u64,
    /// Not valid before (§4.1.5).
    pub nbf: u64,
    /// A unique id for this token (§4.1.7): safe to log, and the handle for revocation.
    pub jti: String,
    /// The granted scopes, space-separated as in OAuth 2.0 (RFC 9068 §2.2.3).
    pub scope: String,
    /// The wristband colour the scopes were derived from.
    pub wristband: Wristband,
}

impl Claims {
    /// The granted scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }
}
