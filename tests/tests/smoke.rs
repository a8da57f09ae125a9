//! The harness itself: both binaries start, answer, and stop cleanly on SIGTERM.

use wristband_e2e::{Festival, FestivalOptions, Vendor, VendorOptions};

#[tokio::test]
async fn the_festival_starts_answers_health_and_stops_cleanly() -> anyhow::Result<()> {
    let festival = Festival::start(FestivalOptions::demo()).await?;
    let health: serde_json::Value = reqwest::get(festival.url("/health")).await?.json().await?;
    assert_eq!(health, serde_json::json!({"status": "ok"}));
    let (clean, _temp, _dir) = festival.stop_keeping_data().await?;
    assert!(clean, "festival-app should exit 0 on SIGTERM");
    Ok(())
}

#[tokio::test]
async fn the_vendor_starts_and_publishes_its_discovery_document() -> anyhow::Result<()> {
    let vendor = Vendor::start(VendorOptions {
        redirect_uri: "http://127.0.0.1:9/auth/vendor/callback".to_owned(),
    })
    .await?;
    let discovery: serde_json::Value =
        reqwest::get(vendor.url("/.well-known/openid-configuration"))
            .await?
            .json()
            .await?;
    assert_eq!(
        discovery["issuer"],
        serde_json::Value::from(vendor.base_url())
    );
    Ok(())
}
