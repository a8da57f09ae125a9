//! "Log in with the ticket vendor": the festival as an OpenID Connect relying party.
//!
//! Two routes, built on `wristband-oidc`:
//!
//! - `POST /auth/vendor/start` (a form from the gate, with its CSRF token): draws a fresh
//!   `state`, nonce and PKCE verifier, keeps them in the session, and answers `303` to the
//!   vendor's login page. A `POST`, not a link: a link could be followed by any page to start a
//!   login in the visitor's name.
//! - `GET /auth/vendor/callback`: takes the pending login *out* of the session (single use),
//!   lets `wristband-oidc` check `state`, `iss`, the code exchange and the ID token, finds or
//!   creates the festival account linked to the vendor's (`iss`, `sub`), and logs the visitor
//!   in exactly as a password login does (new session id, wristband token, new CSRF token).
//!
//! Every failure ends on the gate page with a sentence for the visitor and the cause in the log;
//! nothing is written to the session before the ID token has been validated and the account
//! found, so a failed login never leaves anyone half logged in.
//!
//! The festival is configured with the vendor's issuer URL, its client id and its secret, and
//! discovers everything else: the same code works against any OpenID Connect provider.

use std::fmt;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use wristband_oidc::{
    CallbackParams, ClientConfig, ClientSecret, ExternalIdentity, HttpTransport, IdentityLinks,
    Linked, OidcError, PendingLogin, RelyingParty, ReqwestTransport, VerifiedIdentity,
    find_or_create, username_candidates,
};

use crate::config::Config;
use crate::csrf::{self, CsrfForm};
use crate::error::{AppError, StartupError};
use crate::session::{self, Visit};
use crate::state::AppState;
use crate::store::{PurchaseError, Store, StoreError, User};
use crate::templates::GatePage;
use crate::{App, Inject};

/// The issuer used in demo mode when none is configured: the workspace's own ticket vendor, as
/// `just run` starts it.
pub const DEMO_VENDOR_ISSUER: &str = "http://127.0.0.1:8081";

/// The client id used when none is configured (the ticket vendor's demo client).
pub const DEFAULT_VENDOR_CLIENT_ID: &str = "festival";

/// The ticket vendor's demo client secret, used in demo mode when none is configured. It is
/// published in the vendor's source: never use it outside a local demo.
const DEMO_VENDOR_CLIENT_SECRET: &str = "festival-demo-secret";

/// The callback path, registered at the provider as `<public URL>/auth/vendor/callback`.
pub const CALLBACK_PATH: &str = "/auth/vendor/callback";

/// The session key holding the login in progress.
const PENDING_KEY: &str = "vendor_login";

/// The vendor login as the app runs it: the relying party and how it was configured.
pub struct VendorLogin {
    rp: RelyingParty,
    config: ClientConfig,
}

impl fmt::Debug for VendorLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendorLogin")
            .field("issuer", &self.config.issuer())
            .field("client_id", &self.config.client_id())
            .finish_non_exhaustive()
    }
}

impl VendorLogin {
    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        self.config.issuer()
    }
}

/// The client configuration from the app configuration: `None` when vendor login is off (no
/// issuer configured outside demo mode).
///
/// # Errors
///
/// [`StartupError::VendorLogin`] when an issuer is configured but unusable, or has no client
/// secret outside demo mode.
pub(crate) fn client_config(config: &Config) -> Result<Option<ClientConfig>, StartupError> {
    let issuer = match (&config.vendor_issuer, config.demo) {
        (Some(issuer), _) if !issuer.is_empty() => issuer.clone(),
        (_, true) => DEMO_VENDOR_ISSUER.to_owned(),
        _ => return Ok(None),
    };
    let secret = match (&config.vendor_client_secret, config.demo) {
        (Some(secret), _) if !secret.is_empty() => secret.clone(),
        (_, true) => DEMO_VENDOR_CLIENT_SECRET.to_owned(),
        _ => {
            return Err(StartupError::VendorLogin(
                "VENDOR_ISSUER is set but VENDOR_CLIENT_SECRET (--vendor-client-secret) is not"
                    .to_owned(),
            ));
        }
    };
    let redirect_uri = format!("{}{CALLBACK_PATH}", config.public_url());
    ClientConfig::new(
        issuer,
        config.vendor_client_id.clone(),
        ClientSecret::new(secret),
        &redirect_uri,
    )
    .map(Some)
    .map_err(|err| StartupError::VendorLogin(err.to_string()))
}

