//! Lesson 08, OpenID Connect: the ID token. Read it, check every claim the way OIDC Core
//! §3.1.3.7 asks, watch each forgery fail on the check it targets, and link the account by
//! (`iss`, `sub`).
//!
//! [`transcript`] reuses lesson 07's in-process world (the real `ticket-vendor` router, a small
//! festival on `wristband-oidc`, a frozen clock, seeded randomness), so the output is the same
//! on every run; `main` prints it and the snapshot test pins it.
//!
//! ```
//! let transcript = lesson_08_openid_connect::transcript();
//! assert!(transcript.contains("verdict: accepted"));
//! ```

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use lesson_07_third_party_login::print::{heading, line, lines};
use lesson_07_third_party_login::world::{
    Browser, CLIENT_ID, FESTIVAL, GATES_OPEN, VENDOR_KEY_SEED, Visit, World,
};
use serde_json::{Map, Value, json};
use ticket_vendor::VendorSigningKey;
use wristband_oidc::{
    Clock as _, ExternalIdentity, HttpTransport, IdTokenValidator, IdentityLinks, Jwks, Linked,
    Policy, ServiceTransport, VerifiedIdentity, Wristband, decode_unverified, find_or_create,
    username_candidates,
};

/// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410 §7), so `jsonwebtoken` can sign with it.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// Mallory's own Ed25519 seed: a key the vendor never published.
const MALLORY_SEED: [u8; 32] = [0x6d; 32];
/// Carol's subject at the vendor.
const CAROL_SUBJECT: &str = "tv-5b0c8f1e-2d4a-4f6b-9c3e-7a1d2e3f4a5b";
/// Another identity provider the festival might also trust one day.
const OTHER_ISSUER: &str = "https://tickets.example";

fn encoding_key(seed: [u8; 32]) -> EncodingKey {
    let mut der = ED25519_PKCS8_PREFIX.to_vec();
    der.extend_from_slice(&seed);
    EncodingKey::from_ed_der(&der)
}

fn b64_json(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// Signs `claims` under `header` with an Ed25519 seed, whatever the header claims.
fn sign(header: &Value, claims: &Value, seed: [u8; 32]) -> String {
    let signing_input = format!("{}.{}", b64_json(header), b64_json(claims));
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &encoding_key(seed),
        Algorithm::EdDSA,
    )
    .unwrap_or_default();
    format!("{signing_input}.{signature}")
}

