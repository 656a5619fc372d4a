//! Benchmark of the exports through the router on a SQLite file:
//! `GET /v1/export/cyclonedx` (or, with `AILEDGER_BENCH_FORMAT=spdx`, `/v1/export/spdx`)
//! of a deployment with N transitive components (N/1,000
//! models, each depending on 1,000 packages with a SHA-512 hash, a licence, a supplier,
//! a sha256 alias and a finding). N is `AILEDGER_BENCH_COMPONENTS` (default 10,000).
//! Prints the best and median of the runs after one warm-up, the BOM's size, and the
//! process's peak RSS during the exports. The ledger is built by a child process (this
//! binary again, with `AILEDGER_BENCH_BUILD` naming the database), so the measured
//! process holds what a server holds: the store and the index loaded from it, then the
//! exports; the body is read as it streams, as a client writing it to a file would.
//! Targets: 10,000 components ≤ 500 ms; 100,000 with peak RSS ≤ 500 MB
//! (docs/benchmarks.md).

// Benchmarks unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::{sync::Arc, time::Instant};

use ailedger_core::{ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, EntryData};
use ailedger_server::{AppState, auth::create_token, paths, router};
use ailedger_store::{NewEntry, Store};
use ailedger_store_sqlite::SqliteStore;
use axum::{body::Body, http::Request};
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

const PACKAGES_PER_MODEL: usize = 1_000;

fn fact(id: String, kind: ArtifactKind, name: String, attrs: Value) -> ArtifactFact {
    ArtifactFact {
        id,
        kind,
        name: Some(name),
        version: Some("1".into()),
        aliases: vec![],
        attrs: attrs.as_object().cloned().unwrap_or_else(Map::new),
    }
}

fn entries(models: usize) -> Vec<NewEntry> {
    let mut out = Vec::new();
    let mut ids = Vec::new();
    for m in 0..models {
        let model = format!("sha256:{:064x}", 0xf000_0000_u64 + m as u64);
        let mut artifacts = vec![fact(
            model.clone(),
            ArtifactKind::Model,
            format!("bench-model-{m}"),
            json!({"source": "https://huggingface.co/acme/bench", "task": "text-generation"}),
        )];
        let mut edges = Vec::new();
        for p in 0..PACKAGES_PER_MODEL {
            let purl = format!("pkg:pypi/bench-{m}-{p}@1.0");
            let mut pkg = fact(
                purl.clone(),
                ArtifactKind::Package,
                format!("bench-{m}-{p}"),
                json!({
                    "hashes": {"SHA-512": format!("{:0128x}", m * 10_000 + p)},
                    "licenses": [{"license": {"id": "MIT"}}],
                    "supplier": {"name": "Bench Inc."},
                    "findings": [{"code": "AIL-PKG-001", "severity": "low", "message": "x"}],
                }),
            );
            pkg.aliases = vec![format!(
                "sha256:{:064x}",
                0x1000_0000_u64 + (m * 10_000 + p) as u64
            )];
            artifacts.push(pkg);
            edges.push(EdgeFact::new(&model, EdgeKind::DependsOn, &purl));
        }
        ids.push(model);
        out.push(NewEntry {
            actor: "bench".into(),
            data: EntryData::Register { artifacts, edges },
        });
    }
    out.push(NewEntry {
        actor: "bench".into(),
        data: EntryData::Deploy {
            deployment: ArtifactFact {
                id: "deployment:prod/bench".into(),
                kind: ArtifactKind::Deployment,
                name: Some("prod/bench".into()),
                version: None,
                aliases: vec![],
                attrs: Map::new(),
            },
            uses: ids,
        },
    });
    out
}

const REF_KEY: &[u8] = b"\n      \"bom-ref\": ";

const SPDXID_KEY: &[u8] = b"\n      \"SPDXID\": ";

fn count_refs(text: &[u8], key: &[u8]) -> usize {
    text.windows(key.len()).filter(|w| *w == key).count()
}

/// The process's peak resident set (`VmHWM`), in MB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let components: usize = std::env::var("AILEDGER_BENCH_COMPONENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let models = components.div_ceil(PACKAGES_PER_MODEL).max(1);
    let runs: usize = if components > 20_000 { 3 } else { 10 };
    if let Ok(db) = std::env::var("AILEDGER_BENCH_BUILD") {
        let store = SqliteStore::open(std::path::Path::new(&db)).await.unwrap();
        for e in entries(models) {
            store.append(vec![e]).await.unwrap();
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let built = std::process::Command::new(std::env::current_exe().unwrap())
        .env("AILEDGER_BENCH_BUILD", &db)
        .status()
        .unwrap();
    assert!(built.success());
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let state = AppState::new(store, "sqlite").await.unwrap();
    let token = create_token(
        state.store.as_ref(),
        "setup",
        "bench",
        ailedger_core::token::Scope::Read,
        None,
    )
    .await
    .unwrap()
    .secret;
    let app = router(state);
    let baseline = peak_rss_mb();
    let spdx = std::env::var("AILEDGER_BENCH_FORMAT").as_deref() == Ok("spdx");
    let (route, key, label) = if spdx {
        (paths::EXPORT_SPDX, SPDXID_KEY, "SPDX 2.3")
    } else {
        (paths::EXPORT_CYCLONEDX, REF_KEY, "CycloneDX")
    };
    let uri = format!("{route}?ref=deployment:prod/bench");
    let mut times = Vec::new();
    let mut size = 0;
    let mut count = 0;
    for run in 0..=runs {
        let req = Request::builder()
            .uri(&uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let started = Instant::now();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert!(resp.status().is_success());
        let mut body = resp.into_body();
        let (mut bytes, mut refs, mut tail) = (0, 0, Vec::new());
        while let Some(frame) = body.frame().await {
            let Ok(chunk) = frame.unwrap().into_data() else {
                continue;
            };
            bytes += chunk.len();
            // Each component's bom-ref (and the metadata component's) at its indent.
            tail.extend_from_slice(&chunk);
            refs += count_refs(&tail, key);
            let keep = tail.len().saturating_sub(key.len() - 1);
            tail.drain(..keep);
        }
        let took = started.elapsed();
        if run > 0 {
            times.push(took);
        }
        size = bytes;
        // CycloneDX: the metadata component's bom-ref too; SPDX: the root is a package.
        count = if spdx { refs } else { refs - 1 };
    }
    times.sort();
    assert_eq!(count, models * (1 + PACKAGES_PER_MODEL) + usize::from(spdx));
    println!(
        "{label} export of a deployment with {count} components ({:.1} MB): best {:.0} ms, median {:.0} ms ({runs} runs); peak RSS {:.0} MB (the server with its index loaded, before the exports: {baseline:.0} MB)",
        size as f64 / 1e6,
        times[0].as_secs_f64() * 1e3,
        times[runs / 2].as_secs_f64() * 1e3,
        peak_rss_mb(),
    );
}
