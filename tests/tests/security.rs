//! The security battery: the real `festival-app` binary, attacked over HTTP.
//!
//! Each test plays one attacker's move against a freshly started festival (demo mode, fresh
//! database) and checks the exact answer: status code, challenge header, body, and that
//! nothing changed on the server when the move was refused.
//!
//! The token forgeries read the festival's signing key from its data folder, as a thief of the
//! key file could. A correctly signed token that is still refused proves the claim checks
//! themselves (audience, issuer, type, expiry), not only the signature.

#![allow(clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, ORIGIN, WWW_AUTHENTICATE};
use serde_json::{Value, json};
use wristband_e2e::{Festival, FestivalOptions, Page, SESSION_COOKIE, Visitor, read};

const HTML: &str = "text/html; charset=utf-8";

const CSP: &str = "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; \
                   frame-ancestors 'none'";

/// A passphrase the password policy accepts.
const PASSWORD: &str = "a quiet tent behind the forest stage";

/// What every refused wristband token is answered with (RFC 6750 §3.1 `invalid_token`).
fn invalid_token(description: &str) -> String {
    format!(
        "Bearer realm=\"wristband\", error=\"invalid_token\", error_description=\"{description}\""
    )
}

/// What every malformed request is answered with (RFC 6750 §3.1 `invalid_request`).
fn invalid_request(description: &str) -> String {
    format!(
        "Bearer realm=\"wristband\", error=\"invalid_request\", error_description=\"{description}\""
    )
}

fn json_body(page: &Page) -> Value {
    serde_json::from_str(&page.body).expect("the body is JSON")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// `GET path` with the given `Authorization` header values (none, one, or several).
async fn get_with_authorization(
    festival: &Festival,
    path: &str,
    authorizations: &[&str],
) -> anyhow::Result<Page> {
    let mut request = reqwest::Client::new().get(festival.url(path));
    for value in authorizations {
        request = request.header(AUTHORIZATION, *value);
    }
    read(request.send().await?).await
}

async fn with_bearer(festival: &Festival, path: &str, token: &str) -> anyhow::Result<Page> {
    get_with_authorization(festival, path, &[&format!("Bearer {token}")]).await
}

/// `POST /token` with `fields` form-encoded.
async fn token_request(festival: &Festival, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
    let response = reqwest::Client::new()
        .post(festival.url("/token"))
        .form(fields)
        .send()
        .await?;
    read(response).await
}

/// A wristband token for `username` from `POST /token`.
async fn token_for(festival: &Festival, username: &str, password: &str) -> anyhow::Result<String> {
    let page = token_request(
        festival,
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ],
    )
    .await?;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    Ok(json_body(&page)["access_token"]
        .as_str()
        .expect("a token")
        .to_owned())
}

/// Token forgery, with or without the festival's key.
mod forge {
    use super::*;

    /// A genuine token taken apart, and the festival's signing key read from its data folder.
    pub(super) struct Workshop {
        /// The genuine token's header.
        pub(super) header: Value,
        /// The genuine token's claims (a green wristband: alice's).
        pub(super) claims: Value,
        /// The genuine token as issued.
        pub(super) genuine: String,
        /// The festival's private key, PKCS#8 PEM.
        stolen_pem: String,
    }

    impl Workshop {
        /// Gets alice a genuine token and steals the key file.
        pub(super) async fn open(festival: &Festival) -> anyhow::Result<Self> {
            let genuine = token_for(festival, "alice", "green-wristband-demo").await?;
            let mut parts = genuine.split('.');
            let header = decode_part(parts.next().expect("a header"))?;
            let claims = decode_part(parts.next().expect("claims"))?;
            let stolen_pem = std::fs::read_to_string(festival.data_dir.join("signing-key.pem"))?;
            Ok(Self {
                header,
                claims,
                genuine,
                stolen_pem,
            })
        }

        /// `header` and `claims` signed with the festival's own key.
        pub(super) fn sign_with_stolen_key(&self, header: &Value, claims: &Value) -> String {
            let key = EncodingKey::from_ed_pem(self.stolen_pem.as_bytes()).expect("an Ed25519 key");
            sign(header, claims, &key, Algorithm::EdDSA)
        }

        /// The festival's public key, the 32 raw bytes.
        pub(super) fn public_key(&self) -> [u8; 32] {
            ed25519_dalek::SigningKey::from_pkcs8_pem(&self.stolen_pem)
                .expect("an Ed25519 key")
                .verifying_key()
                .to_bytes()
        }

        /// The genuine claims with `changes` applied (a `null` removes the claim).
        pub(super) fn claims_with(&self, changes: &Value) -> Value {
            merge(&self.claims, changes)
        }

        /// The genuine header with `changes` applied (a `null` removes the parameter).
        pub(super) fn header_with(&self, changes: &Value) -> Value {
            merge(&self.header, changes)
        }
    }

