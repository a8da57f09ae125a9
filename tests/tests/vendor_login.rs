//! "Log in with the ticket vendor" end to end: the real `festival-app` binary against two real
//! OpenID providers, driven over HTTP by a cookie-keeping client that follows no redirect.
//!
//! - the workspace's own `ticket-vendor` binary;
//! - `oidc-provider` (the OpenID Certified provider for Node), started from
//!   `tests/interop/provider.mjs`, with its development login and consent pages driven over HTTP.
//!
//! The festival is configured for either one with nothing but an issuer URL, a client id and a
//! secret. Against both, a login must complete and the same attacks must fail: a callback that
//! belongs to another login (`state`), a replayed callback, a callback naming another issuer
//! (`iss`), and a visitor who declines.
//!
//! The `oidc-provider` tests need `npm ci --prefix tests/interop` (CI runs it). Without
//! `tests/interop/node_modules` they are skipped with a message, unless `CI` is set: then they
//! fail, so CI can never pass without running them.

#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use url::Url;
use wristband_e2e::{
    Festival, FestivalOptions, Page, Vendor, VendorOptions, Visitor, free_port, read,
};

/// How long `node` may take to print its listening line.
const NODE_START_TIMEOUT: Duration = Duration::from_secs(60);
/// The client secret registered at oidc-provider (see `tests/interop/provider.mjs`).
const INTEROP_SECRET: &str = "festival-interop-secret";

/// Which provider, and how to log in at it.
enum Idp {
    TicketVendor(Vendor),
    OidcProvider(NodeProvider),
}

/// A person at the provider: who they log in as, and the ticket the provider vouches for.
struct Holder {
    /// Username at the ticket vendor.
    vendor_username: &'static str,
    /// Password at the ticket vendor.
    vendor_password: &'static str,
    /// Account id at oidc-provider (its development login takes any id; `gold-` means gold).
    interop_account: &'static str,
}

const CAROL: Holder = Holder {
    vendor_username: "carol",
    vendor_password: "vendor-green-demo",
    interop_account: "carol",
};
const DAVE: Holder = Holder {
    vendor_username: "dave",
    vendor_password: "vendor-gold-demo",
    interop_account: "gold-dave",
};
const MALLORY: Holder = Holder {
    // Mallory has a ticket of her own at the vendor: the demo's other holder.
    vendor_username: "dave",
    vendor_password: "vendor-gold-demo",
    interop_account: "mallory",
};

impl Idp {
    fn issuer(&self) -> &str {
        match self {
            Self::TicketVendor(vendor) => vendor.base_url(),
            Self::OidcProvider(node) => &node.issuer,
        }
    }

    /// The festival's environment for this provider: issuer, client id, secret.
    fn festival_env(&self) -> Vec<(String, String)> {
        let secret = match self {
            Self::TicketVendor(_) => "festival-demo-secret",
            Self::OidcProvider(_) => INTEROP_SECRET,
        };
        vec![
            ("VENDOR_ISSUER".to_owned(), self.issuer().to_owned()),
            ("VENDOR_CLIENT_ID".to_owned(), "festival".to_owned()),
            ("VENDOR_CLIENT_SECRET".to_owned(), secret.to_owned()),
        ]
    }

    /// Logs `holder` in at the provider, starting from the authorization URL the festival
    /// redirected to, and returns the callback URL the provider redirects back to (not yet
    /// visited).
    async fn approve(
        &self,
        visitor: &Visitor,
        authorization_url: &str,
        holder: &Holder,
    ) -> anyhow::Result<String> {
        match self {
            Self::TicketVendor(vendor) => {
                let page = get(visitor, authorization_url).await?;
                assert_eq!(page.status, StatusCode::OK, "the vendor's login page");
                let mut form: Vec<(String, String)> = Url::parse(authorization_url)?
                    .query_pairs()
                    .into_owned()
                    .collect();
                form.extend([
                    ("username".to_owned(), holder.vendor_username.to_owned()),
                    ("password".to_owned(), holder.vendor_password.to_owned()),
                    ("decision".to_owned(), "approve".to_owned()),
                ]);
                let answer = read(
                    visitor
                        .client()
                        .post(vendor.url("/authorize"))
                        .form(&form)
                        .send()
                        .await?,
                )
                .await?;
                redirect_target(&answer)
            }
            Self::OidcProvider(node) => {
                node.interact(visitor, authorization_url, Some(holder.interop_account))
                    .await
            }
        }
    }

