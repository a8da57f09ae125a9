//! The token endpoint: a client trades an authorization code (and its PKCE verifier) for an ID
//! token and an access token (RFC 6749 §4.1.3–4.1.4, RFC 7636 §4.5–4.6, OIDC Core §3.1.3).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tracing::instrument;

use crate::claims::{IdTokenClaims, TokenResponse};
use crate::config::ClientRegistration;
use crate::error::VendorError;
use crate::params::{Params, Repeated, form_decode, is_form};
use crate::state::{CodeGrant, CodeLookup, VendorState};

/// `POST /token`.
#[instrument(skip_all, fields(client_id = tracing::field::Empty))]
pub(crate) async fn exchange_code(
    State(vendor): State<VendorState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, VendorError> {
    if !is_form(&headers) {
        return Err(VendorError::token(
            "invalid_request",
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let params = Params::parse(&body);
    let param = |name| {
        params.get(name).map_err(|Repeated| {
            VendorError::token("invalid_request", "A parameter was sent more than once.")
        })
    };

    // Authenticate the client before looking at the code, so a caller without the secret can
    // neither learn anything about codes nor burn them.
    let client = authenticate_client(
        &vendor,
        &headers,
        param("client_id")?,
        param("client_secret")?,
    )?;
    tracing::Span::current().record("client_id", client.client_id.as_str());

    match param("grant_type")? {
        Some("authorization_code") => {}
        Some(_) => {
            return Err(VendorError::token(
                "unsupported_grant_type",
                "Only grant_type=authorization_code is supported.",
            ));
        }
        None => {
            return Err(VendorError::token(
                "invalid_request",
                "grant_type is missing.",
            ));
        }
    }
    let (Some(code), Some(redirect_uri), Some(verifier)) = (
        param("code")?,
        param("redirect_uri")?,
        param("code_verifier")?,
    ) else {
        return Err(VendorError::token(
            "invalid_request",
            "code, redirect_uri and code_verifier are all required.",
        ));
    };

    let grant = match vendor.spend_code(code) {
        CodeLookup::Fresh { grant, expired } => {
            // Expired codes are normally pruned before they are found; this check keeps the
            // rule visible and holds even if pruning changes.
            if expired {
                return Err(invalid_grant());
            }
            grant
        }
        CodeLookup::Unknown => return Err(invalid_grant()),
        CodeLookup::Replayed {
            client_id,
            revoked_access_tokens,
        } => {
            tracing::warn!(
                code_client_id = client_id,
                revoked_access_tokens,
                "an authorization code was presented twice; its access tokens are revoked"
            );
            return Err(invalid_grant());
        }
    };

    // RFC 6749 §4.1.3: the code must have been issued to this client, for this redirect URI.
    if grant.client_id != client.client_id {
        tracing::warn!(
            code_client_id = grant.client_id,
            "a code issued to another client was presented"
        );
        return Err(invalid_grant());
    }
    if grant.redirect_uri != redirect_uri {
        return Err(invalid_grant());
    }
    // RFC 7636 §4.6: the verifier must hash to the challenge sent with the authorization
    // request, proving this caller is the one that started the login.
    if !verifier_matches(verifier, &grant.code_challenge) {
        return Err(invalid_grant());
    }

    let id_token = sign_id_token(&vendor, &grant)?;
    let Some(access_token) = vendor.issue_access_token(code, &grant) else {
        tracing::warn!("the code was replayed while tokens were being issued; nothing issued");
        return Err(invalid_grant());
    };
    tracing::info!(sub = grant.subject, "tokens issued");

    let response = TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: vendor.config().token_ttl.as_secs(),
        id_token,
        scope: grant.scopes.to_string(),
    };
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(response),
    )
        .into_response())
}

/// One error for every problem with the code itself. Saying which check failed (unknown,
/// expired, replayed, wrong client, wrong verifier) would help an attacker more than a client.
fn invalid_grant() -> VendorError {
    VendorError::token(
        "invalid_grant",
        "The authorization code is invalid, expired, already used, or does not match this request.",
    )
}

/// Authenticates the client with `client_secret_basic` or `client_secret_post` (RFC 6749 §2.3.1).
fn authenticate_client<'a>(
    vendor: &'a VendorState,
    headers: &HeaderMap,
    body_client_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<&'a ClientRegistration, VendorError> {
    let invalid_client = || VendorError::token("invalid_client", "Client authentication failed.");
    let basic = match headers.get(header::AUTHORIZATION) {
        Some(value) => Some(basic_credentials(value.to_str().ok()).ok_or_else(invalid_client)?),
        None => None,
    };

    let (client_id, secret) = match (basic, body_secret) {
        (Some(_), Some(_)) => {
            // RFC 6749 §2.3: a client must not use more than one authentication method.
            return Err(VendorError::token(
                "invalid_request",
                "Use one client authentication method, not two.",
            ));
        }
        (Some((client_id, secret)), None) => {
            if body_client_id.is_some_and(|body_id| body_id != client_id) {
                return Err(VendorError::token(
                    "invalid_request",
                    "client_id in the body differs from the Authorization header.",
                ));
            }
            (client_id, secret)
        }
        (None, Some(secret)) => match body_client_id {
            Some(client_id) => (client_id.to_owned(), secret.to_owned()),
            None => return Err(invalid_client()),
        },
        (None, None) => return Err(invalid_client()),
    };
    vendor
        .authenticate_client(&client_id, &secret)
        .ok_or_else(invalid_client)
}

/// `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))` → (id, secret).
fn basic_credentials(header_value: Option<&str>) -> Option<(String, String)> {
    let (scheme, encoded) = header_value?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (client_id, secret) = decoded.split_once(':')?;
    Some((form_decode(client_id)?, form_decode(secret)?))
}

/// RFC 7636 §4.1 and §4.6: a verifier is 43 to 128 unreserved characters, and
/// `BASE64URL(SHA256(verifier))` must equal the challenge.
fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-._~".contains(&byte));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

fn sign_id_token(vendor: &VendorState, grant: &CodeGrant) -> Result<String, VendorError> {
    let now = vendor.now();
    let user = vendor
        .user_by_subject(&grant.subject)
        .ok_or_else(|| VendorError::Internal {
            context: "looking up the ticket holder a code was issued for",
            cause: "the subject is no longer configured".to_owned(),
        })?;
    let claims = IdTokenClaims {
        iss: vendor.issuer().to_owned(),
        sub: grant.subject.clone(),
        aud: grant.client_id.clone(),
        exp: now + vendor.config().token_ttl.as_secs(),
        iat: now,
        auth_time: grant.auth_time,
        nonce: grant.nonce.clone(),
        azp: grant.client_id.clone(),
        name: grant.scopes.profile.then(|| user.name.clone()),
        ticket: grant.scopes.ticket.then_some(user.ticket),
    };
    vendor
        .config()
        .signing_key
        .sign(&claims)
        .map_err(|error| VendorError::Internal {
            context: "signing an ID token",
            cause: error.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        // RFC 7636 Appendix B.
        assert!(verifier_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn a_short_verifier_is_refused_even_if_it_hashes_to_the_challenge() {
        let short = "abc";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(short.as_bytes()));
        assert!(!verifier_matches(short, &challenge));
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let encoded = STANDARD.encode("festival:s%3Acret+x");
        assert_eq!(
            basic_credentials(Some(&format!("Basic {encoded}"))),
            Some(("festival".to_owned(), "s:cret x".to_owned()))
        );
        assert_eq!(basic_credentials(Some("Bearer abc")), None);
        assert_eq!(basic_credentials(Some("Basic !!!")), None);
    }
}
