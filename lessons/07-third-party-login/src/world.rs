//! The three parties of a third-party login, in one process and without ports: the ticket
//! vendor (the real `ticket-vendor` router), a small festival built on `wristband-oidc`, and a
//! browser that carries cookies and follows nothing by itself, so every hop can be printed.
//!
//! Lesson 08 reuses this world.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt as _;
use ticket_vendor::{Secret, Ticket, VendorConfig, VendorState, VendorUser};
use tower::ServiceExt as _;
use url::Url;
use wristband_inject::{Entropy, FixedClock, SeededEntropy};
use wristband_oidc::{
    CallbackParams, ClientConfig, ClientSecret, HttpRequest, HttpTransport, PendingLogin,
    RelyingParty, ServiceTransport, TransportFuture, VerifiedIdentity,
};

/// Where the vendor lives: its issuer identifier, the one value the festival is configured with.
pub const VENDOR: &str = "http://127.0.0.1:8081";
/// Where the festival lives.
pub const FESTIVAL: &str = "http://127.0.0.1:8080";
/// The festival's callback, registered at the vendor and matched there exactly.
pub const CALLBACK: &str = "http://127.0.0.1:8080/auth/vendor/callback";
/// The festival's client id at the vendor.
pub const CLIENT_ID: &str = "festival";
/// The festival's client secret (the vendor's public demo secret).
pub const CLIENT_SECRET: &str = "festival-demo-secret";
/// 2027-07-02T17:00:00Z: the gates open.
pub const GATES_OPEN: u64 = 1_814_547_600;
/// The seed of the vendor's signing key in the lessons. A real key is generated and kept secret.
pub const VENDOR_KEY_SEED: [u8; 32] = [0x76; 32];
/// The festival's session cookie.
pub const SESSION_COOKIE: &str = "festival_session";

/// An HTTP message as the transcript shows it.
#[derive(Debug, Clone)]
pub struct Message {
    /// `POST /token` or `303 See Other`.
    pub start_line: String,
    /// The headers worth reading, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// One request and its response between two parties.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Who sent the request.
    pub from: &'static str,
    /// Who answered.
    pub to: &'static str,
    /// The request.
    pub request: Message,
    /// The response.
    pub response: Message,
}

impl Exchange {
    /// The response status code.
    pub fn status(&self) -> u16 {
        self.response
            .start_line
            .split(' ')
            .next()
            .and_then(|code| code.parse().ok())
            .unwrap_or(0)
    }

    /// The value of the response header `name`, if present.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        self.response
            .headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The response body as text.
    pub fn response_text(&self) -> String {
        String::from_utf8_lossy(&self.response.body).into_owned()
    }
}

/// What one click of the browser caused: its own exchange, the back-channel exchanges the
/// festival made meanwhile, and what the festival wrote to its log.
#[derive(Debug, Clone)]
pub struct Visit {
    /// The browser's request and the answer it got.
    pub exchange: Exchange,
    /// The festival's requests to the vendor while answering.
    pub back_channel: Vec<Exchange>,
    /// The festival's log lines while answering.
    pub festival_log: Vec<String>,
}

/// The world: one vendor, one festival, a shared clock.
#[derive(Clone)]
pub struct World {
    /// The clock everyone reads.
    pub clock: Arc<FixedClock>,
    /// The vendor's router.
    pub vendor: Router,
    /// The festival's router.
    pub festival: Router,
    /// The festival's relying party (lesson 08 uses it directly).
    pub rp: Arc<RelyingParty>,
    back_channel: Arc<Mutex<Vec<Exchange>>>,
    festival_state: FestivalState,
}

