//! `GET /v1/export/cyclonedx` over real ledgers (SQLite files, and PostgreSQL with
//! `AILEDGER_TEST_POSTGRES_URL`): real-world BOMs
//! (juice-shop, keycloak) ingested, exported as CycloneDX 1.6 and 1.7, checked against
//! the official schemas by the formats crate (zero deviations), ingested into a fresh
//! ledger and exported again (same components, kinds, aliases and dependency graph);
//! two exports of one state are byte-identical and a later write does not change an
//! `as_of` export; reads need a read token.

use std::collections::BTreeMap;

use ailedger_core::{entry::format_time, token::Scope};
use ailedger_server::{auth::create_token, paths};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{App, Backend, app, call_as};

const FIX: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/cyclonedx"
);

/// A GET with a bearer token: status, content type and the raw body.
async fn get_raw(app: &App, token: &str, uri: &str) -> (StatusCode, String, Vec<u8>) {
    super::request_as(&app.router, token, "GET", uri, None).await
}

async fn ingest(app: &App, body: Vec<u8>) {
    let (s, _, v) = call_as(
        &app.router,
        &app.token,
        "POST",
        paths::DOCUMENTS,
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn export(app: &App, query: &str) -> Vec<u8> {
    let uri = format!("{}?{query}", paths::EXPORT_CYCLONEDX);
    let (s, ctype, body) = get_raw(app, &app.token, &uri).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    assert!(
        ctype.starts_with("application/vnd.cyclonedx+json"),
        "{ctype}"
    );
    body
}

/// Parses the export with ailedger's own reader, which checks it against the official
/// schema of its spec version: no deviation, no warning.
fn check(bytes: &[u8], spec: &str) -> Value {
    let doc = ailedger_formats::parse(bytes, &ailedger_formats::Options::default()).unwrap();
    assert_eq!(
        doc.format,
        ailedger_formats::Format::CycloneDx {
            version: spec.into(),
            encoding: ailedger_formats::Encoding::Json
        }
    );
    assert!(doc.warnings.is_empty(), "{:#?}", doc.warnings);
    serde_json::from_slice(bytes).unwrap()
}

/// What a round trip must keep: each component or service (by bom-ref = ledger id) with
/// its type and ailedger properties, and the dependency graph.
fn shape(bom: &Value) -> (BTreeMap<String, Value>, Value, Value) {
    let mut items = BTreeMap::new();
    for c in bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .chain(bom["services"].as_array().into_iter().flatten())
        .chain(std::iter::once(&bom["metadata"]["component"]))
    {
        let props: Vec<&Value> = c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| {
                matches!(
                    p["name"].as_str(),
                    Some("ailedger:kind" | "ailedger:alias" | "ailedger:edge")
                )
            })
            .collect();
        items.insert(
            c["bom-ref"].as_str().unwrap().to_owned(),
            json!({"type": c["type"], "props": props, "purl": c["purl"]}),
        );
    }
    (
        items,
        bom["dependencies"].clone(),
        bom["metadata"]["component"]["bom-ref"].clone(),
    )
}

async fn round_trip(fixture: &str, root: &str, min_components: usize) {
    round_trip_on(Backend::Sqlite, fixture, root, min_components).await;
}

async fn round_trip_on(backend: Backend, fixture: &str, root: &str, min_components: usize) {
    let what = format!("the CycloneDX round trip of {fixture} on {backend:?}");
    let Some(source) = backend.app(&what).await else {
        return;
    };
    ingest(&source, std::fs::read(format!("{FIX}/{fixture}")).unwrap()).await;
    let q = format!("ref={root}");
    let first = export(&source, &q).await;
    let bom = check(&first, "1.6");
    let n = bom["components"].as_array().unwrap().len();
    assert!(n >= min_components, "{fixture}: {n} components");
    let v17 = export(&source, &format!("{q}&spec_version=1.7")).await;
    check(&v17, "1.7");

    // Into a fresh ledger, and out again.
    let Some(copy) = backend.app(&what).await else {
        return;
    };
    ingest(&copy, first.clone()).await;
    let again = export(&copy, &q).await;
    let bom2 = check(&again, "1.6");
    let (a, b) = (shape(&bom), shape(&bom2));
    assert_eq!(a.2, b.2, "{fixture}: root");
    assert_eq!(a.0.len(), b.0.len(), "{fixture}: component count");
    for (id, x) in &a.0 {
        assert_eq!(Some(x), b.0.get(id), "{fixture}: {id}");
    }
    assert_eq!(a.1, b.1, "{fixture}: dependencies");
}

#[tokio::test]
async fn juice_shop_validates_and_round_trips() {
    round_trip(
        "examples-juice-shop-npm-bare-1.4.json",
        "package:juice-shop@14.1.1",
        800,
    )
    .await;
}

#[tokio::test]
async fn keycloak_validates_and_round_trips() {
    round_trip(
        "examples-keycloak-10.0.2-1.2.json",
        // The BOM's subject has no dependencies; this component reaches the most.
        "pkg:maven/org.keycloak.testsuite/integration-arquillian-servers-auth-server-undertow@10.0.2%3Ftype%3Djar",
        160,
    )
    .await;
}

#[tokio::test]
async fn keycloak_round_trips_on_postgres() {
    round_trip_on(
        Backend::Postgres,
        "examples-keycloak-10.0.2-1.2.json",
        "pkg:maven/org.keycloak.testsuite/integration-arquillian-servers-auth-server-undertow@10.0.2%3Ftype%3Djar",
        160,
    )
    .await;
}

#[tokio::test]
async fn deterministic_and_as_of() {
    deterministic_and_as_of_on(app().await).await;
}

#[tokio::test]
async fn deterministic_and_as_of_on_postgres() {
    if let Some(app) = Backend::Postgres
        .app("the CycloneDX as_of export on PostgreSQL")
        .await
    {
        deterministic_and_as_of_on(app).await;
    }
}

async fn deterministic_and_as_of_on(app: App) {
    app.ok("POST", paths::ARTIFACTS, json!({"artifacts": [
        {"kind": "package", "ref": "pkg:pypi/torch@2.4.0", "attrs": {"license": "BSD-3-Clause"}},
        {"kind": "dataset", "name": "tickets", "version": "1"},
        {"kind": "model", "name": "base", "version": "1"},
        {"kind": "model", "name": "bot", "version": "3", "attrs": {"task": "text-generation"}},
        {"kind": "mcp-server", "name": "fetch", "version": "1", "attrs": {"transport": "stdio", "command": "uvx", "args": ["mcp-server-fetch==1"]}},
        {"kind": "mcp-config", "name": "tools", "version": "1"}
    ], "edges": [
        {"from": "model:bot@3", "edge": "derived-from", "to": "model:base@1"},
        {"from": "model:bot@3", "edge": "trained-on", "to": "dataset:tickets@1"},
        {"from": "model:base@1", "edge": "depends-on", "to": "pkg:pypi/torch@2.4.0"},
        {"from": "mcp-config:tools@1", "edge": "uses-tool", "to": "mcp-server:fetch@1"}
    ]}))
    .await;
    app.ok(
        "POST",
        paths::DEPLOYMENTS,
        json!({"name": "bot", "env": "prod", "uses": ["model:bot@3", "mcp-config:tools@1"]}),
    )
    .await;
    let q = "ref=deployment:prod/bot";
    let a = export(&app, q).await;
    let b = export(&app, q).await;
    assert_eq!(a, b, "two exports of one state differ");
    let bom = check(&a, "1.6");
    assert_eq!(
        bom["metadata"]["component"]["bom-ref"],
        "deployment:prod/bot"
    );
    assert_eq!(
        bom["metadata"]["properties"][0],
        json!({"name": "ailedger:ledger.seq", "value": app.head().await.to_string()})
    );
    assert_eq!(bom["services"][0]["bom-ref"], "mcp-server:fetch@1");
    check(&export(&app, &format!("{q}&spec_version=1.7")).await, "1.7");

    // A later write changes the export at the head, not one as of before it.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let before = format_time(ailedger_store::now_us() - ailedger_store::now_us() % 1_000_000);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.ok(
        "POST",
        paths::LINKS,
        json!({"edges": [{"from": "model:bot@3", "edge": "depends-on", "to": "pkg:pypi/torch@2.4.0"}]}),
    )
    .await;
    let later = export(&app, q).await;
    assert_ne!(a, later);
    let as_of = export(&app, &format!("{q}&as_of={before}")).await;
    assert_eq!(a, as_of, "the as_of export changed after a later write");

    // An open incident on torch is a VEX vulnerability, in triage; acknowledged, it is
    // exploitable; the earlier state's export has none.
    let opened = app
        .ok(
            "POST",
            "/v1/incidents",
            json!({"target": "pkg:pypi/torch", "reason": "malicious release", "severity": "critical"}),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let vex = check(&export(&app, q).await, "1.6");
    let v = &vex["vulnerabilities"][0];
    assert_eq!(v["id"], format!("AILEDGER-INCIDENT-{opened}"), "{v}");
    assert_eq!(v["analysis"]["state"], "in_triage");
    assert_eq!(v["ratings"][0]["severity"], "critical");
    assert_eq!(v["affects"], json!([{"ref": "pkg:pypi/torch@2.4.0"}]));
    app.ok(
        "POST",
        &format!("/v1/incidents/{opened}/ack"),
        json!({"note": "on it"}),
    )
    .await;
    let vex = check(&export(&app, q).await, "1.6");
    assert_eq!(
        vex["vulnerabilities"][0]["analysis"]["state"],
        "exploitable"
    );
    assert_eq!(export(&app, &format!("{q}&as_of={before}")).await, a);

    // Bad parameters name the field; reads need a token.
    let (s, _, v) = app
        .call(
            "GET",
            &format!("{}?{q}&spec_version=1.5", paths::EXPORT_CYCLONEDX),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("spec_version"),
        "{v}"
    );
    let (s, _, v) = app
        .call(
            "GET",
            &format!("{}?{q}&format=yaml", paths::EXPORT_CYCLONEDX),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("format"), "{v}");
    let (s, ctype, xml) = get_raw(
        &app,
        &app.token,
        &format!("{}?{q}&format=xml", paths::EXPORT_CYCLONEDX),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ctype, "application/vnd.cyclonedx+xml; version=1.6");
    assert!(
        String::from_utf8(xml)
            .unwrap()
            .contains("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\""),
    );
    let (s, _, _) = get_raw(&app, "nope", &format!("{}?{q}", paths::EXPORT_CYCLONEDX)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let reader = create_token(app.state.store.as_ref(), "setup", "r@ci", Scope::Read, None)
        .await
        .unwrap()
        .secret;
    let (s, _, body) = get_raw(&app, &reader, &format!("{}?{q}", paths::EXPORT_CYCLONEDX)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, export(&app, q).await);
}
