//! Lesson 07, third-party login: the redirect dance of "log in with the ticket vendor", hop by
//! hop, and what `state` and PKCE each stop, shown by trying the attacks.
//!
//! [`transcript`] runs the real `ticket-vendor` router and a small festival built on
//! `wristband-oidc` in one process, with a frozen clock and seeded randomness, and prints every
//! HTTP exchange between browser, festival and vendor. `main` prints it; the snapshot test pins
//! it. The [`world`] and [`mod@print`] modules are reused by lesson 08.
//!
//! ```
//! let transcript = lesson_07_third_party_login::transcript();
//! assert!(transcript.contains("Welcome, Carol!"));
//! ```

pub mod print;
pub mod world;

use print::{heading, line, lines, query_parameter, visit};
use world::{Browser, FESTIVAL, VENDOR, World};

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

#[allow(clippy::expect_used, clippy::too_many_lines)]
async fn run() -> String {
    let mut out = String::new();
    let world = World::new();

    heading(&mut out, "Lesson 07: log in with the ticket vendor");
    lines(
        &mut out,
        &[
            "Carol bought her ticket from the ticket vendor, not from the festival. The",
            "festival lets her in on the vendor's word: it sends her browser to the vendor,",
            "she logs in there, and the vendor sends her back with a one-time code. The",
            "festival trades the code, on its own connection to the vendor, for a signed",
            "statement of who she is. Her vendor password never reaches the festival.",
            "",
            "Three parties, two kinds of channel:",
            "  front channel  browser <-> festival, browser <-> vendor: redirects the",
            "                 browser follows, visible to the visitor and to anything",
            "                 that can read her URLs",
            "  back channel   festival <-> vendor: a direct request, never through the",
            "                 browser (drawn below with a bar: \"|\")",
        ],
    );

    heading(
        &mut out,
        "Step 1: the festival reads the vendor's discovery document",
    );
    let metadata = world.rp.metadata().await.expect("discovery succeeds");
    for exchange in world.take_back_channel() {
        line(&mut out, "  festival -> vendor");
        line(&mut out, &format!("      {}", exchange.request.start_line));
        line(&mut out, "  vendor -> festival");
        line(&mut out, &format!("      {}", exchange.response.start_line));
    }
    line(&mut out, "  the fields the festival uses:");
    for (name, value) in [
        ("issuer", metadata.issuer.clone()),
        (
            "authorization_endpoint",
            metadata.authorization_endpoint.to_string(),
        ),
        ("token_endpoint", metadata.token_endpoint.to_string()),
        ("jwks_uri", metadata.jwks_uri.to_string()),
        (
            "code_challenge_methods_supported",
            format!(
                "{:?}",
                metadata
                    .code_challenge_methods_supported
                    .unwrap_or_default()
            ),
        ),
        (
            "id_token_signing_alg_values_supported",
            format!("{:?}", metadata.id_token_signing_alg_values_supported),
        ),
        (
            "authorization_response_iss_parameter_supported",
            metadata
                .authorization_response_iss_parameter_supported
                .to_string(),
        ),
    ] {
        line(&mut out, &format!("    {name}: {value}"));
    }
    lines(
        &mut out,
        &[
            "The festival is configured with three values only: the issuer URL, its client",
            "id and its client secret. Everything else is discovered, and the document must",
            "name exactly the configured issuer, or one provider could speak for another.",
        ],
    );

    heading(
        &mut out,
        "Step 2: Carol clicks \"Log in with the ticket vendor\"",
    );
    let mut carol = Browser::new("carol");
    let started = carol
        .post_form(&world, &format!("{FESTIVAL}/auth/vendor/start"), &[])
        .await;
    visit(&mut out, &started);
    lines(
        &mut out,
        &[
            "The festival drew three random values for this attempt and kept them in",
            "Carol's session:",
            "  state           returned untouched by the vendor; ties the answer to the",
            "                  browser that asked (against login CSRF, attack 1 below)",
            "  nonce           the vendor copies it into the ID token; ties the token to",
            "                  this attempt (lesson 08)",
            "  code verifier   stays at the festival; only its SHA-256, the",
            "                  code_challenge, went out (PKCE, against stolen codes,",
            "                  attack 2 below)",
            "The redirect_uri must match, character for character, one the festival",
            "registered at the vendor: that is where the vendor will send the code.",
        ],
    );

    heading(
        &mut out,
        "Step 3: the browser follows; the vendor shows its login page",
    );
    let login_page = carol
        .follow(&world, &started)
        .await
        .expect("the festival redirects to the vendor");
    visit(&mut out, &login_page);

    heading(
        &mut out,
        "Step 4: Carol logs in at the vendor (the password goes to the vendor only)",
    );
    let authorize = started
        .exchange
        .response_header("location")
        .expect("a Location header")
        .to_owned();
    let submitted = carol
        .submit_vendor_login(&world, &authorize, "carol", "vendor-green-demo", "approve")
        .await;
    visit(&mut out, &submitted);
    lines(
        &mut out,
        &[
            "The vendor sends Carol back with a code (single use, 60 seconds), the state",
            "it was given, and its own issuer name in `iss` (RFC 9207), so a festival that",
            "works with several providers can tell which one answered.",
        ],
    );

    heading(
        &mut out,
        "Step 5: back at the festival: check, trade the code, verify",
    );
    let callback_url = submitted
        .exchange
        .response_header("location")
        .expect("a redirect to the festival")
        .to_owned();
    let callback = carol.get(&world, &callback_url).await;
    visit(&mut out, &callback);
    let welcome = carol
        .follow(&world, &callback)
        .await
        .expect("a redirect to the wristband page");
    visit(&mut out, &welcome);
    lines(
        &mut out,
        &[
            "Before sending anything to the vendor, the festival took the pending login",
            "out of Carol's session (so it can be used once), compared `state` in",
            "constant time, and checked `iss`. Then it traded the code, proving who it is",
            "with its client secret (Authorization: Basic) and which login it is with the",
            "PKCE verifier, fetched the vendor's public keys, and validated the ID token",
            "(lesson 08). Only then did it log Carol in, under a new session id: the old",
            "one was known before login, and keeping it would let whoever planted it ride",
            "along (session fixation).",
        ],
    );

    heading(&mut out, "Attack 1: login CSRF, stopped by `state`");
    lines(
        &mut out,
        &[
            "Mallory has a vendor account of her own. She runs a login in her own",
            "browser but stops before the last redirect, keeping the callback URL: her",
            "code, her state.",
        ],
    );
    let mut mallory = Browser::new("mallory");
    let mallorys = mallory
        .log_in_at_vendor(&world, "mallory", "mallory-own-ticket")
        .await;
    let mallorys_callback = mallorys
        .exchange
        .response_header("location")
        .expect("a redirect to the festival")
        .to_owned();
    line(&mut out, "  Mallory's callback URL:");
    print::url(&mut out, &mallorys_callback, "    ");
    lines(
        &mut out,
        &[
            "She gets Carol's browser to open it (a link, an <img> on a page Carol",
            "visits). Carol has a login of her own under way: she is on the vendor's page.",
        ],
    );
    let mut carol = Browser::new("carol");
    let carols_start = carol
        .post_form(&world, &format!("{FESTIVAL}/auth/vendor/start"), &[])
        .await;
    let _carols_page = carol.follow(&world, &carols_start).await;
    let forced = carol.get(&world, &mallorys_callback).await;
    visit(&mut out, &forced);
    lines(
        &mut out,
        &[
            "Refused before anything reached the vendor: Mallory's state is not the one",
            "in Carol's session. Without this check Carol's browser would now be logged",
            "in as Mallory, and what Carol did next (buy a ticket, save her details)",
            "would land in Mallory's account.",
        ],
    );

    heading(&mut out, "Attack 2: a stolen code, stopped by PKCE");
    lines(
        &mut out,
        &[
            "Carol logs in again. This time Mallory reads the code out of the callback",
            "URL before Carol's browser delivers it (a leaky proxy log, a Referer header,",
            "a malicious browser extension).",
        ],
    );
    let mut carol = Browser::new("carol");
    let carols = carol
        .log_in_at_vendor(&world, "carol", "vendor-green-demo")
        .await;
    let carols_callback = carols
        .exchange
        .response_header("location")
        .expect("a redirect to the festival")
        .to_owned();
    let stolen_code = query_parameter(&carols_callback, "code").expect("a code");
    line(&mut out, &format!("  stolen: code={stolen_code}"));

    line(
        &mut out,
        "\n(a) Mallory redeems it at the vendor herself. Suppose she even has the",
    );
    lines(
        &mut out,
        &[
            "festival's client secret (an app that cannot keep one, like a phone app, has",
            "none to steal). She has no verifier, and cannot make one from the challenge:",
        ],
    );
    let direct = mallory
        .post_form(
            &world,
            &format!("{VENDOR}/token"),
            &[
                ("grant_type", "authorization_code"),
                ("code", &stolen_code),
                ("redirect_uri", world::CALLBACK),
                ("client_id", world::CLIENT_ID),
                ("client_secret", world::CLIENT_SECRET),
            ],
        )
        .await;
    visit(&mut out, &direct);

    line(
        &mut out,
        "\n(b) Mallory pastes the stolen code into her own login's callback at the",
    );
    lines(
        &mut out,
        &[
            "festival: her session, her state, so the state check passes. The festival",
            "sends the verifier of *Mallory's* login, which does not hash to the challenge",
            "of Carol's:",
        ],
    );
    let mut mallory = Browser::new("mallory");
    let mallorys = mallory
        .log_in_at_vendor(&world, "mallory", "mallory-own-ticket")
        .await;
    let mallorys_callback = mallorys
        .exchange
        .response_header("location")
        .expect("a redirect to the festival")
        .to_owned();
    let mut injected = url::Url::parse(&mallorys_callback).expect("a URL");
    let pairs: Vec<(String, String)> = injected
        .query_pairs()
        .into_owned()
        .map(|(name, value)| {
            if name == "code" {
                (name, stolen_code.clone())
            } else {
                (name, value)
            }
        })
        .collect();
    injected.query_pairs_mut().clear().extend_pairs(pairs);
    let injection = mallory.get(&world, injected.as_str()).await;
    visit(&mut out, &injection);
    lines(
        &mut out,
        &[
            "The vendor spends a code at its first presentation, right or wrong, so when",
            "Carol's browser finally delivers it, it is refused too and she starts over.",
            "Nobody got in with it.",
        ],
    );
    let late = carol.get(&world, &carols_callback).await;
    visit(&mut out, &late);

    heading(&mut out, "Attack 3: a replayed callback");
    lines(
        &mut out,
        &[
            "After Step 5, the callback URL sits in Carol's history. Opening it again",
            "(or Mallory opening it from a shared computer) finds no login in progress:",
            "the pending login was taken out of the session the first time.",
        ],
    );
    let mut replayer = Browser::new("mallory");
    let replay = replayer.get(&world, &callback_url).await;
    visit(&mut out, &replay);

    heading(&mut out, "Step 6: Carol can also say no");
    lines(
        &mut out,
        &[
            "Carol starts a login as in Step 2 and, on the vendor's page, clicks Deny. The",
            "vendor sends her back with an error instead of a code, with the same state:",
        ],
    );
    let mut carol = Browser::new("carol");
    let started = carol
        .post_form(&world, &format!("{FESTIVAL}/auth/vendor/start"), &[])
        .await;
    let authorize = started
        .exchange
        .response_header("location")
        .expect("a Location header")
        .to_owned();
    let denied = carol
        .submit_vendor_login(&world, &authorize, "", "", "deny")
        .await;
    visit(&mut out, &denied);
    let back = carol
        .follow(&world, &denied)
        .await
        .expect("a redirect to the festival");
    visit(&mut out, &back);

    heading(&mut out, "What each piece defends");
    lines(
        &mut out,
        &[
            "  state          login CSRF: someone else's login pushed into your browser",
            "  PKCE           a code stolen between vendor and festival is worthless",
            "  client secret  only the festival can trade codes issued to the festival",
            "  single-use     a replayed callback or code gets nobody in",
            "  iss (RFC 9207) an answer from another provider is not mistaken for this one",
            "  exact redirect the vendor sends codes only to the registered address",
            "  back channel   tokens never travel through the browser or its history",
        ],
    );
    out
}
