//! The OpenAPI document: it covers every registered route, is structurally valid OpenAPI 3.1,
//! and is guarded by a committed snapshot (`UPDATE_SNAPSHOTS=1` rewrites it).

use std::collections::BTreeSet;

use axum::http::Method;
use serde_json::Value;

use crate::harness::Shared;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/openapi.snapshot.json");

pub async fn every_route_is_registered_and_documented(app: Shared) {
    let document = app.get("/api/openapi.json", "").await.expect(200).body;
    let table = pipewise_web::api::table();
    assert!(table.len() >= 40, "{} routes", table.len());
    // Documented: every route of the table, and nothing else.
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let registered: BTreeSet<(String, String)> = table.iter().map(|route| (route.method.to_string(), route.path.to_owned())).collect();
    assert_eq!(documented, registered);
    // Registered: every route answers (401 without credentials), never 404 or 405.
    for route in &table {
        let path = route.path.replace("{id}", "1").replace("{part}", "bant").replace("{user_id}", "1");
        let body = (route.method == Method::POST || route.method == Method::PATCH).then(|| serde_json::json!({}));
        let reply = app.call(route.method.clone(), &path, "", body).await;
        let expected = if route.authenticated { 401 } else { 200 };
        assert_eq!(reply.status.as_u16(), expected, "{} {}: {}", route.method, route.path, reply.body);
    }
    check_structure(&document);
    check_snapshot(&document);
}

fn check_structure(document: &Value) {
    assert_eq!(document["openapi"], "3.1.0");
    for key in ["title", "version"] {
        assert!(document["info"][key].is_string(), "info.{key}");
    }
    assert!(document["paths"].is_object());
    // Every $ref resolves inside the document.
    let mut refs = Vec::new();
    collect_refs(document, &mut refs);
    assert!(refs.len() > 50, "{} refs", refs.len());
    for reference in refs {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {reference}"));
        assert!(document.pointer(pointer).is_some(), "$ref {reference} does not resolve");
    }
    // Every path parameter is declared, and every declared path parameter is in the path.
    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    for (path, item) in document["paths"].as_object().unwrap() {
        let in_path: BTreeSet<&str> = path.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name)).collect();
        for (method, operation) in item.as_object().unwrap() {
            assert!(methods.contains(&method.as_str()), "{method} {path}");
            assert!(operation["operationId"].is_string(), "{method} {path} has no operationId");
            assert!(operation["responses"].as_object().is_some_and(|responses| !responses.is_empty()), "{method} {path}");
            let declared: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|parameter| parameter["in"] == "path")
                .map(|parameter| {
                    assert_eq!(parameter["required"], true, "{method} {path}");
                    parameter["name"].as_str().unwrap()
                })
                .collect();
            assert_eq!(declared, in_path, "{method} {path}");
        }
    }
    // Operation ids are unique.
    let mut ids = BTreeSet::new();
    for item in document["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            assert!(ids.insert(operation["operationId"].as_str().unwrap().to_owned()), "duplicate {}", operation["operationId"]);
        }
    }
}

fn collect_refs<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
    match value {
        Value::Object(object) => {
            for (key, value) in object {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => refs.push(reference),
                    _ => collect_refs(value, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
        _ => {}
    }
}

fn check_snapshot(document: &Value) {
    let current = serde_json::to_string_pretty(document).unwrap() + "\n";
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|value| value == "1") && !pipewise_test_support::in_ci() {
        std::fs::write(SNAPSHOT, &current).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    if committed != current {
        let first = committed
            .lines()
            .zip(current.lines())
            .position(|(old, new)| old != new)
            .unwrap_or(committed.lines().count().min(current.lines().count()));
        let old: Vec<&str> = committed.lines().skip(first).take(5).collect();
        let new: Vec<&str> = current.lines().skip(first).take(5).collect();
        panic!(
            "the OpenAPI document changed; first difference at line {}:\n--- committed\n{}\n+++ current\n{}\n\
             hint: if the change is intended, run `UPDATE_SNAPSHOTS=1 cargo test -p pipewise-web --test api` and commit {SNAPSHOT}",
            first + 1,
            old.join("\n"),
            new.join("\n"),
        );
    }
}
