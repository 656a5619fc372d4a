//! Benchmark of the policy gate through the router on a SQLite file: `POST /v1/check`
//! of a deployment with 5,006 transitive components (5 models, each depending on
//! 1,000 packages with a sha256 alias and a finding; every tenth package attested by a
//! judged attestation), every knob of the gate on. Prints the best and median of 20
//! checks after one warm-up; the target is 100 ms (docs/benchmarks.md).

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

const MODELS: usize = 5;
const PACKAGES_PER_MODEL: usize = 1_000;
const RUNS: usize = 20;

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

fn entries() -> Vec<NewEntry> {
    let mut out = Vec::new();
    let mut models = Vec::new();
    for m in 0..MODELS {
        let model = format!("sha256:{:064x}", 0xf000_0000_u64 + m as u64);
        let mut artifacts = vec![fact(
            model.clone(),
            ArtifactKind::Model,
            format!("bench-model-{m}"),
            json!({"source": "https://huggingface.co/acme/bench", "architectures": ["LlamaForCausalLM"],
                   "manifest": [{"path": "model.safetensors", "sha256": format!("sha256:{:064x}", m), "size": 1}]}),
        )];
        let mut edges = Vec::new();
        for p in 0..PACKAGES_PER_MODEL {
            let purl = format!("pkg:pypi/bench-{m}-{p}@1.0");
            let mut pkg = fact(
                purl.clone(),
                ArtifactKind::Package,
                format!("bench-{m}-{p}"),
                json!({"findings": [{"code": "AIL-PKG-001", "severity": "low", "message": "x"}]}),
            );
            pkg.aliases = vec![format!(
                "sha256:{:064x}",
                0x1000_0000_u64 + (m * 10_000 + p) as u64
            )];
            artifacts.push(pkg);
            edges.push(EdgeFact::new(&model, EdgeKind::DependsOn, &purl));
            if p % 10 == 0 {
                let at = format!("sha256:{:064x}", 0x2000_0000_u64 + (m * 10_000 + p) as u64);
                artifacts.push(fact(
                    at.clone(),
                    ArtifactKind::Attestation,
                    "SLSA provenance v1".into(),
                    json!({"verification": "verified", "attestation": {"format": "dsse", "outcome": "verified",
                        "reason": "", "policy": null, "items": [{"predicate_type": "https://slsa.dev/provenance/v1",
                        "subjects": [purl], "signers": [], "outcome": "verified", "reason": "",
                        "slsa": {"level": 2, "version": "1", "builder": "b", "build_type": "t", "reason": ""}}]}}),
                ));
                edges.push(EdgeFact::new(&at, EdgeKind::Attests, &purl));
            }
        }
        models.push(model);
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
            uses: models,
        },
    });
    out
}

const GATE: &str = "version = 1\n[gate]\nrequire_verified = [\"package\", \"model\"]\n\
min_slsa_level = { package = 2 }\nallowed_sources = [\"pkg:pypi/*\", \"https://huggingface.co/acme/*\"]\n\
max_model_age_days = 365\ndeny_formats = [\"pickle\"]\ndeny_findings_at = \"high\"\n\
deny_open_incidents = true\nrequire_sbom = true\ndeny_architectures = [\"GPT2*\"]\n\
require_evaluation = [\"https://in-toto.io/attestation/test-result/v0.1\"]\n\
deny_insecure_data_sources = true\n";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    store.append(entries()).await.unwrap();
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
    let body = json!({"ref": "deployment:prod/bench", "policy": {"format": "toml", "text": GATE}})
        .to_string();
    let mut times = Vec::new();
    let mut report = Value::Null;
    for run in 0..=RUNS {
        let req = Request::builder()
            .method("POST")
            .uri(paths::CHECK)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        let started = Instant::now();
        let resp = app.clone().oneshot(req).await.unwrap();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let took = started.elapsed();
        if run > 0 {
            times.push(took);
        }
        report = serde_json::from_slice(&bytes).unwrap();
    }
    times.sort();
    assert_eq!(
        report["components"],
        1 + MODELS * (1 + PACKAGES_PER_MODEL),
        "{report}"
    );
    println!(
        "check of a deployment with {} components, {} failures: best {:.1} ms, median {:.1} ms ({RUNS} runs)",
        report["components"],
        report["failures"].as_array().map_or(0, Vec::len),
        times[0].as_secs_f64() * 1e3,
        times[RUNS / 2].as_secs_f64() * 1e3,
    );
}
