//! Limits that keep one client from exhausting the server: document ingests share a
//! memory budget (`AppState::with_ingest_budget`, `ailedger serve --ingest-memory-mib`);
//! an ingest that does not fit while others run is answered 503 problem+json with
//! `Retry-After`, naming the limit, and records nothing; once the others end it fits.

use std::sync::Arc;

use ailedger_server::{AppState, router};
use ailedger_store_sqlite::SqliteStore;
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

const BOM: &str = r#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"left-pad","version":"1.3.0","purl":"pkg:npm/left-pad@1.3.0"}]}"#;

fn post(token: &str, body: Body, length: usize) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/v1/documents?name=bom.json")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/octet-stream")
        .header("content-length", length.to_string())
        .body(body)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingests_share_a_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    // 64 MiB: a 5 MiB document (about 60 MiB to parse) fits alone, not beside another.
    let state = AppState::new(store, "sqlite")
        .await
        .unwrap()
        .with_ingest_budget(64);
    let token = ailedger_server::auth::create_token(
        state.store.as_ref(),
        "setup",
        "test@ci",
        ailedger_core::token::Scope::Admin,
        None,
    )
    .await
    .unwrap()
    .secret;
    let app = router(state.clone());

    // A 5 MiB upload whose body has not arrived yet holds its share while it waits.
    let big = 5 * 1024 * 1024;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let slow = tokio::spawn(
        app.clone()
            .oneshot(post(&token, Body::from_stream(stream), big)),
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    // Another ingest meanwhile: 503, Retry-After, the limit named, nothing recorded.
    let head = state.store.head().await.unwrap();
    let padded = format!("{BOM}{}", " ".repeat(big - BOM.len()));
    let resp = app
        .clone()
        .oneshot(post(&token, Body::from(padded.clone()), padded.len()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "5");
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let problem: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(problem["status"], 503);
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("ingest memory budget (64 MiB"), "{detail}");
    assert!(detail.contains("--ingest-memory-mib"), "{detail}");
    assert_eq!(state.store.head().await.unwrap(), head);

    // The slow upload ends (its body cut short: refused), which frees its share.
    drop(tx);
    let resp = slow.await.unwrap().unwrap();
    assert_ne!(resp.status(), StatusCode::OK);
    let resp = app
        .clone()
        .oneshot(post(&token, Body::from(padded.clone()), padded.len()))
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(state.store.head().await.unwrap(), head + 1);
}
