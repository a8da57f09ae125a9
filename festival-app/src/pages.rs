//! The web pages: line-up, ticket shop, gate, wristband, stages, food tents, backstage.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use wristband_passwords::{Password, PoolError, VerifyError};
use wristband_tokens::Wristband;

use crate::csrf::{self, CsrfForm};
use crate::error::AppError;
use crate::inspector;
use crate::lineup;
use crate::policy;
use crate::session::{self, LoggedIn, Visit};
use crate::state::AppState;
use crate::store::PurchaseError;
use crate::templates::{
    BackstagePage, FoodPage, GatePage, LineupPage, StagePage, TicketsPage, WristbandPage,
};

/// The page routes, without middleware (see [`crate::App::router`]).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(lineup_page))
        .route("/tickets", get(tickets_page).post(buy_ticket))
        .route("/gate", get(gate_page).post(pass_gate))
        .route("/wristband", get(wristband_page))
        .route("/stages/{stage}", get(stage_page))
        .route("/food", get(food_page))
        .route("/backstage", get(backstage_page))
        .route("/logout", post(logout))
        .route("/static/style.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
}

async fn lineup_page(State(state): State<AppState>, visit: Visit) -> Result<LineupPage, AppError> {
    Ok(LineupPage {
        nav: visit.nav(&state).await?,
        stages: lineup::stages(),
    })
}

async fn tickets_page(
    State(state): State<AppState>,
    visit: Visit,
) -> Result<TicketsPage, AppError> {
    Ok(TicketsPage {
        nav: visit.nav(&state).await?,
        csrf: csrf::token(&visit.session, state.entropy.as_ref()).await?,
        gold_remaining: state.store.gold_quota().await?.remaining(),
        username: String::new(),
        gold_chosen: false,
        error: None,
        min_password: policy::MIN_PASSWORD_CHARS,
    })
}

/// The ticket shop's form.
#[derive(Deserialize)]
struct BuyForm {
    username: String,
    password: String,
    wristband: String,
}

async fn buy_ticket(
    State(state): State<AppState>,
    visit: Visit,
    CsrfForm(form): CsrfForm<BuyForm>,
) -> Result<Response, AppError> {
    let wristband: Wristband = form
        .wristband
        .parse()
        .map_err(|_| AppError::BadRequest("unknown wristband colour".to_owned()))?;
    let username = form.username.trim().to_owned();
    let password = Password::new(form.password);

    let typed = username_for_redisplay(&form.username);
    let refuse = |status: StatusCode, message: String| Refusal {
        status,
        message,
        typed: typed.clone(),
        wristband,
    };

    if let Err(problem) = policy::check_username(&username) {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, problem.to_string())
            .render(&state, &visit)
            .await;
    }
    if let Err(problem) = policy::check_password(&password, &username) {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, problem.to_string())
            .render(&state, &visit)
            .await;
    }
    // Quick refusals before spending a password hash; the purchase transaction below is what
    // actually guarantees both.
    if wristband == Wristband::Gold && state.store.gold_quota().await?.remaining() == 0 {
        return refuse(StatusCode::CONFLICT, sold_out_message())
            .render(&state, &visit)
            .await;
    }
    if state.store.find_user(&username).await?.is_some() {
        return refuse(StatusCode::CONFLICT, taken_message(&username))
            .render(&state, &visit)
            .await;
    }

    let hash = state
        .passwords
        .hash(password)
        .await
        .map_err(|err| match err {
            PoolError::Busy => AppError::Busy,
            other => AppError::internal(other),
        })?;
    let now = state.clock.now();
    match state
        .store
        .buy_ticket(&username, &hash, wristband, now)
        .await
    {
        Ok(user) => {
            tracing::info!(user = %user.username, %wristband, "ticket sold");
            let to = format!("{}?bought={wristband}", session::GATE_PATH);
            Ok(Redirect::to(&to).into_response())
        }
        Err(PurchaseError::SoldOut) => {
            refuse(StatusCode::CONFLICT, sold_out_message())
                .render(&state, &visit)
                .await
        }
        Err(PurchaseError::UsernameTaken) => {
            refuse(StatusCode::CONFLICT, taken_message(&username))
                .render(&state, &visit)
                .await
        }
        Err(PurchaseError::Store(err)) => Err(err.into()),
    }
}

