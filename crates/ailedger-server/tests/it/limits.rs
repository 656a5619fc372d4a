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

/// A ledger on a temporary SQLite file whose state `configure` sets up, its router and
/// an admin token (the directory must outlive the test's use of the ledger).
async fn ledger(
    configure: impl FnOnce(AppState) -> AppState,
) -> (tempfile::TempDir, AppState, axum::Router, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    let state = configure(AppState::new(store, "sqlite").await.unwrap());
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
    (dir, state, app, token)
}

/// Registers with the body `reg`, which must succeed; the answer.
async fn register(app: &axum::Router, token: &str, reg: String) -> Value {
    let (st, _, v) =
        crate::call_as(app, token, "POST", "/v1/artifacts", Some(reg.into_bytes())).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingests_share_a_memory_budget() {
    // 64 MiB: a 5 MiB document (about 60 MiB to parse) fits alone, not beside another.
    let (_dir, state, app, token) = ledger(|s| s.with_ingest_budget(64)).await;

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

/// A long chain registered in one request: `impact` of its bottom answers a page of
/// the default size with the total, `truncated` and a cursor; following the cursors
/// gives every hit once, in order, each naming its parent, and each page carries the
/// earlier hits its paths pass through, so the deepest path rebuilds to the bottom.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversals_are_paged_with_parent_pointers() {
    let app = crate::app().await;
    let n = 2_500usize;
    let name = |i: usize| format!("pkg:pypi/chain-{i}@1.0.0");
    let artifacts: Vec<Value> = (0..n)
        .map(|i| serde_json::json!({"kind": "package", "ref": name(i)}))
        .collect();
    let edges: Vec<Value> = (1..n)
        .map(|i| serde_json::json!({"from": name(i), "edge": "depends-on", "to": name(i - 1)}))
        .collect();
    let body = serde_json::json!({"artifacts": artifacts, "edges": edges}).to_string();
    let (st, _, v) = app.call("POST", "/v1/artifacts", Some(&body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let bottom = name(0).replace('@', "%40");

    // The default page: 1000 of 2499, truncated, with a cursor.
    let (st, _, first) = app
        .call("GET", &format!("/v1/impact?ref={bottom}"), None)
        .await;
    assert_eq!(st, StatusCode::OK, "{first}");
    assert_eq!(first["count"], 1000);
    assert_eq!(first["total"], n - 1);
    assert_eq!(first["truncated"], true);
    assert_eq!(first["offset"], 0);
    assert!(first.get("ancestors").is_none(), "a first page needs none");
    let at = first["at_seq"].as_u64().unwrap();

    // A later write does not move the pages: the cursor pins the ledger state.
    let more = serde_json::json!({
        "artifacts": [{"kind": "package", "ref": "pkg:pypi/late@1.0.0"}],
        "edges": [{"from": "pkg:pypi/late@1.0.0", "edge": "depends-on", "to": name(0)}],
    })
    .to_string();
    assert_eq!(
        app.call("POST", "/v1/artifacts", Some(&more)).await.0,
        StatusCode::OK
    );

    let mut pages = vec![first.clone()];
    let mut next = first["next"].as_str().map(str::to_owned);
    while let Some(c) = next {
        let (st, _, v) = app
            .call(
                "GET",
                &format!("/v1/impact?ref={bottom}&limit=700&cursor={c}"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["at_seq"], at);
        assert_eq!(v["total"], n - 1);
        next = v["next"].as_str().map(str::to_owned);
        assert_eq!(v["truncated"], next.is_some());
        pages.push(v);
    }
    assert_eq!(pages.len(), 4, "1000 + 700 + 700 + 99");
    let mut pos = 0u64;
    for page in &pages {
        assert_eq!(page["offset"], pos);
        for h in page["hits"].as_array().unwrap() {
            assert_eq!(h["pos"], pos);
            // Nearest first: position i is the package i + 1 edges up the chain.
            assert_eq!(h["id"], name(pos as usize + 1));
            assert_eq!(h["depth"], pos + 1);
            assert_eq!(h["edge"], "depends-on");
            match pos {
                0 => assert!(h.get("parent").is_none(), "{h}"),
                p => assert_eq!(h["parent"], p - 1),
            }
            pos += 1;
        }
        // Each page rebuilds its own paths: the deepest hit's reaches the bottom.
        let last = page["hits"].as_array().unwrap().last().unwrap();
        let path = crate::path_of(page, last);
        assert_eq!(path.len() as u64, last["depth"].as_u64().unwrap());
        assert_eq!(*path.last().unwrap(), name(0));
    }
    assert_eq!(pos as usize, n - 1);

    // A depth limit: the hits within it, and the total within it.
    let (_, _, near) = app
        .call("GET", &format!("/v1/impact?ref={bottom}&depth=3"), None)
        .await;
    assert_eq!(near["total"], 4, "three up the chain and the late package");
    assert_eq!(near["truncated"], false);
    assert!(
        near["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["depth"].as_u64() <= Some(3))
    );

    // deps walks the other way, under the same rules.
    let top = name(n - 1).replace('@', "%40");
    let (_, _, d) = app
        .call("GET", &format!("/v1/deps?ref={top}&limit=10"), None)
        .await;
    assert_eq!(d["count"], 10);
    assert_eq!(d["total"], n - 1);
    assert_eq!(d["hits"][9]["id"], name(n - 11));
}

/// A limit the server does not allow, and a cursor it did not give, are 422
/// problem+json naming what is wrong.
#[tokio::test]
async fn traversal_limits_are_named_when_refused() {
    let app = crate::app().await;
    let reg = r#"{"artifacts": [{"kind": "package", "ref": "pkg:pypi/solo@1.0.0"}]}"#;
    assert_eq!(
        app.call("POST", "/v1/artifacts", Some(reg)).await.0,
        StatusCode::OK
    );
    for (query, says) in [
        (
            "limit=10001",
            "traversal limit of this server (10000, serve --traversal-max)",
        ),
        ("limit=0", "limit must be at least 1"),
        (
            "cursor=abc",
            "cursor \"abc\" is not a cursor this server gave",
        ),
        ("cursor=1.x", "is not a cursor"),
        ("depth=-1", "depth"),
    ] {
        let (st, ctype, v) = app
            .call(
                "GET",
                &format!("/v1/impact?ref=pkg:pypi/solo%401.0.0&{query}"),
                None,
            )
            .await;
        assert!(st.is_client_error(), "{query}: {st} {v}");
        assert_eq!(ctype, "application/problem+json", "{query}");
        assert!(
            v["detail"].as_str().unwrap_or_default().contains(says),
            "{query}: {v}"
        );
    }
}

/// A list of entries keeps to its byte budget: a body above the inline limit is given
/// by reference and read on its own; the page ends before the budget is passed.
#[tokio::test]
async fn entry_lists_keep_to_a_byte_budget() {
    let (_dir, _, app, token) = ledger(|s| {
        s.with_limits(ailedger_server::Limits {
            entries_page_bytes: 4096,
            entry_inline_bytes: 2048,
            ..ailedger_server::Limits::default()
        })
    })
    .await;
    // Three small registrations (a few hundred bytes each) and one large one.
    for i in 0..3 {
        let reg = format!(
            r#"{{"artifacts": [{{"kind": "package", "ref": "pkg:pypi/small-{i}@1.0.0"}}]}}"#
        );
        register(&app, &token, reg).await;
    }
    let many: Vec<Value> = (0..60)
        .map(|i| serde_json::json!({"kind": "package", "ref": format!("pkg:pypi/large-{i}@1.0.0")}))
        .collect();
    let reg = serde_json::json!({ "artifacts": many }).to_string();
    let v = register(&app, &token, reg).await;
    let large_seq = v["entries"][0]["seq"].as_u64().unwrap();

    let (st, _, list) = crate::call_as(&app, &token, "GET", "/v1/entries?limit=1000", None).await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let entries = list["entries"].as_array().unwrap();
    let large = entries
        .iter()
        .find(|e| e["seq"] == large_seq)
        .unwrap_or_else(|| panic!("the large entry is listed: {list}"));
    assert!(large.get("body").is_none(), "{large}");
    assert_eq!(large["body_ref"], format!("/v1/entries/{large_seq}"));
    let size = large["body_size"].as_u64().unwrap();
    assert!(size > 2048, "{size}");
    let inline: usize = entries
        .iter()
        .filter_map(|e| e.get("body"))
        .map(|b| b.to_string().len())
        .sum();
    assert!(inline <= 4096, "{inline}");
    // Read on its own, the body is whole and hashes to the listed leaf.
    let (st, _, one) = crate::call_as(
        &app,
        &token,
        "GET",
        &format!("/v1/entries/{large_seq}"),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let view: ailedger_server::EntryView = serde_json::from_value(one).unwrap();
    assert_eq!(view.body_bytes().unwrap().len() as u64, size);
    assert_eq!(
        hex::encode(ailedger_core::canonical::leaf_hash(
            &view.body_bytes().unwrap()
        )),
        large["leaf_hash"].as_str().unwrap()
    );
}

/// Concurrent writes share transactions (group commit) yet each is answered with its
/// own entries: every acknowledged write is there, seqs are distinct and gap-free, a
/// write's answer is readable at once (read-your-writes), and a bad write among them
/// fails alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_are_committed_in_groups_and_answered_alone() {
    let app = crate::app().await;
    let base = r#"{"artifacts": [{"kind": "package", "ref": "pkg:pypi/base@1.0.0"}]}"#;
    assert_eq!(
        app.call("POST", "/v1/artifacts", Some(base)).await.0,
        StatusCode::OK
    );
    let mut tasks = Vec::new();
    for i in 0..64 {
        let router = app.router.clone();
        let token = app.token.clone();
        tasks.push(tokio::spawn(async move {
            // Every eighth write names an edge kind that does not exist.
            let edge = if i % 8 == 7 { "consumes" } else { "depends-on" };
            let me = format!("pkg:pypi/w{i}@1.0.0");
            let body = serde_json::json!({
                "artifacts": [{"kind": "package", "ref": me}],
                "edges": [{"from": me, "edge": edge, "to": "pkg:pypi/base@1.0.0"}],
            })
            .to_string();
            let (st, _, v) = crate::call_as(
                &router,
                &token,
                "POST",
                "/v1/artifacts",
                Some(body.into_bytes()),
            )
            .await;
            // Read-your-writes: the answer's write is in the index already.
            let seen = if st == StatusCode::OK {
                let (_, _, deps) = crate::call_as(
                    &router,
                    &token,
                    "GET",
                    &format!("/v1/deps?ref=pkg:pypi/w{i}%401.0.0"),
                    None,
                )
                .await;
                deps["total"] == 1
            } else {
                false
            };
            (i, st, v, seen)
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        let (i, st, v, seen) = t.await.unwrap();
        if i % 8 == 7 {
            assert!(st.is_client_error(), "{i}: {st} {v}");
            continue;
        }
        assert_eq!(st, StatusCode::OK, "{i}: {v}");
        assert!(seen, "write {i} is not readable at once");
        let entries = v["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{v}");
        assert_eq!(entries[0]["artifacts"][0], format!("pkg:pypi/w{i}@1.0.0"));
        seqs.push(entries[0]["seq"].as_u64().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs.len(), 56);
    let first = seqs[0];
    assert_eq!(seqs, (first..first + 56).collect::<Vec<_>>(), "gap-free");
    let (_, _, impact) = app
        .call("GET", "/v1/impact?ref=pkg:pypi/base%401.0.0", None)
        .await;
    assert_eq!(impact["total"], 56, "the bad writes recorded nothing");
    let (_, _, status) = app.call("GET", "/v1/status", None).await;
    assert_eq!(status["head"], seqs[55]);
}

/// A document above the server's limit, and a JSON body above the route's, are 413
/// problem+json naming the limit, and record nothing.
#[tokio::test]
async fn bodies_over_their_limit_are_named() {
    let (_dir, state, app, token) = ledger(|s| {
        s.with_limits(ailedger_server::Limits {
            document_bytes: 1 << 20,
            ..ailedger_server::Limits::default()
        })
    })
    .await;
    let head = state.store.head().await.unwrap();
    let big = vec![b' '; (1 << 20) + 1];
    let resp = app
        .clone()
        .oneshot(post(&token, Body::from(big.clone()), big.len()))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("limit of 1 MiB (serve --max-document-mib)"),
        "{v}"
    );
    let huge = vec![b' '; ailedger_server::MAX_BODY + 1];
    let (st, ctype, v) = crate::call_as(&app, &token, "POST", "/v1/artifacts", Some(huge)).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(ctype, "application/problem+json");
    assert!(
        v["detail"].as_str().unwrap().contains("limit of 64 MiB"),
        "{v}"
    );
    assert_eq!(state.store.head().await.unwrap(), head, "nothing recorded");
}