    /// Declines at the provider and returns the callback URL it redirects back to.
    async fn decline(&self, visitor: &Visitor, authorization_url: &str) -> anyhow::Result<String> {
        match self {
            Self::TicketVendor(vendor) => {
                let mut form: Vec<(String, String)> = Url::parse(authorization_url)?
                    .query_pairs()
                    .into_owned()
                    .collect();
                form.push(("decision".to_owned(), "deny".to_owned()));
                let answer = read(
                    visitor
                        .client()
                        .post(vendor.url("/authorize"))
                        .form(&form)
                        .send()
                        .await?,
                )
                .await?;
                redirect_target(&answer)
            }
            Self::OidcProvider(node) => node.interact(visitor, authorization_url, None).await,
        }
    }
}

/// `GET` an absolute URL with the visitor's cookies.
async fn get(visitor: &Visitor, url: &str) -> anyhow::Result<Page> {
    read(visitor.client().get(url).send().await?).await
}

/// The `Location` of a redirect, as an absolute URL.
fn redirect_target(page: &Page) -> anyhow::Result<String> {
    if !page.status.is_redirection() {
        bail!("expected a redirect, got {}: {}", page.status, page.body);
    }
    page.location()
        .map(str::to_owned)
        .context("a redirect without Location")
}

/// The ticket vendor and a festival configured for it, both real binaries.
async fn with_ticket_vendor() -> anyhow::Result<(Idp, Festival)> {
    let port = free_port()?;
    let vendor = Vendor::start(VendorOptions {
        redirect_uri: format!("http://127.0.0.1:{port}/auth/vendor/callback"),
    })
    .await?;
    let idp = Idp::TicketVendor(vendor);
    let festival = festival_on(port, &idp).await?;
    Ok((idp, festival))
}

/// oidc-provider and a festival configured for it; `None` (with a message) when the Node
/// packages are not installed outside CI.
async fn with_oidc_provider() -> anyhow::Result<Option<(Idp, Festival)>> {
    let Some(script) = interop_script()? else {
        return Ok(None);
    };
    let port = free_port()?;
    let node = NodeProvider::start(
        &script,
        &format!("http://127.0.0.1:{port}/auth/vendor/callback"),
    )
    .await?;
    let idp = Idp::OidcProvider(node);
    let festival = festival_on(port, &idp).await?;
    Ok(Some((idp, festival)))
}

async fn festival_on(port: u16, idp: &Idp) -> anyhow::Result<Festival> {
    let mut env = vec![
        ("FESTIVAL_ADDR".to_owned(), format!("127.0.0.1:{port}")),
        (
            "FESTIVAL_PUBLIC_URL".to_owned(),
            format!("http://127.0.0.1:{port}"),
        ),
    ];
    env.extend(idp.festival_env());
    Festival::start(FestivalOptions {
        demo: true,
        data_dir: None,
        env,
    })
    .await
}

/// Clicks "Log in with the ticket vendor" on the gate: the festival's `303` to the provider.
async fn start_login(visitor: &Visitor) -> anyhow::Result<String> {
    let gate = visitor.get("/gate").await?;
    assert!(
        gate.body.contains("action=\"/auth/vendor/start\""),
        "the gate offers the vendor login"
    );
    let csrf = gate
        .csrf_token()
        .context("the gate's CSRF token")?
        .to_owned();
    let started = visitor
        .post_form("/auth/vendor/start", &[("csrf", &csrf)])
        .await?;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    redirect_target(&started)
}

/// A whole login through the provider: start, approve, come back. Returns the callback URL and
/// the festival's answer to it.
async fn log_in(idp: &Idp, visitor: &Visitor, holder: &Holder) -> anyhow::Result<(String, Page)> {
    let authorization_url = start_login(visitor).await?;
    assert!(
        authorization_url.starts_with(idp.issuer()),
        "{authorization_url} is at the provider"
    );
    let callback = idp.approve(visitor, &authorization_url, holder).await?;
    let answer = get(visitor, &callback).await?;
    Ok((callback, answer))
}

/// The festival's wristband page for this visitor.
async fn wristband_page(visitor: &Visitor) -> anyhow::Result<Page> {
    visitor.get("/wristband").await
}

