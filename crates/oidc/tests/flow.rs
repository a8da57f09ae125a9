//! The login flow against a pretend provider living behind an in-memory transport: what the
//! festival sends, what it checks in the callback, and how each failure is reported.

mod support;

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use support::{CLIENT_ID, ISSUER, NOW, TestKey, claims, jwks_json};
use url::Url;
use wristband_inject::{FixedClock, SeededEntropy};
use wristband_oidc::{
    CallbackParams, ClientConfig, ClientSecret, HttpRequest, HttpResponse, HttpTransport,
    OidcError, PendingLogin, RelyingParty, ReqwestTransport, TransportError, TransportFuture,
    Wristband,
};

const SECRET: &str = "festival-test-secret";
const REDIRECT: &str = "https://festival.example/auth/vendor/callback";

/// What the pretend provider remembers about a code it issued.
struct Grant {
    challenge: String,
    nonce: String,
}

#[derive(Default)]
struct ProviderState {
    codes: HashMap<String, Grant>,
    issued: u32,
    token_requests: u32,
    jwks_fetches: u32,
    last_token_request: Option<(String, String)>,
}

/// A provider that answers discovery, JWKS and token requests in memory.
struct FakeProvider {
    issuer_in_document: String,
    iss_parameter_supported: bool,
    keys: Mutex<Vec<TestKey>>,
    unpublished: Mutex<Vec<TestKey>>,
    signing_kid: Mutex<String>,
    up: Mutex<bool>,
    token_error: Mutex<Option<&'static str>>,
    state: Mutex<ProviderState>,
}

impl FakeProvider {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            issuer_in_document: ISSUER.to_owned(),
            iss_parameter_supported: true,
            keys: Mutex::new(vec![TestKey::ed25519("ed-1", 7)]),
            unpublished: Mutex::new(Vec::new()),
            signing_kid: Mutex::new("ed-1".to_owned()),
            up: Mutex::new(true),
            token_error: Mutex::new(None),
            state: Mutex::new(ProviderState::default()),
        })
    }

    /// The provider's login page, reduced to its outcome: the visitor logged in, so a code is
    /// issued for the challenge and nonce of `authorization_url`.
    fn authorize(&self, authorization_url: &Url) -> CallbackParams {
        let query: HashMap<String, String> = authorization_url.query_pairs().into_owned().collect();
        let mut state = self.state.lock().expect("lock");
        state.issued += 1;
        let code = format!("code-{}", state.issued);
        state.codes.insert(
            code.clone(),
            Grant {
                challenge: query["code_challenge"].clone(),
                nonce: query["nonce"].clone(),
            },
        );
        CallbackParams {
            code: Some(code),
            state: Some(query["state"].clone()),
            iss: Some(ISSUER.to_owned()),
            ..CallbackParams::default()
        }
    }

    fn token_requests(&self) -> u32 {
        self.state.lock().expect("lock").token_requests
    }

    fn jwks_fetches(&self) -> u32 {
        self.state.lock().expect("lock").jwks_fetches
    }

    fn answer(&self, request: HttpRequest) -> HttpResponse {
        let url = Url::parse(&request.uri().to_string()).expect("an absolute URL");
        match url.path() {
            "/.well-known/openid-configuration" => json_response(
                200,
                json!({
                    "issuer": self.issuer_in_document,
                    "authorization_endpoint": format!("{ISSUER}/authorize"),
                    "token_endpoint": format!("{ISSUER}/token"),
                    "jwks_uri": format!("{ISSUER}/jwks"),
                    "id_token_signing_alg_values_supported": ["EdDSA", "ES256"],
                    "code_challenge_methods_supported": ["S256"],
                    "authorization_response_iss_parameter_supported": self.iss_parameter_supported,
                }),
            ),
            "/jwks" => {
                self.state.lock().expect("lock").jwks_fetches += 1;
                let keys = self.keys.lock().expect("lock");
                json_response(200, jwks_json(&keys.iter().collect::<Vec<_>>()))
            }
            "/token" => self.token(&request),
            _ => json_response(404, json!({ "error": "not_found" })),
        }
    }

    fn token(&self, request: &HttpRequest) -> HttpResponse {
        let mut state = self.state.lock().expect("lock");
        state.token_requests += 1;
        if let Some(error) = *self.token_error.lock().expect("lock") {
            return json_response(400, json!({ "error": error }));
        }
        let authorization = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let form: HashMap<String, String> = url::form_urlencoded::parse(request.body())
            .into_owned()
            .collect();
        state.last_token_request = Some((
            authorization.clone(),
            form.get("code_verifier").cloned().unwrap_or_default(),
        ));
        let expected = format!("Basic {}", STANDARD.encode(format!("{CLIENT_ID}:{SECRET}")));
        if authorization != expected {
            return json_response(401, json!({ "error": "invalid_client" }));
        }
        // Single use: the code is removed whether or not the rest checks out.
        let Some(grant) = form.get("code").and_then(|code| state.codes.remove(code)) else {
            return json_response(400, json!({ "error": "invalid_grant" }));
        };
        let verifier = form.get("code_verifier").cloned().unwrap_or_default();
        if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge
            || form.get("redirect_uri").map(String::as_str) != Some(REDIRECT)
        {
            return json_response(400, json!({ "error": "invalid_grant" }));
        }
        let mut claims = claims();
        claims["nonce"] = json!(grant.nonce);
        let kid = self.signing_kid.lock().expect("lock").clone();
        let keys = self.keys.lock().expect("lock");
        let unpublished = self.unpublished.lock().expect("lock");
        let key = keys
            .iter()
            .chain(unpublished.iter())
            .find(|key| key.kid == kid)
            .expect("the signing key");
        json_response(
            200,
            json!({
                "access_token": "opaque",
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": key.sign(&claims),
            }),
        )
    }
}

