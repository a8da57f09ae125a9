//! The visitor's journey through the real `festival-app` binary, over real HTTP.
//!
//! Each test starts its own festival (demo mode, fresh temporary data folder, free port) and
//! walks part of the story the way a browser or an API client would: line-up, ticket shop,
//! gate, wristband, stages, food, backstage, logout, and a restart on the same database. Every
//! hop is checked on its own: the client never follows redirects.

#![allow(clippy::expect_used)]

use reqwest::StatusCode;
use reqwest::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, COOKIE, PRAGMA, WWW_AUTHENTICATE,
};
use serde_json::{Value, json};
use wristband_e2e::{Festival, FestivalOptions, Page, SESSION_COOKIE, Visitor, read};

const HTML: &str = "text/html; charset=utf-8";

/// A passphrase the password policy accepts (long, not a common password, not the username).
const PASSWORD: &str = "lanterns over the harbour stage";

/// The attributes of a `Set-Cookie` header after the `name=value` pair, sorted.
fn cookie_attributes(set_cookie: &str) -> Vec<&str> {
    let mut attributes: Vec<&str> = set_cookie.split("; ").skip(1).collect();
    attributes.sort_unstable();
    attributes
}

/// The value of the `name=value` pair of a `Set-Cookie` header.
fn cookie_value(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=').map_or("", |(_, value)| value)
}

/// Sends `GET path` with exactly the session cookie `session_id` and nothing else, as an
/// attacker replaying a captured cookie would.
async fn replay(festival: &Festival, path: &str, session_id: &str) -> anyhow::Result<Page> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client
        .get(festival.url(path))
        .header(COOKIE, format!("{SESSION_COOKIE}={session_id}"))
        .send()
        .await?;
    read(response).await
}