/// Builds the vendor login over the network, or `None` when it is off.
pub(crate) fn build(
    config: &Config,
    inject: &Inject,
) -> Result<Option<Arc<VendorLogin>>, StartupError> {
    let Some(client) = client_config(config)? else {
        return Ok(None);
    };
    let transport = ReqwestTransport::new()
        .map_err(|err| StartupError::VendorLogin(format!("HTTP client: {err}")))?;
    tracing::info!(
        issuer = client.issuer(),
        "log in with the ticket vendor: on"
    );
    Ok(Some(Arc::new(VendorLogin {
        rp: RelyingParty::new(
            client.clone(),
            Arc::new(transport),
            inject.clock.clone(),
            inject.entropy.clone(),
        ),
        config: client,
    })))
}

impl App {
    /// Sends the vendor login's back-channel requests (discovery, keys, token exchange) through
    /// `transport` instead of the network: tests run the provider in process this way.
    ///
    /// Does nothing when vendor login is off.
    pub fn with_vendor_transport(mut self, transport: Arc<dyn HttpTransport>) -> Self {
        if let Some(vendor) = &self.state.vendor {
            let config = vendor.config.clone();
            self.state.vendor = Some(Arc::new(VendorLogin {
                rp: RelyingParty::new(
                    config.clone(),
                    transport,
                    self.state.clock.clone(),
                    self.state.entropy.clone(),
                ),
                config,
            }));
        }
        self
    }
}

/// The two routes (without the session layer, which [`crate::App::router`] adds); none at all
/// when vendor login is off, so both paths are plain 404s then.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    if state.vendor.is_none() {
        return Router::new();
    }
    Router::new()
        .route("/auth/vendor/start", post(start))
        .route(CALLBACK_PATH, get(callback))
}

/// What the session remembers between the start and the callback.
#[derive(Serialize, Deserialize)]
struct Pending {
    login: PendingLogin,
    /// Where to go after login (already checked to be a local path).
    next: String,
}

/// The gate's vendor button form: its CSRF token and the `next` path.
#[derive(Deserialize)]
struct StartForm {
    #[serde(default)]
    next: String,
}

async fn start(
    State(state): State<AppState>,
    visit: Visit,
    CsrfForm(form): CsrfForm<StartForm>,
) -> Result<Response, AppError> {
    let vendor = state.vendor.clone().ok_or(AppError::NotFound)?;
    let next = session::safe_next(&form.next)
        .unwrap_or(session::DEFAULT_AFTER_LOGIN)
        .to_owned();
    match vendor.rp.start_login().await {
        Ok(started) => {
            let pending = Pending {
                login: started.pending,
                next,
            };
            visit.session.insert(PENDING_KEY, &pending).await?;
            Ok(Redirect::to(started.authorization_url.as_str()).into_response())
        }
        Err(err) => refuse(&state, &visit, &err, &next).await,
    }
}

async fn callback(
    State(state): State<AppState>,
    visit: Visit,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let vendor = state.vendor.clone().ok_or(AppError::NotFound)?;
    // Single use: whatever happens next, this session's pending login is gone, so the same
    // callback (or a forged one) cannot be tried against it twice.
    let pending: Option<Pending> = visit.session.remove(PENDING_KEY).await?;
    if pending.is_some() {
        // Saved now, not at the end of the request: tower-sessions saves nothing after a 5xx,
        // and a provider-side failure answers 502, which would leave the login replayable.
        visit.session.save().await?;
    }
    let next = pending
        .as_ref()
        .map_or(session::DEFAULT_AFTER_LOGIN, |pending| {
            pending.next.as_str()
        })
        .to_owned();
    let params: CallbackParams =
        match serde_urlencoded::from_str(query.as_deref().unwrap_or_default()) {
            Ok(params) => params,
            Err(_) => {
                let err = OidcError::MalformedCallback("the query string is not readable");
                return refuse(&state, &visit, &err, &next).await;
            }
        };
    let identity = match vendor
        .rp
        .finish_login(pending.map(|pending| pending.login), &params)
        .await
    {
        Ok(identity) => identity,
        Err(err) => return refuse(&state, &visit, &err, &next).await,
    };

    let links = Links {
        store: &state.store,
        now: state.clock.now(),
    };
    let user = match find_or_create(&links, &identity).await {
        Ok(Linked::Existing(user)) => user,
        Ok(Linked::Created(user)) => {
            tracing::info!(
                user = %user.username,
                wristband = %user.wristband,
                issuer = %identity.issuer,
                "account created for a first vendor login"
            );
            user
        }
        Err(LinkError::NoTicket) => {
            tracing::warn!(
                issuer = %identity.issuer,
                subject = %identity.subject,
                "vendor login refused: the ID token vouches for no ticket"
            );
            return gate_with_error(
                &state,
                &visit,
                StatusCode::FORBIDDEN,
                "The ticket vendor did not say which ticket you hold, so the festival cannot \
                 give you a wristband. Buy a ticket here instead.",
                &next,
            )
            .await;
        }
        Err(err) => {
            // The vendor vouched for the visitor, but the festival could not record the
            // account: our failure, not theirs. Nobody is logged in; they may try again.
            tracing::error!(
                error = %err,
                issuer = %identity.issuer,
                "vendor login failed: the festival account could not be linked"
            );
            return gate_with_error(
                &state,
                &visit,
                StatusCode::INTERNAL_SERVER_ERROR,
                "The ticket vendor vouched for you, but the festival could not open your \
                 account just now. Nothing was saved; please try again in a moment.",
                &next,
            )
            .await;
        }
    };
    session::log_in(&state, &visit.session, &user).await?;
    tracing::info!(user = %user.username, issuer = %identity.issuer, "logged in through the ticket vendor");
    Ok(Redirect::to(&next).into_response())
}