    fn merge(base: &Value, changes: &Value) -> Value {
        let mut merged = base.clone();
        if let (Some(target), Some(changes)) = (merged.as_object_mut(), changes.as_object()) {
            for (name, value) in changes {
                if value.is_null() {
                    target.remove(name);
                } else {
                    target.insert(name.clone(), value.clone());
                }
            }
        }
        merged
    }

    fn decode_part(part: &str) -> anyhow::Result<Value> {
        Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part)?)?)
    }

    pub(super) fn encode_part(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    /// `header.claims.signature` with the signature made by `key` under `algorithm`, whatever
    /// the header claims: a forger writes the header they like.
    pub(super) fn sign(
        header: &Value,
        claims: &Value,
        key: &EncodingKey,
        algorithm: Algorithm,
    ) -> String {
        let input = format!("{}.{}", encode_part(header), encode_part(claims));
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), key, algorithm).expect("signing works");
        format!("{input}.{signature}")
    }

    /// A key the festival has never seen, as PKCS#8 DER, and its public half.
    pub(super) fn foreign_key() -> (EncodingKey, [u8; 32]) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let der = key.to_pkcs8_der().expect("encodable");
        (
            EncodingKey::from_ed_der(der.as_bytes()),
            key.verifying_key().to_bytes(),
        )
    }
}

/// Asserts that `token` is refused at `/api/me` with `invalid_token` and `description`.
async fn assert_refused(
    festival: &Festival,
    case: &str,
    token: &str,
    description: &str,
) -> anyhow::Result<()> {
    let page = with_bearer(festival, "/api/me", token).await?;
    assert_eq!(
        page.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {}",
        page.body
    );
    assert_eq!(
        page.header(WWW_AUTHENTICATE.as_str()),
        Some(invalid_token(description).as_str()),
        "{case}"
    );
    assert_eq!(
        json_body(&page),
        json!({"error": "invalid_token", "error_description": description}),
        "{case}"
    );
    Ok(())
}

#[tokio::test]
async fn a_token_made_with_the_stolen_key_and_honest_claims_is_accepted() -> anyhow::Result<()> {
    // The control for the forgeries below: the forging itself is right, so when they are
    // refused, it is for the reason each one tests.
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let workshop = forge::Workshop::open(&festival).await?;

    let fresh = workshop.sign_with_stolen_key(
        &workshop.header,
        &workshop.claims_with(&json!({"jti": "forged-but-honest", "iat": now(), "nbf": now()})),
    );
    let me = with_bearer(&festival, "/api/me", &fresh).await?;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(
        json_body(&me),
        json!({"username": "alice", "wristband": "green", "scopes": ["stages"]})
    );
    Ok(())
}

#[tokio::test]
async fn the_signing_key_file_is_readable_by_the_festival_alone() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let metadata = std::fs::metadata(festival.data_dir.join("signing-key.pem"))?;
    assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
    Ok(())
}

#[tokio::test]
async fn tokens_not_signed_by_the_festivals_key_are_refused_as_invalid_token() -> anyhow::Result<()>
{
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let workshop = forge::Workshop::open(&festival).await?;
    let gold = workshop.claims_with(&json!({"wristband": "gold", "scope": "stages backstage"}));
    let not_a_wristband = "The access token is not a wristband token";
    let bad_signature = "The access token signature is invalid";

    // `alg: none`, however it is spelled, with no signature at all.
    for none in ["none", "None", "NONE"] {
        let header = workshop.header_with(&json!({"alg": none}));
        let token = format!(
            "{}.{}.",
            forge::encode_part(&header),
            forge::encode_part(&gold)
        );
        assert_refused(&festival, &format!("alg {none}"), &token, not_a_wristband).await?;
    }

    // HS256 keyed with the public key (algorithm confusion), raw and as the JWK's `x`.
    let public = workshop.public_key();
    let header = workshop.header_with(&json!({"alg": "HS256"}));
    for (case, secret) in [
        ("HS256 with the raw public key", public.to_vec()),
        (
            "HS256 with the public key's JWK x",
            URL_SAFE_NO_PAD.encode(public).into_bytes(),
        ),
    ] {
        let token = forge::sign(
            &header,
            &gold,
            &EncodingKey::from_secret(&secret).expect("any bytes make an HMAC key"),
            Algorithm::HS256,
        );
        assert_refused(&festival, case, &token, not_a_wristband).await?;
    }

    // A genuine green token with its claims edited to gold, signature kept.
    let mut parts = workshop.genuine.split('.');
    let (header_part, _claims, signature) = (
        parts.next().expect("header"),
        parts.next(),
        parts.next().expect("signature"),
    );
    let tampered = format!("{header_part}.{}.{signature}", forge::encode_part(&gold));
    assert_refused(&festival, "claims edited", &tampered, bad_signature).await?;
    let backstage = with_bearer(&festival, "/api/backstage", &tampered).await?;
    assert_eq!(backstage.status, StatusCode::UNAUTHORIZED);

    // Signed by another key that claims the festival's key id.
    let (foreign, foreign_public) = forge::foreign_key();
    let token = forge::sign(&workshop.header, &gold, &foreign, Algorithm::EdDSA);
    assert_refused(
        &festival,
        "another key, festival's kid",
        &token,
        bad_signature,
    )
    .await?;

    // Signed by another key that brings its own public key along (`jwk`) or points at it
    // (`jku`): the festival never takes a key from the token.
    let embedded = workshop.header_with(&json!({
        "kid": "attacker",
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(foreign_public)},
    }));
    let token = forge::sign(&embedded, &gold, &foreign, Algorithm::EdDSA);
    assert_refused(&festival, "embedded jwk", &token, not_a_wristband).await?;
    let pointed = workshop.header_with(&json!({"jku": "https://evil.example/jwks.json"}));
    let token = forge::sign(&pointed, &gold, &foreign, Algorithm::EdDSA);
    assert_refused(&festival, "jku", &token, not_a_wristband).await?;

    // Not a JWT at all.
    for junk in ["not-a-token", "a.b.c", "..", &workshop.genuine[1..]] {
        let page = with_bearer(&festival, "/api/me", junk).await?;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{junk}");
        assert_eq!(
            json_body(&page)["error"],
            "invalid_token",
            "{junk}: {}",
            page.body
        );
    }
    Ok(())
}