/// Asks `POST /token` for a wristband token with the password grant.
async fn token_for(festival: &Festival, username: &str, password: &str) -> anyhow::Result<Page> {
    let response = reqwest::Client::new()
        .post(festival.url("/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await?;
    read(response).await
}

/// `GET path` with `Authorization: Bearer <token>`.
async fn with_bearer(festival: &Festival, path: &str, token: &str) -> anyhow::Result<Page> {
    let response = reqwest::Client::new()
        .get(festival.url(path))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .send()
        .await?;
    read(response).await
}

/// How many gold tickets the shop says are left ("N left.").
fn gold_left(shop: &Page) -> Option<u32> {
    let end = shop.body.find(" left.")?;
    let start = shop.body[..end].rfind(|c: char| !c.is_ascii_digit())? + 1;
    shop.body[start..end].parse().ok()
}

fn json_body(page: &Page) -> Value {
    serde_json::from_str(&page.body).expect("the body is JSON")
}

#[tokio::test]
async fn a_green_visitor_buys_a_ticket_passes_the_gate_walks_the_festival_and_leaves()
-> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;

    // The line-up is open to everyone.
    let lineup = visitor.get("/").await?;
    assert_eq!(lineup.status, StatusCode::OK);
    assert_eq!(lineup.header("content-type"), Some(HTML));
    assert_eq!(lineup.heading(), Some("Three stages. One wristband."));
    for stage in ["Main Stage", "Forest Stage", "Harbour Stage"] {
        assert!(lineup.body.contains(stage), "the line-up lists {stage}");
    }
    assert!(!lineup.body.contains("Log out"), "nobody is logged in yet");

    // The ticket shop sells a green ticket and sends the buyer to the gate.
    let bought = visitor.buy_ticket("carol", PASSWORD, "green").await?;
    assert_eq!(bought.status, StatusCode::SEE_OTHER, "{}", bought.body);
    assert_eq!(bought.location(), Some("/gate?bought=green"));
    let gate = visitor.get("/gate?bought=green").await?;
    assert_eq!(gate.status, StatusCode::OK);
    assert!(
        gate.body
            .contains("Your green ticket is ready. Show it at the gate: log in below."),
        "the gate greets the new ticket holder"
    );

    // The session before login (the shop and the gate set it) is not the one after it.
    let before_login = visitor.session_id().expect("the shop started a session");
    let passed = visitor.log_in("carol", PASSWORD).await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
    assert_eq!(passed.location(), Some("/wristband"));
    let set_cookie = passed
        .set_cookie(SESSION_COOKIE)
        .expect("login sets the session cookie");
    assert_eq!(
        cookie_attributes(set_cookie),
        ["HttpOnly", "Max-Age=1800", "Path=/", "SameSite=Lax"],
        "{set_cookie}"
    );
    let after_login = cookie_value(set_cookie).to_owned();
    assert_ne!(
        after_login, before_login,
        "the session id is rotated at login"
    );
    assert_eq!(visitor.session_id().as_deref(), Some(after_login.as_str()));
    let fixated = replay(&festival, "/wristband", &before_login).await?;
    assert_eq!(fixated.status, StatusCode::SEE_OTHER);
    assert_eq!(
        fixated.location(),
        Some("/gate?next=%2Fwristband"),
        "the pre-login session id opens nothing"
    );

    // The wristband is green, and says what it opens.
    let wristband = visitor.get("/wristband").await?;
    assert_eq!(wristband.status, StatusCode::OK);
    assert_eq!(wristband.header("content-type"), Some(HTML));
    assert_eq!(wristband.header("cache-control"), Some("no-store"));
    assert_eq!(wristband.heading(), Some("Your wristband, carol"));
    assert!(wristband.body.contains(
        r#"<div class="wristband wristband-green" role="img" aria-label="A green wristband">"#
    ));
    assert!(
        wristband
            .body
            .contains(r#"<code class="scope">stages</code>"#)
    );
    assert!(
        !wristband
            .body
            .contains(r#"<code class="scope">backstage</code>"#)
    );

    // Every stage and the food tents let a green wristband in.
    for (slug, name) in [
        ("main", "Main Stage"),
        ("forest", "Forest Stage"),
        ("harbour", "Harbour Stage"),
    ] {
        let stage = visitor.get(&format!("/stages/{slug}")).await?;
        assert_eq!(stage.status, StatusCode::OK, "/stages/{slug}");
        assert_eq!(stage.heading(), Some(name));
        assert!(stage.body.contains("Wristband checked. Welcome!"));
    }
    let food = visitor.get("/food").await?;
    assert_eq!(food.status, StatusCode::OK);
    assert_eq!(food.heading(), Some("Food tents"));

    // Backstage turns a green wristband away with a friendly page, not a redirect.
    let backstage = visitor.get("/backstage").await?;
    assert_eq!(backstage.status, StatusCode::FORBIDDEN);
    assert_eq!(backstage.header("content-type"), Some(HTML));
    assert_eq!(backstage.location(), None);
    assert_eq!(backstage.heading(), Some("Gold wristbands only"));
    assert!(backstage.body.contains(r#"<p class="status">403</p>"#));
    assert!(
        backstage.body.contains("Log out"),
        "the visitor is still logged in on the refusal page"
    );

    // Logging out is a POST; the server forgets the session and the browser drops the cookie.
    let left = visitor.log_out().await?;
    assert_eq!(left.status, StatusCode::SEE_OTHER, "{}", left.body);
    assert_eq!(left.location(), Some("/"));
    let removal = left
        .set_cookie(SESSION_COOKIE)
        .expect("logout removes the cookie");
    assert_eq!(cookie_value(removal), "");
    assert!(removal.contains("; Max-Age=0"), "{removal}");
    assert_eq!(visitor.session_id(), None);

    // The old cookie, replayed, is the cookie of nobody: back to the gate.
    let replayed = replay(&festival, "/wristband", &after_login).await?;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER);
    assert_eq!(replayed.location(), Some("/gate?next=%2Fwristband"));
    let replayed_backstage = replay(&festival, "/backstage", &after_login).await?;
    assert_eq!(replayed_backstage.status, StatusCode::SEE_OTHER);
    assert_eq!(
        replayed_backstage.location(),
        Some("/gate?next=%2Fbackstage")
    );
    Ok(())
}

#[tokio::test]
async fn a_gold_visitor_wears_a_gold_wristband_and_is_let_backstage() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;

    let bought = visitor.buy_ticket("dora", PASSWORD, "gold").await?;
    assert_eq!(bought.status, StatusCode::SEE_OTHER, "{}", bought.body);
    assert_eq!(bought.location(), Some("/gate?bought=gold"));
    let passed = visitor.log_in("dora", PASSWORD).await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
    assert_eq!(passed.location(), Some("/wristband"));

    let wristband = visitor.get("/wristband").await?;
    assert_eq!(wristband.status, StatusCode::OK);
    assert!(wristband.body.contains(
        r#"<div class="wristband wristband-gold" role="img" aria-label="A gold wristband">"#
    ));
    assert!(
        wristband
            .body
            .contains(r#"<code class="scope">backstage</code>"#)
    );

    let backstage = visitor.get("/backstage").await?;
    assert_eq!(backstage.status, StatusCode::OK);
    assert_eq!(backstage.heading(), Some("Backstage"));
    assert!(backstage.body.contains("Come on through, dora."));
    let stage = visitor.get("/stages/main").await?;
    assert_eq!(stage.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn a_visitor_sent_to_the_gate_from_backstage_is_brought_back_there_after_login()
-> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;

    let turned_back = visitor.get("/backstage").await?;
    assert_eq!(turned_back.status, StatusCode::SEE_OTHER);
    assert_eq!(turned_back.location(), Some("/gate?next=%2Fbackstage"));

    let gate = visitor.get("/gate?next=%2Fbackstage").await?;
    assert_eq!(gate.status, StatusCode::OK);
    assert_eq!(
        wristband_e2e::hidden_field(&gate.body, "next"),
        Some("/backstage")
    );
    let csrf = gate.csrf_token().expect("the gate has a form").to_owned();
    let passed = visitor
        .post_form(
            "/gate",
            &[
                ("csrf", &csrf),
                ("next", "/backstage"),
                ("username", "bob"),
                ("password", "gold-wristband-demo"),
            ],
        )
        .await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
    assert_eq!(passed.location(), Some("/backstage"));
    let backstage = visitor.get("/backstage").await?;
    assert_eq!(backstage.status, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn tickets_sessions_and_the_gold_quota_survive_a_restart_on_the_same_database()
-> anyhow::Result<()> {
    let quota = vec![("FESTIVAL_GOLD_QUOTA".to_owned(), "5".to_owned())];
    let festival = Festival::start(FestivalOptions {
        env: quota.clone(),
        ..FestivalOptions::demo()
    })
    .await?;
    let buyer = Visitor::new(festival.base_url())?;
    let on_sale = gold_left(&buyer.get("/tickets").await?).expect("the shop shows the count");
    let bought = buyer.buy_ticket("erin", PASSWORD, "gold").await?;
    assert_eq!(bought.status, StatusCode::SEE_OTHER, "{}", bought.body);
    let passed = buyer.log_in("erin", PASSWORD).await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
    let session_id = buyer.session_id().expect("logged in");
    let shop = buyer.get("/tickets").await?;
    assert_eq!(
        gold_left(&shop),
        Some(on_sale - 1),
        "one more gold ticket sold"
    );

    let (clean, _keep_alive, data_dir) = festival.stop_keeping_data().await?;
    assert!(clean, "festival-app exits 0 on SIGTERM");

    let festival = Festival::start(FestivalOptions {
        data_dir: Some(data_dir),
        env: quota,
        ..FestivalOptions::demo()
    })
    .await?;

    // The session lives in the database: the visitor is still logged in.
    let resumed = replay(&festival, "/wristband", &session_id).await?;
    assert_eq!(resumed.status, StatusCode::OK);
    assert_eq!(resumed.heading(), Some("Your wristband, erin"));

    // The ticket opens the gate again, with the same colour.
    let returning = Visitor::new(festival.base_url())?;
    let passed = returning.log_in("erin", PASSWORD).await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
    assert_eq!(passed.location(), Some("/wristband"));
    let backstage = returning.get("/backstage").await?;
    assert_eq!(backstage.status, StatusCode::OK);

    // The sale is remembered: the quota is reset to five at start, the tickets sold stay sold.
    let shop = returning.get("/tickets").await?;
    assert_eq!(
        gold_left(&shop),
        Some(on_sale - 1),
        "the sold count survived"
    );

    // The accounts seeded at the first start still work after the second.
    let alice = Visitor::new(festival.base_url())?;
    let passed = alice.log_in("alice", "green-wristband-demo").await?;
    assert_eq!(passed.status, StatusCode::SEE_OTHER, "{}", passed.body);
    Ok(())
}

#[tokio::test]
async fn a_green_ticket_holder_uses_the_json_api_with_a_bearer_token() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let visitor = Visitor::new(festival.base_url())?;
    let bought = visitor.buy_ticket("fred", PASSWORD, "green").await?;
    assert_eq!(bought.status, StatusCode::SEE_OTHER, "{}", bought.body);

    // The ticket bought in the shop is good at the token endpoint too.
    let issued = token_for(&festival, "fred", PASSWORD).await?;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    assert_eq!(issued.header(CACHE_CONTROL.as_str()), Some("no-store"));
    assert_eq!(issued.header(PRAGMA.as_str()), Some("no-cache"));
    assert_eq!(
        issued.header(CONTENT_TYPE.as_str()),
        Some("application/json")
    );
    let body = json_body(&issued);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "stages");
    let token = body["access_token"].as_str().expect("a token string");
    assert_eq!(token.split('.').count(), 3, "a compact JWS");

    let me = with_bearer(&festival, "/api/me", token).await?;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        json_body(&me),
        json!({"username": "fred", "wristband": "green", "scopes": ["stages"]})
    );

    let stage = with_bearer(&festival, "/api/stages/main", token).await?;
    assert_eq!(stage.status, StatusCode::OK);
    assert_eq!(
        json_body(&stage),
        json!({"stage": "main", "welcome": "Welcome to the Main Stage, fred."})
    );

    let backstage = with_bearer(&festival, "/api/backstage", token).await?;
    assert_eq!(backstage.status, StatusCode::FORBIDDEN);
    assert_eq!(
        backstage.header(WWW_AUTHENTICATE.as_str()),
        Some(
            "Bearer realm=\"wristband\", error=\"insufficient_scope\", \
             error_description=\"The access token does not carry the scope this route requires\", \
             scope=\"backstage\""
        )
    );
    assert_eq!(
        json_body(&backstage),
        json!({
            "error": "insufficient_scope",
            "error_description": "The access token does not carry the scope this route requires"
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_gold_ticket_holder_enters_backstage_through_the_json_api() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;

    let issued = token_for(&festival, "bob", "gold-wristband-demo").await?;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let body = json_body(&issued);
    assert_eq!(body["scope"], "stages backstage");
    let token = body["access_token"].as_str().expect("a token string");

    let me = with_bearer(&festival, "/api/me", token).await?;
    assert_eq!(
        json_body(&me),
        json!({"username": "bob", "wristband": "gold", "scopes": ["stages", "backstage"]})
    );
    let backstage = with_bearer(&festival, "/api/backstage", token).await?;
    assert_eq!(backstage.status, StatusCode::OK);
    assert_eq!(
        json_body(&backstage),
        json!({"area": "backstage", "welcome": "Welcome backstage, bob."})
    );

    // Without the token, the same door asks for one (RFC 6750 §3: no error code).
    let anonymous = read(reqwest::get(festival.url("/api/backstage")).await?).await?;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.header(WWW_AUTHENTICATE.as_str()),
        Some("Bearer realm=\"wristband\"")
    );
    Ok(())
}
