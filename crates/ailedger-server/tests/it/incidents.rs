//! Incidents over the API: the open → acknowledged → resolved life cycle, blast-radius
//! reports with exposure windows and known-good configurations, write-time flags,
//! the blocklist, rollbacks, and OSV import over the fixture records (matching,
//! version ranges, withdrawn records, a scoped npm MCP-server package, package file
//! digests, incremental re-import).

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{App, call_as, seeded};

fn osv_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/osv")
}

/// Every fixture record, by id.
fn fixtures() -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![osv_dir()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != "osv-schema.validation.schema.json" {
                let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                out.insert(v["id"].as_str().unwrap().to_owned(), v);
            }
        }
    }
    assert_eq!(out.len(), 18, "the OSV fixtures");
    out
}

async fn open(app: &App, body: Value) -> u64 {
    app.ok("POST", "/v1/incidents", body).await["id"]
        .as_u64()
        .unwrap()
}

async fn report(app: &App, id: u64, query: &str) -> Value {
    let (status, _, v) = app
        .call("GET", &format!("/v1/incidents/{id}/report{query}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_incident_moves_open_acknowledged_resolved_with_actor_and_note() {
    let app = seeded().await;
    let id = open(
        &app,
        json!({"target": "pkg:pypi/urllib3@2.2.2", "reason": "hijacked maintainer account",
               "severity": "critical", "advisory": "GHSA-xxxx-yyyy-zzzz",
               "evidence": [{"url": "https://example.com/advisory?token=abc"},
                            {"name": "ioc.txt", "content_base64": "ZXZpbCBob3N0Cg=="}]}),
    )
    .await;
    let v = app
        .call("GET", &format!("/v1/incidents/{id}"), None)
        .await
        .2;
    assert_eq!(v["state"], "open");
    assert_eq!(v["severity"], "critical");
    assert_eq!(
        v["target"],
        json!({"type": "artifact", "id": "pkg:pypi/urllib3@2.2.2"})
    );
    assert_eq!(v["opened_by"], "test@ci");
    // Evidence: the URL's secret is not kept; the file is, and it can be read back.
    assert_eq!(
        v["evidence"][0]["url"],
        "https://example.com/advisory?token=<redacted>"
    );
    let digest = v["evidence"][1]["digest"].as_str().unwrap().to_owned();
    let (status, _, _) = app
        .call("GET", &format!("/v1/documents/{digest}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    // Acknowledge, then resolve; each step keeps its actor and note.
    let v = app
        .ok(
            "POST",
            &format!("/v1/incidents/{id}/ack"),
            json!({"note": "on it"}),
        )
        .await;
    assert_eq!(v["state"], "acknowledged");
    let (status, _, p) = app
        .call("POST", &format!("/v1/incidents/{id}/ack"), Some("{}"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("is acknowledged"),
        "{p}"
    );
    let v = app
        .ok(
            "POST",
            &format!("/v1/incidents/{id}/resolve"),
            json!({"note": "pinned 2.2.3"}),
        )
        .await;
    assert_eq!(v["state"], "resolved");
    let steps: Vec<(&str, &str, Option<&str>)> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["action"].as_str().unwrap(),
                s["actor"].as_str().unwrap(),
                s["note"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("open", "test@ci", Some("hijacked maintainer account")),
            ("ack", "test@ci", Some("on it")),
            ("resolve", "test@ci", Some("pinned 2.2.3"))
        ]
    );
    assert!(
        app.call("GET", "/v1/incidents", None).await.2["incidents"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let all = app
        .call("GET", "/v1/incidents?state=resolved", None)
        .await
        .2;
    assert_eq!(all["incidents"][0]["id"], id);
    // Bad input: each names its fault, and records nothing.
    let head = app.head().await;
    for (body, status, needle) in [
        (
            json!({"target": "vers:pypi/>=1", "reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "needs its package",
        ),
        (
            json!({"target": "pkg:npm/x@vers:pypi/>=1", "reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "as npm, not pypi",
        ),
        (
            json!({"target": "pkg:pypi/x@vers:pypi/>=1|<<2", "reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "<<2",
        ),
        (
            json!({"target": "model:nope@1", "reason": "x"}),
            StatusCode::NOT_FOUND,
            "model:nope@1",
        ),
        (
            json!({"target": "pkg:pypi/urllib3@2.2.2", "reason": " "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason",
        ),
        (
            json!({"target": "pkg:pypi/urllib3@2.2.2", "reason": "x", "severity": "dire"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "severity",
        ),
        (
            json!({"reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "target or osv",
        ),
        (
            json!({"osv": {"id": "MAL-1", "modified": "soon"}, "reason": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "/modified",
        ),
    ] {
        let (s, ct, p) = app
            .call("POST", "/v1/incidents", Some(&body.to_string()))
            .await;
        assert_eq!(s, status, "{body}: {p}");
        assert_eq!(ct, "application/problem+json");
        assert!(
            p["detail"].as_str().unwrap().contains(needle),
            "{body}: {p}"
        );
    }
    assert_eq!(app.head().await, head);
    let (s, _, _) = app.call("GET", "/v1/incidents/999", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Opening and moving incidents needs an admin token.
    let writer = ailedger_server::auth::create_token(
        app.state.store.as_ref(),
        "ci",
        "setup",
        ailedger_core::token::Scope::Write,
        None,
    )
    .await
    .unwrap()
    .secret;
    let body = json!({"target": "pkg:pypi/urllib3@2.2.2", "reason": "x"}).to_string();
    let (s, _, _) = call_as(
        &app.router,
        &writer,
        "POST",
        "/v1/incidents",
        Some(body.into_bytes()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = call_as(&app.router, &writer, "GET", "/v1/incidents", None).await;
    assert_eq!(s, StatusCode::OK);
}

/// A package range, a deployment that moved onto the bad version (with a known-good
/// before it), one that left it before the advisory, one that never used it.
#[tokio::test]
async fn the_report_has_windows_paths_owners_known_good_and_is_reproducible() {
    let app = super::app().await;
    app.ok(
        "POST",
        "/v1/artifacts",
        json!({"artifacts": [
            {"kind": "package", "ref": "pkg:pypi/ultralytics@8.3.40"},
            {"kind": "package", "ref": "pkg:pypi/ultralytics@8.3.41"},
            {"kind": "package", "ref": "pkg:pypi/ultralytics@8.3.43"},
            {"kind": "model", "name": "detector", "version": "2"}
        ], "edges": [
            {"from": "model:detector@2", "edge": "built-from", "to": "pkg:pypi/ultralytics@8.3.41"}
        ]}),
    )
    .await;
    let deploy = |name: &str, uses: Vec<&str>| json!({"name": name, "env": "prod", "uses": uses, "owner": "vision", "contact": "vision@example.com"});
    app.ok(
        "POST",
        "/v1/deployments",
        deploy("inspector", vec!["pkg:pypi/ultralytics@8.3.40"]),
    )
    .await;
    app.ok(
        "POST",
        "/v1/deployments",
        deploy("batch", vec!["pkg:pypi/ultralytics@8.3.41"]),
    )
    .await;
    app.ok(
        "POST",
        "/v1/deployments",
        deploy("safe", vec!["pkg:pypi/ultralytics@8.3.43"]),
    )
    .await;
    let moved = app
        .ok(
            "POST",
            "/v1/deployments",
            deploy("inspector", vec!["model:detector@2"]),
        )
        .await;
    let moved = moved["entries"][0]["seq"].as_u64().unwrap();
    let left = app
        .ok(
            "POST",
            "/v1/deployments",
            deploy("batch", vec!["pkg:pypi/ultralytics@8.3.40"]),
        )
        .await;
    let left = left["entries"][0]["seq"].as_u64().unwrap();
    let id = open(
        &app,
        json!({"target": "pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42", "reason": "cryptominer"}),
    )
    .await;
    let r = report(&app, id, "").await;
    assert_eq!(r["incident"], id);
    assert_eq!(ids(&r["compromised"]), ["pkg:pypi/ultralytics@8.3.41"]);
    assert_eq!(
        ids(&r["deployments"]),
        ["deployment:prod/inspector", "deployment:prod/batch"]
    );
    let inspector = &r["deployments"][0];
    assert_eq!(inspector["owner"], "vision");
    assert_eq!(inspector["contact"], "vision@example.com");
    assert_eq!(inspector["still_exposed"], true);
    assert_eq!(inspector["first_exposed"]["seq"], moved);
    assert!(
        inspector["first_exposed"]["time"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    let path: Vec<&str> = inspector["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(path, ["model:detector@2", "pkg:pypi/ultralytics@8.3.41"]);
    assert_eq!(
        inspector["known_good"]["uses"],
        json!(["pkg:pypi/ultralytics@8.3.40"])
    );
    // The batch job stopped using it before the advisory: its window is closed.
    let batch = &r["deployments"][1];
    assert_eq!(batch["still_exposed"], false);
    assert_eq!(batch["exposed_until"]["seq"], left);
    assert_eq!(batch["windows"].as_array().unwrap().len(), 1);
    assert_eq!(ids(&r["intermediates"]), ["model:detector@2"]);
    // Tied to a ledger state, and reproducible from it.
    let at = r["at"]["seq"].as_u64().unwrap();
    assert_eq!(r["checkpoint"]["tree_size"], at);
    assert_eq!(r["checkpoint"]["root_hash"].as_str().unwrap().len(), 64);
    app.ok(
        "POST",
        "/v1/deployments",
        deploy("inspector", vec!["pkg:pypi/ultralytics@8.3.43"]),
    )
    .await;
    assert_eq!(report(&app, id, &format!("?at={at}")).await, r);
    let now = report(&app, id, "").await;
    assert_eq!(now["deployments"][0]["still_exposed"], false);
    // As of before the move, the inspector was not affected.
    let before = report(&app, id, &format!("?at={}", moved - 1)).await;
    assert_eq!(ids(&before["deployments"]), ["deployment:prod/batch"]);
    // Markdown and CSV.
    let (s, ct, _) = app
        .call(
            "GET",
            &format!("/v1/incidents/{id}/report?format=markdown"),
            None,
        )
        .await;
    assert_eq!(
        (s, ct.as_str()),
        (StatusCode::OK, "text/markdown; charset=utf-8")
    );
    let (s, ct, _) = app
        .call(
            "GET",
            &format!("/v1/incidents/{id}/report?format=csv"),
            None,
        )
        .await;
    assert_eq!(
        (s, ct.as_str()),
        (StatusCode::OK, "text/csv; charset=utf-8")
    );
    let (s, _, p) = app
        .call(
            "GET",
            &format!("/v1/incidents/{id}/report?format=pdf"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    let (s, _, p) = app
        .call("GET", &format!("/v1/incidents/{id}/report?at=99999"), None)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
}

#[tokio::test]
async fn later_consumers_are_flagged_blocks_flag_and_rollbacks_go_to_known_good() {
    let app = seeded().await;
    app.ok(
        "POST",
        "/v1/artifacts",
        json!({"artifacts": [
            {"kind": "model", "name": "base", "version": "0"}
        ]}),
    )
    .await;
    // chat ran base@0 before base@1 (the seeded deployment uses base@1).
    app.ok(
        "POST",
        "/v1/deployments",
        json!({"name": "chat", "env": "prod", "uses": ["model:base@0"]}),
    )
    .await;
    app.ok(
        "POST",
        "/v1/deployments",
        json!({"name": "chat", "env": "prod", "uses": ["model:base@1"]}),
    )
    .await;
    let id = open(
        &app,
        json!({"target": "pkg:pypi/urllib3", "reason": "every version"}),
    )
    .await;
    // A new deployment of something that reaches it is written, and flagged.
    let w = app
        .ok(
            "POST",
            "/v1/deployments",
            json!({"name": "chat", "env": "staging", "uses": ["model:base@1"]}),
        )
        .await;
    let flags = w["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{w}");
    assert_eq!(flags[0]["incident"], id);
    assert_eq!(flags[0]["consumer"], "deployment:staging/chat");
    assert_eq!(flags[0]["via"], "model:base@1");
    assert_eq!(flags[0]["compromised"], "pkg:pypi/urllib3@2.2.2");
    let v = app
        .call("GET", &format!("/v1/incidents/{id}"), None)
        .await
        .2;
    assert_eq!(v["exposures"].as_array().unwrap().len(), 1, "{v}");
    // The same consumer again: flagged, not recorded twice. Something unrelated: nothing.
    app.ok(
        "POST",
        "/v1/deployments",
        json!({"name": "chat", "env": "staging", "uses": ["model:base@1"]}),
    )
    .await;
    let v = app
        .call("GET", &format!("/v1/incidents/{id}"), None)
        .await
        .2;
    assert_eq!(v["exposures"].as_array().unwrap().len(), 1, "{v}");
    let w = app
        .ok(
            "POST",
            "/v1/deployments",
            json!({"name": "other", "env": "prod", "uses": ["model:base@0"]}),
        )
        .await;
    assert!(w.get("flags").is_none(), "{w}");
    // Rollback: chat goes back to base@0, its last configuration before the exposure.
    let w = app
        .ok(
            "POST",
            "/v1/deployments",
            json!({"name": "chat", "env": "prod", "uses": [], "rollback_to_known_good": true}),
        )
        .await;
    assert!(w.get("flags").is_none(), "{w}");
    let deps = app
        .call("GET", "/v1/deps?ref=deployment:prod/chat", None)
        .await
        .2;
    assert_eq!(deps["hits"][0]["id"], "model:base@0");
    let (s, _, p) = app
        .call(
            "POST",
            "/v1/deployments",
            Some(
                &json!({"name": "chat", "env": "prod", "uses": [], "rollback_to_known_good": true})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("nothing to roll back"),
        "{p}"
    );
    let (s, _, p) = app
        .call("POST", "/v1/deployments", Some(&json!({"name": "chat", "env": "staging", "uses": [], "rollback_to_known_good": true}).to_string()))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("roll forward"),
        "{p}"
    );
    // The blocklist: a scoped npm MCP server, every version.
    let b = app
        .ok(
            "POST",
            "/v1/blocklist",
            json!({"target": "pkg:npm/%40evil/mcp-server", "reason": "exfiltrates tokens"}),
        )
        .await;
    let block = b["id"].as_u64().unwrap();
    let w = app
        .ok(
            "POST",
            "/v1/artifacts",
            json!({"artifacts": [{"kind": "package", "ref": "pkg:npm/%40evil/mcp-server@1.2.0"}]}),
        )
        .await;
    assert_eq!(w["flags"][0]["block"], block, "{w}");
    assert_eq!(
        w["flags"][0]["consumer"],
        "pkg:npm/%40evil/mcp-server@1.2.0"
    );
    let list = app.call("GET", "/v1/blocklist", None).await.2;
    assert_eq!(
        list["blocks"][0]["describe"],
        "pkg:npm/%40evil/mcp-server (every version)"
    );
    let v = app
        .ok("DELETE", &format!("/v1/blocklist/{block}"), Value::Null)
        .await;
    assert!(v["lifted"].is_u64());
    let (s, _, _) = app
        .call("DELETE", &format!("/v1/blocklist/{block}"), None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
}

async fn import(app: &App, records: Vec<Value>) -> Vec<Value> {
    app.ok("POST", "/v1/advisories", json!({"records": records}))
        .await["results"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn osv_import_matches_fixtures_retracts_withdrawn_and_is_incremental() {
    let app = super::app().await;
    let fx = fixtures();
    // Packages some records name (at affected and unaffected versions), a deployment
    // of each, and a wheel whose file digest one record lists.
    let wheel = "sha256:c8784cf0aa8fa13a43614fbd6d51902feeecafdc06fc4db2695fd2572db66db8";
    app.ok(
        "POST",
        "/v1/artifacts",
        json!({"artifacts": [
            {"kind": "package", "ref": "pkg:npm/%40flcore/login@99.9.2"},
            {"kind": "package", "ref": "pkg:npm/%40flcore/login@99.9.0"},
            {"kind": "package", "ref": "pkg:npm/%40captivateiq/events@19.3.9"},
            {"kind": "package", "ref": "pkg:pypi/Huggingface_Hubs@95.6"},
            {"kind": "package", "ref": "pkg:npm/%40citely/mcp-server@0.10.0"},
            {"kind": "file", "ref": wheel}
        ]}),
    )
    .await;
    for (name, uses) in [
        ("login", "pkg:npm/%40flcore/login@99.9.2"),
        ("old-login", "pkg:npm/%40flcore/login@99.9.0"),
        ("hub", "pkg:pypi/huggingface-hubs@95.6"),
        ("mcp", "pkg:npm/%40citely/mcp-server@0.10.0"),
        ("wheel", wheel),
    ] {
        app.ok(
            "POST",
            "/v1/deployments",
            json!({"name": name, "env": "prod", "uses": [uses]}),
        )
        .await;
    }
    // The withdrawn MCP-server record as it stood before it was withdrawn.
    let mut before = fx["MAL-2026-4375"].clone();
    before.as_object_mut().unwrap().remove("withdrawn");
    before["modified"] = json!("2026-05-01T00:00:00Z");
    let r = import(&app, vec![before]).await;
    assert_eq!(
        (r[0]["status"].as_str(), r[0]["action"].as_str()),
        (Some("new"), Some("opened"))
    );
    let mcp_incident = r[0]["incident"].as_u64().unwrap();
    assert_eq!(
        r[0]["matched"],
        json!(["pkg:npm/%40citely/mcp-server@0.10.0"])
    );
    // Now every fixture, plus one that violates the schema and one of an ecosystem
    // ailedger does not order.
    let mut records: Vec<Value> = fx.values().cloned().collect();
    records.push(json!({"id": "MAL-2026-0", "modified": "yesterday"}));
    records.push(
        json!({"id": "GHSA-test-unknown", "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPi2", "name": "x"}, "versions": ["1.0"]}]}),
    );
    records.push(json!({"id": "GHSA-test-maven", "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Maven", "name": "org.example:lib"}, "versions": ["1.0"]}]}));
    let r = import(&app, records.clone()).await;
    let by_id = |r: &[Value], id: &str| r.iter().find(|x| x["id"] == id).cloned().unwrap();
    let bad = r.iter().find(|x| x["status"] == "invalid").unwrap();
    assert!(
        bad["detail"].as_str().unwrap().contains("/modified"),
        "{bad}"
    );
    assert!(
        by_id(&r, "GHSA-test-maven")["detail"]
            .as_str()
            .unwrap()
            .contains("Maven")
    );
    // Ranges: introduced 99.9.1 covers 99.9.2, not 99.9.0.
    let login = by_id(&r, "MAL-2025-3959");
    assert_eq!(login["action"], "opened");
    assert_eq!(login["matched"], json!(["pkg:npm/%40flcore/login@99.9.2"]));
    // A versions list with a scoped npm name; a PEP 503 name.
    assert_eq!(
        by_id(&r, "MAL-2024-10310")["matched"],
        json!(["pkg:npm/%40captivateiq/events@19.3.9"])
    );
    assert_eq!(
        by_id(&r, "MAL-2024-10727")["matched"],
        json!(["pkg:pypi/huggingface-hubs@95.6"])
    );
    // A package file digest.
    assert_eq!(by_id(&r, "MAL-2026-15859")["matched"], json!([wheel]));
    // The withdrawn record retracts its incident; other withdrawn ones open nothing.
    let mcp = by_id(&r, "MAL-2026-4375");
    assert_eq!(
        (mcp["status"].as_str(), mcp["action"].as_str()),
        (Some("withdrawn"), Some("retracted"))
    );
    assert_eq!(mcp["incident"], mcp_incident);
    for w in ["MAL-2023-8651", "MAL-2024-1833"] {
        assert_eq!(by_id(&r, w)["status"], "withdrawn");
        assert!(by_id(&r, w)["incident"].is_null());
    }
    let v = app
        .call("GET", &format!("/v1/incidents/{mcp_incident}"), None)
        .await
        .2;
    assert_eq!(v["state"], "retracted");
    let open_ids: Vec<u64> = app.call("GET", "/v1/incidents", None).await.2["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_u64().unwrap())
        .collect();
    assert_eq!(open_ids.len(), 4, "login, events, hubs, wheel");
    // The wheel's deployment is in that incident's report.
    let wheel_incident = by_id(&r, "MAL-2026-15859")["incident"].as_u64().unwrap();
    let rep = report(&app, wheel_incident, "").await;
    assert_eq!(ids(&rep["deployments"]), ["deployment:prod/wheel"]);
    // Re-import: nothing changes, nothing is written.
    let head = app.head().await;
    let r = import(&app, records).await;
    assert!(
        r.iter()
            .filter(|x| x["status"] != "invalid")
            .all(|x| x["status"] == "unchanged"),
        "{r:?}"
    );
    assert_eq!(app.head().await, head);
    let known: Vec<Value> = fx
        .values()
        .map(|v| {
            let c = ailedger_core::canonical::to_canonical_json(v).unwrap();
            json!({"id": v["id"], "digest": ailedger_core::Sha256Digest::of(&c).to_string()})
        })
        .collect();
    let k = app
        .ok("POST", "/v1/advisories/known", json!({"records": known}))
        .await;
    assert_eq!(k["changed"], json!([]));
    // A changed record updates its incident.
    let mut changed = fx["MAL-2025-3959"].clone();
    changed["modified"] = json!("2026-12-01T00:00:00Z");
    changed["summary"] = json!("Malicious code in @flcore/login (npm), confirmed");
    let r = import(&app, vec![changed]).await;
    assert_eq!(
        (r[0]["status"].as_str(), r[0]["action"].as_str()),
        (Some("changed"), Some("updated"))
    );
    let v = app
        .call("GET", &format!("/v1/incidents/{}", login["incident"]), None)
        .await
        .2;
    assert_eq!(
        v["steps"].as_array().unwrap().last().unwrap()["action"],
        "update"
    );
    // A package registered after the import: its advisory opens an incident then, and
    // the registration is flagged.
    let later = fx["MAL-2025-847"].clone();
    let pkg = later["affected"][0]["package"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let version = later["affected"][0]["versions"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let w = app
        .ok(
            "POST",
            "/v1/artifacts",
            json!({"artifacts": [{"kind": "package", "ref": format!("pkg:npm/{pkg}@{version}")}]}),
        )
        .await;
    let flag = &w["flags"][0];
    assert!(flag["incident"].is_u64(), "{w}");
    let v = app
        .call("GET", &format!("/v1/incidents/{}", flag["incident"]), None)
        .await
        .2;
    assert_eq!(v["advisory"], "MAL-2025-847");
}

/// The policy gate reads incidents, the blocklist and quarantine from the ledger: a
/// release consuming something in an open incident fails `deny_open_incidents`, a
/// blocklisted component fails whatever the policy, and both pass once lifted.
#[tokio::test]
async fn the_gate_fails_on_open_incidents_and_blocks() {
    let app = seeded().await;
    let check = |policy: &str| json!({"ref": "deployment:prod/chat", "policy": {"format": "toml", "text": policy}});
    let deny = "version = 1\n[gate]\ndeny_open_incidents = true\n";
    let codes = |v: &Value| -> Vec<(String, String)> {
        v["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["code"].as_str().unwrap().to_owned(),
                    f["artifact"]["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let v = app.ok("POST", "/v1/check", check(deny)).await;
    assert_eq!(v["passed"], true, "{v}");
    let id = open(&app, json!({"target": "pkg:pypi/urllib3", "reason": "x"})).await;
    let v = app.ok("POST", "/v1/check", check(deny)).await;
    assert_eq!(v["passed"], false);
    assert_eq!(
        codes(&v),
        [(
            "AIL-GATE-003".to_owned(),
            "pkg:pypi/urllib3@2.2.2".to_owned()
        )]
    );
    app.ok("POST", &format!("/v1/incidents/{id}/resolve"), json!({}))
        .await;
    assert_eq!(
        app.ok("POST", "/v1/check", check(deny)).await["passed"],
        true
    );
    // A block fails the gate even with no knob on.
    let b = app
        .ok(
            "POST",
            "/v1/blocklist",
            json!({"target": "pkg:pypi/requests@2.32.3", "reason": "x"}),
        )
        .await;
    let v = app.ok("POST", "/v1/check", check("version = 1\n")).await;
    assert_eq!(
        codes(&v),
        [(
            "AIL-GATE-001".to_owned(),
            "pkg:pypi/requests@2.32.3".to_owned()
        )]
    );
    app.ok("DELETE", &format!("/v1/blocklist/{}", b["id"]), Value::Null)
        .await;
    assert_eq!(
        app.ok("POST", "/v1/check", check("version = 1\n")).await["passed"],
        true
    );
}

/// With `quarantine` on in the policy in force, a new package that fails the gate's
/// checks on itself is quarantined (and fails every check of what uses it); release is
/// refused while it still fails, automatic once a write makes it pass, and forced by
/// an admin with a note. A new package that passes is not held.
#[tokio::test]
async fn quarantine_holds_new_packages_until_the_checks_pass() {
    let app = super::app().await;
    app.ok(
        "PUT",
        "/v1/policy",
        json!({"text": "version = 1\n[gate]\nquarantine = true\ndeny_findings_at = \"high\"\n"}),
    )
    .await;
    let finding = json!([{"code": "AIL-PKG-001", "severity": "critical", "message": "typosquat of requests"}]);
    let w = app
        .ok("POST", "/v1/artifacts", json!({"artifacts": [
            {"kind": "package", "ref": "pkg:pypi/reqeusts@1.0.0", "attrs": {"findings": finding}},
            {"kind": "package", "ref": "pkg:pypi/requests@2.32.3"}
        ]}))
        .await;
    let flags = w["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{w}");
    assert_eq!(flags[0]["kind"], "quarantine");
    assert_eq!(flags[0]["consumer"], "pkg:pypi/reqeusts@1.0.0");
    assert!(
        flags[0]["message"]
            .as_str()
            .unwrap()
            .contains("AIL-GATE-009"),
        "{w}"
    );
    let q = app.call("GET", "/v1/quarantine", None).await.2;
    assert_eq!(q["quarantined"][0]["artifact"], "pkg:pypi/reqeusts@1.0.0");
    // A release that uses it fails the gate, with no knob needed for that.
    app.ok(
        "POST",
        "/v1/deployments",
        json!({"name": "app", "env": "prod", "uses": ["pkg:pypi/reqeusts@1.0.0"]}),
    )
    .await;
    let v = app
        .ok("POST", "/v1/check", json!({"ref": "deployment:prod/app", "policy": {"format": "toml", "text": "version = 1\n"}}))
        .await;
    assert_eq!(v["failures"][0]["code"], "AIL-GATE-002", "{v}");
    // Release is refused while it still fails, naming what would make it pass.
    let (s, _, p) = app
        .call(
            "POST",
            "/v1/quarantine/release",
            Some(&json!({"ref": "pkg:pypi/reqeusts@1.0.0"}).to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("AIL-GATE-009"),
        "{p}"
    );
    // A write that clears the finding releases it.
    app.ok(
        "POST",
        "/v1/artifacts",
        json!({"artifacts": [
            {"kind": "package", "ref": "pkg:pypi/reqeusts@1.0.0", "attrs": {"findings": []}}
        ]}),
    )
    .await;
    let q = app.call("GET", "/v1/quarantine", None).await.2;
    assert_eq!(q["quarantined"], json!([]), "{q}");
    // Forced release, with the note recorded.
    app.ok(
        "POST",
        "/v1/artifacts",
        json!({"artifacts": [
            {"kind": "package", "ref": "pkg:pypi/evil@0.1.0", "attrs": {"findings": finding}}
        ]}),
    )
    .await;
    let v = app
        .ok("POST", "/v1/quarantine/release", json!({"ref": "pkg:pypi/evil@0.1.0", "force": true, "note": "false positive, reviewed"}))
        .await;
    assert_eq!(v["quarantined"], json!([]));
    let (s, _, _) = app
        .call(
            "POST",
            "/v1/quarantine/release",
            Some(&json!({"ref": "pkg:pypi/evil@0.1.0"}).to_string()),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let entries = app.call("GET", "/v1/entries?limit=1000", None).await.2;
    let releases: Vec<&Value> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "containment")
        .collect();
    assert_eq!(releases.len(), 4, "two quarantines, two releases");
}
