//! `GET /v1/export/spdx`: SPDX 2.3 JSON of a subgraph, schema-valid, deterministic, as of
//! any time, and read back by a fresh ledger as the same artifacts, aliases and edges
//! (round trip and as_of also on PostgreSQL with `AILEDGER_TEST_POSTGRES_URL`).

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{App, Backend, seed, seeded};

const SPDX_2_3: &str = include_str!("../../../../schemas/spdx/spdx-2.3.schema.json");

/// The raw answer: status, content type, bytes.
async fn raw(app: &App, uri: &str) -> (StatusCode, String, Vec<u8>) {
    super::request_as(&app.router, &app.token, "GET", uri, None).await
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn export(app: &App, r: &str) -> Vec<u8> {
    let (status, ctype, bytes) = raw(app, &format!("/v1/export/spdx?ref={}", enc(r))).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(ctype, "application/spdx+json");
    bytes
}

pub(crate) fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(SPDX_2_3).unwrap();
    let v = jsonschema::options().build(&schema).unwrap();
    v.iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn names(doc: &Value) -> BTreeSet<String> {
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn exports_a_deployment_as_spdx_2_3() {
    let app = seeded().await;
    let bytes = export(&app, "deployment:prod/chat").await;
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(schema_errors(&doc), Vec::<String>::new());
    assert_eq!(
        names(&doc),
        ["base", "prod/chat", "requests", "urllib3"]
            .map(String::from)
            .into()
    );
    let head = app.head().await;
    let comment = doc["comment"].as_str().unwrap();
    assert!(comment.contains(&format!("at seq {head} ")), "{comment}");
    assert!(comment.contains("root hash "), "{comment}");
    // The same ledger state, the same bytes.
    assert_eq!(export(&app, "deployment:prod/chat").await, bytes);
    // An incident shows on what it covers, and the document is a new one.
    app.ok(
        "POST",
        "/v1/incidents",
        json!({"target": "pkg:pypi/urllib3@2.2.2", "severity": "critical",
               "reason": "malicious release"}),
    )
    .await;
    let after: Value = serde_json::from_slice(&export(&app, "deployment:prod/chat").await).unwrap();
    assert_ne!(after["documentNamespace"], doc["documentNamespace"]);
    let urllib3 = after["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "urllib3")
        .unwrap();
    let notes = urllib3["annotations"].to_string();
    assert!(
        notes.contains("(open, severity critical): malicious release"),
        "{notes}"
    );
    assert_eq!(schema_errors(&after), Vec::<String>::new());
}

#[tokio::test]
async fn exports_as_of_a_time() {
    as_of_a_time(seeded().await).await;
}

#[tokio::test]
async fn exports_as_of_a_time_on_postgres() {
    if let Some(app) = Backend::Postgres
        .app("the SPDX as_of export on PostgreSQL")
        .await
    {
        as_of_a_time(seed(app).await).await;
    }
}

async fn as_of_a_time(app: App) {
    // As of the write before the deployment's: the model and its packages only.
    let before = app.head().await - 1;
    let times = app.state.store.seq_times(&[before]).await.unwrap();
    let t = ailedger_core::entry::format_time(times[0].1);
    let (status, _, bytes) = raw(
        &app,
        &format!("/v1/export/spdx?ref=model:base@1&as_of={}", enc(&t)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let comment = doc["comment"].as_str().unwrap();
    assert!(comment.contains(&format!("at seq {before} ")), "{comment}");
    assert_eq!(
        names(&doc),
        ["base", "requests", "urllib3"].map(String::from).into()
    );
    // The deployment did not exist yet: no document of it.
    let (status, ctype, body) = raw(
        &app,
        &format!("/v1/export/spdx?ref=deployment:prod/chat&as_of={}", enc(&t)),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ctype, "application/problem+json");
}

#[tokio::test]
async fn bad_export_requests_are_problems() {
    let app = seeded().await;
    let (status, ctype, body) = raw(&app, "/v1/export/spdx?ref=model:nothing@9").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "{}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ctype, "application/problem+json");
    let (status, ctype, body) = raw(&app, "/v1/export/spdx?ref=model:base@1&as_of=yesterday").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(ctype, "application/problem+json");
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("as_of") && body.contains("yesterday"),
        "{body}"
    );
    let (status, _, _) = raw(&app, "/v1/export/spdx").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// What a round trip must keep of an export: each element's SPDXID (from the artifact
/// id), its kind, purls and aliases (external references) and SHA-256; the
/// relationships.
fn identity(doc: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut elements = BTreeSet::new();
    for p in doc["packages"].as_array().unwrap() {
        let refs: BTreeSet<String> = p["externalRefs"]
            .as_array()
            .map(|rs| {
                rs.iter()
                    .filter(|r| {
                        matches!(
                            r["referenceType"].as_str(),
                            Some("purl" | "ailedger-kind" | "ailedger-alias")
                        )
                    })
                    .map(Value::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let sha = p["checksums"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["algorithm"] == "SHA256"))
            .map(|c| c["checksumValue"].to_string());
        elements.insert(format!("{} {} {:?} {refs:?}", p["SPDXID"], p["name"], sha));
    }
    for f in doc["files"].as_array().into_iter().flatten() {
        elements.insert(format!(
            "{} {} {}",
            f["SPDXID"], f["fileName"], f["checksums"]
        ));
    }
    let rels = doc["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(Value::to_string)
        .collect();
    (elements, rels)
}

async fn ingest(app: &App, bytes: Vec<u8>, name: &str) -> Value {
    let (status, _, v) = super::call_as(
        &app.router,
        &app.token,
        "POST",
        &format!("/v1/documents?name={name}"),
        Some(bytes),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{name}: {v}");
    v
}

/// Ingests `fixture`, exports the subgraph of `root` (default: the document's), ingests
/// that into a fresh ledger and exports the same subgraph from there: the two exports
/// name the same artifacts (ids, kinds, aliases) and edges, and both are schema-valid.
/// Returns how many elements the export has.
async fn round_trip(fixture: &str, root: Option<&str>) -> usize {
    round_trip_on(Backend::Sqlite, fixture, root)
        .await
        .unwrap_or_default()
}

/// [`round_trip`] on `backend` (`None` when it is not there to run on).
async fn round_trip_on(backend: Backend, fixture: &str, root: Option<&str>) -> Option<usize> {
    let path = format!(
        "{}/../../tests/fixtures/{fixture}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap();
    let what = format!("the SPDX round trip of {fixture} on {backend:?}");
    let source = backend.app(&what).await?;
    let digest = ingest(&source, bytes, "source.json").await["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let root = root.unwrap_or(&digest);
    let first = export(&source, root).await;
    let first_doc: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(schema_errors(&first_doc), Vec::<String>::new(), "{fixture}");
    let copy = backend.app(&what).await?;
    let v = ingest(&copy, first.clone(), "export.spdx.json").await;
    assert_eq!(v["warnings"], json!([]), "{fixture}");
    let second: Value = serde_json::from_slice(&export(&copy, root).await).unwrap();
    let (ea, ra) = identity(&first_doc);
    let (eb, rb) = identity(&second);
    assert_eq!(
        ea.symmetric_difference(&eb).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "{fixture}: elements"
    );
    assert_eq!(
        ra.symmetric_difference(&rb).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "{fixture}: relationships"
    );
    Some(ea.len())
}

#[tokio::test]
async fn round_trip_ml_bom_with_datasets() {
    // The document, the application, the model, its two datasets.
    let n = round_trip(
        "cyclonedx/examples-mlbom-model-card-with-dataset-1.7.json",
        None,
    )
    .await;
    assert_eq!(n, 5);
}

#[tokio::test]
async fn round_trip_juice_shop() {
    let n = round_trip("cyclonedx/examples-juice-shop-npm-bare-1.4.json", None).await;
    assert!(n > 900, "{n}");
}

#[tokio::test]
async fn round_trip_keycloak() {
    // The BOM's own component has no dependencies; its largest dependency tree does.
    let n = round_trip(
        "cyclonedx/examples-keycloak-10.0.2-1.2.json",
        Some("pkg:maven/org.keycloak/keycloak-testsuite-utils@10.0.2?type=jar"),
    )
    .await;
    assert!(n > 30, "{n}");
}

#[tokio::test]
async fn round_trip_spdx_documents() {
    for (f, min) in [
        ("spdx/spdxspec-SPDXJSONExample-v2.3.spdx.json", 5),
        ("spdx/protobom-curl.spdx.json", 70),
        ("spdx/protobom-bom-v0.4.1_cirros-0.4.0.spdx.json", 22),
        (
            "spdx/protobom-github-depgraph-kubernetes-d61cbac6.spdx.json",
            426,
        ),
    ] {
        let n = round_trip(f, None).await;
        assert!(n >= min, "{f}: {n}");
    }
}

#[tokio::test]
async fn round_trips_on_postgres() {
    for (f, root, min) in [
        (
            "cyclonedx/examples-mlbom-model-card-with-dataset-1.7.json",
            None,
            5,
        ),
        (
            "cyclonedx/examples-keycloak-10.0.2-1.2.json",
            Some("pkg:maven/org.keycloak/keycloak-testsuite-utils@10.0.2?type=jar"),
            30,
        ),
        ("spdx/spdxspec-SPDXJSONExample-v2.3.spdx.json", None, 5),
        ("spdx/protobom-curl.spdx.json", None, 70),
    ] {
        let Some(n) = round_trip_on(Backend::Postgres, f, root).await else {
            return;
        };
        assert!(n >= min, "{f}: {n}");
    }
}
