//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use wristband_scopes::Scope;

use crate::routes::{AreaWelcome, Health, Me, ScopeName, StageWelcome, WristbandColour};
use crate::token::{TokenRequest, TokenResponse};
use crate::{ErrorBody, routes, token};

/// The name of the HTTP bearer security scheme in the document.
pub const BEARER_SCHEME: &str = "bearer";
/// The name of the OAuth 2.0 password-flow security scheme in the document.
pub const OAUTH2_SCHEME: &str = "oauth2";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Wristband festival API",
        description = "Show your ticket once at `POST /token`, get a wristband (a signed JWT), \
                       and show the wristband as `Authorization: Bearer <token>` at every gated route."
    ),
    paths(token::token, routes::me, routes::stage, routes::backstage, routes::health),
    components(schemas(
        TokenRequest,
        TokenResponse,
        ErrorBody,
        Me,
        StageWelcome,
        AreaWelcome,
        Health,
        WristbandColour,
        ScopeName
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "gate", description = "Exchange a ticket (username and password) for a wristband"),
        (name = "festival", description = "Gated routes: each needs a wristband token, some need a scope"),
        (name = "service", description = "Open routes for operators")
    )
)]
struct ApiDoc;

/// Declares the two ways to present a wristband: paste a token (`bearer`), or let the docs page
/// log in through `/token` (`oauth2`, password flow).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A wristband token from POST /token, sent as Authorization: Bearer <token>",
                    ))
                    .build(),
            ),
        );
        let scopes =
            Scopes::from_iter(Scope::ALL.map(|scope| (scope.as_str(), scope.description())));
        components.add_security_scheme(
            OAUTH2_SCHEME,
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::Password(Password::new("/token", scopes))],
                "The OAuth 2.0 password grant, as the tutorial teaches it. RFC 9700 §2.4 forbids \
                 it for new systems; it is here for learning only.",
            )),
        );
    }
}

/// The API's OpenAPI 3.1 document.
///
/// It declares two security schemes, `bearer` (HTTP bearer, JWT) and `oauth2` (password flow
/// with `tokenUrl` `/token` and the scopes `stages` and `backstage`). Every gated operation
/// requires either one, with the scopes it needs; `/token` and `/health` require nothing.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
