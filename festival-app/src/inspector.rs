//! The token inspector on the wristband page: a JWT taken apart for reading.
//!
//! A JWT's header and claims are only base64url-encoded, not encrypted: anyone holding the
//! token can read them, which is why a token must never carry secrets. The inspector shows that
//! by decoding them here, then says separately whether the token *verifies*, because reading a
//! token proves nothing about it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;
use time::macros::format_description;
use wristband_tokens::{TokenError, Verifier};

/// A wristband token, decoded for display.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The header, as pretty-printed JSON.
    pub header_json: String,
    /// The claims, as pretty-printed JSON.
    pub claims_json: String,
    /// The three base64url parts, for showing the token's shape.
    pub parts: [String; 3],
    /// When the token was issued, in UTC.
    pub issued_at: String,
    /// When it expires, in UTC.
    pub expires_at: String,
    /// The expiry relative to now: `in 14 min 30 s` or `2 min ago`.
    pub expires_relative: String,
    /// `valid`, `expired` or `invalid`: the CSS class of the verdict.
    pub verdict: &'static str,
    /// The verdict in words.
    pub verdict_text: String,
}

/// Decodes `token` for display and checks it with `verifier` at time `now`.
///
/// Never fails: parts that cannot be decoded are shown as such.
pub fn inspect(token: &str, verifier: &Verifier, now: u64) -> Inspection {
    let mut pieces = token.splitn(3, '.');
    let mut next = || pieces.next().unwrap_or_default().to_owned();
    let parts = [next(), next(), next()];
    let header = decode_json(&parts[0]);
    let claims = decode_json(&parts[1]);
    let number = |name: &str| {
        claims
            .as_ref()
            .and_then(|claims| claims.get(name))
            .and_then(serde_json::Value::as_u64)
    };
    let (verdict, verdict_text) = match verifier.verify(token) {
        Ok(_) => (
            "valid",
            "Signature, issuer, audience, type and expiry all check out: the API accepts this \
             token, and its scopes decide which doors open."
                .to_owned(),
        ),
        Err(TokenError::Expired) => (
            "expired",
            "The token has expired: API doors refuse it now. Access tokens are short-lived on \
             purpose; your session at the gate lasts longer, and logging in again mints a fresh \
             token."
                .to_owned(),
        ),
        Err(err) => (
            "invalid",
            format!("The token does not verify: {}.", err.description()),
        ),
    };
    Inspection {
        header_json: pretty(header.as_ref()),
        claims_json: pretty(claims.as_ref()),
        parts,
        issued_at: number("iat").map_or_else(|| "unknown".to_owned(), utc),
        expires_at: number("exp").map_or_else(|| "unknown".to_owned(), utc),
        expires_relative: number("exp").map_or_else(String::new, |exp| relative(exp, now)),
        verdict,
        verdict_text,
    }
}

fn decode_json(part: &str) -> Option<serde_json::Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn pretty(value: Option<&serde_json::Value>) -> String {
    value
        .and_then(|value| serde_json::to_string_pretty(value).ok())
        .unwrap_or_else(|| "(not readable JSON)".to_owned())
}

/// A Unix time as `2025-07-19 21:00:00 UTC`.
pub fn utc(unix_seconds: u64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    i64::try_from(unix_seconds)
        .ok()
        .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
        .and_then(|moment| moment.format(&format).ok())
        .unwrap_or_else(|| unix_seconds.to_string())
}

/// `when` relative to `now`: `in 14 min 30 s`, `2 min ago`, `now`.
pub fn relative(when: u64, now: u64) -> String {
    let words = |seconds: u64| match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    };
    match when.cmp(&now) {
        std::cmp::Ordering::Greater => format!("in {}", words(when - now)),
        std::cmp::Ordering::Less => format!("{} ago", words(now - when)),
        std::cmp::Ordering::Equal => "now".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_utc_dates() {
        assert_eq!(utc(1_752_958_800), "2025-07-19 21:00:00 UTC");
    }

    #[test]
    fn expiry_reads_relative_to_now() {
        assert_eq!(relative(1_000 + 870, 1_000), "in 14 min 30 s");
        assert_eq!(relative(1_000, 1_000 + 120), "2 min ago");
        assert_eq!(relative(1_000, 1_000 + 5), "5 s ago");
        assert_eq!(relative(1_000, 1_000), "now");
    }
}