/// `url` with query parameter `name` replaced by `value`.
fn with_parameter(url: &str, name: &str, value: &str) -> anyhow::Result<String> {
    let mut parsed = Url::parse(url)?;
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .into_owned()
        .map(|(key, old)| {
            let new = if key == name { value.to_owned() } else { old };
            (key, new)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(parsed.into())
}

fn assert_refused_at_gate(page: &Page, status: StatusCode, says: &str) {
    assert_eq!(page.status, status, "{}", page.body);
    assert_eq!(
        page.heading(),
        Some("The gate"),
        "the refusal is shown at the gate"
    );
    let alert = page.alert().unwrap_or_default();
    assert!(alert.contains(says), "alert {alert:?} should say {says:?}");
}

async fn assert_not_logged_in(visitor: &Visitor) -> anyhow::Result<()> {
    let page = wristband_page(visitor).await?;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "no wristband without login"
    );
    assert_eq!(page.location(), Some("/gate?next=%2Fwristband"));
    Ok(())
}

// ---- The scenarios, each run against both providers. ----

/// A first login creates the account with the vouched-for ticket and a rotated session; a
/// replay of the callback fails; a second login finds the same account.
async fn login_completes_and_replay_fails(idp: &Idp, festival: &Festival) -> anyhow::Result<()> {
    let visitor = Visitor::new(festival.base_url())?;
    let _ = visitor.get("/gate").await?;
    let before = visitor.session_id().context("a session before login")?;

    let (callback, answer) = log_in(idp, &visitor, &CAROL).await?;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), Some("/wristband"));
    let after = visitor.session_id().context("a session after login")?;
    assert_ne!(before, after, "the session id is rotated at login");

    let wristband = wristband_page(&visitor).await?;
    assert_eq!(wristband.status, StatusCode::OK);
    assert!(
        wristband.body.contains("carol"),
        "the account is named after the holder"
    );
    assert!(
        wristband.body.contains("green"),
        "a green ticket gives a green wristband"
    );

    // The same callback again, from a browser with no login in progress (someone who found the
    // URL in a history or a log): refused, and nobody is logged in.
    let stranger = Visitor::new(festival.base_url())?;
    let replay = get(&stranger, &callback).await?;
    assert_refused_at_gate(&replay, StatusCode::BAD_REQUEST, "already been used");
    assert_not_logged_in(&stranger).await?;

    // A second login through the provider finds the account made by the first.
    let again = Visitor::new(festival.base_url())?;
    let (_, answer) = log_in(idp, &again, &CAROL).await?;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let page = wristband_page(&again).await?;
    assert!(page.body.contains("carol"));
    assert!(!page.body.contains("carol-2"), "no second account");
    Ok(())
}

/// A callback from Mallory's own login, opened in Carol's browser during Carol's login, and a
/// callback naming another issuer, are both refused; neither logs anyone in.
async fn foreign_callbacks_are_refused(idp: &Idp, festival: &Festival) -> anyhow::Result<()> {
    // Mallory runs a login in her own browser and keeps the callback URL.
    let mallory = Visitor::new(festival.base_url())?;
    let mallorys_start = start_login(&mallory).await?;
    let mallorys_callback = idp.approve(&mallory, &mallorys_start, &MALLORY).await?;

    // Carol is midway through her own login when her browser opens Mallory's callback.
    let carol = Visitor::new(festival.base_url())?;
    let _carols_start = start_login(&carol).await?;
    let forced = get(&carol, &mallorys_callback).await?;
    assert_refused_at_gate(
        &forced,
        StatusCode::BAD_REQUEST,
        "does not belong to a login",
    );
    assert_not_logged_in(&carol).await?;

    // A callback for a real login of Carol's, but naming another issuer (a mix-up attack).
    let carol = Visitor::new(festival.base_url())?;
    let start = start_login(&carol).await?;
    let callback = idp.approve(&carol, &start, &CAROL).await?;
    let mixed_up = with_parameter(&callback, "iss", "https://other-provider.example")?;
    let refused = get(&carol, &mixed_up).await?;
    assert_refused_at_gate(
        &refused,
        StatusCode::BAD_REQUEST,
        "does not belong to a login",
    );
    assert_not_logged_in(&carol).await?;

    // The swapped state was not tried against Mallory's own session, so her login still works.
    let mallorys_own = get(&mallory, &mallorys_callback).await?;
    assert_eq!(
        mallorys_own.status,
        StatusCode::SEE_OTHER,
        "{}",
        mallorys_own.body
    );
    Ok(())
}

