//! OpenID Connect Discovery: everything about a provider, learned from its issuer URL.

use http::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::OidcError;
use crate::config::is_secure_endpoint;
use crate::transport::HttpTransport;

/// The ID token signing algorithms this crate can verify. `none` and the HMAC family are
/// absent on purpose: an unsigned token proves nothing, and an HMAC one would be verified with
/// the client secret, which the festival shares with the provider and so cannot tell apart
/// (OIDC Core §10.1, RFC 8725 §3.1).
pub const SUPPORTED_ALGORITHMS: [&str; 3] = ["EdDSA", "ES256", "RS256"];

/// The parts of a provider's discovery document the relying party uses
/// (OIDC Discovery §3, RFC 8414 §2, RFC 9207 §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer identifier; must equal the configured issuer exactly.
    pub issuer: String,
    /// Where the visitor's browser is sent to log in.
    pub authorization_endpoint: Url,
    /// Where the festival exchanges the code for tokens.
    pub token_endpoint: Url,
    /// Where the provider publishes its public signing keys.
    pub jwks_uri: Url,
    /// Where the festival may ask for more claims (unused by the login itself).
    #[serde(default)]
    pub userinfo_endpoint: Option<Url>,
    /// The algorithms the provider signs ID tokens with (required by Discovery §3).
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// The PKCE methods the provider supports (RFC 8414 §2). Absent means unknown.
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// Whether the provider puts `iss` in every authorization response (RFC 9207 §3).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// The scopes the provider supports.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// How clients may authenticate at the token endpoint. Absent means
    /// `client_secret_basic` only (RFC 8414 §2).
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

impl ProviderMetadata {
    /// The ID token algorithms the festival will accept from this provider: those the provider
    /// advertises *and* this crate supports, so a token claiming any other algorithm (above
    /// all `none` or `HS256`) is refused before its signature is even looked at.
    pub fn accepted_algorithms(&self) -> Vec<String> {
        self.id_token_signing_alg_values_supported
            .iter()
            .filter(|alg| SUPPORTED_ALGORITHMS.contains(&alg.as_str()))
            .cloned()
            .collect()
    }

    /// Whether the client secret goes in the token request's body (`client_secret_post`)
    /// rather than an `Authorization: Basic` header (`client_secret_basic`, the default and
    /// the preference of RFC 6749 §2.3.1): only when the provider lists `post` and not `basic`.
    pub fn prefers_secret_in_body(&self) -> bool {
        self.token_endpoint_auth_methods_supported
            .as_ref()
            .is_some_and(|methods| {
                let has = |name: &str| methods.iter().any(|method| method == name);
                has("client_secret_post") && !has("client_secret_basic")
            })
    }
}

/// The discovery URL for `issuer`: the issuer with any trailing `/` removed, then
/// `/.well-known/openid-configuration` (OIDC Discovery §4.1).
pub fn discovery_url(issuer: &str) -> Result<Url, OidcError> {
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    Url::parse(&format!("{base}/.well-known/openid-configuration"))
        .map_err(|_| OidcError::Discovery(format!("the issuer {issuer:?} is not a URL")))
}

/// Fetches and checks the discovery document of `issuer`.
///
/// # Errors
///
/// - [`OidcError::ProviderUnreachable`] if no response arrived;
/// - [`OidcError::Discovery`] if the response is not a 200 with a discovery document, if the
///   document names another issuer (an impersonation attempt, OIDC Discovery §4.3), if an
///   endpoint is not https (plain http only on loopback), if the provider cannot do PKCE with
///   `S256`, or if it signs ID tokens with no algorithm this crate accepts.
pub async fn discover(
    transport: &dyn HttpTransport,
    issuer: &str,
) -> Result<ProviderMetadata, OidcError> {
    let url = discovery_url(issuer)?;
    let request = http::Request::get(url.as_str())
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|err| OidcError::Discovery(format!("could not build the request: {err}")))?;
    let response = transport
        .send(request)
        .await
        .map_err(OidcError::ProviderUnreachable)?;
    if response.status() != StatusCode::OK {
        return Err(OidcError::Discovery(format!(
            "{url} answered {}",
            response.status()
        )));
    }
    let metadata: ProviderMetadata = serde_json::from_slice(response.body())
        .map_err(|err| OidcError::Discovery(format!("{url} is not a discovery document: {err}")))?;
    check(&metadata, issuer)?;
    Ok(metadata)
}

