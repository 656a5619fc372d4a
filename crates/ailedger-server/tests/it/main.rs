//! The router in-process (`tower::ServiceExt::oneshot`) on a temporary SQLite file:
//! writes, queries, OpenAPI, and every kind of bad input answered with problem+json.

// Tests unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::sync::Arc;

use ailedger_server::{AppState, paths, router};
use ailedger_store_sqlite::SqliteStore;
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

mod attest;
mod audit;
mod auth;
mod check;
mod export;
mod export_spdx;
mod incidents;
mod limits;
mod lockfiles;
mod repairs;

/// A PostgreSQL store in a schema of its own (`<prefix>_<pid>_<nanos>`) with the URL
/// and schema (for a second server on it), or `None`, said loudly, when
/// `AILEDGER_TEST_POSTGRES_URL` is not set.
async fn pg_store(
    prefix: &str,
    what: &str,
) -> Option<(Arc<ailedger_store_postgres::PgStore>, String, String)> {
    let Ok(url) = std::env::var("AILEDGER_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: AILEDGER_TEST_POSTGRES_URL is not set; {what} did not run");
        return None;
    };
    let schema = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let store = ailedger_store_postgres::PgStore::connect(&url, Some(&schema))
        .await
        .unwrap();
    Some((Arc::new(store), url, schema))
}
mod secrets;
mod webhooks;

/// The `to` of each step of a traversal hit's path, rebuilt from the parents: the
/// hits it passes through, then the queried artifact (`v` is the whole answer).
fn path_of<'a>(v: &'a Value, hit: &'a Value) -> Vec<&'a str> {
    let all: Vec<&Value> = ["hits", "ancestors"]
        .iter()
        .filter_map(|k| v[k].as_array())
        .flatten()
        .collect();
    let mut steps = Vec::new();
    let mut at = hit;
    while let Some(p) = at["parent"].as_u64() {
        at = all
            .iter()
            .find(|h| h["pos"] == p)
            .unwrap_or_else(|| panic!("parent {p} is not in the answer: {v}"));
        steps.push(at["id"].as_str().unwrap());
    }
    steps.push(v["id"].as_str().unwrap());
    steps
}

struct App {
    _dir: tempfile::TempDir,
    router: Router,
    state: AppState,
    /// An admin token's secret, sent with every request.
    token: String,
}

async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    app_with(dir, store, "sqlite").await
}

async fn app_with(
    dir: tempfile::TempDir,
    store: Arc<dyn ailedger_store::Store>,
    backend: &str,
) -> App {
    let state = AppState::new(store, backend).await.unwrap();
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
    App {
        _dir: dir,
        router: router(state.clone()),
        state,
        token,
    }
}

/// The stores a test can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A fresh ledger on this backend (PostgreSQL: in a schema of its own), or `None`,
    /// said loudly, on PostgreSQL when `AILEDGER_TEST_POSTGRES_URL` is not set.
    async fn app(self, what: &str) -> Option<App> {
        match self {
            Backend::Sqlite => Some(app().await),
            Backend::Postgres => {
                let (store, _, _) = pg_store("app", what).await?;
                Some(app_with(tempfile::tempdir().unwrap(), store, "postgres").await)
            }
        }
    }
}

/// A request with a bearer token (JSON when there is a body): status, content type and
/// the raw answer.
pub(crate) async fn request_as(
    router: &Router,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Vec<u8>>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req.body(body.map(Body::from).unwrap_or_default()).unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, ctype, bytes)
}