#[tokio::test]
async fn correctly_signed_tokens_that_fail_a_claim_check_are_refused_as_invalid_token()
-> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let workshop = forge::Workshop::open(&festival).await?;
    let now = now();
    let header = &workshop.header;

    let cases = [
        (
            "another audience",
            workshop.sign_with_stolen_key(
                header,
                &workshop.claims_with(&json!({"aud": "ticket-vendor"})),
            ),
            "The access token is not for this service",
        ),
        (
            "another issuer",
            workshop.sign_with_stolen_key(
                header,
                &workshop.claims_with(&json!({"iss": "https://evil.example"})),
            ),
            "The access token is not for this service",
        ),
        (
            "an ID token's type",
            workshop.sign_with_stolen_key(
                &workshop.header_with(&json!({"typ": "JWT"})),
                &workshop.claims,
            ),
            "The access token is not a wristband token",
        ),
        (
            "no type",
            workshop.sign_with_stolen_key(
                &workshop.header_with(&json!({"typ": null})),
                &workshop.claims,
            ),
            "The access token is not a wristband token",
        ),
        (
            "a key id the festival does not know",
            workshop.sign_with_stolen_key(
                &workshop.header_with(&json!({"kid": "retired-key"})),
                &workshop.claims,
            ),
            "The access token signature is invalid",
        ),
        (
            "expired an hour ago",
            workshop.sign_with_stolen_key(
                header,
                &workshop
                    .claims_with(&json!({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600})),
            ),
            "The access token expired",
        ),
        (
            "valid only from an hour from now",
            workshop.sign_with_stolen_key(
                header,
                &workshop.claims_with(&json!({"iat": now, "nbf": now + 3600, "exp": now + 4500})),
            ),
            "The access token is not valid yet",
        ),
        (
            "issued an hour from now",
            workshop.sign_with_stolen_key(
                header,
                &workshop.claims_with(&json!({"iat": now + 3600, "nbf": now, "exp": now + 900})),
            ),
            "The access token is not valid yet",
        ),
        (
            "no subject",
            workshop.sign_with_stolen_key(header, &workshop.claims_with(&json!({"sub": null}))),
            "The access token claims are invalid",
        ),
        (
            "no expiry",
            workshop.sign_with_stolen_key(header, &workshop.claims_with(&json!({"exp": null}))),
            "The access token claims are invalid",
        ),
        (
            "an unknown wristband colour",
            workshop.sign_with_stolen_key(
                header,
                &workshop.claims_with(&json!({"wristband": "platinum"})),
            ),
            "The access token claims are invalid",
        ),
    ];
    for (case, token, description) in &cases {
        assert_refused(&festival, case, token, description).await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_token_in_the_url_is_refused_with_invalid_request() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let token = token_for(&festival, "alice", "green-wristband-demo").await?;

    let url = format!("/api/me?access_token={token}");
    let in_url = get_with_authorization(&festival, &url, &[]).await?;
    assert_eq!(in_url.status, StatusCode::BAD_REQUEST);
    let description = "Send the access token in the Authorization header, never in the URL";
    assert_eq!(
        in_url.header(WWW_AUTHENTICATE.as_str()),
        Some(invalid_request(description).as_str())
    );
    assert_eq!(
        json_body(&in_url),
        json!({"error": "invalid_request", "error_description": description})
    );

    let twice = get_with_authorization(&festival, &url, &[&format!("Bearer {token}")]).await?;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        twice.header(WWW_AUTHENTICATE.as_str()),
        Some(
            invalid_request("Send the access token one way only: in the Authorization header")
                .as_str()
        )
    );
    Ok(())
}

