//! The userinfo endpoint: what an access token says about its holder (OIDC Core §5.3).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use tracing::instrument;

use crate::claims::UserInfo;
use crate::error::VendorError;
use crate::state::VendorState;

/// `GET` or `POST /userinfo` with `Authorization: Bearer <access token>` (RFC 6750 §2.1).
#[instrument(skip_all)]
pub(crate) async fn userinfo(
    State(vendor): State<VendorState>,
    headers: HeaderMap,
) -> Result<Response, VendorError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    // RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code.
    let Some(token) = token else {
        return Err(VendorError::Bearer {
            error: None,
            description: "",
        });
    };
    let invalid_token = VendorError::Bearer {
        error: Some("invalid_token"),
        description: "The access token is unknown, expired or revoked.",
    };
    let Some(grant) = vendor.access_token(token) else {
        return Err(invalid_token);
    };
    let Some(user) = vendor.user_by_subject(&grant.subject) else {
        return Err(invalid_token);
    };
    let info = UserInfo {
        sub: user.subject.clone(),
        name: grant.scopes.profile.then(|| user.name.clone()),
        ticket: grant.scopes.ticket.then_some(user.ticket),
    };
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(info)).into_response())
}
