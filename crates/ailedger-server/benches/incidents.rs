//! Benchmark of an incident's blast-radius report through the router on SQLite: a
//! package consumed transitively by 100,000 deployments (through 1,000 environments
//! that depend on it; a fifth of the deployments moved off it later, so their windows
//! are closed and each has a known-good configuration to report). Times the whole
//! `GET /v1/incidents/{id}/report` (JSON and Markdown): matching, the exposure walk
//! over history, known-good per deployment, times of every seq, rendering.

// Benchmarks unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::{sync::Arc, time::Instant};

use ailedger_core::{ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, EntryData};
use ailedger_server::{AppState, router};
use ailedger_store::{NewEntry, Store};
use ailedger_store_sqlite::SqliteStore;
use axum::{body::Body, http::Request};
use http_body_util::BodyExt;
use tower::ServiceExt;

const DEPLOYMENTS: usize = 100_000;
const ENVIRONMENTS: usize = 1_000;

fn package(id: &str) -> ArtifactFact {
    ArtifactFact {
        id: id.into(),
        kind: ArtifactKind::Package,
        name: None,
        version: None,
        aliases: vec![],
        attrs: Default::default(),
    }
}

fn deploy(i: usize, uses: &str) -> NewEntry {
    let mut attrs = serde_json::Map::new();
    attrs.insert("env".into(), "prod".into());
    attrs.insert("owner".into(), format!("team-{}", i % 50).into());
    NewEntry {
        actor: "bench".into(),
        data: EntryData::Deploy {
            deployment: ArtifactFact {
                id: format!("deployment:prod/svc-{i}"),
                kind: ArtifactKind::Deployment,
                name: Some(format!("svc-{i}")),
                version: None,
                aliases: vec![],
                attrs,
            },
            uses: vec![uses.into()],
        },
    }
}

async fn ledger(store: &SqliteStore) {
    let mut artifacts = vec![
        package("pkg:pypi/trojan@1.0.0"),
        package("pkg:pypi/trojan@0.9.0"),
    ];
    let mut edges = Vec::new();
    for e in 0..ENVIRONMENTS {
        for (v, pkg) in [
            ("bad", "pkg:pypi/trojan@1.0.0"),
            ("good", "pkg:pypi/trojan@0.9.0"),
        ] {
            let id = format!("environment:env-{e}@{v}");
            artifacts.push(ArtifactFact {
                id: id.clone(),
                kind: ArtifactKind::Environment,
                name: Some(format!("env-{e}")),
                version: Some(v.into()),
                aliases: vec![],
                attrs: Default::default(),
            });
            edges.push(EdgeFact::new(id, EdgeKind::DependsOn, pkg));
        }
    }
    store
        .append(vec![NewEntry {
            actor: "bench".into(),
            data: EntryData::Register { artifacts, edges },
        }])
        .await
        .unwrap();
    // Every deployment first ran the good environment, then the bad one; a fifth of
    // them moved back to the good one before the advisory.
    for phase in 0..3 {
        let entries: Vec<NewEntry> = (0..DEPLOYMENTS)
            .filter(|i| phase < 2 || i % 5 == 0)
            .map(|i| {
                let v = if phase == 1 { "bad" } else { "good" };
                deploy(i, &format!("environment:env-{}@{v}", i % ENVIRONMENTS))
            })
            .collect();
        for chunk in entries.chunks(20_000) {
            store.append(chunk.to_vec()).await.unwrap();
        }
    }
}

async fn call(router: &axum::Router, token: &str, method: &str, uri: &str, body: &str) -> Vec<u8> {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    assert!(resp.status().is_success(), "{uri}: {}", resp.status());
    resp.into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

#[tokio::main]
async fn main() {
    let data = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&data).unwrap();
    let dir = tempfile::tempdir_in(&data).unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    let t = Instant::now();
    ledger(&store).await;
    eprintln!(
        "ledger of {} entries built in {:.1?}",
        store.head().await.unwrap(),
        t.elapsed()
    );
    let state = AppState::new(store.clone(), "sqlite").await.unwrap();
    let token = ailedger_server::auth::create_token(
        state.store.as_ref(),
        "bench",
        "bench",
        ailedger_core::token::Scope::Admin,
        None,
    )
    .await
    .unwrap()
    .secret;
    let router = router(state);
    let opened: serde_json::Value = serde_json::from_slice(
        &call(
            &router,
            &token,
            "POST",
            "/v1/incidents",
            r#"{"target": "pkg:pypi/trojan@vers:pypi/>=1.0.0|<1.1", "reason": "bench"}"#,
        )
        .await,
    )
    .unwrap();
    let id = opened["id"].as_u64().unwrap();
    for format in ["json", "markdown"] {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..5 {
            let t = Instant::now();
            let body = call(
                &router,
                &token,
                "GET",
                &format!("/v1/incidents/{id}/report?format={format}"),
                "",
            )
            .await;
            times.push(t.elapsed());
            size = body.len();
            if format == "json" {
                let r: serde_json::Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(r["deployments"].as_array().unwrap().len(), DEPLOYMENTS);
            }
        }
        times.sort();
        println!(
            "incident report ({format}, {DEPLOYMENTS} deployments, {:.1} MB): best {:.0?}, median {:.0?}",
            size as f64 / 1e6,
            times[0],
            times[times.len() / 2]
        );
    }
}
