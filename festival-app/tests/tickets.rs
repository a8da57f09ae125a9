//! The ticket shop: password rules, usernames, and the gold quota under concurrent purchases.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use axum::http::StatusCode;
use common::TestApp;

#[tokio::test]
async fn the_shop_shows_how_many_gold_tickets_are_left() {
    let festival = TestApp::with(|config| config.gold_quota = 5).await;
    let page = festival.browser().get("/tickets").await;
    assert_eq!(page.status, StatusCode::OK);
    // The demo's bob holds one of the five.
    assert!(page.body.contains("4 left."), "{}", page.body);
}

#[tokio::test]
async fn a_bought_ticket_opens_the_gate() {
    let festival = TestApp::demo().await;
    let mut browser = festival.browser();
    let page = browser
        .buy("carol", "three tents and a kettle", "green")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/gate?bought=green");
    let gate = browser.get("/gate?bought=green").await;
    assert!(gate.body.contains("Your green ticket is ready"));

    let page = browser
        .log_in("carol", "three tents and a kettle", "")
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let wristband = browser.get("/wristband").await;
    assert!(wristband.body.contains("wristband wristband-green"));
}

#[tokio::test]
async fn a_common_password_is_refused() {
    let festival = TestApp::demo().await;
    let page = festival
        .browser()
        .buy("carol", "Password123", "green")
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("one of the most common passwords"));
    assert!(
        page.body.contains("value=\"carol\""),
        "the username is kept"
    );
}

#[tokio::test]
async fn a_short_password_is_refused() {
    let festival = TestApp::demo().await;
    let page = festival.browser().buy("carol", "kettle", "green").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("at least 8 characters"));
}

#[tokio::test]
async fn a_sixty_four_character_passphrase_is_welcome() {
    let festival = TestApp::demo().await;
    let passphrase = "correct horse battery staple, then a long walk to the forest stage";
    assert!(passphrase.len() >= 64);
    let page = festival.browser().buy("carol", passphrase, "green").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_username_is_not_a_password() {
    let festival = TestApp::demo().await;
    let page = festival
        .browser()
        .buy("festival-goer", "festival-goer", "green")
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("cannot be the username"));
}

#[tokio::test]
async fn a_username_outside_the_alphabet_is_refused() {
    let festival = TestApp::demo().await;
    let page = festival
        .browser()
        .buy("<script>", "three tents and a kettle", "green")
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("lowercase letters"));
    assert!(
        page.body.contains("&#60;script&#62;") && !page.body.contains("<script>"),
        "what was typed is shown escaped"
    );
}

#[tokio::test]
async fn a_taken_username_is_refused() {
    let festival = TestApp::demo().await;
    let page = festival
        .browser()
        .buy("alice", "three tents and a kettle", "green")
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("is taken"));
}

#[tokio::test]
async fn an_unknown_wristband_colour_is_a_400() {
    let festival = TestApp::demo().await;
    let page = festival
        .browser()
        .buy("carol", "three tents and a kettle", "platinum")
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn buying_without_the_csrf_token_is_refused() {
    let festival = TestApp::demo().await;
    let mut browser = festival.browser();
    browser.get("/tickets").await;
    let page = browser
        .post_form(
            "/tickets",
            &[
                ("username", "carol"),
                ("password", "three tents and a kettle"),
                ("wristband", "gold"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        festival
            .app
            .state()
            .store
            .find_user("carol")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_gold_quota_is_exact_under_concurrent_purchases() {
    let festival = TestApp::with(|config| {
        config.demo = false;
        config.gold_quota = 3;
    })
    .await;
    let mut browser = festival.browser();
    let csrf = browser.get("/tickets").await.csrf();

    let buyers = (0..10).map(|n| {
        let mut browser = browser.clone();
        let csrf = csrf.clone();
        tokio::spawn(async move {
            let username = format!("fan{n}");
            browser
                .post_form(
                    "/tickets",
                    &[
                        ("csrf", &csrf),
                        ("username", &username),
                        ("password", "front row or nothing"),
                        ("wristband", "gold"),
                    ],
                )
                .await
                .status
        })
    });
    let mut sold = 0;
    let mut refused = 0;
    for buyer in buyers.collect::<Vec<_>>() {
        match buyer.await.expect("the purchase task finishes") {
            StatusCode::SEE_OTHER => sold += 1,
            StatusCode::CONFLICT => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((sold, refused), (3, 7));
    let quota = festival.app.state().store.gold_quota().await.unwrap();
    assert_eq!((quota.quota, quota.sold, quota.remaining()), (3, 3, 0));
    assert_eq!(festival.app.state().store.count_users().await.unwrap(), 3);

    let page = browser.get("/tickets").await;
    assert!(page.body.contains("Sold out."));
}

#[tokio::test]
async fn green_tickets_sell_when_gold_is_sold_out() {
    let festival = TestApp::with(|config| config.gold_quota = 0).await;
    let mut browser = festival.browser();
    let gold = browser
        .buy("carol", "three tents and a kettle", "gold")
        .await;
    assert_eq!(gold.status, StatusCode::CONFLICT);
    assert!(gold.body.contains("Gold tickets are sold out"));
    let green = browser
        .buy("carol", "three tents and a kettle", "green")
        .await;
    assert_eq!(green.status, StatusCode::SEE_OTHER);
}
