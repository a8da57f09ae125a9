//! The authorization endpoint: the vendor's own login page, and the redirect back to the client
//! with a code (RFC 6749 §4.1.1–4.1.2, OIDC Core §3.1.2).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tracing::instrument;
use url::Url;

use crate::claims::Scopes;
use crate::config::ClientRegistration;
use crate::error::{AuthorizationRedirect, VendorError};
use crate::pages::LoginPage;
use crate::params::{Params, Repeated, is_form};
use crate::state::{CodeGrant, VendorState};

/// Longest `state` and `nonce` accepted. Clients send a few dozen characters; the cap keeps a
/// hostile request from parking megabytes in the code store.
const MAX_STATE_LEN: usize = 1024;
const MAX_NONCE_LEN: usize = 512;

/// An authorization request that passed every check: the client and redirect URI are
/// registered, and the request asks for what the vendor supports.
struct AuthorizationRequest<'a> {
    client: &'a ClientRegistration,
    redirect_uri: String,
    state: Option<String>,
    /// The `scope` parameter as sent, carried through the login form unchanged.
    scope: String,
    scopes: Scopes,
    nonce: String,
    code_challenge: String,
}

impl AuthorizationRequest<'_> {
    /// The request as hidden form fields, so the login form's POST carries it back.
    ///
    /// The vendor keeps no session between the GET and the POST; the POST is validated again
    /// from scratch, so editing these fields gains nothing.
    fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("response_type", "code".to_owned()),
            ("client_id", self.client.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("scope", self.scope.clone()),
        ];
        if let Some(state) = &self.state {
            fields.push(("state", state.clone()));
        }
        fields.extend([
            ("nonce", self.nonce.clone()),
            ("code_challenge", self.code_challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
        ]);
        fields
    }

    fn error(
        &self,
        vendor: &VendorState,
        error: &'static str,
        description: &'static str,
    ) -> VendorError {
        VendorError::Redirect(AuthorizationRedirect::error(
            &self.redirect_uri,
            error,
            description,
            self.state.as_deref(),
            vendor.issuer(),
        ))
    }
}

/// `GET /authorize`: checks the request and shows the login page.
#[instrument(skip_all, fields(client_id = tracing::field::Empty))]
pub(crate) async fn show_login(
    State(vendor): State<VendorState>,
    RawQuery(query): RawQuery,
) -> Result<Response, VendorError> {
    let params = Params::parse(query.unwrap_or_default().as_bytes());
    let request = validate(&vendor, &params)?;
    Ok(login_page(&vendor, &request, None, ""))
}