#[tokio::test]
async fn malformed_authorization_headers_are_refused_with_invalid_request() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let token = token_for(&festival, "alice", "green-wristband-demo").await?;
    let bearer = format!("Bearer {token}");

    let two = get_with_authorization(&festival, "/api/me", &[&bearer, &bearer]).await?;
    assert_eq!(two.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        two.header(WWW_AUTHENTICATE.as_str()),
        Some(invalid_request("Send exactly one Authorization header").as_str())
    );

    for malformed in ["Bearer", "Bearer ", "Bearer a b", "Bearer <script>"] {
        let page = get_with_authorization(&festival, "/api/me", &[malformed]).await?;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{malformed:?}");
        assert_eq!(
            page.header(WWW_AUTHENTICATE.as_str()),
            Some(invalid_request("The Authorization header must be: Bearer <token>").as_str()),
            "{malformed:?}"
        );
    }

    // Another scheme is no bearer token at all: a bare challenge, no error code.
    let basic =
        get_with_authorization(&festival, "/api/me", &["Basic YWxpY2U6cGFzc3dvcmQ="]).await?;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        basic.header(WWW_AUTHENTICATE.as_str()),
        Some("Bearer realm=\"wristband\"")
    );
    Ok(())
}

#[tokio::test]
async fn buying_a_ticket_without_this_sessions_csrf_token_is_forbidden_and_sells_nothing()
-> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let victim = Visitor::new(festival.base_url())?;
    victim.csrf_token("/tickets").await?;
    let attacker = Visitor::new(festival.base_url())?;
    let attackers_token = attacker.csrf_token("/tickets").await?;

    for (case, csrf) in [
        ("no token", None),
        ("an empty token", Some("")),
        (
            "a made-up token",
            Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ),
        ("another session's token", Some(attackers_token.as_str())),
    ] {
        let username = "mallory";
        let mut fields = vec![
            ("wristband", "gold"),
            ("username", username),
            ("password", PASSWORD),
        ];
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf));
        }
        let page = victim.post_form("/tickets", &fields).await?;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{case}");
        assert_eq!(page.header("content-type"), Some(HTML), "{case}");
        assert_eq!(page.heading(), Some("This form has expired"), "{case}");
    }

    // Nothing was sold: the credentials open nothing.
    let refused = token_request(
        &festival,
        &[
            ("grant_type", "password"),
            ("username", "mallory"),
            ("password", PASSWORD),
        ],
    )
    .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(json_body(&refused)["error"], "invalid_grant");
    Ok(())
}

#[tokio::test]
async fn logging_in_without_this_sessions_csrf_token_is_forbidden_and_logs_nobody_in()
-> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;
    visitor.csrf_token("/gate").await?;

    for (case, csrf) in [("no token", None), ("a wrong token", Some("forged"))] {
        let mut fields = vec![("username", "alice"), ("password", "green-wristband-demo")];
        if let Some(csrf) = csrf {
            fields.push(("csrf", csrf));
        }
        let page = visitor.post_form("/gate", &fields).await?;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{case}");
        assert_eq!(page.heading(), Some("This form has expired"), "{case}");
        let wristband = visitor.get("/wristband").await?;
        assert_eq!(
            wristband.status,
            StatusCode::SEE_OTHER,
            "{case}: not logged in"
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_cross_site_logout_leaves_the_visitor_logged_in() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;
    let before_login = visitor.csrf_token("/gate").await?;
    let passed = visitor.log_in("alice", "green-wristband-demo").await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER);

    // A form on another site, posted in the visitor's browser: the cookie rides along (in a
    // browser that ignores SameSite), the token cannot.
    for (case, body) in [
        ("no token", String::new()),
        (
            "the token from before login",
            format!("csrf={before_login}"),
        ),
    ] {
        let response = visitor
            .client()
            .post(visitor.url("/logout"))
            .header(ORIGIN, "https://evil.example")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        let page = read(response).await?;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{case}");
        let wristband = visitor.get("/wristband").await?;
        assert_eq!(wristband.status, StatusCode::OK, "{case}: still logged in");
    }

    // Nor can a link or an image log anyone out: logout is POST only.
    let by_get = visitor.get("/logout").await?;
    assert_eq!(by_get.status, StatusCode::METHOD_NOT_ALLOWED);
    let wristband = visitor.get("/wristband").await?;
    assert_eq!(wristband.status, StatusCode::OK, "still logged in");
    Ok(())
}

#[tokio::test]
async fn a_form_sent_as_text_plain_is_refused_even_with_the_right_token() -> anyhow::Result<()> {
    // `text/plain` is what a cross-site form may send without a CORS preflight.
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;
    let csrf = visitor.csrf_token("/tickets").await?;
    let response = visitor
        .client()
        .post(visitor.url("/tickets"))
        .header(CONTENT_TYPE, "text/plain")
        .body(format!(
            "csrf={csrf}&wristband=green&username=plain&password=a+long+enough+passphrase"
        ))
        .send()
        .await?;
    let page = read(response).await?;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert_eq!(page.heading(), Some("That request did not make sense"));
    Ok(())
}