fn check(metadata: &ProviderMetadata, issuer: &str) -> Result<(), OidcError> {
    // Exact string comparison: no normalisation, no trailing-slash forgiveness
    // (OIDC Discovery §4.3). A document naming another issuer must not be used, or one
    // provider could speak for another.
    if metadata.issuer != issuer {
        return Err(OidcError::Discovery(format!(
            "the document names issuer {:?}, expected {issuer:?}",
            metadata.issuer
        )));
    }
    for (name, endpoint) in [
        ("authorization_endpoint", &metadata.authorization_endpoint),
        ("token_endpoint", &metadata.token_endpoint),
        ("jwks_uri", &metadata.jwks_uri),
    ] {
        if !is_secure_endpoint(endpoint) {
            return Err(OidcError::Discovery(format!(
                "{name} {endpoint} is not https"
            )));
        }
    }
    // PKCE with S256 is mandatory here (RFC 9700 §2.1.1). A provider that says which methods
    // it supports must list S256; one that says nothing is tried, and if it ignores the
    // challenge the login still works but without PKCE's protection, so refuse that case up
    // front when the provider has told us.
    if let Some(methods) = &metadata.code_challenge_methods_supported
        && !methods.iter().any(|method| method == "S256")
    {
        return Err(OidcError::Discovery(
            "the provider does not support PKCE with S256".to_owned(),
        ));
    }
    if metadata.accepted_algorithms().is_empty() {
        return Err(OidcError::Discovery(format!(
            "the provider signs ID tokens with {:?}; accepted: {SUPPORTED_ALGORITHMS:?}",
            metadata.id_token_signing_alg_values_supported
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata() -> ProviderMetadata {
        ProviderMetadata {
            issuer: "https://vendor.example".to_owned(),
            authorization_endpoint: Url::parse("https://vendor.example/authorize")
                .expect("a valid URL"),
            token_endpoint: Url::parse("https://vendor.example/token").expect("a valid URL"),
            jwks_uri: Url::parse("https://vendor.example/jwks").expect("a valid URL"),
            userinfo_endpoint: None,
            id_token_signing_alg_values_supported: vec!["EdDSA".to_owned()],
            code_challenge_methods_supported: Some(vec!["S256".to_owned()]),
            authorization_response_iss_parameter_supported: true,
            scopes_supported: None,
            token_endpoint_auth_methods_supported: None,
        }
    }

    #[test]
    fn the_discovery_url_drops_a_trailing_slash_of_the_issuer() {
        let with = discovery_url("https://vendor.example/tenant/").expect("a URL");
        let without = discovery_url("https://vendor.example/tenant").expect("a URL");
        assert_eq!(
            with.as_str(),
            "https://vendor.example/tenant/.well-known/openid-configuration"
        );
        assert_eq!(with, without);
    }

    #[test]
    fn a_document_naming_another_issuer_is_refused() {
        let result = check(&metadata(), "https://vendor.example/");
        assert!(
            matches!(result, Err(OidcError::Discovery(message)) if message.contains("names issuer"))
        );
    }

    #[test]
    fn a_provider_without_s256_is_refused() {
        let mut metadata = metadata();
        metadata.code_challenge_methods_supported = Some(vec!["plain".to_owned()]);
        assert!(check(&metadata, "https://vendor.example").is_err());
    }

    #[test]
    fn a_provider_signing_only_with_hmac_is_refused() {
        let mut metadata = metadata();
        metadata.id_token_signing_alg_values_supported =
            vec!["HS256".to_owned(), "none".to_owned()];
        assert!(check(&metadata, "https://vendor.example").is_err());
    }

    #[test]
    fn accepted_algorithms_are_the_advertised_ones_this_crate_supports() {
        let mut metadata = metadata();
        metadata.id_token_signing_alg_values_supported = vec![
            "RS256".to_owned(),
            "HS256".to_owned(),
            "PS256".to_owned(),
            "none".to_owned(),
        ];
        assert_eq!(metadata.accepted_algorithms(), vec!["RS256".to_owned()]);
    }

    #[test]
    fn a_plain_http_endpoint_off_loopback_is_refused() {
        let mut metadata = metadata();
        metadata.token_endpoint = Url::parse("http://vendor.example/token").expect("a valid URL");
        assert!(check(&metadata, "https://vendor.example").is_err());
    }
}
