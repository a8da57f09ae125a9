//! Reading `application/x-www-form-urlencoded` parameters the way RFC 6749 §3.1 asks.

use axum::http::{HeaderMap, header};

/// Request parameters, from a query string or a form body.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

/// A parameter was sent more than once, which RFC 6749 §3.1 forbids: the server cannot know
/// which value the client meant, and an attacker may have appended one.
#[derive(Debug)]
pub(crate) struct Repeated;

impl Params {
    pub(crate) fn parse(encoded: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(encoded)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// The value of `name`. A parameter sent without a value counts as omitted (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.0.iter().filter(|(key, _)| key == name);
        let first = values.next();
        if values.next().is_some() {
            return Err(Repeated);
        }
        Ok(first
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty()))
    }
}

/// Whether the request body is declared as `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| {
            media_type
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, `%XX` a byte.
///
/// RFC 6749 §2.3.1 encodes the client id and secret this way before putting them in a Basic
/// `Authorization` header, so `:` or `%` in a secret survive the trip.
pub(crate) fn form_decode(component: &str) -> Option<String> {
    let bytes = component.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = bytes.get(index + 1..index + 3)?;
                // `from_str_radix` alone would accept a sign (`%+1`).
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                let hex = std::str::from_utf8(hex).ok()?;
                decoded.push(u8::from_str_radix(hex, 16).ok()?);
                index += 2;
            }
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_parameter_is_refused() {
        let params = Params::parse(b"state=a&state=b");
        assert!(params.get("state").is_err());
    }

    #[test]
    fn an_empty_parameter_counts_as_omitted() {
        let params = Params::parse(b"state=&nonce=n");
        assert_eq!(params.get("state").ok().flatten(), None);
        assert_eq!(params.get("nonce").ok().flatten(), Some("n"));
    }

    #[test]
    fn form_decoding_handles_plus_and_percent() {
        assert_eq!(form_decode("a+b%3Ac%25").as_deref(), Some("a b:c%"));
        assert_eq!(form_decode("bad%2"), None);
        assert_eq!(form_decode("bad%zz"), None);
    }
}