#[tokio::test]
async fn a_session_id_chosen_by_an_attacker_is_never_adopted() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let planted = "AAAAAAAAAAAAAAAAAAAAAA";
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let gate = read(
        client
            .get(festival.url("/gate"))
            .header(COOKIE, format!("{SESSION_COOKIE}={planted}"))
            .send()
            .await?,
    )
    .await?;
    assert_eq!(gate.status, StatusCode::OK);
    let issued = gate
        .set_cookie(SESSION_COOKIE)
        .expect("a session is started");
    assert!(
        !issued.starts_with(&format!("{SESSION_COOKIE}={planted};")),
        "the server picks its own id: {issued}"
    );
    Ok(())
}

#[tokio::test]
async fn behind_https_the_session_cookie_is_secure_and_host_prefixed() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions {
        env: vec![
            (
                "FESTIVAL_PUBLIC_URL".to_owned(),
                "https://festival.example".to_owned(),
            ),
            ("FESTIVAL_INSECURE_COOKIES".to_owned(), "0".to_owned()),
        ],
        ..FestivalOptions::demo()
    })
    .await?;
    let shop = read(reqwest::get(festival.url("/tickets")).await?).await?;
    let cookie = shop
        .set_cookie("__Host-wristband")
        .expect("the __Host- cookie is set");
    let mut attributes: Vec<&str> = cookie.split("; ").skip(1).collect();
    attributes.sort_unstable();
    assert_eq!(
        attributes,
        [
            "HttpOnly",
            "Max-Age=1800",
            "Path=/",
            "SameSite=Lax",
            "Secure"
        ],
        "{cookie}"
    );
    Ok(())
}

#[tokio::test]
async fn the_gate_never_sends_anyone_off_site_after_login() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let evil_nexts = [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "///evil.example",
        "http:evil.example",
        "/\t/evil.example",
        " //evil.example",
        "javascript:alert(document.cookie)",
        "/\r\nLocation: https://evil.example",
        "evil.example",
    ];
    for next in evil_nexts {
        let visitor = Visitor::new(festival.base_url())?;
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("next", next)
            .finish();
        let gate = visitor.get(&format!("/gate?{query}")).await?;
        assert_eq!(gate.status, StatusCode::OK, "{next:?}");
        assert_eq!(
            wristband_e2e::hidden_field(&gate.body, "next"),
            Some("/wristband"),
            "the gate page drops {next:?}"
        );
        // The attacker's own form may post any `next`: the gate checks it again.
        let csrf = gate.csrf_token().expect("a form").to_owned();
        let passed = visitor
            .post_form(
                "/gate",
                &[
                    ("csrf", &csrf),
                    ("next", next),
                    ("username", "alice"),
                    ("password", "green-wristband-demo"),
                ],
            )
            .await?;
        assert_eq!(passed.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(passed.location(), Some("/wristband"), "{next:?}");

        // Once logged in, the gate forwards at once: still never off-site.
        let again = visitor.get(&format!("/gate?{query}")).await?;
        assert_eq!(again.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(again.location(), Some("/wristband"), "{next:?}");
    }
    Ok(())
}

#[tokio::test]
async fn sql_in_a_username_is_only_ever_a_wrong_username() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let injections = [
        "' OR '1'='1",
        "alice'--",
        "alice' OR 1=1--",
        "alice\"; DROP TABLE users; --",
        "' UNION SELECT 1, 'alice', NULL, 'gold'--",
        "alice\0",
    ];
    for username in injections {
        // At the gate: the usual refusal, nobody logged in, no server error.
        let visitor = Visitor::new(festival.base_url())?;
        let gate = visitor.log_in(username, "anything at all").await?;
        assert_eq!(gate.status, StatusCode::BAD_REQUEST, "{username:?}");
        assert_eq!(
            gate.alert(),
            Some("Wrong username or password."),
            "{username:?}"
        );

        // At the token endpoint: invalid_grant, like any wrong credentials.
        let token = token_request(
            &festival,
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", "anything at all"),
            ],
        )
        .await?;
        assert_eq!(token.status, StatusCode::BAD_REQUEST, "{username:?}");
        assert_eq!(
            json_body(&token),
            json!({"error": "invalid_grant", "error_description": "The username or password is incorrect"}),
            "{username:?}"
        );

        // In the shop: refused by the username rules, before any query.
        let shop = visitor.buy_ticket(username, PASSWORD, "green").await?;
        assert_eq!(
            shop.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{username:?}"
        );
        assert!(
            shop.alert()
                .is_some_and(|alert| alert.starts_with("A username ")),
            "{username:?}: {:?}",
            shop.alert()
        );
    }

    // The users table is intact: alice still logs in.
    let alice = Visitor::new(festival.base_url())?;
    let passed = alice.log_in("alice", "green-wristband-demo").await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER);
    Ok(())
}

