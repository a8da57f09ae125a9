//! The gated routes and the health check.

use axum::Json;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wristband_axum::require::{Backstage, Stages};
use wristband_axum::{Authorized, CurrentUser};
use wristband_scopes::ScopeSet;
use wristband_tokens::Wristband;

use crate::{ErrorBody, lineup};

/// `GET /api/me`: who the token speaks for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    /// The username the token was issued to.
    #[schema(example = "alice")]
    pub username: String,
    /// The wristband colour.
    #[schema(value_type = WristbandColour)]
    pub wristband: Wristband,
    /// The scopes the token carries.
    #[schema(value_type = Vec<ScopeName>)]
    pub scopes: ScopeSet,
}

/// `GET /api/stages/{stage}`: a welcome at a stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageWelcome {
    /// The stage's URL name.
    #[schema(example = "main")]
    pub stage: &'static str,
    /// A greeting for the wristband's wearer.
    #[schema(example = "Welcome to the Main Stage, alice.")]
    pub welcome: String,
}

/// `GET /api/backstage`: a welcome backstage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AreaWelcome {
    /// The area entered: `backstage`.
    #[schema(example = "backstage")]
    pub area: &'static str,
    /// A greeting for the wristband's wearer.
    #[schema(example = "Welcome backstage, bob.")]
    pub welcome: String,
}

/// `GET /health`: the service is up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

// Documentation only: the JSON value is a `wristband_tokens::Wristband`, which does not
// implement `ToSchema`. A test checks the two name the same values.
/// A wristband colour: `green` (general admission) or `gold` (VIP, backstage too).
#[derive(ToSchema)]
#[schema(as = Wristband)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum WristbandColour {
    Green,
    Gold,
}

// Documentation only: the JSON value is a `wristband_scopes::Scope`. A test checks the two
// name the same values.
/// A scope: `stages` (the stages and food tents) or `backstage` (gold wristbands only).
#[derive(ToSchema)]
#[schema(as = Scope)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum ScopeName {
    Stages,
    Backstage,
}

/// Who the presented token speaks for.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "festival",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The token's user", body = Me),
        (status = 400, description = "invalid_request: malformed Authorization header, or a token in the URL", body = ErrorBody),
        (status = 401, description = "No token, or invalid_token", body = ErrorBody,
            headers(("www-authenticate" = String, description = "Bearer challenge (RFC 6750 §3)"))),
    )
)]
pub(crate) async fn me(user: CurrentUser) -> Json<Me> {
    Json(Me {
        username: user.username,
        wristband: user.wristband,
        scopes: user.scopes,
    })
}

/// Enter a stage: any wristband will do, as long as its token carries `stages`.
#[utoipa::path(
    get,
    path = "/api/stages/{stage}",
    tag = "festival",
    params(("stage" = String, Path, description = "The stage: main, forest or harbour", example = "main")),
    security(("bearer" = ["stages"]), ("oauth2" = ["stages"])),
    responses(
        (status = 200, description = "Welcome to the stage", body = StageWelcome),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "No token, or invalid_token", body = ErrorBody,
            headers(("www-authenticate" = String, description = "Bearer challenge (RFC 6750 §3)"))),
        (status = 403, description = "insufficient_scope: the token lacks `stages`", body = ErrorBody,
            headers(("www-authenticate" = String, description = "Bearer challenge naming the scope"))),
        (status = 404, description = "No such stage", body = ErrorBody),
    )
)]
pub(crate) async fn stage(
    // First, so that an anonymous caller learns nothing about which stages exist.
    user: Authorized<Stages>,
    slug: Result<Path<String>, PathRejection>,
) -> Result<Json<StageWelcome>, NotFound> {
    let Ok(Path(slug)) = slug else {
        return Err(NotFound);
    };
    let stage = lineup::stage(&slug).ok_or(NotFound)?;
    Ok(Json(StageWelcome {
        stage: stage.slug,
        welcome: format!("Welcome to the {}, {}.", stage.name, user.username),
    }))
}

/// Enter backstage: gold wristbands only, with a token carrying `backstage`.
#[utoipa::path(
    get,
    path = "/api/backstage",
    tag = "festival",
    security(("bearer" = ["backstage"]), ("oauth2" = ["backstage"])),
    responses(
        (status = 200, description = "Welcome backstage", body = AreaWelcome),
        (status = 400, description = "invalid_request", body = ErrorBody),
        (status = 401, description = "No token, or invalid_token", body = ErrorBody,
            headers(("www-authenticate" = String, description = "Bearer challenge (RFC 6750 §3)"))),
        (status = 403, description = "insufficient_scope: the token lacks `backstage`", body = ErrorBody,
            headers(("www-authenticate" = String, description = "Bearer challenge naming the scope"))),
    )
)]
pub(crate) async fn backstage(user: Authorized<Backstage>) -> Json<AreaWelcome> {
    Json(AreaWelcome {
        area: "backstage",
        welcome: format!("Welcome backstage, {}.", user.username),
    })
}

/// Liveness check. Open to everyone, needs nothing.
#[utoipa::path(
    get,
    path = "/health",
    tag = "service",
    responses((status = 200, description = "The service is up", body = Health))
)]
pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// There is no stage by that name. The body never repeats the name asked for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NotFound;

impl IntoResponse for NotFound {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: Some("not_found"),
            error_description: "There is no such stage: try main, forest or harbour",
        };
        (StatusCode::NOT_FOUND, Json(body)).into_response()
    }
}