fn rfc3339(seconds: u64) -> String {
    i64::try_from(seconds)
        .ok()
        .and_then(|seconds| time::OffsetDateTime::from_unix_timestamp(seconds).ok())
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn indent_json(out: &mut String, value: &Value, indent: &str) {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    for json_line in pretty.lines() {
        line(out, &format!("{indent}{json_line}"));
    }
}

/// The festival's accounts in memory: usernames with their wristband, and the links from
/// (`iss`, `sub`) to a username.
#[derive(Default)]
struct Accounts {
    users: Mutex<Vec<(String, Wristband)>>,
    links: Mutex<HashMap<ExternalIdentity, String>>,
}

impl Accounts {
    fn with_password_accounts(names: &[(&str, Wristband)]) -> Self {
        let accounts = Self::default();
        accounts
            .users
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(names.iter().map(|(name, band)| ((*name).to_owned(), *band)));
        accounts
    }
}

impl IdentityLinks for Accounts {
    type Account = String;
    type Error = Infallible;

    async fn find_linked(&self, identity: &ExternalIdentity) -> Result<Option<String>, Infallible> {
        Ok(self
            .links
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(identity)
            .cloned())
    }

    async fn create_linked(&self, identity: &VerifiedIdentity) -> Result<String, Infallible> {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        let mut links = self.links.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = links.get(&identity.external_identity()) {
            return Ok(existing.clone());
        }
        let candidates = username_candidates(identity);
        let username = candidates
            .iter()
            .find(|candidate| !users.iter().any(|(taken, _)| taken == *candidate))
            .or(candidates.last())
            .cloned()
            .unwrap_or_default();
        users.push((
            username.clone(),
            identity.ticket.unwrap_or(Wristband::Green),
        ));
        links.insert(identity.external_identity(), username.clone());
        Ok(username)
    }
}

/// Runs the lesson and returns its transcript.
///
/// # Panics
///
/// Panics if the in-process vendor or festival misbehaves in a way the lesson does not
/// expect, which would be a bug in the workspace.
#[allow(clippy::expect_used)]
pub fn transcript() -> String {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a single-threaded runtime")
        .block_on(run())
}

/// One forged token and the story behind it.
struct Forgery {
    title: &'static str,
    how: &'static str,
    token: String,
}

#[allow(clippy::expect_used, clippy::too_many_lines)]
async fn run() -> String {
    let mut out = String::new();
    let world = World::new();

    heading(&mut out, "Lesson 08: OpenID Connect, the ID token");
    lines(
        &mut out,
        &[
            "OAuth 2.0 alone hands the festival an access token: permission to call the",
            "vendor's API, which says nothing about who is at the gate. OpenID Connect adds",
            "the ID token: a JWT signed by the vendor, addressed to the festival, saying who",
            "logged in, when, and for which login attempt. The festival must check every",
            "part of that statement before believing a word of it.",
        ],
    );

    heading(
        &mut out,
        "Step 1: Dave logs in through the vendor (lesson 07, condensed)",
    );
    let mut dave = Browser::new("dave");
    let vendor_answer = dave
        .log_in_at_vendor(&world, "dave", "vendor-gold-demo")
        .await;
    let callback_url = vendor_answer
        .exchange
        .response_header("location")
        .expect("a redirect to the festival")
        .to_owned();
    let callback = dave.get(&world, &callback_url).await;
    let token_exchange = callback
        .back_channel
        .iter()
        .find(|exchange| exchange.request.start_line.starts_with("POST /token"))
        .expect("the festival traded the code");
    let token_response: Value =
        serde_json::from_slice(&token_exchange.response.body).expect("a JSON token response");
    let id_token = token_response["id_token"]
        .as_str()
        .expect("an ID token")
        .to_owned();
    line(
        &mut out,
        "On the back channel, the vendor answered the festival's POST /token with:",
    );
    line(&mut out, &format!("  id_token: {id_token}"));
    line(
        &mut out,
        &format!(
            "and the festival logged Dave in ({}).",
            callback.exchange.status()
        ),
    );

    heading(&mut out, "Step 2: read it (anyone can)");
    let decoded = decode_unverified(&id_token).expect("a well-formed token");
    line(&mut out, "header:");
    indent_json(&mut out, &Value::Object(decoded.header.clone()), "  ");
    line(&mut out, "claims:");
    indent_json(&mut out, &Value::Object(decoded.claims.clone()), "  ");
    line(&mut out, "what each claim says:");
    let claim = |name: &str| decoded.claims.get(name).cloned().unwrap_or(Value::Null);
    let number = |name: &str| claim(name).as_u64().unwrap_or_default();
    for (name, meaning) in [
        (
            "iss",
            "who says so: the vendor's issuer identifier".to_owned(),
        ),
        (
            "sub",
            "who logged in: the vendor's id for Dave, stable and unique at this issuer".to_owned(),
        ),
        ("aud", "who it is for: the festival's client id".to_owned()),
        (
            "azp",
            "the client it was issued to (the authorized party)".to_owned(),
        ),
        ("exp", format!("good until {}", rfc3339(number("exp")))),
        ("iat", format!("issued at {}", rfc3339(number("iat")))),
        (
            "auth_time",
            format!(
                "Dave typed his password at {}",
                rfc3339(number("auth_time"))
            ),
        ),
        (
            "nonce",
            "the value the festival put in this login's request".to_owned(),
        ),
        ("name", "display name (scope profile)".to_owned()),
        ("ticket", "the ticket Dave bought (scope ticket)".to_owned()),
    ] {
        line(&mut out, &format!("  {name:<10} {meaning}"));
    }
    lines(
        &mut out,
        &[
            "Nothing here is secret, and nothing here is true yet: anyone can write such",
            "JSON. What makes it the vendor's word is the signature, and what makes it",
            "meant for this festival and this login are the claims the festival checks.",
        ],
    );

    heading(
        &mut out,
        "Step 3: check it, as the festival does (OIDC Core 3.1.3.7)",
    );
    let metadata = world.rp.metadata().await.expect("discovery succeeds");
    let vendor_channel =
        ServiceTransport::<axum::Router, axum::body::Body>::new(world.vendor.clone());
    let jwks_response = vendor_channel
        .send(
            http::Request::get(metadata.jwks_uri.as_str())
                .body(Vec::new())
                .expect("a request"),
        )
        .await
        .expect("the vendor answers");
    let jwks = Jwks::from_json(jwks_response.body()).expect("a key set");
    let validator = IdTokenValidator::new(
        metadata.issuer.clone(),
        CLIENT_ID,
        metadata.accepted_algorithms(),
        world.clock.clone(),
        Policy::default(),
    );
    let nonce = sent_nonce(&vendor_answer);
    let kid = decoded
        .header
        .get("kid")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let now = world.clock.now();
    let checks = [
        format!(
            "alg        {} is one the vendor advertises ({:?}); never \"none\", never HS256",
            decoded
                .header
                .get("alg")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            metadata.id_token_signing_alg_values_supported
        ),
        format!(
            "kid        {kid} is in the key set fetched from {}",
            metadata.jwks_uri
        ),
        "signature  verifies with that key: the vendor signed exactly these bytes".to_owned(),
        format!(
            "iss        {} equals the configured issuer, character for character",
            claim("iss")
        ),
        format!(
            "aud        {} lists the festival's client id, and no one else",
            claim("aud")
        ),
        format!("azp        {} is the festival's client id", claim("azp")),
        format!(
            "exp        {} is after now ({}), with 60 s allowed for clock skew",
            rfc3339(number("exp")),
            rfc3339(now)
        ),
        format!(
            "iat        {} is not in the future and less than 10 minutes old",
            rfc3339(number("iat"))
        ),
        "nonce      equals the one kept in Dave's session (compared in constant time)".to_owned(),
    ];
    for check in &checks {
        line(&mut out, &format!("  {check}"));
    }
    match validator.validate(&id_token, &nonce, &jwks) {
        Ok(identity) => {
            line(&mut out, "  verdict: accepted");
            line(
                &mut out,
                &format!(
                    "  identity: iss={} sub={} name={} ticket={}",
                    identity.issuer,
                    identity.subject,
                    identity.name.as_deref().unwrap_or("-"),
                    identity.ticket.map_or("-", Wristband::as_str)
                ),
            );
        }
        Err(err) => line(&mut out, &format!("  verdict: refused: {err}")),
    }
    lines(
        &mut out,
        &[
            "The signature comes first: no claim is read for a decision until the",
            "vendor's key has vouched for it. The key comes from the vendor's jwks_uri,",
            "found through discovery, and never from the token itself.",
        ],
    );

    heading(&mut out, "Step 4: every forgery, refused");
    let vendor_kid = VendorSigningKey::from_seed(VENDOR_KEY_SEED)
        .kid()
        .to_owned();
    let header = json!({ "typ": "JWT", "alg": "EdDSA", "kid": vendor_kid });
    let with = |changes: &[(&str, Value)]| -> Value {
        let mut claims: Map<String, Value> = decoded.claims.clone();
        for (name, value) in changes {
            claims.insert((*name).to_owned(), value.clone());
        }
        Value::Object(claims)
    };
    let other_login_nonce = world
        .rp
        .start_login()
        .await
        .expect("a second login starts")
        .pending
        .nonce()
        .to_owned();
    let tampered = {
        let mut parts: Vec<String> = id_token.split('.').map(str::to_owned).collect();
        parts[1] = b64_json(&with(&[
            ("sub", json!(CAROL_SUBJECT)),
            ("name", json!("Carol")),
        ]));
        parts.join(".")
    };
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &decoded.claims,
        &EncodingKey::from_secret(public_key_x(jwks_response.body()).as_bytes())
            .expect("an HMAC key"),
    )
    .expect("signing");

    line(
        &mut out,
        "Signed with the vendor's own key (as if a token meant for someone else, or",
    );
    line(
        &mut out,
        "from another login, found its way to the festival):",
    );
    let signed_by_vendor = [
        Forgery {
            title: "a token the vendor issued to another client",
            how: "\"aud\": \"merch-stand\", \"azp\": \"merch-stand\"",
            token: sign(
                &header,
                &with(&[("aud", json!("merch-stand")), ("azp", json!("merch-stand"))]),
                VENDOR_KEY_SEED,
            ),
        },
        Forgery {
            title: "a token for the festival and another audience",
            how: "\"aud\": [\"festival\", \"merch-stand\"]",
            token: sign(
                &header,
                &with(&[("aud", json!([CLIENT_ID, "merch-stand"]))]),
                VENDOR_KEY_SEED,
            ),
        },
        Forgery {
            title: "a token naming another issuer",
            how: "\"iss\": \"https://tickets.example\"",
            token: sign(
                &header,
                &with(&[("iss", json!(OTHER_ISSUER))]),
                VENDOR_KEY_SEED,
            ),
        },
        Forgery {
            title: "a token from another login attempt (replayed)",
            how: "\"nonce\" of a different login",
            token: sign(
                &header,
                &with(&[("nonce", json!(other_login_nonce))]),
                VENDOR_KEY_SEED,
            ),
        },
    ];
    for forgery in &signed_by_vendor {
        judge(&mut out, &validator, &jwks, &nonce, forgery);
    }
    line(&mut out, "\n* Dave's genuine token, ten minutes later");
    line(&mut out, "  how:      unchanged; the clock moved on");
    world.clock.set(GATES_OPEN + 600);
    verdict(&mut out, validator.validate(&id_token, &nonce, &jwks));
    world.clock.set(GATES_OPEN);

    line(&mut out, "\nNot signed by the vendor:");
    let unsigned = Forgery {
        title: "an unsigned token",
        how: "\"alg\": \"none\", signature dropped",
        token: format!(
            "{}.{}.",
            b64_json(&json!({ "typ": "JWT", "alg": "none" })),
            b64_json(&with(&[("ticket", json!("gold"))]))
        ),
    };
    let forgeries = [
        unsigned,
        Forgery {
            title: "Dave's token with an edited claim",
            how: "\"sub\" and \"name\" changed to Carol's in the payload, signature kept",
            token: tampered,
        },
        Forgery {
            title: "HMAC keyed with the vendor's public key",
            how: "\"alg\": \"HS256\", secret = the public key from /jwks",
            token: hs256,
        },
        Forgery {
            title: "signed by Mallory's own key under the vendor's kid",
            how: "Mallory's Ed25519 key, \"kid\" copied from the vendor",
            token: sign(&header, &with(&[("sub", json!("mallory"))]), MALLORY_SEED),
        },
        Forgery {
            title: "carrying Mallory's key in the header",
            how: "\"jwk\": {Mallory's public key}",
            token: sign(
                &json!({ "typ": "JWT", "alg": "EdDSA", "kid": vendor_kid, "jwk": { "kty": "OKP" } }),
                &with(&[("sub", json!("mallory"))]),
                MALLORY_SEED,
            ),
        },
    ];
    for forgery in &forgeries {
        judge(&mut out, &validator, &jwks, &nonce, forgery);
    }

    heading(
        &mut out,
        "Step 5: link the account by (iss, sub), never by email",
    );
    let identity = validator
        .validate(&id_token, &nonce, &jwks)
        .expect("Dave's token is valid");
    let accounts = Accounts::with_password_accounts(&[
        ("alice", Wristband::Green),
        ("bob", Wristband::Gold),
        ("dave", Wristband::Green),
    ]);
    lines(
        &mut out,
        &[
            "The festival already has password accounts alice, bob, and a dave who bought",
            "a green ticket at the festival itself. He is not necessarily the vendor's Dave.",
        ],
    );
    line(
        &mut out,
        &format!(
            "  link key: (iss, sub) = ({}, {})",
            identity.issuer, identity.subject
        ),
    );
    report_link(
        &mut out,
        "first vendor login",
        find_or_create(&accounts, &identity).await,
    );
    report_link(
        &mut out,
        "second vendor login",
        find_or_create(&accounts, &identity).await,
    );
    let lookalike = VerifiedIdentity {
        issuer: OTHER_ISSUER.to_owned(),
        claims: {
            let mut claims = identity.claims.clone();
            claims.insert("email".to_owned(), json!("dave@example.com"));
            claims
        },
        ..identity.clone()
    };
    lines(
        &mut out,
        &[
            "Suppose the festival also trusted a second provider, and someone there",
            "registered with the same display name, the same subject string and the",
            "email dave@example.com:",
        ],
    );
    report_link(
        &mut out,
        "login via https://tickets.example",
        find_or_create(&accounts, &lookalike).await,
    );
    lines(
        &mut out,
        &[
            "A separate account. `sub` is unique only within its issuer (OIDC Core 5.7),",
            "a display name is just a label, and an email claim proves nothing unless the",
            "provider verified it and the festival trusts that provider for that domain.",
            "Linking by any of them would hand Dave's gold wristband to a stranger. The",
            "username is a label too: the vendor's Dave became dave-2 because the festival's",
            "own dave exists, and a free name never decides whose account this is.",
        ],
    );
    line(&mut out, "  accounts now:");
    let users = accounts
        .users
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let links = accounts
        .links
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for (username, wristband) in users {
        let linked: Vec<String> = {
            let mut linked: Vec<String> = links
                .iter()
                .filter(|(_, account)| **account == username)
                .map(|(key, _)| format!("linked to ({}, {})", key.issuer, key.subject))
                .collect();
            linked.sort();
            linked
        };
        let how = if linked.is_empty() {
            "password".to_owned()
        } else {
            linked.join("; ")
        };
        line(&mut out, &format!("    {username:<8} {wristband:<5} {how}"));
    }
    line(
        &mut out,
        &format!(
            "\nFinally the festival straps its own wristband on dave-2, exactly as after a\npassword login (lesson 02), and his session at {FESTIVAL} carries on from there."
        ),
    );
    out
}

