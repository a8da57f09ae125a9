//! The OpenAPI document says what the router does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use wristband_scopes::Scope;

fn document() -> Value {
    serde_json::to_value(wristband_api::openapi()).expect("the document serializes")
}

#[test]
fn the_document_declares_a_jwt_bearer_scheme_and_an_oauth2_password_flow() {
    let schemes = &document()["components"]["securitySchemes"];
    assert_eq!(
        schemes["bearer"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A wristband token from POST /token, sent as Authorization: Bearer <token>"
        })
    );
    let oauth2 = &schemes["oauth2"];
    assert_eq!(oauth2["type"], "oauth2");
    assert_eq!(
        oauth2["flows"]["password"],
        json!({
            "tokenUrl": "/token",
            "scopes": {
                "stages": Scope::Stages.description(),
                "backstage": Scope::Backstage.description(),
            }
        })
    );
}

#[test]
fn every_route_of_the_table_is_documented_with_its_method() {
    let paths = &document()["paths"];
    let mut documented: Vec<String> = paths
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} {path}", method.to_uppercase()))
        })
        .collect();
    documented.sort();
    assert_eq!(
        documented,
        [
            "GET /api/backstage",
            "GET /api/me",
            "GET /api/stages/{stage}",
            "GET /health",
            "POST /token",
        ]
    );
}

#[test]
fn gated_operations_require_a_wristband_with_their_scopes() {
    let paths = &document()["paths"];
    let expect = |path: &str, scopes: Value| {
        assert_eq!(
            paths[path]["get"]["security"],
            json!([{"bearer": scopes.clone()}, {"oauth2": scopes}]),
            "{path}"
        );
    };
    expect("/api/me", json!([]));
    expect("/api/stages/{stage}", json!(["stages"]));
    expect("/api/backstage", json!(["backstage"]));
}

#[test]
fn open_operations_require_nothing() {
    let document = document();
    assert_eq!(document.get("security"), None, "no global requirement");
    assert_eq!(document["paths"]["/health"]["get"].get("security"), None);
    assert_eq!(document["paths"]["/token"]["post"].get("security"), None);
}

#[test]
fn the_token_endpoint_is_documented_as_a_form_post() {
    let document = document();
    let content = &document["paths"]["/token"]["post"]["requestBody"]["content"];
    assert!(
        content.get("application/x-www-form-urlencoded").is_some(),
        "{content}"
    );
}

#[test]
fn the_documented_scope_and_wristband_names_match_the_real_ones() {
    let schemas = &document()["components"]["schemas"];
    let scopes: Vec<&str> = Scope::ALL.iter().map(|scope| scope.as_str()).collect();
    assert_eq!(schemas["Scope"]["enum"], json!(scopes));
    assert_eq!(schemas["Wristband"]["enum"], json!(["green", "gold"]));
}

#[test]
fn the_token_form_documents_which_fields_are_required() {
    let document = document();
    assert_eq!(
        document["components"]["schemas"]["TokenRequest"]["required"],
        json!(["grant_type", "username", "password"])
    );
}
