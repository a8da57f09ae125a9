//! The visitor's journey in a real browser: headless Chromium, driven over W3C WebDriver.
//!
//! The test starts the festival (demo mode, fresh database), Debian's `chromedriver` on a free
//! loopback port, and a Chromium session with a fresh profile. It then clicks through the story
//! as a person would: line-up, ticket shop, gate, wristband, backstage (refused: green), logout.
//! Screenshots land in `target/artifacts/` (the wristband at desktop and phone width, and the
//! backstage refusal), and their paths are printed.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`;
//! `.ci/run` installs both). Without them the test is skipped with a message, except when `CI`
//! is set: there, a missing browser is a failure.

#![allow(clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use wristband_e2e::{Festival, FestivalOptions, SESSION_COOKIE, free_port};

/// A passphrase the password policy accepts.
const PASSWORD: &str = "paper lanterns at the harbour";

/// How long chromedriver may take to say it is ready.
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(30);

/// The browser window's size, in CSS pixels, except for the phone screenshot.
const DESKTOP: (u32, u32) = (1280, 1000);

/// How long to wait for an element that a navigation brings.
const ELEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// Writes to the terminal even when the test harness captures `println!`, so a skip and the
/// screenshot paths are seen.
fn say(message: &str) {
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// The browser and its driver, found on this machine.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// Debian's `/usr/bin/chromium` (or `chromium` on `PATH`) and `chromedriver` on `PATH`.
    fn find() -> Option<Self> {
        let debian = PathBuf::from("/usr/bin/chromium");
        let chromium = if debian.is_file() {
            debian
        } else {
            on_path("chromium")?
        };
        Some(Self {
            chromium,
            chromedriver: on_path("chromedriver")?,
        })
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A running chromedriver, killed when dropped.
struct Driver {
    _child: Child,
    url: String,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits for the line saying it is ready.
    async fn start(chromedriver: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting chromedriver")?;
        let stdout = child.stdout.take().context("chromedriver's output")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        let ready = tokio::time::timeout(DRIVER_START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                let ready = line.contains("started successfully");
                seen.push(line);
                if ready {
                    return Ok(true);
                }
            }
            anyhow::Ok(false)
        })
        .await;
        match ready {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => bail!("chromedriver exited:\n{}", seen.join("\n")),
            Ok(Err(err)) => return Err(err),
            Err(_) => bail!("chromedriver was not ready in time:\n{}", seen.join("\n")),
        }
        // Keep draining its output so chromedriver never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// A new headless Chromium session with a fresh profile in `profile`.
    async fn session(&self, chromium: &Path, profile: &Path) -> anyhow::Result<Client> {
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            bail!("capabilities are a JSON object");
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .context("opening a Chromium session")
    }
}

/// Where the screenshots go: `target/artifacts/`, beside the build output of this test run.
fn artifacts_dir() -> anyhow::Result<PathBuf> {
    // This test runs from target/<profile>/deps/; target/ is two folders up.
    let exe = std::env::current_exe()?;
    let target = exe
        .ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .context("the test binary lives in target/<profile>/deps")?;
    let dir = target.join("artifacts");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn screenshot(browser: &Client, name: &str) -> anyhow::Result<PathBuf> {
    let path = artifacts_dir()?.join(name);
    std::fs::write(&path, browser.screenshot().await?)?;
    say(&format!("screenshot: {}", path.display()));
    Ok(path)
}

/// Waits for the element that shows the page has arrived, and returns its text.
async fn text_of(browser: &Client, css: &str) -> anyhow::Result<String> {
    let found = browser
        .wait()
        .at_most(ELEMENT_TIMEOUT)
        .for_element(Locator::Css(css))
        .await;
    match found {
        Ok(element) => Ok(element.text().await?),
        Err(err) => {
            let url = browser.current_url().await?;
            Err(anyhow::Error::new(err).context(format!("no {css} on {url}")))
        }
    }
}

async fn path_and_query(browser: &Client) -> anyhow::Result<String> {
    let url = browser.current_url().await?;
    Ok(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    })
}

async fn type_into(browser: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    browser
        .find(Locator::Css(css))
        .await?
        .send_keys(text)
        .await?;
    Ok(())
}

async fn click(browser: &Client, css: &str) -> anyhow::Result<()> {
    browser.find(Locator::Css(css)).await?.click().await?;
    Ok(())
}

/// Clicks the link or button at `css` and waits until the browser has arrived at `path` on
/// `festival`, so that nothing is read from the page being left.
async fn click_through(
    browser: &Client,
    festival: &Festival,
    css: &str,
    path: &str,
) -> anyhow::Result<()> {
    click(browser, css).await?;
    let expected = url::Url::parse(&festival.url(path))?;
    browser
        .wait()
        .at_most(ELEMENT_TIMEOUT)
        .for_url(&expected)
        .await
        .with_context(|| format!("clicking {css} did not lead to {path}"))?;
    Ok(())
}

/// The journey itself; the caller closes the browser whatever happens here.
async fn journey(browser: &Client, festival: &Festival) -> anyhow::Result<()> {
    // The line-up, and its way to the ticket shop.
    browser.goto(&festival.url("/")).await?;
    assert_eq!(
        text_of(browser, "h1").await?,
        "Three stages. One wristband."
    );
    assert_eq!(browser.title().await?, "Line-up · Wristband Festival");
    click_through(
        browser,
        festival,
        "main a.button[href='/tickets']",
        "/tickets",
    )
    .await?;

    // Buy a green ticket through the form.
    assert_eq!(text_of(browser, "h1").await?, "Buy a ticket");
    click(browser, "input[name='wristband'][value='green']").await?;
    type_into(browser, "#username", "hana").await?;
    type_into(browser, "#password", PASSWORD).await?;
    click_through(
        browser,
        festival,
        "form[action='/tickets'] button[type='submit']",
        "/gate?bought=green",
    )
    .await?;

    // The gate greets the new ticket holder; show the ticket.
    assert_eq!(
        text_of(browser, ".notice").await?,
        "Your green ticket is ready. Show it at the gate: log in below."
    );
    type_into(browser, "#username", "hana").await?;
    type_into(browser, "#password", PASSWORD).await?;
    click_through(
        browser,
        festival,
        "form[action='/gate'] button[type='submit']",
        "/wristband",
    )
    .await?;

    // The wristband: green, drawn, and the session cookie out of the page's reach.
    assert_eq!(text_of(browser, "h1").await?, "Your wristband, hana");
    let band = browser
        .find(Locator::Css(".wristband-card .wristband"))
        .await?;
    assert_eq!(
        band.attr("class").await?.as_deref(),
        Some("wristband wristband-green")
    );
    assert!(band.is_displayed().await?);
    let cookie = browser.get_named_cookie(SESSION_COOKIE).await?;
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(
        cookie.same_site().map(|same_site| same_site.to_string()),
        Some("Lax".to_owned())
    );
    assert_eq!(cookie.path(), Some("/"));
    let visible_to_scripts = browser.execute("return document.cookie;", vec![]).await?;
    assert_eq!(visible_to_scripts, json!(""), "HttpOnly hides the cookie");
    screenshot(browser, "wristband.png").await?;

    // The same page at a phone's width.
    browser.set_window_size(390, 844).await?;
    browser.refresh().await?;
    assert_eq!(text_of(browser, "h1").await?, "Your wristband, hana");
    screenshot(browser, "wristband-phone.png").await?;
    browser.set_window_size(DESKTOP.0, DESKTOP.1).await?;

    // Backstage turns a green wristband away, kindly.
    click_through(
        browser,
        festival,
        "header nav a[href='/backstage']",
        "/backstage",
    )
    .await?;
    assert_eq!(text_of(browser, "h1").await?, "Gold wristbands only");
    assert_eq!(text_of(browser, "p.status").await?, "403");
    screenshot(browser, "backstage-green.png").await?;

    // Log out with the button; the cookie is gone and the wristband page sends to the gate.
    click_through(
        browser,
        festival,
        "form[action='/logout'] button[type='submit']",
        "/",
    )
    .await?;
    assert_eq!(
        text_of(browser, "h1").await?,
        "Three stages. One wristband."
    );
    assert_eq!(text_of(browser, "header nav a.cta").await?, "Gate");
    assert!(
        browser.get_named_cookie(SESSION_COOKIE).await.is_err(),
        "the session cookie was removed"
    );
    browser.goto(&festival.url("/wristband")).await?;
    assert_eq!(text_of(browser, "h1").await?, "The gate");
    assert_eq!(path_and_query(browser).await?, "/gate?next=%2Fwristband");
    Ok(())
}

#[tokio::test]
async fn a_green_visitor_buys_a_ticket_logs_in_is_kept_from_backstage_and_logs_out_in_chromium()
-> anyhow::Result<()> {
    let Some(tools) = Tools::find() else {
        if std::env::var_os("CI").is_some() {
            bail!(
                "CI is set but chromium or chromedriver is missing: install Debian's chromium \
                 and chromium-driver (.ci/run does)"
            );
        }
        say(
            "SKIPPED browser test: chromium or chromedriver not found (apt-get install chromium \
             chromium-driver); set CI=1 to make this a failure",
        );
        return Ok(());
    };

    let festival = Festival::start(FestivalOptions::demo()).await?;
    let driver = Driver::start(&tools.chromedriver).await?;
    let profile = tempfile::tempdir()?;
    let browser = driver.session(&tools.chromium, profile.path()).await?;

    let outcome = journey(&browser, &festival).await;
    let closed = browser.close().await;
    outcome?;
    closed?;
    Ok(())
}