impl World {
    /// A fresh world at [`GATES_OPEN`], everything seeded.
    ///
    /// The vendor holds the demo ticket holders `carol` (green) and `dave` (gold), plus
    /// `mallory` / `mallory-own-ticket` (green), who plays the attacker.
    ///
    /// # Panics
    ///
    /// Panics if the fixed configuration is invalid, which would be a bug in the lesson.
    #[allow(clippy::expect_used)]
    pub fn new() -> Self {
        let clock = Arc::new(FixedClock::at(GATES_OPEN));
        let mut config = VendorConfig::demo(
            Url::parse(VENDOR).expect("a valid URL"),
            CALLBACK.to_owned(),
        );
        config.signing_key = ticket_vendor::VendorSigningKey::from_seed(VENDOR_KEY_SEED);
        config.users.push(VendorUser {
            username: "mallory".to_owned(),
            password: Secret::new("mallory-own-ticket"),
            name: "Mallory".to_owned(),
            ticket: Ticket::Green,
            subject: "tv-0bad0bad-0bad-4bad-8bad-0bad0bad0bad".to_owned(),
        });
        let vendor_state =
            VendorState::new(config, clock.clone(), Arc::new(SeededEntropy::new(81)))
                .expect("the lesson's vendor configuration is valid");
        let vendor = ticket_vendor::router(vendor_state);

        let back_channel = Arc::new(Mutex::new(Vec::new()));
        let transport = RecordingTransport {
            inner: ServiceTransport::<Router, Body>::new(vendor.clone()),
            log: back_channel.clone(),
        };
        let client = ClientConfig::new(
            VENDOR,
            CLIENT_ID,
            ClientSecret::new(CLIENT_SECRET),
            CALLBACK,
        )
        .expect("the lesson's client configuration is valid");
        let rp = Arc::new(RelyingParty::new(
            client,
            Arc::new(transport),
            clock.clone(),
            Arc::new(SeededEntropy::new(80)),
        ));
        let festival_state = FestivalState {
            rp: rp.clone(),
            sessions: Arc::new(Mutex::new(HashMap::new())),
            entropy: Arc::new(SeededEntropy::new(79)),
            log: Arc::new(Mutex::new(Vec::new())),
        };
        let festival = festival_router(festival_state.clone());
        Self {
            clock,
            vendor,
            festival,
            rp,
            back_channel,
            festival_state,
        }
    }

    /// The back-channel exchanges recorded since the last call, oldest first.
    pub fn take_back_channel(&self) -> Vec<Exchange> {
        std::mem::take(&mut *lock(&self.back_channel))
    }

