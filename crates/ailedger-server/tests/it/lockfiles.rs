//! A lockfile's graph through ingest and `impact`: the project's own Cargo.lock (a
//! frozen copy, tests/fixtures/lockfiles) ingested as a document, then the blast
//! radius of a deep crate shows the chains through the packages between.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const CARGO_LOCK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/lockfiles/ailedger-Cargo.lock"
);

#[tokio::test]
async fn impact_of_a_deep_crate_shows_the_chain() {
    let app = crate::app().await;
    let bytes = std::fs::read(CARGO_LOCK).unwrap();
    let req = Request::builder()
        .method("POST")
        .uri("/v1/documents?name=Cargo.lock")
        .header("authorization", format!("Bearer {}", app.token))
        .header("content-type", "application/octet-stream")
        .body(Body::from(bytes.clone()))
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).unwrap();
    // 433 packages and the environment; 1,261 package → package edges and 12 from the
    // environment to the workspace's crates.
    assert_eq!(v["artifacts"], 434, "{v}");
    assert_eq!(v["edges"], 1273, "{v}");
    let env = v["digest"].as_str().unwrap().to_owned();

    let (st, _, v) = app
        .call("GET", "/v1/impact?ref=pkg:cargo/ring@0.17.14", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let hits = v["hits"].as_array().unwrap();
    let hit = |id: &str| {
        hits.iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not in the impact of ring: {v}"))
    };
    // What depends on ring directly, and through it.
    assert_eq!(
        crate::path_of(&v, hit("pkg:cargo/rustls@0.23.48")),
        ["pkg:cargo/ring@0.17.14"]
    );
    let sqlx = hit("pkg:cargo/sqlx-core@0.8.6");
    assert_eq!(sqlx["depth"], 2);
    assert_eq!(
        crate::path_of(&v, sqlx),
        ["pkg:cargo/rustls@0.23.48", "pkg:cargo/ring@0.17.14"]
    );
    assert_eq!(
        crate::path_of(&v, hit("pkg:cargo/sqlx@0.8.6")),
        [
            "pkg:cargo/sqlx-core@0.8.6",
            "pkg:cargo/rustls@0.23.48",
            "pkg:cargo/ring@0.17.14"
        ]
    );
    // The environment is reached through one of its own crates, not directly.
    let e = hit(&env);
    let p = crate::path_of(&v, e);
    assert!(p.len() >= 2, "{e}");
    assert!(p[0].starts_with("package:ailedger-"), "{e}");
    assert_eq!(*p.last().unwrap(), "pkg:cargo/ring@0.17.14");
    // And it is labelled readably.
    let label = e["label"].as_str().unwrap_or_default();
    assert_eq!(
        label,
        format!("environment:ailedger-cli (Cargo.lock, {})", &env[7..15]),
        "{e}"
    );
    // Nothing unrelated: a crate ring does not reach is no hit.
    assert!(!hits.iter().any(|h| h["id"] == "pkg:cargo/serde@1.0.229"));
}