impl HttpTransport for FakeProvider {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        let up = *self.up.lock().expect("lock");
        let response = if up {
            Ok(self.answer(request))
        } else {
            Err(TransportError::message("connection refused"))
        };
        Box::pin(async move { response })
    }
}

fn json_response(status: u16, body: Value) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(&body).expect("JSON"))
        .expect("a response")
}

struct Festival {
    provider: Arc<FakeProvider>,
    clock: Arc<FixedClock>,
    rp: RelyingParty,
}

fn festival_with(provider: Arc<FakeProvider>) -> Festival {
    let clock = Arc::new(FixedClock::at(NOW));
    let config = ClientConfig::new(ISSUER, CLIENT_ID, ClientSecret::new(SECRET), REDIRECT)
        .expect("a valid configuration");
    let rp = RelyingParty::new(
        config,
        provider.clone(),
        clock.clone(),
        Arc::new(SeededEntropy::new(5)),
    );
    Festival {
        provider,
        clock,
        rp,
    }
}

fn festival() -> Festival {
    festival_with(FakeProvider::new())
}

/// Starts a login and lets the visitor log in at the provider.
async fn round_trip(festival: &Festival) -> (PendingLogin, CallbackParams) {
    let start = festival.rp.start_login().await.expect("login starts");
    let callback = festival.provider.authorize(&start.authorization_url);
    (start.pending, callback)
}

#[tokio::test]
async fn a_complete_login_yields_the_identity_the_provider_vouches_for() {
    let festival = festival();
    let (pending, callback) = round_trip(&festival).await;

    let identity = festival
        .rp
        .finish_login(Some(pending), &callback)
        .await
        .expect("the login completes");

    assert_eq!(identity.issuer, ISSUER);
    assert_eq!(identity.subject, "holder-42");
    assert_eq!(identity.ticket, Some(Wristband::Green));
}

#[tokio::test]
async fn the_authorization_url_carries_state_nonce_and_an_s256_challenge_but_never_the_verifier() {
    let festival = festival();
    let start = festival.rp.start_login().await.expect("login starts");
    let query: HashMap<String, String> =
        start.authorization_url.query_pairs().into_owned().collect();

    assert_eq!(start.authorization_url.path(), "/authorize");
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(query["redirect_uri"], REDIRECT);
    assert_eq!(query["scope"], "openid profile ticket");
    assert_eq!(query["code_challenge_method"], "S256");
    assert_eq!(query["state"], start.pending.state());
    assert_eq!(query["nonce"], start.pending.nonce());
    assert_eq!(
        query["code_challenge"],
        URL_SAFE_NO_PAD.encode(Sha256::digest(start.pending.pkce_verifier().as_bytes()))
    );
    assert!(
        !start
            .authorization_url
            .as_str()
            .contains(start.pending.pkce_verifier()),
        "the verifier stays at the festival"
    );
    assert_eq!(start.pending.pkce_verifier().len(), 43);
}