/// The nonce the festival sent in Dave's authorization request, as the vendor's login form
/// carried it back: the value kept in Dave's festival session.
fn sent_nonce(vendor_answer: &Visit) -> String {
    url::form_urlencoded::parse(&vendor_answer.exchange.request.body)
        .find(|(name, _)| name == "nonce")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// The vendor's public key (`x`) as published at `/jwks`.
fn public_key_x(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|jwks| jwks["keys"][0]["x"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn judge(
    out: &mut String,
    validator: &IdTokenValidator,
    jwks: &Jwks,
    nonce: &str,
    forgery: &Forgery,
) {
    line(out, &format!("\n* {}", forgery.title));
    line(out, &format!("  how:      {}", forgery.how));
    verdict(out, validator.validate(&forgery.token, nonce, jwks));
}

fn verdict(out: &mut String, result: Result<VerifiedIdentity, wristband_oidc::IdTokenError>) {
    match result {
        Ok(identity) => line(
            out,
            &format!(
                "  festival: ACCEPTED as {} (this must not happen)",
                identity.subject
            ),
        ),
        Err(err) => line(out, &format!("  festival: refused: {err}")),
    }
}

fn report_link(out: &mut String, what: &str, linked: Result<Linked<String>, Infallible>) {
    let text = match linked {
        Ok(Linked::Created(username)) => format!("no link yet: created account {username}"),
        Ok(Linked::Existing(username)) => format!("found the linked account {username}"),
        Err(never) => match never {},
    };
    line(out, &format!("  {what:<34} {text}"));
}