/// A purchase refused for a reason the visitor can fix: the shop page again, with the message.
struct Refusal {
    status: StatusCode,
    message: String,
    typed: String,
    wristband: Wristband,
}

impl Refusal {
    async fn render(self, state: &AppState, visit: &Visit) -> Result<Response, AppError> {
        let page = TicketsPage {
            nav: visit.nav(state).await?,
            csrf: csrf::token(&visit.session, state.entropy.as_ref()).await?,
            gold_remaining: state.store.gold_quota().await?.remaining(),
            username: self.typed,
            gold_chosen: self.wristband == Wristband::Gold,
            error: Some(self.message),
            min_password: policy::MIN_PASSWORD_CHARS,
        };
        Ok((self.status, page).into_response())
    }
}

fn sold_out_message() -> String {
    "Gold tickets are sold out. Green tickets are still available.".to_owned()
}

fn taken_message(username: &str) -> String {
    format!("The username {username:?} is taken. Please choose another.")
}

/// The username as typed, cut short if absurdly long, for showing back in the form.
fn username_for_redisplay(typed: &str) -> String {
    typed.chars().take(policy::MAX_USERNAME_CHARS * 2).collect()
}

/// The gate's query string.
#[derive(Deserialize, Default)]
struct GateQuery {
    next: Option<String>,
    bought: Option<String>,
}

async fn gate_page(
    State(state): State<AppState>,
    visit: Visit,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let query: GateQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or_default())
        .map_err(|err| AppError::BadRequest(format!("gate query: {err}")))?;
    let next = query
        .next
        .as_deref()
        .and_then(session::safe_next)
        .unwrap_or(session::DEFAULT_AFTER_LOGIN)
        .to_owned();
    if visit.login.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let notice = match query.bought.as_deref() {
        Some("gold") => Some("Your gold ticket is ready. Show it at the gate: log in below."),
        Some("green") => Some("Your green ticket is ready. Show it at the gate: log in below."),
        _ => None,
    };
    let page = GatePage {
        nav: visit.nav(&state).await?,
        csrf: csrf::token(&visit.session, state.entropy.as_ref()).await?,
        next,
        username: String::new(),
        error: None,
        notice: notice.map(str::to_owned),
        vendor_login: vendor_login_enabled(&state),
        demo: state.settings.demo,
    };
    Ok(page.into_response())
}

/// Whether the gate offers "log in with the ticket vendor": when a provider is configured
/// (see [`crate::vendor_login`]).
fn vendor_login_enabled(state: &AppState) -> bool {
    state.vendor.is_some()
}