    fn take_festival_log(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.festival_state.log))
    }

    /// Who the festival session `session_id` is logged in as, if anyone.
    pub fn logged_in_as(&self, session_id: &str) -> Option<VerifiedIdentity> {
        lock(&self.festival_state.sessions)
            .get(session_id)
            .and_then(|session| session.identity.clone())
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A browser: keeps the festival's session cookie, follows no redirect on its own.
#[derive(Debug, Clone)]
pub struct Browser {
    /// Whose browser (for the transcript).
    pub owner: &'static str,
    festival_session: Option<String>,
}

impl Browser {
    /// A browser with no cookies.
    pub fn new(owner: &'static str) -> Self {
        Self {
            owner,
            festival_session: None,
        }
    }

    /// The festival session id this browser holds, if any.
    pub fn festival_session(&self) -> Option<&str> {
        self.festival_session.as_deref()
    }

    /// `GET url`.
    pub async fn get(&mut self, world: &World, url: &str) -> Visit {
        self.send(world, Method::GET, url, None).await
    }

    /// `POST url` with a form body.
    pub async fn post_form(&mut self, world: &World, url: &str, form: &[(&str, &str)]) -> Visit {
        let body = serde_urlencoded::to_string(form).unwrap_or_default();
        self.send(world, Method::POST, url, Some(body)).await
    }

    /// A whole login at the vendor, up to (not including) the redirect back to the festival:
    /// start at the festival, open the vendor's page, submit `username` and `password`.
    /// Returns the vendor's answer, whose `Location` is the festival callback.
    ///
    /// # Panics
    ///
    /// Panics if the festival does not redirect to the vendor, a bug in the lesson.
    #[allow(clippy::expect_used)]
    pub async fn log_in_at_vendor(
        &mut self,
        world: &World,
        username: &str,
        password: &str,
    ) -> Visit {
        let started = self
            .post_form(world, &format!("{FESTIVAL}/auth/vendor/start"), &[])
            .await;
        let authorize = started
            .exchange
            .response_header("location")
            .expect("the festival redirects to the vendor")
            .to_owned();
        let _login_page = self.get(world, &authorize).await;
        self.submit_vendor_login(world, &authorize, username, password, "approve")
            .await
    }

    /// Posts the vendor's login form for the authorization request `authorize_url`: its
    /// parameters as hidden fields (as the vendor's page holds them), plus what the visitor
    /// typed and which button they pressed (`approve` or `deny`).
    pub async fn submit_vendor_login(
        &mut self,
        world: &World,
        authorize_url: &str,
        username: &str,
        password: &str,
        decision: &str,
    ) -> Visit {
        let mut form: Vec<(String, String)> = Url::parse(authorize_url)
            .map(|url| url.query_pairs().into_owned().collect())
            .unwrap_or_default();
        form.extend([
            ("username".to_owned(), username.to_owned()),
            ("password".to_owned(), password.to_owned()),
            ("decision".to_owned(), decision.to_owned()),
        ]);
        let form: Vec<(&str, &str)> = form
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        self.post_form(world, &format!("{VENDOR}/authorize"), &form)
            .await
    }

    /// Follows the `Location` of `visit`'s response with a `GET`, as a browser does after a 303.
    /// A relative location is resolved against the origin that sent it.
    pub async fn follow(&mut self, world: &World, visit: &Visit) -> Option<Visit> {
        let location = visit.exchange.response_header("location")?;
        let absolute = if location.starts_with('/') {
            let origin = if visit.exchange.to == "festival" {
                FESTIVAL
            } else {
                VENDOR
            };
            format!("{origin}{location}")
        } else {
            location.to_owned()
        };
        Some(self.get(world, &absolute).await)
    }

    async fn send(
        &mut self,
        world: &World,
        method: Method,
        url: &str,
        form: Option<String>,
    ) -> Visit {
        let parsed = Url::parse(url).ok();
        let origin = parsed
            .as_ref()
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default();
        let (to, router) = if origin == FESTIVAL {
            ("festival", world.festival.clone())
        } else {
            ("vendor", world.vendor.clone())
        };
        let target = parsed
            .as_ref()
            .map(|url| match url.query() {
                Some(query) => format!("{}?{query}", url.path()),
                None => url.path().to_owned(),
            })
            .unwrap_or_default();

        let mut headers = Vec::new();
        let mut request = Request::builder().method(method.clone()).uri(&target);
        if to == "festival"
            && let Some(session) = &self.festival_session
        {
            let cookie = format!("{SESSION_COOKIE}={session}");
            request = request.header(header::COOKIE, &cookie);
            headers.push(("Cookie".to_owned(), cookie));
        }
        if form.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            headers.push((
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ));
        }
        let body = form.unwrap_or_default();
        let request_message = Message {
            start_line: format!("{method} {target}"),
            headers,
            body: body.clone().into_bytes(),
        };
        let response = match request.body(Body::from(body)) {
            Ok(request) => router
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {}),
            Err(_) => StatusCode::BAD_REQUEST.into_response(),
        };
        let response_message = read_response(response).await;
        if to == "festival" {
            self.remember_cookie(&response_message);
        }
        Visit {
            exchange: Exchange {
                from: self.owner,
                to,
                request: request_message,
                response: response_message,
            },
            back_channel: world.take_back_channel(),
            festival_log: world.take_festival_log(),
        }
    }

    fn remember_cookie(&mut self, response: &Message) {
        for (name, value) in &response.headers {
            if name.eq_ignore_ascii_case("set-cookie")
                && let Some(rest) = value.strip_prefix(&format!("{SESSION_COOKIE}="))
            {
                let session = rest.split(';').next().unwrap_or_default();
                self.festival_session = (!session.is_empty()).then(|| session.to_owned());
            }
        }
    }
}

/// The headers a reader of the transcript needs; the rest (security headers, lengths) would
/// only bury them.
const SHOWN_RESPONSE_HEADERS: [&str; 3] = ["location", "set-cookie", "content-type"];

async fn read_response(response: Response) -> Message {
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes().to_vec())
        .unwrap_or_default();
    Message {
        start_line: status_line(parts.status),
        headers: shown_headers(&parts.headers, &SHOWN_RESPONSE_HEADERS),
        body,
    }
}

fn status_line(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default()
    )
}

