//! Provider metadata (OpenID Connect Discovery 1.0 §3, RFC 8414) and the public keys (RFC 7517).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::claims::Scopes;
use crate::key::PublicJwk;
use crate::state::VendorState;

/// The discovery document. Everything a client needs is derived from the issuer URL, which is
/// why a client configured with only an issuer, a client id and a secret works against this
/// vendor and against any real provider alike.
#[derive(Serialize)]
struct ProviderMetadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    jwks_uri: String,
    scopes_supported: [&'static str; 3],
    response_types_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 1],
    grant_types_supported: [&'static str; 1],
    subject_types_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    code_challenge_methods_supported: [&'static str; 1],
    claims_supported: [&'static str; 10],
    authorization_response_iss_parameter_supported: bool,
    // Discovery defaults `request_uri_parameter_supported` to true; say it is not.
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    claims_parameter_supported: bool,
}

/// `GET /.well-known/openid-configuration`.
pub(crate) async fn openid_configuration(
    State(vendor): State<VendorState>,
) -> Json<impl Serialize> {
    Json(ProviderMetadata {
        issuer: vendor.issuer().to_owned(),
        authorization_endpoint: vendor.endpoint("/authorize"),
        token_endpoint: vendor.endpoint("/token"),
        userinfo_endpoint: vendor.endpoint("/userinfo"),
        jwks_uri: vendor.endpoint("/jwks"),
        scopes_supported: Scopes::SUPPORTED,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["EdDSA"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported: ["S256"],
        claims_supported: [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "azp",
            "name",
            "ticket",
        ],
        authorization_response_iss_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        claims_parameter_supported: false,
    })
}

#[derive(Serialize)]
struct JwkSet {
    keys: Vec<PublicJwk>,
}

/// `GET /jwks`: the public half of the signing key, and nothing else.
pub(crate) async fn jwks(State(vendor): State<VendorState>) -> Json<impl Serialize> {
    Json(JwkSet {
        keys: vec![vendor.config().signing_key.public_jwk()],
    })
}
