//! `POST /v1/documents`: a document with a local fault is recorded repaired, with the
//! warning at the fault's pointer; `strict=true` refuses it (422 naming the pointer)
//! and records nothing — also when the same bytes were recorded before without it.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::app;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

/// Trivy's SPDX output (tests/fixtures/spdx) with one relationship naming an element
/// the document does not define.
fn trivy_with_dangling_relationship() -> String {
    let bytes = std::fs::read(format!(
        "{FIXTURES}/spdx/protobom-trivy-0.42.1_mageia-5.1.spdx.json"
    ))
    .unwrap();
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    v["relationships"][1]["relatedSpdxElement"] = json!("SPDXRef-OperatingSystem-missing");
    serde_json::to_string_pretty(&v).unwrap()
}

fn detail(v: &Value) -> &str {
    v["detail"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn strict_refuses_what_is_otherwise_repaired() {
    let app = app().await;
    let cases: Vec<(String, &str)> = vec![
        (
            trivy_with_dangling_relationship(),
            "/relationships/1/relatedSpdxElement: \"SPDXRef-OperatingSystem-missing\" does not name any SPDXID",
        ),
        (
            json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
                "packages": [{"SPDXID": "SPDXRef-a", "name": ""}]})
            .to_string(),
            "/packages/0/name: name is empty",
        ),
        (
            json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [
                {"type": "library", "name": "x", "hashes": [{"alg": "SHA-256", "content": "not-hex"}]}]})
            .to_string(),
            "/components/0/hashes/0: SHA-256 value \"not-hex\" is not hexadecimal",
        ),
    ];
    for (doc, fault) in cases {
        let before = app.head().await;
        let (s, ctype, v) = app
            .call("POST", "/v1/documents?name=d.json&strict=true", Some(&doc))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(ctype, "application/problem+json");
        assert!(detail(&v).contains(fault), "{v} lacks {fault}");
        assert_eq!(
            app.head().await,
            before,
            "a refused document recorded something"
        );

        // Without strict: recorded, the warning at the pointer.
        let (s, _, v) = app
            .call("POST", "/v1/documents?name=d.json", Some(&doc))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["unchanged"], false);
        let warnings: Vec<&str> = v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            warnings.iter().any(|w| w.contains(fault)),
            "{warnings:?} lacks {fault}"
        );
        let after = app.head().await;
        assert!(after > before);

        // The same bytes again under strict: refused, not answered "unchanged".
        let (s, _, v) = app
            .call("POST", "/v1/documents?name=d.json&strict=true", Some(&doc))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(detail(&v).contains(fault), "{v} lacks {fault}");
        assert_eq!(app.head().await, after);
    }
    // A document without faults is recorded under strict as without it.
    let clean = std::fs::read_to_string(format!(
        "{FIXTURES}/spdx/protobom-trivy-0.42.1_mageia-5.1.spdx.json"
    ))
    .unwrap();
    let (s, _, v) = app
        .call("POST", "/v1/documents?strict=true", Some(&clean))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