/// The gate page with the visitor's explanation of `err`; the cause goes to the log.
async fn refuse(
    state: &AppState,
    visit: &Visit,
    err: &OidcError,
    next: &str,
) -> Result<Response, AppError> {
    let status = if err.is_visitor_caused() {
        tracing::info!(error = %err, "vendor login refused");
        StatusCode::BAD_REQUEST
    } else {
        tracing::warn!(error = %err, "vendor login failed on the provider's side");
        StatusCode::BAD_GATEWAY
    };
    gate_with_error(state, visit, status, err.visitor_message(), next).await
}

async fn gate_with_error(
    state: &AppState,
    visit: &Visit,
    status: StatusCode,
    message: &str,
    next: &str,
) -> Result<Response, AppError> {
    let page = GatePage {
        nav: visit.nav(state).await?,
        csrf: csrf::token(&visit.session, state.entropy.as_ref()).await?,
        next: next.to_owned(),
        username: String::new(),
        error: Some(message.to_owned()),
        notice: None,
        vendor_login: true,
        demo: state.settings.demo,
    };
    Ok((status, page).into_response())
}

/// Why no account could be found or made for a verified identity.
#[derive(Debug, thiserror::Error)]
enum LinkError {
    /// A first login, and the ID token names no ticket: there is no colour to give the account.
    #[error("the ID token vouches for no ticket")]
    NoTicket,
    /// Every proposed username was taken.
    #[error("no free username")]
    NoFreeUsername,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store answered in a way linking never expects.
    #[error("unexpected store answer: {0}")]
    Unexpected(String),
}

/// The festival's `external_identities` table as `wristband-oidc` sees it: keyed on
/// (`issuer`, `subject`) and nothing else.
struct Links<'a> {
    store: &'a Store,
    now: u64,
}

impl IdentityLinks for Links<'_> {
    type Account = User;
    type Error = LinkError;

    async fn find_linked(&self, identity: &ExternalIdentity) -> Result<Option<User>, LinkError> {
        Ok(self
            .store
            .find_external_user(&identity.issuer, &identity.subject)
            .await?)
    }

    async fn create_linked(&self, identity: &VerifiedIdentity) -> Result<User, LinkError> {
        // The colour the vendor vouches for. NOTE: it does not count against the festival's
        // own gold quota: the vendor sold that ticket from its own allocation.
        let wristband = identity.ticket.ok_or(LinkError::NoTicket)?;
        for username in username_candidates(identity) {
            if crate::policy::check_username(&username).is_err() {
                continue;
            }
            match self
                .store
                .create_external_user(
                    &identity.issuer,
                    &identity.subject,
                    &username,
                    wristband,
                    self.now,
                )
                .await
            {
                Ok(user) => return Ok(user),
                Err(PurchaseError::UsernameTaken) => {
                    // Either the name is someone else's (try the next one), or a concurrent
                    // first login of the same person linked the identity a moment ago (use it).
                    if let Some(user) = self
                        .store
                        .find_external_user(&identity.issuer, &identity.subject)
                        .await?
                    {
                        return Ok(user);
                    }
                }
                Err(PurchaseError::SoldOut) => {
                    return Err(LinkError::Unexpected("sold out while linking".to_owned()));
                }
                Err(PurchaseError::Store(err)) => return Err(err.into()),
            }
        }
        Err(LinkError::NoFreeUsername)
    }
}