fn shown_headers(headers: &HeaderMap, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .flat_map(|name| {
            headers.get_all(*name).iter().map(move |value| {
                (
                    canonical_header_name(name),
                    value.to_str().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect()
}

fn canonical_header_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The festival's back channel to the vendor: the in-process router, with every exchange
/// recorded for the transcript.
struct RecordingTransport {
    inner: ServiceTransport<Router, Body>,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl HttpTransport for RecordingTransport {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let target = request
                .uri()
                .path_and_query()
                .map(|target| target.as_str().to_owned())
                .unwrap_or_default();
            let request_message = Message {
                start_line: format!("{} {target}", request.method()),
                headers: shown_headers(
                    request.headers(),
                    &["authorization", "content-type", "accept"],
                ),
                body: request.body().clone(),
            };
            let response = self.inner.send(request).await?;
            let response_message = Message {
                start_line: status_line(response.status()),
                headers: shown_headers(response.headers(), &["content-type", "cache-control"]),
                body: response.body().clone(),
            };
            lock(&self.log).push(Exchange {
                from: "festival",
                to: "vendor",
                request: request_message,
                response: response_message,
            });
            Ok(response)
        })
    }
}

/// A festival session: the login in progress, or who is logged in.
#[derive(Debug, Clone, Default)]
struct Session {
    pending: Option<PendingLogin>,
    identity: Option<VerifiedIdentity>,
}

#[derive(Clone)]
struct FestivalState {
    rp: Arc<RelyingParty>,
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    entropy: Arc<SeededEntropy>,
    log: Arc<Mutex<Vec<String>>>,
}

impl FestivalState {
    fn new_session_id(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.entropy.bytes::<16>())
    }

    fn log(&self, line: String) {
        lock(&self.log).push(line);
    }
}

/// The festival's two login routes, the page after login, and nothing else: the real app
/// (`festival-app`) does the same with a database and CSRF-protected forms.
fn festival_router(state: FestivalState) -> Router {
    Router::new()
        .route("/auth/vendor/start", post(start))
        .route("/auth/vendor/callback", get(callback))
        .route("/wristband", get(wristband))
        .with_state(state)
}

fn session_cookie(session_id: &str) -> String {
    format!("{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Lax")
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(&format!("{SESSION_COOKIE}=")))
        .map(str::to_owned)
}

fn page(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text.to_owned(),
    )
        .into_response()
}

/// `POST /auth/vendor/start`: remember a fresh login in the session, send the browser away.
async fn start(State(festival): State<FestivalState>, headers: HeaderMap) -> Response {
    let login = match festival.rp.start_login().await {
        Ok(login) => login,
        Err(err) => {
            festival.log(format!("login not started: {err}"));
            return page(StatusCode::BAD_GATEWAY, err.visitor_message());
        }
    };
    let existing = session_id(&headers).filter(|id| lock(&festival.sessions).contains_key(id));
    let id = existing.unwrap_or_else(|| festival.new_session_id());
    lock(&festival.sessions)
        .entry(id.clone())
        .or_default()
        .pending = Some(login.pending);
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, login.authorization_url.to_string()),
            (header::SET_COOKIE, session_cookie(&id)),
        ],
    )
        .into_response()
}

/// `GET /auth/vendor/callback`: take the pending login out of the session (single use), let
/// `wristband-oidc` judge the callback, and on success rotate the session id.
async fn callback(
    State(festival): State<FestivalState>,
    headers: HeaderMap,
    Query(params): Query<CallbackParams>,
) -> Response {
    let id = session_id(&headers);
    let pending = id.as_ref().and_then(|id| {
        lock(&festival.sessions)
            .get_mut(id)
            .and_then(|s| s.pending.take())
    });
    match festival.rp.finish_login(pending, &params).await {
        Ok(identity) => {
            if let Some(old) = &id {
                lock(&festival.sessions).remove(old);
            }
            festival.log(format!(
                "logged in: sub={} via {} (old session id discarded, new one issued)",
                identity.subject, identity.issuer
            ));
            let new_id = festival.new_session_id();
            lock(&festival.sessions).insert(
                new_id.clone(),
                Session {
                    pending: None,
                    identity: Some(identity),
                },
            );
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, "/wristband".to_owned()),
                    (header::SET_COOKIE, session_cookie(&new_id)),
                ],
            )
                .into_response()
        }
        Err(err) => {
            festival.log(format!("login refused: {err}"));
            let status = if err.is_visitor_caused() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::BAD_GATEWAY
            };
            page(status, err.visitor_message())
        }
    }
}

/// `GET /wristband`: who this session is logged in as.
async fn wristband(State(festival): State<FestivalState>, headers: HeaderMap) -> Response {
    let identity = session_id(&headers).and_then(|id| {
        lock(&festival.sessions)
            .get(&id)
            .and_then(|s| s.identity.clone())
    });
    match identity {
        Some(identity) => page(
            StatusCode::OK,
            &format!(
                "Welcome, {}! The ticket vendor vouches for a {} ticket.",
                identity.name.as_deref().unwrap_or(&identity.subject),
                identity
                    .ticket
                    .map_or("(unknown)", |ticket| ticket.as_str())
            ),
        ),
        None => page(StatusCode::UNAUTHORIZED, "Not logged in."),
    }
}