#[tokio::test]
async fn markup_sent_by_a_visitor_comes_back_as_text_never_as_markup() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;
    let script = "<script>alert(1)</script>";

    // The gate shows a refused username back in the form.
    let gate = visitor
        .log_in(&format!("\">{script}"), "anything at all")
        .await?;
    assert_eq!(gate.status, StatusCode::BAD_REQUEST);
    assert!(!gate.body.contains(script), "the script is not echoed raw");
    assert!(
        gate.body
            .contains(r#"value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;""#),
        "it is shown escaped in the username field"
    );

    // A `next` that is a local path but carries markup lands in an attribute, escaped.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", &format!("/\">{script}"))
        .finish();
    let page = visitor.get(&format!("/gate?{query}")).await?;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(script), "the script is not echoed raw");
    assert_eq!(
        wristband_e2e::hidden_field(&page.body, "next"),
        Some("/&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;")
    );
    // Were anything to slip through, the policy lets no script run at all.
    assert_eq!(page.header("content-security-policy"), Some(CSP));
    Ok(())
}

/// `POST path` with a form `body` and the session cookie, on a connection of its own: a server
/// that refuses a body without reading it closes the connection afterwards, so it must not be
/// reused for the next request.
async fn post_form_alone(
    festival: &Festival,
    path: &str,
    session_id: &str,
    body: String,
) -> anyhow::Result<Page> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client
        .post(festival.url(path))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(COOKIE, format!("{SESSION_COOKIE}={session_id}"))
        .body(body)
        .send()
        .await?;
    read(response).await
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;
    let csrf = visitor.csrf_token("/tickets").await?;
    let session_id = visitor.session_id().expect("a session");
    let padding = "a".repeat(64 * 1024);

    for path in ["/tickets", "/gate", "/logout"] {
        let body = format!("csrf={csrf}&username={padding}");
        let page = post_form_alone(&festival, path, &session_id, body).await?;
        assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        assert_eq!(page.header("content-type"), Some(HTML), "{path}");
        assert_eq!(page.heading(), Some("That was too much"), "{path}");
    }

    let body = format!("grant_type=password&username=alice&password={padding}");
    let token = post_form_alone(&festival, "/token", &session_id, body).await?;
    assert_eq!(token.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        json_body(&token),
        json!({"error": "invalid_request", "error_description": "The request body is too large"})
    );
    Ok(())
}

#[tokio::test]
async fn malformed_forms_are_refused_with_400() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;
    let csrf = visitor.csrf_token("/tickets").await?;

    for (case, fields) in [
        (
            "no password",
            vec![
                ("csrf", csrf.as_str()),
                ("wristband", "green"),
                ("username", "nopass"),
            ],
        ),
        (
            "a colour that does not exist",
            vec![
                ("csrf", csrf.as_str()),
                ("wristband", "platinum"),
                ("username", "shiny"),
                ("password", PASSWORD),
            ],
        ),
    ] {
        let page = visitor.post_form("/tickets", &fields).await?;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{case}");
        assert_eq!(page.header("content-type"), Some(HTML), "{case}");
        assert_eq!(
            page.heading(),
            Some("That request did not make sense"),
            "{case}"
        );
    }
    let gate = visitor.post_form("/gate", &[("csrf", &csrf)]).await?;
    assert_eq!(
        gate.status,
        StatusCode::BAD_REQUEST,
        "a login with no fields"
    );

    // The token endpoint answers in OAuth's terms (RFC 6749 §5.2).
    let as_json = reqwest::Client::new()
        .post(festival.url("/token"))
        .json(&json!({"grant_type": "password", "username": "alice", "password": "x"}))
        .send()
        .await?;
    let as_json = read(as_json).await?;
    assert_eq!(as_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_body(&as_json),
        json!({"error": "invalid_request", "error_description": "Send the parameters as application/x-www-form-urlencoded"})
    );
    let no_grant = token_request(&festival, &[("username", "alice"), ("password", "x")]).await?;
    assert_eq!(no_grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_body(&no_grant),
        json!({"error": "invalid_request", "error_description": "The grant_type parameter is required"})
    );
    let other_grant = token_request(&festival, &[("grant_type", "client_credentials")]).await?;
    assert_eq!(other_grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_body(&other_grant),
        json!({"error": "unsupported_grant_type", "error_description": "This endpoint supports only grant_type=password"})
    );
    let repeated = token_request(
        &festival,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("username", "bob"),
            ("password", "gold-wristband-demo"),
        ],
    )
    .await?;
    assert_eq!(repeated.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        json_body(&repeated),
        json!({"error": "invalid_request", "error_description": "Each parameter may be sent only once"})
    );
    Ok(())
}

#[tokio::test]
async fn unknown_pages_get_an_html_404_and_unknown_api_routes_a_json_404() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;

    for path in [
        "/no-such-page",
        "/stages",
        "/admin",
        "/.env",
        "/static/../Cargo.toml",
    ] {
        let page = visitor.get(path).await?;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(page.header("content-type"), Some(HTML), "{path}");
        assert_eq!(page.heading(), Some("Nothing here"), "{path}");
    }
    for path in ["/api/no-such-route", "/api", "/api/stages"] {
        let page = visitor.get(path).await?;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            page.header("content-type"),
            Some("application/json"),
            "{path}"
        );
        assert_eq!(
            json_body(&page),
            json!({"error": "not_found", "error_description": "No such API route"}),
            "{path}"
        );
    }

    // A stage page that does not exist, for a logged-in visitor and over the API.
    let passed = visitor.log_in("alice", "green-wristband-demo").await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER);
    let nowhere = visitor.get("/stages/atlantis").await?;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert_eq!(nowhere.heading(), Some("Nothing here"));
    let token = token_for(&festival, "alice", "green-wristband-demo").await?;
    let api = with_bearer(&festival, "/api/stages/atlantis", &token).await?;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(
        json_body(&api),
        json!({"error": "not_found", "error_description": "There is no such stage: try main, forest or harbour"})
    );
    Ok(())
}