#[tokio::test]
async fn every_login_draws_fresh_state_nonce_and_verifier() {
    let festival = festival();
    let first = festival
        .rp
        .start_login()
        .await
        .expect("login starts")
        .pending;
    let second = festival
        .rp
        .start_login()
        .await
        .expect("login starts")
        .pending;
    assert_ne!(first.state(), second.state());
    assert_ne!(first.nonce(), second.nonce());
    assert_ne!(first.pkce_verifier(), second.pkce_verifier());
}

#[tokio::test]
async fn the_code_is_exchanged_with_basic_client_authentication_and_the_verifier() {
    let festival = festival();
    let (pending, callback) = round_trip(&festival).await;
    let verifier = pending.pkce_verifier().to_owned();
    festival
        .rp
        .finish_login(Some(pending), &callback)
        .await
        .expect("the login completes");

    let (authorization, sent_verifier) = festival
        .provider
        .state
        .lock()
        .expect("lock")
        .last_token_request
        .clone()
        .expect("a token request");
    assert!(authorization.starts_with("Basic "));
    assert_eq!(sent_verifier, verifier);
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused_before_any_code_is_exchanged() {
    let festival = festival();
    let (pending, mut callback) = round_trip(&festival).await;
    callback.state = Some("state-of-the-attackers-own-login".to_owned());

    let error = festival
        .rp
        .finish_login(Some(pending), &callback)
        .await
        .expect_err("a swapped state is refused");

    assert!(matches!(error, OidcError::StateMismatch));
    assert!(error.is_visitor_caused());
    assert_eq!(festival.provider.token_requests(), 0);
}

#[tokio::test]
async fn a_callback_without_state_is_refused() {
    let festival = festival();
    let (pending, mut callback) = round_trip(&festival).await;
    callback.state = None;
    let error = festival.rp.finish_login(Some(pending), &callback).await;
    assert!(matches!(error, Err(OidcError::StateMismatch)));
}

#[tokio::test]
async fn a_callback_with_no_login_in_progress_is_refused() {
    let festival = festival();
    let (_pending, callback) = round_trip(&festival).await;
    let error = festival.rp.finish_login(None, &callback).await;
    assert!(matches!(error, Err(OidcError::NoLoginInProgress)));
    assert_eq!(festival.provider.token_requests(), 0);
}

#[tokio::test]
async fn a_replayed_code_is_refused_by_the_provider_and_reported_as_such() {
    let festival = festival();
    let (pending, callback) = round_trip(&festival).await;
    festival
        .rp
        .finish_login(Some(pending.clone()), &callback)
        .await
        .expect("the first use succeeds");

    let error = festival
        .rp
        .finish_login(Some(pending), &callback)
        .await
        .expect_err("the second use fails");
    assert!(matches!(error, OidcError::CodeRejected));
    assert!(error.is_visitor_caused());
}

#[tokio::test]
async fn a_stolen_code_redeemed_in_another_login_fails_the_pkce_check() {
    let festival = festival();
    let (_victims_pending, victims_callback) = round_trip(&festival).await;
    let (attackers_pending, attackers_callback) = round_trip(&festival).await;
    // The attacker swaps the victim's code into their own (state-valid) callback.
    let injected = CallbackParams {
        code: victims_callback.code.clone(),
        ..attackers_callback
    };

    let error = festival
        .rp
        .finish_login(Some(attackers_pending), &injected)
        .await;
    assert!(matches!(error, Err(OidcError::CodeRejected)));
}

#[tokio::test]
async fn a_callback_naming_another_issuer_is_refused_as_a_mix_up() {
    let festival = festival();
    let (pending, mut callback) = round_trip(&festival).await;
    callback.iss = Some("https://evil.example".to_owned());

    let error = festival.rp.finish_login(Some(pending), &callback).await;
    assert!(matches!(
        error,
        Err(OidcError::IssuerMismatch { found: Some(found), .. }) if found == "https://evil.example"
    ));
    assert_eq!(festival.provider.token_requests(), 0);
}

#[tokio::test]
async fn a_callback_without_iss_is_refused_when_the_provider_always_sends_it() {
    let festival = festival();
    let (pending, mut callback) = round_trip(&festival).await;
    callback.iss = None;
    let error = festival.rp.finish_login(Some(pending), &callback).await;
    assert!(matches!(
        error,
        Err(OidcError::IssuerMismatch { found: None, .. })
    ));
}

#[tokio::test]
async fn a_callback_without_iss_is_accepted_from_a_provider_that_never_sends_it() {
    let provider = Arc::new(FakeProvider {
        iss_parameter_supported: false,
        ..Arc::into_inner(FakeProvider::new()).expect("sole owner")
    });
    let festival = festival_with(provider);
    let (pending, mut callback) = round_trip(&festival).await;
    callback.iss = None;
    assert!(
        festival
            .rp
            .finish_login(Some(pending), &callback)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn declining_at_the_provider_is_reported_as_the_visitors_choice() {
    let festival = festival();
    let start = festival.rp.start_login().await.expect("login starts");
    let callback = CallbackParams {
        state: Some(start.pending.state().to_owned()),
        iss: Some(ISSUER.to_owned()),
        error: Some("access_denied".to_owned()),
        ..CallbackParams::default()
    };

    let error = festival
        .rp
        .finish_login(Some(start.pending), &callback)
        .await
        .expect_err("no login");
    assert!(matches!(error, OidcError::Denied));
    assert!(error.is_visitor_caused());
    assert!(error.visitor_message().contains("declined"));
}

#[tokio::test]
async fn another_provider_error_is_reported_as_the_providers_failure() {
    let festival = festival();
    let start = festival.rp.start_login().await.expect("login starts");
    let callback = CallbackParams {
        state: Some(start.pending.state().to_owned()),
        iss: Some(ISSUER.to_owned()),
        error: Some("server_error".to_owned()),
        ..CallbackParams::default()
    };
    let error = festival
        .rp
        .finish_login(Some(start.pending), &callback)
        .await
        .expect_err("no login");
    assert!(matches!(error, OidcError::ProviderRefused { .. }));
    assert!(!error.is_visitor_caused());
}

#[tokio::test]
async fn a_callback_with_neither_code_nor_error_is_malformed() {
    let festival = festival();
    let (pending, mut callback) = round_trip(&festival).await;
    callback.code = None;
    let error = festival.rp.finish_login(Some(pending), &callback).await;
    assert!(matches!(error, Err(OidcError::MalformedCallback(_))));
}

#[tokio::test]
async fn a_login_finished_after_its_lifetime_is_refused() {
    let festival = festival();
    let (pending, callback) = round_trip(&festival).await;
    festival.clock.advance(601);
    let error = festival.rp.finish_login(Some(pending), &callback).await;
    assert!(matches!(error, Err(OidcError::LoginExpired)));
}

#[tokio::test]
async fn an_unreachable_provider_is_the_providers_failure_not_the_visitors() {
    let festival = festival();
    *festival.provider.up.lock().expect("lock") = false;

    let error = festival.rp.start_login().await.expect_err("no discovery");
    assert!(matches!(error, OidcError::ProviderUnreachable(_)));
    assert!(!error.is_visitor_caused());

    *festival.provider.up.lock().expect("lock") = true;
    assert!(
        festival.rp.start_login().await.is_ok(),
        "discovery is retried once the provider is back"
    );
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused() {
    let provider = Arc::new(FakeProvider {
        issuer_in_document: "https://evil.example".to_owned(),
        ..Arc::into_inner(FakeProvider::new()).expect("sole owner")
    });
    let festival = festival_with(provider);
    let error = festival.rp.start_login().await.expect_err("no discovery");
    assert!(matches!(error, OidcError::Discovery(_)));
}

#[tokio::test]
async fn wrong_client_credentials_are_a_configuration_failure() {
    let festival = festival();
    let (pending, callback) = round_trip(&festival).await;
    *festival.provider.token_error.lock().expect("lock") = Some("invalid_client");
    let error = festival
        .rp
        .finish_login(Some(pending), &callback)
        .await
        .expect_err("no login");
    assert!(matches!(error, OidcError::ClientRejected(_)));
    assert!(!error.is_visitor_caused());
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_once_and_unknown_keys_do_not_cause_a_flood() {
    let festival = festival();
    let (pending, callback) = round_trip(&festival).await;
    festival
        .rp
        .finish_login(Some(pending), &callback)
        .await
        .expect("login with the first key");
    assert_eq!(festival.provider.jwks_fetches(), 1);

    // The provider rotates to a new key: the cached set lacks it, so it is fetched again.
    festival
        .provider
        .keys
        .lock()
        .expect("lock")
        .push(TestKey::p256("ec-2", 0x22));
    *festival.provider.signing_kid.lock().expect("lock") = "ec-2".to_owned();
    festival.clock.advance(61);
    let (pending, callback) = round_trip(&festival).await;
    festival
        .rp
        .finish_login(Some(pending), &callback)
        .await
        .expect("login with the rotated key");
    assert_eq!(festival.provider.jwks_fetches(), 2);

    // A token naming a key the provider never published, moments later, does not trigger
    // another fetch.
    festival
        .provider
        .unpublished
        .lock()
        .expect("lock")
        .push(TestKey::ed25519("ghost", 9));
    *festival.provider.signing_kid.lock().expect("lock") = "ghost".to_owned();
    let (pending, callback) = round_trip(&festival).await;
    let error = festival.rp.finish_login(Some(pending), &callback).await;
    assert!(matches!(
        error,
        Err(OidcError::IdToken(wristband_oidc::IdTokenError::UnknownKey))
    ));
    assert_eq!(festival.provider.jwks_fetches(), 2);
}

#[test]
fn a_pending_login_survives_a_session_round_trip_and_never_prints_its_secrets() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let festival = festival();
    let pending = runtime
        .block_on(festival.rp.start_login())
        .expect("login starts")
        .pending;

    let stored = serde_json::to_string(&pending).expect("serialise");
    let restored: PendingLogin = serde_json::from_str(&stored).expect("deserialise");
    assert_eq!(restored, pending);

    let printed = format!("{pending:?}");
    assert!(!printed.contains(pending.state()));
    assert!(!printed.contains(pending.nonce()));
    assert!(!printed.contains(pending.pkce_verifier()));
}

#[tokio::test]
async fn the_network_transport_does_not_follow_redirects() {
    // A one-shot HTTP server on loopback that answers every request with a redirect.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("a connection");
        let mut buffer = [0u8; 4096];
        let _ = stream.read(&mut buffer).expect("the request");
        stream
            .write_all(
                b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .expect("the response");
    });

    let transport = ReqwestTransport::new().expect("a transport");
    let request = http::Request::post(format!("http://{address}/token"))
        .body(b"code=secret".to_vec())
        .expect("a request");
    let response = transport.send(request).await.expect("a response");

    assert_eq!(response.status(), 302);
    assert_eq!(
        response.headers()[http::header::LOCATION],
        "http://127.0.0.1:9/steal"
    );
    server.join().expect("the server thread");
}

#[tokio::test]
async fn the_login_futures_can_run_on_a_multi_threaded_runtime() {
    // Web frameworks run handlers with `tokio::spawn`, which needs `Send + 'static` futures.
    let festival = Arc::new(festival());
    let task = festival.clone();
    let start = tokio::spawn(async move { task.rp.start_login().await })
        .await
        .expect("the task ran")
        .expect("login starts");
    let callback = festival.provider.authorize(&start.authorization_url);
    let task = festival.clone();
    let identity =
        tokio::spawn(async move { task.rp.finish_login(Some(start.pending), &callback).await })
            .await
            .expect("the task ran");
    assert!(identity.is_ok());
}