/// The gate's login form.
#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn pass_gate(
    State(state): State<AppState>,
    visit: Visit,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, AppError> {
    let next = session::safe_next(&form.next)
        .unwrap_or(session::DEFAULT_AFTER_LOGIN)
        .to_owned();
    let refuse = async |status: StatusCode, error: String| -> Result<Response, AppError> {
        let page = GatePage {
            nav: visit.nav(&state).await?,
            csrf: csrf::token(&visit.session, state.entropy.as_ref()).await?,
            next: next.clone(),
            username: username_for_redisplay(&form.username),
            error: Some(error),
            notice: None,
            vendor_login: vendor_login_enabled(&state),
            demo: state.settings.demo,
        };
        Ok((status, page).into_response())
    };
    // Trimmed as at the ticket shop, so a stray space typed at either form changes nothing.
    let username = form.username.trim();
    // The attempt holds its place in the username's budget while the password is checked, so
    // guesses sent all at once are counted as surely as guesses sent one by one.
    let attempt = match state
        .throttle
        .as_ref()
        .map(|throttle| throttle.begin(username))
        .transpose()
    {
        Ok(attempt) => attempt,
        Err(throttled) => {
            tracing::warn!("login refused: too many failed logins for the username");
            let minutes = throttled.retry_after_seconds.div_ceil(60);
            let mut response = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many wrong passwords for this username. To keep guessers out, the gate \
                 checks it again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                ),
            )
            .await?;
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(throttled.retry_after_seconds),
            );
            return Ok(response);
        }
    };
    let user = state.store.find_user(username).await?;
    let stored = user.as_ref().and_then(|user| user.password_hash.clone());
    let password = Password::new(form.password);
    // An unknown username, an account without a password and a wrong password all cost one
    // full hash and give the same answer, so the gate does not reveal who has a ticket.
    let checked = state
        .passwords
        .check(password.clone(), stored.clone())
        .await;
    let user = match (checked, user) {
        (Ok(()), Some(user)) => user,
        (Ok(()), None) | (Err(PoolError::Failed(VerifyError::InvalidCredentials)), _) => {
            tracing::info!("login refused: invalid credentials");
            if let Some(attempt) = attempt {
                attempt.failed();
            }
            return refuse(
                StatusCode::BAD_REQUEST,
                "Wrong username or password.".to_owned(),
            )
            .await;
        }
        (Err(PoolError::Busy), _) => return Err(AppError::Busy),
        (Err(err), _) => return Err(AppError::internal(err)),
    };
    if let Some(attempt) = attempt {
        attempt.succeeded();
    }

    if let Some(stored) = &stored
        && state.passwords.hasher().needs_rehash(stored)
    {
        // The password is known to be right at this moment only: the one chance to upgrade a
        // hash made with older, weaker parameters.
        match state.passwords.hash(password).await {
            Ok(fresh) => {
                state
                    .store
                    .replace_password_hash(&user.username, &fresh)
                    .await?;
                tracing::info!(user = %user.username, "password hash upgraded");
            }
            Err(err) => tracing::warn!(error = %err, "password hash upgrade skipped"),
        }
    }

    session::log_in(&state, &visit.session, &user).await?;
    Ok(Redirect::to(&next).into_response())
}

async fn wristband_page(
    State(state): State<AppState>,
    visitor: LoggedIn,
) -> Result<Response, AppError> {
    let inspection = inspector::inspect(
        &visitor.login.access_token,
        &state.verifier,
        state.clock.now(),
    );
    let scopes = wristband_scopes::entitlements(visitor.login.wristband)
        .iter()
        .map(|scope| scope.as_str().to_owned())
        .collect();
    let page = WristbandPage {
        nav: visitor.nav(&state).await?,
        username: visitor.login.username.clone(),
        wristband: visitor.login.wristband.as_str(),
        scopes,
        inspector: inspection,
    };
    Ok(page.into_response())
}

async fn stage_page(
    State(state): State<AppState>,
    visitor: LoggedIn,
    stage: Result<Path<String>, PathRejection>,
) -> Result<StagePage, AppError> {
    let Path(slug) = stage.map_err(|err| AppError::BadRequest(err.body_text()))?;
    let stage = lineup::stage(&slug).ok_or(AppError::NotFound)?;
    Ok(StagePage {
        nav: visitor.nav(&state).await?,
        stage,
    })
}

async fn food_page(State(state): State<AppState>, visitor: LoggedIn) -> Result<FoodPage, AppError> {
    Ok(FoodPage {
        nav: visitor.nav(&state).await?,
        tents: lineup::food_tents(),
    })
}

async fn backstage_page(
    State(state): State<AppState>,
    visitor: LoggedIn,
) -> Result<Response, AppError> {
    let nav = visitor.nav(&state).await?;
    if visitor.login.wristband != Wristband::Gold {
        tracing::info!(user = %visitor.login.username, "green wristband turned away from backstage");
        return Ok(AppError::GoldOnly.into_page(nav));
    }
    Ok(BackstagePage {
        nav,
        username: visitor.login.username,
    }
    .into_response())
}

/// The logout form carries nothing but its CSRF token.
#[derive(Deserialize)]
struct LogoutForm {}

async fn logout(
    visit: Visit,
    CsrfForm(LogoutForm {}): CsrfForm<LogoutForm>,
) -> Result<Redirect, AppError> {
    if let Some(login) = &visit.login {
        tracing::info!(user = %login.username, "logged out");
    }
    session::log_out(&visit.session).await?;
    Ok(Redirect::to("/"))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        include_str!("../static/style.css"),
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        include_str!("../static/favicon.svg"),
    )
}