/// `POST /authorize`: the login form. Checks the request again, then the holder's decision
/// and password, and redirects back to the client.
///
/// NOTE: the form carries no CSRF token. The vendor keeps no session for a forged POST to ride
/// on; the worst a cross-site form can do is log a visitor in as the *attacker* (login CSRF),
/// and the code it produces is bound to the attacker's PKCE challenge and `state`, which the
/// client refuses because they do not match the visitor's own session.
#[instrument(skip_all, fields(client_id = tracing::field::Empty))]
pub(crate) async fn submit_login(
    State(vendor): State<VendorState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, VendorError> {
    if !is_form(&headers) {
        return Err(VendorError::page(
            &vendor,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "This is not a login form",
            "The login form must be sent as application/x-www-form-urlencoded.",
        ));
    }
    let params = Params::parse(&body);
    let request = validate(&vendor, &params)?;
    let field = |name| params.get(name).ok().flatten().unwrap_or_default();

    match field("decision") {
        "deny" => {
            tracing::info!("the ticket holder denied the request");
            Err(request.error(
                &vendor,
                "access_denied",
                "The ticket holder denied the request.",
            ))
        }
        "approve" => {
            let username = field("username");
            let Some(user) = vendor.authenticate_user(username, field("password")) else {
                tracing::info!("login failed: unknown username or wrong password");
                return Ok(login_page(
                    &vendor,
                    &request,
                    Some("That username and password do not match a ticket. Try again."),
                    username,
                ));
            };
            let code = vendor.issue_code(CodeGrant {
                client_id: request.client.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                nonce: request.nonce.clone(),
                subject: user.subject.clone(),
                scopes: request.scopes,
                auth_time: vendor.now(),
            });
            tracing::info!(sub = %user.subject, "authorization code issued");
            let mut params = vec![("code", code)];
            if let Some(state) = &request.state {
                params.push(("state", state.clone()));
            }
            // RFC 9207: name the issuer, so a client talking to several providers can tell
            // which one answered and defeat mix-up attacks.
            params.push(("iss", vendor.issuer().to_owned()));
            Ok(AuthorizationRedirect {
                redirect_uri: request.redirect_uri.clone(),
                params,
            }
            .into_response())
        }
        _ => Ok(login_page(
            &vendor,
            &request,
            Some("Choose whether to share your ticket: log in and share, or deny."),
            field("username"),
        )),
    }
}

/// Checks an authorization request in the order RFC 6749 §4.1.2.1 requires: first the client
/// and redirect URI (failures are shown, never redirected), then everything else (failures are
/// redirected back with `error`, `state` and `iss`).
fn validate<'a>(
    vendor: &'a VendorState,
    params: &Params,
) -> Result<AuthorizationRequest<'a>, VendorError> {
    let bad_client = |message| {
        VendorError::page(
            vendor,
            StatusCode::BAD_REQUEST,
            "Unknown application",
            message,
        )
    };
    let client = match params.get("client_id") {
        Ok(Some(client_id)) => vendor.client(client_id).ok_or_else(|| {
            bad_client(
                "The application that sent you here is not registered with the ticket vendor. \
                 Nothing was shared.",
            )
        })?,
        Ok(None) => {
            return Err(bad_client(
                "The request does not say which application sent you (client_id is missing).",
            ));
        }
        Err(Repeated) => return Err(bad_client("The request names its application twice.")),
    };
    tracing::Span::current().record("client_id", client.client_id.as_str());

    let bad_redirect = |message| {
        VendorError::page(
            vendor,
            StatusCode::BAD_REQUEST,
            "Unknown return address",
            message,
        )
    };
    let redirect_uri = match params.get("redirect_uri") {
        // Exact string comparison, no normalisation (RFC 9700 §2.1): anything looser has let
        // attackers steer codes to pages they control.
        Ok(Some(uri)) if client.allows_redirect_uri(uri) => uri.to_owned(),
        Ok(Some(_)) => {
            return Err(bad_redirect(
                "The address this request wants to send you back to is not registered for the \
                 application. The ticket vendor will not send you there.",
            ));
        }
        // OIDC Core §3.1.2.1 makes redirect_uri required, even for a single registered URI.
        Ok(None) => {
            return Err(bad_redirect(
                "The request does not say where to send you back to (redirect_uri is missing).",
            ));
        }
        Err(Repeated) => {
            return Err(bad_redirect("The request names its return address twice."));
        }
    };

    // From here on the redirect URI is trusted, so errors go back to the client.
    let refuse = |state: Option<&str>, error, description| {
        VendorError::Redirect(AuthorizationRedirect::error(
            &redirect_uri,
            error,
            description,
            state,
            vendor.issuer(),
        ))
    };
    let invalid = |description| refuse(None, "invalid_request", description);
    let state = match params.get("state") {
        Ok(Some(value)) if value.len() > MAX_STATE_LEN => {
            return Err(invalid("state is too long."));
        }
        Ok(value) => value.map(str::to_owned),
        Err(Repeated) => return Err(invalid("A parameter was sent more than once.")),
    };
    let refuse = |error, description| refuse(state.as_deref(), error, description);

    let single = |name| {
        params
            .get(name)
            .map_err(|Repeated| refuse("invalid_request", "A parameter was sent more than once."))
    };
    let response_type = single("response_type")?;
    let response_mode = single("response_mode")?;
    let scope = single("scope")?;
    let code_challenge = single("code_challenge")?;
    let code_challenge_method = single("code_challenge_method")?;
    let nonce = single("nonce")?;
    let prompt = single("prompt")?;
    let request_object = single("request")?;
    let request_uri = single("request_uri")?;

    if request_object.is_some() {
        return Err(refuse(
            "request_not_supported",
            "Request objects are not supported; send the parameters directly.",
        ));
    }
    if request_uri.is_some() {
        return Err(refuse(
            "request_uri_not_supported",
            "request_uri is not supported; send the parameters directly.",
        ));
    }
    match response_type {
        Some("code") => {}
        Some(_) => {
            // Only the authorization code flow: the implicit and hybrid flows put tokens in the
            // URL, where they leak (RFC 9700 §2.1.2).
            return Err(refuse(
                "unsupported_response_type",
                "Only response_type=code is supported.",
            ));
        }
        None => return Err(refuse("invalid_request", "response_type is missing.")),
    }
    if response_mode.is_some_and(|mode| mode != "query") {
        return Err(refuse(
            "invalid_request",
            "Only response_mode=query is supported.",
        ));
    }

    let scope = scope.unwrap_or_default();
    let scopes = Scopes::parse(scope);
    if !scopes.openid {
        return Err(refuse(
            "invalid_scope",
            "scope must include openid: the ticket vendor is an OpenID Connect provider.",
        ));
    }

    // PKCE is required for every client (RFC 9700 §2.1.1), and only with S256: `plain` sends
    // the secret itself through the browser, which is what PKCE exists to avoid (RFC 7636 §7.2).
    let Some(code_challenge) = code_challenge else {
        return Err(refuse(
            "invalid_request",
            "code_challenge is required (PKCE with S256).",
        ));
    };
    // RFC 7636 §4.3: a missing method means `plain`, so it is refused the same way.
    if code_challenge_method != Some("S256") {
        return Err(refuse(
            "invalid_request",
            "code_challenge_method must be S256; plain is not accepted.",
        ));
    }
    if !is_s256_challenge(code_challenge) {
        return Err(refuse(
            "invalid_request",
            "code_challenge must be a base64url SHA-256 digest (43 characters).",
        ));
    }

    // OIDC Core makes `nonce` optional in the code flow; the vendor requires it so every ID
    // token is bound to one login attempt in one browser, and a client that forgets to check
    // it fails loudly here instead of silently accepting a replayed token.
    let Some(nonce) = nonce else {
        return Err(refuse(
            "invalid_request",
            "nonce is required by this provider.",
        ));
    };
    if nonce.len() > MAX_NONCE_LEN {
        return Err(refuse("invalid_request", "nonce is too long."));
    }

    // The vendor keeps no login session, so it can never answer without showing its login
    // page (OIDC Core §3.1.2.6).
    if prompt.is_some_and(|prompt| prompt.split(' ').any(|value| value == "none")) {
        return Err(refuse(
            "login_required",
            "The ticket vendor always asks the ticket holder to log in.",
        ));
    }

    Ok(AuthorizationRequest {
        client,
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        scope: scope.to_owned(),
        scopes,
        nonce: nonce.to_owned(),
        code_challenge: code_challenge.to_owned(),
    })
}

/// An S256 challenge is the unpadded base64url encoding of 32 bytes: 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

fn login_page(
    vendor: &VendorState,
    request: &AuthorizationRequest<'_>,
    error: Option<&'static str>,
    username: &str,
) -> Response {
    let return_to = Url::parse(&request.redirect_uri)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_else(|_| request.redirect_uri.clone());
    let mut releases =
        vec!["An identifier for you at the ticket vendor (not your username, never your password)"];
    if request.scopes.profile {
        releases.push("Your name");
    }
    if request.scopes.ticket {
        releases.push("Which ticket you hold: green or gold");
    }
    let page = LoginPage {
        stylesheet: vendor.local_path(crate::pages::STYLESHEET_PATH),
        action: vendor.local_path("/authorize"),
        client_id: request.client.client_id.clone(),
        return_to,
        releases,
        hidden: request.hidden_fields(),
        error,
        username: username.to_owned(),
    };
    // The page carries the request's nonce and challenge and may show a typed username:
    // nothing for a shared cache to keep.
    ([(header::CACHE_CONTROL, "no-store")], page).into_response()
}