/// [`request_as`] with the answer as JSON (`null` when it is not).
pub(crate) async fn call_as(
    router: &Router,
    token: &str,
    method: &str,
    uri: &str,
    body: Option<Vec<u8>>,
) -> (StatusCode, String, Value) {
    let (status, ctype, bytes) = request_as(router, token, method, uri, body).await;
    (
        status,
        ctype,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

impl App {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        body: Option<&str>,
    ) -> (StatusCode, String, Value) {
        call_as(
            &self.router,
            &self.token,
            method,
            uri,
            body.map(|b| b.as_bytes().to_vec()),
        )
        .await
    }

    async fn ok(&self, method: &str, uri: &str, body: Value) -> Value {
        let (status, _, v) = self.call(method, uri, Some(&body.to_string())).await;
        assert_eq!(status, StatusCode::OK, "{method} {uri}: {v}");
        v
    }

    async fn head(&self) -> u64 {
        self.state.store.head().await.unwrap()
    }
}

async fn seeded() -> App {
    seed(app().await).await
}

async fn seed(app: App) -> App {
    app.ok("POST", "/v1/artifacts", json!({"artifacts": [
        {"kind": "package", "ref": "pkg:pypi/Requests@2.32.3", "aliases": [format!("sha256:{}", "ab".repeat(32))]},
        {"kind": "package", "ref": "pkg:pypi/urllib3@2.2.2"},
        {"kind": "model", "name": "base", "version": "1"}
    ], "edges": [
        {"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/urllib3@2.2.2"},
        {"from": "model:base@1", "edge": "depends-on", "to": "pkg:pypi/requests@2.32.3"}
    ]}))
    .await;
    app.ok(
        "POST",
        "/v1/deployments",
        json!({"name": "chat", "env": "prod", "uses": ["model:base"]}),
    )
    .await;
    app
}

#[tokio::test]
async fn writes_and_queries() {
    let app = seeded().await;
    let v = app
        .call("GET", "/v1/impact?ref=pkg:pypi/urllib3@2.2.2", None)
        .await
        .2;
    assert_eq!(v["count"], 3);
    assert_eq!(v["deployments"], json!(["deployment:prod/chat"]));
    let last = &v["hits"][2];
    assert_eq!(last["id"], "deployment:prod/chat");
    assert_eq!(last["depth"], 3);
    assert_eq!(
        path_of(&v, last),
        [
            "model:base@1",
            "pkg:pypi/requests@2.32.3",
            "pkg:pypi/urllib3@2.2.2"
        ]
    );
    // The digest alias resolves to the package; deps walks the other way.
    let d = app
        .call(
            "GET",
            &format!("/v1/deps?ref=sha256:{}", "ab".repeat(32)),
            None,
        )
        .await
        .2;
    assert_eq!(d["id"], "pkg:pypi/requests@2.32.3");
    assert_eq!(d["count"], 1);
    // History: before the deployment existed, nothing deployed the model.
    // Entry 1 granted the test's token; entry 2 is the first registration.
    let e = app.call("GET", "/v1/entries/2", None).await.2;
    let t1 = e["time"].as_str().unwrap().to_owned();
    let past = app
        .call(
            "GET",
            &format!("/v1/impact?ref=model:base@1&as_of={t1}"),
            None,
        )
        .await
        .2;
    assert_eq!(past["at_seq"], 2);
    assert_eq!(past["count"], 0);
    let a = app
        .call("GET", "/v1/artifacts?ref=deployment:prod/chat", None)
        .await
        .2;
    assert_eq!(a["edges"][0]["to"], "model:base@1");
    assert_eq!(e["actor"], "test@ci");
    let list = app.call("GET", "/v1/entries?after=0&limit=1", None).await.2;
    assert_eq!(list["head"], 3);
    assert_eq!(list["entries"].as_array().unwrap().len(), 1);
}

/// The router, the route list in `paths` and the OpenAPI document agree: every route
/// answers exactly its methods, and every `/v1/` route is documented with them.
#[tokio::test]
async fn every_route_is_routed_and_documented() {
    let app = seeded().await;
    let table: Vec<&str> = ailedger_server::table(&ailedger_server::Limits::default())
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    let listed: Vec<&str> = paths::ROUTES.iter().map(|(p, _)| *p).collect();
    assert_eq!(table, listed, "routes::table and paths::ROUTES differ");
    let api = app.call("GET", paths::OPENAPI, None).await.2;
    let documented = api["paths"].as_object().unwrap();
    for (path, methods) in paths::ROUTES {
        let uri = paths::fill(path, "1");
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            let body = (method != "GET").then_some("{}");
            let (status, _, v) = app.call(method, &uri, body).await;
            if methods.iter().any(|(m, _)| *m == method) {
                assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
                assert_ne!(v["detail"], "no such endpoint", "{method} {path}");
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path}: {v}"
                );
            }
        }
        if path.starts_with("/v1/") {
            let doc = documented
                .get(*path)
                .unwrap_or_else(|| panic!("{path} missing from OpenAPI"));
            let mut have: Vec<String> = doc.as_object().unwrap().keys().cloned().collect();
            have.sort();
            let mut want: Vec<String> = methods.iter().map(|(m, _)| m.to_lowercase()).collect();
            want.sort();
            assert_eq!(have, want, "{path}: documented methods");
        }
    }
    for path in documented.keys() {
        assert!(
            listed.contains(&path.as_str()),
            "{path} documented but not routed"
        );
    }
}