#[tokio::test]
async fn the_token_endpoint_answers_an_unknown_user_exactly_as_a_wrong_password()
-> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let attempt = async |username: &str| {
        token_request(
            &festival,
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", "not the password"),
            ],
        )
        .await
    };
    let wrong_password = attempt("alice").await?;
    let unknown_user = attempt("nobody-by-this-name").await?;

    assert_eq!(wrong_password.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_user.status, wrong_password.status);
    assert_eq!(unknown_user.body, wrong_password.body);
    assert_eq!(
        json_body(&unknown_user),
        json!({"error": "invalid_grant", "error_description": "The username or password is incorrect"})
    );
    let headers = |page: &Page| -> Vec<(String, String)> {
        page.headers
            .iter()
            .filter(|(name, _)| *name != "date")
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("?").to_owned()))
            .collect()
    };
    assert_eq!(headers(&unknown_user), headers(&wrong_password));
    Ok(())
}

#[tokio::test]
async fn guessing_a_password_stops_after_ten_failures_known_user_or_not() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let guess = async |username: &str, password: &str| {
        token_request(
            &festival,
            &[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    };
    for username in ["bob", "nobody-by-this-name"] {
        for attempt in 1..=10 {
            let page = guess(username, &format!("guess number {attempt}")).await?;
            assert_eq!(
                page.status,
                StatusCode::BAD_REQUEST,
                "{username} #{attempt}"
            );
        }
    }
    // The eleventh try is refused unchecked, even with bob's real password, and an unknown
    // name is refused exactly alike.
    let bob = guess("bob", "gold-wristband-demo").await?;
    let nobody = guess("nobody-by-this-name", "gold-wristband-demo").await?;
    for page in [&bob, &nobody] {
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(json_body(page)["error"], "temporarily_unavailable");
        let retry_after: u64 = page
            .headers
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .expect("a Retry-After in seconds");
        assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    }
    assert_eq!(bob.body, nobody.body);
    // Alice was never guessed at.
    token_for(&festival, "alice", "green-wristband-demo").await?;
    Ok(())
}

#[tokio::test]
async fn the_gate_answers_an_unknown_user_exactly_as_a_wrong_password() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;

    let wrong_password = visitor.log_in("alice", "not the password").await?;
    let unknown_user = visitor.log_in("nobody", "not the password").await?;

    assert_eq!(wrong_password.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown_user.status, wrong_password.status);
    assert_eq!(wrong_password.alert(), Some("Wrong username or password."));
    assert_eq!(unknown_user.alert(), wrong_password.alert());
    // The pages differ only in the username shown back in the form.
    assert_eq!(
        unknown_user
            .body
            .replace("value=\"nobody\"", "value=\"[typed]\""),
        wrong_password
            .body
            .replace("value=\"alice\"", "value=\"[typed]\"")
    );
    Ok(())
}