/// A visitor who declines at the provider ends on the gate, told so, not logged in.
async fn declining_ends_at_the_gate(idp: &Idp, festival: &Festival) -> anyhow::Result<()> {
    let visitor = Visitor::new(festival.base_url())?;
    let start = start_login(&visitor).await?;
    let callback = idp.decline(&visitor, &start).await?;
    assert!(callback.contains("error=access_denied"), "{callback}");
    let answer = get(&visitor, &callback).await?;
    assert_refused_at_gate(&answer, StatusCode::BAD_REQUEST, "You declined");
    assert_not_logged_in(&visitor).await
}

/// A gold ticket at the provider opens backstage at the festival.
async fn gold_holder_gets_backstage(idp: &Idp, festival: &Festival) -> anyhow::Result<()> {
    let visitor = Visitor::new(festival.base_url())?;
    let (_, answer) = log_in(idp, &visitor, &DAVE).await?;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let backstage = visitor.get("/backstage").await?;
    assert_eq!(backstage.status, StatusCode::OK, "{}", backstage.body);
    Ok(())
}

// ---- Against the workspace's ticket vendor. ----

#[tokio::test]
async fn a_ticket_vendor_login_completes_once_and_its_callback_cannot_be_replayed()
-> anyhow::Result<()> {
    let (idp, festival) = with_ticket_vendor().await?;
    login_completes_and_replay_fails(&idp, &festival).await
}

#[tokio::test]
async fn the_ticket_vendor_flow_refuses_a_swapped_state_and_a_wrong_issuer() -> anyhow::Result<()> {
    let (idp, festival) = with_ticket_vendor().await?;
    foreign_callbacks_are_refused(&idp, &festival).await
}

#[tokio::test]
async fn declining_at_the_ticket_vendor_ends_at_the_gate_and_gold_opens_backstage()
-> anyhow::Result<()> {
    let (idp, festival) = with_ticket_vendor().await?;
    declining_ends_at_the_gate(&idp, &festival).await?;
    gold_holder_gets_backstage(&idp, &festival).await
}

#[tokio::test]
async fn an_unreachable_vendor_ends_at_the_gate_with_a_message_and_the_cause_in_the_log()
-> anyhow::Result<()> {
    let port = free_port()?;
    let closed = free_port()?;
    let mut festival = Festival::start(FestivalOptions {
        demo: true,
        data_dir: None,
        env: vec![
            ("FESTIVAL_ADDR".to_owned(), format!("127.0.0.1:{port}")),
            (
                "FESTIVAL_PUBLIC_URL".to_owned(),
                format!("http://127.0.0.1:{port}"),
            ),
            (
                "VENDOR_ISSUER".to_owned(),
                format!("http://127.0.0.1:{closed}"),
            ),
        ],
    })
    .await?;
    let visitor = Visitor::new(festival.base_url())?;
    let csrf = visitor.csrf_token("/gate").await?;
    let page = visitor
        .post_form("/auth/vendor/start", &[("csrf", &csrf)])
        .await?;
    assert_refused_at_gate(&page, StatusCode::BAD_GATEWAY, "cannot be reached");
    let log = festival.output_until("vendor login failed").await?;
    let line = log.last().cloned().unwrap_or_default();
    assert!(line.contains("unreachable"), "the cause is logged: {line}");
    assert_not_logged_in(&visitor).await
}

#[tokio::test]
async fn the_vendor_login_start_needs_the_gates_csrf_token() -> anyhow::Result<()> {
    let (_idp, festival) = with_ticket_vendor().await?;
    let visitor = Visitor::new(festival.base_url())?;
    let _ = visitor.get("/gate").await?;
    let forged = visitor
        .post_form("/auth/vendor/start", &[("csrf", "guessed")])
        .await?;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(forged.location().is_none(), "no redirect to the provider");
    Ok(())
}

// ---- Against oidc-provider, a certified implementation. ----

#[tokio::test]
async fn an_oidc_provider_login_completes_once_and_its_callback_cannot_be_replayed()
-> anyhow::Result<()> {
    let Some((idp, festival)) = with_oidc_provider().await? else {
        return Ok(());
    };
    login_completes_and_replay_fails(&idp, &festival).await
}