#[tokio::test]
async fn batch_is_all_or_nothing() {
    let app = seeded().await;
    let before = app.head().await;
    let (status, _, v) = app
        .call("POST", "/v1/batch", Some(&json!({"entries": [
            {"type": "register", "artifacts": [{"kind": "package", "ref": "pkg:pypi/idna@3.8"}]},
            {"type": "link", "edges": [{"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/idna@3.8"}]},
            {"type": "link", "edges": [{"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/nope@1"}]}
        ]}).to_string()))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with("entries[2]: unknown ref pkg:pypi/nope@1"),
        "{v}"
    );
    assert_eq!(app.head().await, before);
    // Without the bad item, the batch lands as three entries, the link seeing the
    // package registered earlier in the same batch.
    let ok = app
        .ok("POST", "/v1/batch", json!({"entries": [
            {"type": "register", "artifacts": [{"kind": "package", "ref": "pkg:pypi/idna@3.8"}]},
            {"type": "link", "edges": [{"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/idna@3.8"}]}
        ]}))
        .await;
    assert_eq!(ok["entries"].as_array().unwrap().len(), 2);
    assert_eq!(app.head().await, before + 2);
}

/// Every client error is a 4xx problem+json naming the fault, and records nothing.
#[tokio::test]
async fn bad_input_is_a_problem() {
    let app = seeded().await;
    let before = app.head().await;
    let cases: &[(&str, &str, Option<&str>, u16, &str)] = &[
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": [{"kind": "model", "name": "foo@bar"}]}"#),
            422,
            "give a version",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(
                r#"{"artifacts": [{"kind": "model", "name": "foo@bar", "ref": "sha256:0101010101010101010101010101010101010101010101010101010101010101"}]}"#,
            ),
            422,
            "artifacts[0]: malformed ref",
        ),
        (
            "GET",
            "/v1/impact?ref=pkg:pypi/unknown@1",
            None,
            404,
            "unknown ref pkg:pypi/unknown@1",
        ),
        ("GET", "/v1/impact?ref=sha256:abc", None, 422, "64 hex"),
        (
            "GET",
            "/v1/impact?ref=widget:x",
            None,
            422,
            "\\\"widget\\\" is neither",
        ),
        (
            "GET",
            "/v1/impact?ref=torch",
            None,
            422,
            "expected sha256:<hex>",
        ),
        (
            "GET",
            "/v1/impact?ref=pkg:pypi/urllib3@2.2.2&as_of=yesterday",
            None,
            422,
            "RFC 3339",
        ),
        ("GET", "/v1/impact", None, 400, "ref"),
        (
            "GET",
            "/v1/impact?ref=model:base&bogus=1",
            None,
            400,
            "bogus",
        ),
        ("GET", "/v1/entries/abc", None, 400, "not a number"),
        ("GET", "/v1/entries/0", None, 400, "starts at 1"),
        ("GET", "/v1/entries/999", None, 404, "no entry 999"),
        ("GET", "/v1/nowhere", None, 404, "no such endpoint"),
        ("DELETE", "/v1/artifacts", None, 405, "method not allowed"),
        ("POST", "/v1/artifacts", Some("{not json"), 400, "JSON"),
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": 5}"#),
            422,
            "artifacts",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": []}"#),
            422,
            "nothing to register",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": [{"kind": "gizmo", "name": "x"}]}"#),
            422,
            "unknown artifact kind \\\"gizmo\\\"",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": [{"kind": "model"}]}"#),
            422,
            "artifacts[0]: give a ref or a name",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": [{"kind": "package", "ref": "pkg:"}]}"#),
            422,
            "malformed purl",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": [{"kind": "model", "ref": "pkg:pypi/x@1"}]}"#),
            422,
            "declared a model",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(
                r#"{"artifacts": [{"kind": "package", "ref": "pkg:pypi/x@1", "aliases": ["sha256:zz"]}]}"#,
            ),
            422,
            "sha256:zz",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(
                r#"{"artifacts": [{"kind": "model", "ref": "sha256:0000000000000000000000000000000000000000000000000000000000000000", "attrs": {"manifest": [{"path": "a", "sha256": "sha256:1111111111111111111111111111111111111111111111111111111111111111", "size": 1}]}}]}"#,
            ),
            422,
            "its manifest hashes to",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(
                r#"{"artifacts": [{"kind": "model", "name": "base", "version": "1"}], "edges": [{"from": "model:base@1", "edge": "eats", "to": "model:base@1"}]}"#,
            ),
            422,
            "unknown edge type \\\"eats\\\"",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(
                r#"{"artifacts": [{"kind": "package", "ref": "pkg:pypi/requests@2.32.3"}], "edges": [{"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/requests@2.32.3"}]}"#,
            ),
            422,
            "to itself",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": [{"kind": "dataset", "ref": "pkg:pypi/requests@2.32.3"}]}"#),
            422,
            "declared a dataset",
        ),
        (
            "POST",
            "/v1/artifacts",
            Some(r#"{"artifacts": [{"kind": "file", "ref": "model:base@1"}]}"#),
            422,
            "declared a file",
        ),
        (
            "POST",
            "/v1/links",
            Some(
                r#"{"edges": [{"from": "model:base@1", "edge": "depends-on", "to": "model:ghost@1"}]}"#,
            ),
            404,
            "unknown ref model:ghost@1",
        ),
        (
            "POST",
            "/v1/links",
            Some(r#"{"edges": []}"#),
            422,
            "edges is empty",
        ),
        (
            "POST",
            "/v1/deployments",
            Some(r#"{"name": "a/b", "env": "prod", "uses": []}"#),
            422,
            "without '/'",
        ),
        (
            "POST",
            "/v1/deployments",
            Some(r#"{"name": "x", "env": "prod", "uses": ["model:ghost"]}"#),
            404,
            "unknown ref model:ghost",
        ),
        (
            "POST",
            "/v1/batch",
            Some(r#"{"entries": [{"type": "explode"}]}"#),
            422,
            "explode",
        ),
        (
            "POST",
            "/v1/documents",
            Some(""),
            422,
            "the document is empty",
        ),
        (
            "POST",
            "/v1/documents?name=x.json",
            Some("{not a document"),
            422,
            "x.json",
        ),
        (
            "POST",
            "/v1/documents",
            Some(r#"{"bomFormat": "CycloneDX", "specVersion": "9.9"}"#),
            422,
            "9.9",
        ),
        ("POST", "/v1/documents?nope=1", Some("{}"), 400, "nope"),
        ("GET", "/v1/documents/sha256:zz", None, 422, "64 hex"),
        (
            "GET",
            "/v1/documents/sha256:0000000000000000000000000000000000000000000000000000000000000000",
            None,
            404,
            "no document",
        ),
    ];
    for (method, uri, body, status, detail) in cases {
        let (got, ctype, v) = app.call(method, uri, *body).await;
        assert_eq!(got.as_u16(), *status, "{method} {uri} {body:?}: {v}");
        assert_eq!(ctype, "application/problem+json", "{method} {uri}");
        assert_eq!(v["status"], *status);
        let text = v.to_string();
        assert!(
            text.contains(detail),
            "{method} {uri} {body:?}: {text} lacks {detail}"
        );
    }
    assert_eq!(
        app.head().await,
        before,
        "a failed write recorded something"
    );
    // A kind clash with what the ledger holds is a conflict.
    let (s, _, v) = app
        .call("POST", "/v1/artifacts", Some(&json!({"artifacts": [{"kind": "dataset", "ref": format!("sha256:{}", "ab".repeat(32))}]}).to_string()))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
}

#[tokio::test]
async fn unversioned_named_refs_resolve_when_unambiguous() {
    let app = seeded().await;
    app.ok(
        "POST",
        "/v1/artifacts",
        json!({"artifacts": [{"kind": "model", "name": "base", "version": "2"}]}),
    )
    .await;
    let (s, _, v) = app.call("GET", "/v1/resolve?ref=model:base", None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("ambiguous: 2 versions known (1, 2)"),
        "{v}"
    );
    let v = app
        .call("GET", "/v1/resolve?ref=model:base@2", None)
        .await
        .2;
    assert_eq!(v["id"], "model:base@2");
}

/// A package first registered by name only is merged into its purl when the purl is
/// registered through the API (as when a document names it): the name resolves to the
/// purl and the blast radius of the purl reaches what depended on the name.
#[tokio::test]
async fn a_registered_purl_merges_the_package_known_by_name() {
    let app = app().await;
    app.ok(
        "POST",
        "/v1/artifacts",
        json!({"artifacts": [
            {"kind": "package", "name": "left-pad", "version": "1.3.0"},
            {"kind": "model", "name": "m", "version": "1"}
        ], "edges": [
            {"from": "model:m@1", "edge": "depends-on", "to": "package:left-pad@1.3.0"}
        ]}),
    )
    .await;
    app.ok(
        "POST",
        "/v1/artifacts",
        json!({"artifacts": [{"kind": "package", "ref": "pkg:npm/left-pad@1.3.0"}]}),
    )
    .await;
    let v = app
        .call("GET", "/v1/resolve?ref=package:left-pad@1.3.0", None)
        .await
        .2;
    assert_eq!(v["id"], "pkg:npm/left-pad@1.3.0", "{v}");
    let v = app
        .call("GET", "/v1/impact?ref=pkg:npm/left-pad@1.3.0", None)
        .await
        .2;
    assert!(v.to_string().contains("model:m@1"), "{v}");
}

/// A batch updates the server's index from the changes its transaction made (no
/// read-back): the result is the index a fresh build from the store gives, at every
/// seq, for a batch mixing registrations, links, unlinks, deploys and a merge.
#[tokio::test]
async fn batch_updates_the_index_as_a_rebuild_would() {
    let app = seeded().await;
    app.ok("POST", "/v1/batch", json!({"entries": [
        {"type": "register", "artifacts": [{"kind": "package", "name": "left-pad", "version": "1.3.0"}],
         "edges": [{"from": "model:base@1", "edge": "depends-on", "to": "package:left-pad@1.3.0"}]},
        {"type": "register", "artifacts": [{"kind": "package", "ref": "pkg:pypi/idna@3.8"}]},
        {"type": "link", "edges": [{"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/idna@3.8"}]},
        {"type": "unlink", "edges": [{"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/urllib3@2.2.2"}]},
        {"type": "link", "edges": [{"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/urllib3@2.2.2"}]},
        {"type": "unlink", "edges": [{"from": "pkg:pypi/requests@2.32.3", "edge": "depends-on", "to": "pkg:pypi/idna@3.8"}]},
        {"type": "deploy", "name": "chat", "env": "prod", "uses": ["pkg:pypi/idna@3.8"]},
        {"type": "register", "artifacts": [{"kind": "package", "ref": "pkg:npm/left-pad@1.3.0", "aliases": ["package:left-pad@1.3.0"]}]}
    ]}))
    .await;
    let merged = app
        .call("GET", "/v1/resolve?ref=package:left-pad@1.3.0", None)
        .await
        .2;
    assert_eq!(merged["id"], "pkg:npm/left-pad@1.3.0", "{merged}");
    let head = app.head().await;
    let rebuilt = ailedger_store::build_index(app.state.store.as_ref())
        .await
        .unwrap();
    let ids: Vec<String> = app
        .state
        .store
        .dump_derived()
        .await
        .unwrap()
        .artifacts
        .into_iter()
        .map(|a| a.id)
        .collect();
    let live = app.state.index.read().unwrap();
    assert_eq!(live.head(), head);
    assert_eq!(
        (live.node_count(), live.edge_count()),
        (rebuilt.node_count(), rebuilt.edge_count())
    );
    for id in &ids {
        for at in (1..=head).map(Some).chain([None]) {
            assert_eq!(
                live.impact(id, at),
                rebuilt.impact(id, at),
                "impact {id} at {at:?}"
            );
            assert_eq!(
                live.deps(id, at),
                rebuilt.deps(id, at),
                "deps {id} at {at:?}"
            );
        }
        assert_eq!(live.label_of(id), rebuilt.label_of(id), "{id}");
    }
}

/// One identity rule (`ailedger_core::identity`): registering facts and ingesting a
/// document that states the same facts give the same artifact rows — id, kind, name,
/// version and aliases — for every way an artifact can be identified.
#[tokio::test]
async fn registering_and_ingesting_the_same_facts_give_the_same_artifacts() {
    let d = |n: u8| format!("{n:02x}").repeat(32);
    // (CycloneDX component, the same artifact as a registration, its id)
    let cases = [
        (
            json!({"type": "machine-learning-model", "name": "bot", "version": "3",
                   "hashes": [{"alg": "SHA-256", "content": d(1)}]}),
            json!({"kind": "model", "ref": format!("sha256:{}", d(1)), "name": "bot", "version": "3"}),
            format!("sha256:{}", d(1)),
        ),
        (
            json!({"type": "machine-learning-model", "name": "unversioned",
                   "hashes": [{"alg": "SHA-256", "content": d(2)}]}),
            json!({"kind": "model", "ref": format!("sha256:{}", d(2)), "name": "unversioned"}),
            format!("sha256:{}", d(2)),
        ),
        (
            json!({"type": "data", "name": "tickets",
                   "hashes": [{"alg": "SHA-256", "content": d(3)}]}),
            json!({"kind": "dataset", "ref": format!("sha256:{}", d(3)), "name": "tickets"}),
            format!("sha256:{}", d(3)),
        ),
        (
            json!({"type": "library", "name": "requests", "version": "2.32.3",
                   "purl": "pkg:pypi/requests@2.32.3"}),
            json!({"kind": "package", "ref": "pkg:pypi/requests@2.32.3"}),
            "pkg:pypi/requests@2.32.3".to_owned(),
        ),
        (
            json!({"type": "library", "group": "@scope", "name": "pad", "version": "1.0.0",
                   "purl": "pkg:npm/%40scope/pad@1.0.0"}),
            json!({"kind": "package", "ref": "pkg:npm/%40scope/pad@1.0.0"}),
            "pkg:npm/%40scope/pad@1.0.0".to_owned(),
        ),
        (
            json!({"type": "file", "name": "README.md",
                   "hashes": [{"alg": "SHA-256", "content": d(4)}]}),
            json!({"kind": "file", "ref": format!("sha256:{}", d(4)), "name": "README.md"}),
            format!("sha256:{}", d(4)),
        ),
        (
            json!({"type": "library", "name": "internal-lib", "version": "0.1"}),
            json!({"kind": "package", "name": "internal-lib", "version": "0.1"}),
            "package:internal-lib@0.1".to_owned(),
        ),
    ];
    let registered = app().await;
    let ingested = app().await;
    let components: Vec<Value> = cases.iter().map(|c| c.0.clone()).collect();
    let artifacts: Vec<Value> = cases.iter().map(|c| c.1.clone()).collect();
    registered
        .ok("POST", paths::ARTIFACTS, json!({ "artifacts": artifacts }))
        .await;
    let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                     "components": components});
    ingested.ok("POST", paths::DOCUMENTS, bom).await;
    let row = |v: &Value| {
        json!({"id": v["id"], "kind": v["kind"], "name": v["name"], "version": v["version"],
               "aliases": v["aliases"]})
    };
    for (_, _, id) in &cases {
        let uri = format!("{}?ref={}", paths::ARTIFACTS, id.replace('@', "%40"));
        let (s1, _, a) = registered.call("GET", &uri, None).await;
        let (s2, _, b) = ingested.call("GET", &uri, None).await;
        assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK), "{id}: {a} {b}");
        assert_eq!(row(&a), row(&b), "{id}");
        if id.starts_with("sha256:0101") {
            assert_eq!(a["aliases"], json!(["model:bot@3", id]), "{a}");
        }
    }
}