#[tokio::test]
async fn no_password_token_or_session_id_reaches_the_server_log_at_any_level() -> anyhow::Result<()>
{
    let mut festival = Festival::start(FestivalOptions {
        env: vec![("RUST_LOG".to_owned(), "trace".to_owned())],
        ..FestivalOptions::demo()
    })
    .await?;
    let visitor = Visitor::new(festival.base_url())?;
    let wrong_password = "hunter2 is not my password at all";

    let bought = visitor.buy_ticket("gina", PASSWORD, "green").await?;
    assert_eq!(bought.status, StatusCode::SEE_OTHER, "{}", bought.body);
    let before_login = visitor.session_id().expect("a session");
    let csrf_before = visitor.csrf_token("/gate").await?;
    let refused = visitor.log_in("gina", wrong_password).await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let passed = visitor.log_in("gina", PASSWORD).await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER);
    let after_login = visitor.session_id().expect("a session");
    let wristband = visitor.get("/wristband").await?;
    let csrf_after = wristband.csrf_token().expect("a logout form").to_owned();
    let token = token_for(&festival, "gina", PASSWORD).await?;
    let me = with_bearer(&festival, "/api/me", &token).await?;
    assert_eq!(me.status, StatusCode::OK);
    let in_url =
        get_with_authorization(&festival, &format!("/api/me?access_token={token}"), &[]).await?;
    assert_eq!(in_url.status, StatusCode::BAD_REQUEST);

    // A username that tries to start a log line of its own.
    let forged_line = "mallory\n2030-01-01T00:00:00.000000Z  INFO festival_app: admin logged in";
    token_request(
        &festival,
        &[
            ("grant_type", "password"),
            ("username", forged_line),
            ("password", wrong_password),
        ],
    )
    .await?;

    // The last request's log line is written before its response: wait for it, then read.
    let health = read(reqwest::get(festival.url("/health")).await?).await?;
    assert_eq!(health.status, StatusCode::OK);
    let log = festival.output_until("path=\"/health\"").await?;
    assert!(
        log.iter().any(|line| line.contains("path=\"/api/me\"")),
        "the log was captured:\n{}",
        log.join("\n")
    );

    let signature = token.rsplit('.').next().expect("a signature");
    let form_encoded = |text: &str| text.replace(' ', "+");
    let secrets = [
        ("the password", PASSWORD.to_owned()),
        ("the password, form-encoded", form_encoded(PASSWORD)),
        ("the wrong password", wrong_password.to_owned()),
        (
            "the wrong password, form-encoded",
            form_encoded(wrong_password),
        ),
        ("the access token", token.clone()),
        ("the access token's signature", signature.to_owned()),
        ("the session id before login", before_login),
        ("the session id after login", after_login),
        ("the CSRF token before login", csrf_before),
        ("the CSRF token after login", csrf_after),
        ("a password hash", "$argon2id$".to_owned()),
    ];
    for line in &log {
        for (what, secret) in &secrets {
            assert!(!line.contains(secret.as_str()), "{what} was logged: {line}");
        }
        assert!(
            !line.starts_with("2030-01-01"),
            "a username forged a log line: {line}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn responses_carry_the_security_headers_and_tokens_are_never_cached() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;

    // Every page: no framing, no sniffing, no referrer leaving the site, no caching, and a
    // content security policy that allows no script at all.
    let passed = visitor.log_in("bob", "gold-wristband-demo").await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER);
    for path in [
        "/",
        "/tickets",
        "/wristband",
        "/stages/main",
        "/food",
        "/backstage",
    ] {
        let page = visitor.get(path).await?;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(page.header("content-security-policy"), Some(CSP), "{path}");
        assert_eq!(page.header("cache-control"), Some("no-store"), "{path}");
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(page.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            page.header("referrer-policy"),
            Some("same-origin"),
            "{path}"
        );
    }

    // Every answer of the token endpoint, success or failure, is uncacheable (RFC 6749 §5.1).
    let issued = token_request(
        &festival,
        &[
            ("grant_type", "password"),
            ("username", "bob"),
            ("password", "gold-wristband-demo"),
        ],
    )
    .await?;
    let refused = token_request(&festival, &[("grant_type", "password")]).await?;
    for (case, page) in [("issued", &issued), ("refused", &refused)] {
        assert_eq!(page.header("cache-control"), Some("no-store"), "{case}");
        assert_eq!(page.header("pragma"), Some("no-cache"), "{case}");
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{case}"
        );
    }

    // API answers and error pages are not sniffed or framed either.
    for path in ["/api/me", "/api/nowhere", "/nowhere", "/health"] {
        let page = visitor.get(path).await?;
        assert_eq!(
            page.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(page.header("x-frame-options"), Some("DENY"), "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn the_gold_quota_holds_when_buyers_race_for_the_last_tickets() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions {
        env: vec![("FESTIVAL_GOLD_QUOTA".to_owned(), "3".to_owned())],
        ..FestivalOptions::demo()
    })
    .await?;
    // Demo mode sold one to bob: two are left, and six buyers race for them.
    let buyers: Vec<Visitor> = (0..6)
        .map(|_| Visitor::new(festival.base_url()))
        .collect::<anyhow::Result<_>>()?;
    let mut tokens = Vec::new();
    for buyer in &buyers {
        tokens.push(buyer.csrf_token("/tickets").await?);
    }
    let mut race = tokio::task::JoinSet::new();
    for (number, (buyer, csrf)) in buyers.iter().zip(tokens).enumerate() {
        let buyer = buyer.clone();
        race.spawn(async move {
            let username = format!("racer{number}");
            buyer
                .post_form(
                    "/tickets",
                    &[
                        ("csrf", &csrf),
                        ("wristband", "gold"),
                        ("username", &username),
                        ("password", PASSWORD),
                    ],
                )
                .await
        });
    }
    let mut sold = 0;
    let mut sold_out = 0;
    while let Some(outcome) = race.join_next().await {
        let page = outcome??;
        match page.status {
            StatusCode::SEE_OTHER => sold += 1,
            StatusCode::CONFLICT => {
                assert_eq!(
                    page.alert(),
                    Some("Gold tickets are sold out. Green tickets are still available.")
                );
                sold_out += 1;
            }
            other => panic!("unexpected {other}: {}", page.body),
        }
    }
    assert_eq!((sold, sold_out), (2, 4));
    let shop = buyers[0].get("/tickets").await?;
    assert!(shop.body.contains("<em>Sold out.</em>"));
    Ok(())
}