#[tokio::test]
async fn the_oidc_provider_flow_refuses_a_swapped_state_and_a_wrong_issuer() -> anyhow::Result<()> {
    let Some((idp, festival)) = with_oidc_provider().await? else {
        return Ok(());
    };
    foreign_callbacks_are_refused(&idp, &festival).await
}

#[tokio::test]
async fn declining_at_oidc_provider_ends_at_the_gate_and_gold_opens_backstage() -> anyhow::Result<()>
{
    let Some((idp, festival)) = with_oidc_provider().await? else {
        return Ok(());
    };
    declining_ends_at_the_gate(&idp, &festival).await?;
    gold_holder_gets_backstage(&idp, &festival).await
}

// ---- oidc-provider as a process. ----

/// `tests/interop/provider.mjs`, if its packages are installed. Outside CI, a missing
/// `node_modules` skips the test with a message; in CI it is an error.
fn interop_script() -> anyhow::Result<Option<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop");
    let script = dir.join("provider.mjs");
    if dir.join("node_modules").join("oidc-provider").is_dir() {
        return Ok(Some(script));
    }
    if std::env::var_os("CI").is_some() {
        bail!(
            "tests/interop/node_modules is missing in CI: run `npm ci --prefix tests/interop` \
             before the tests (.ci/run does)"
        );
    }
    eprintln!(
        "SKIPPED: the oidc-provider interop test needs its Node packages; run \
         `npm ci --prefix tests/interop` (CI always runs it)"
    );
    Ok(None)
}

/// oidc-provider running under `node`, killed when dropped.
struct NodeProvider {
    issuer: String,
    _child: Child,
}

impl NodeProvider {
    async fn start(script: &Path, redirect_uri: &str) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut child = Command::new("node")
            .arg(script)
            .env("PROVIDER_PORT", port.to_string())
            .env("FESTIVAL_REDIRECT_URI", redirect_uri)
            .env("CLIENT_SECRET", INTEROP_SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("starting node (is Node.js installed?)")?;
        let stdout = child.stdout.take().context("node's stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(NODE_START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if line.contains("listening on") {
                    return Ok(true);
                }
            }
            Ok::<_, std::io::Error>(false)
        })
        .await;
        match ready {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => bail!("oidc-provider exited before listening"),
            Ok(Err(err)) => bail!("reading oidc-provider's output: {err}"),
            Err(_) => bail!("oidc-provider did not start in time"),
        }
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            issuer: format!("http://127.0.0.1:{port}"),
            _child: child,
        })
    }

    /// Walks oidc-provider's development interactions from the authorization URL: the login
    /// page (as `account`, any password) and the consent page, or aborts at the first page when
    /// `account` is `None`. Returns the callback URL it finally redirects to.
    async fn interact(
        &self,
        visitor: &Visitor,
        authorization_url: &str,
        account: Option<&str>,
    ) -> anyhow::Result<String> {
        let mut url = authorization_url.to_owned();
        for _ in 0..12 {
            if !url.starts_with(&self.issuer) {
                return Ok(url);
            }
            let page = get(visitor, &url).await?;
            if page.status.is_redirection() {
                url = absolute(&self.issuer, &redirect_target(&page)?);
                continue;
            }
            if page.status != StatusCode::OK {
                bail!(
                    "oidc-provider answered {} at {url}: {}",
                    page.status,
                    page.body
                );
            }
            let prompt = if page.body.contains("name=\"prompt\" value=\"login\"") {
                "login"
            } else if page.body.contains("name=\"prompt\" value=\"consent\"") {
                "consent"
            } else {
                bail!("an interaction page without a known prompt at {url}");
            };
            let Some(account) = account else {
                url = format!("{url}/abort");
                continue;
            };
            let form: Vec<(&str, &str)> = match prompt {
                "login" => vec![
                    ("prompt", "login"),
                    ("login", account),
                    ("password", "any password works here"),
                ],
                _ => vec![("prompt", "consent")],
            };
            let answer = read(visitor.client().post(&url).form(&form).send().await?).await?;
            url = absolute(&self.issuer, &redirect_target(&answer)?);
        }
        bail!("too many hops at oidc-provider")
    }
}

fn absolute(base: &str, location: &str) -> String {
    if location.starts_with('/') {
        format!("{base}{location}")
    } else {
        location.to_owned()
    }
}
