//! Access control through the router, on a real SQLite file and (with
//! `AILEDGER_TEST_POSTGRES_URL`) on PostgreSQL with two servers sharing one database:
//! 401 without a valid token, 403 without the scope, the actor is the token's name, a
//! revocation takes effect at once everywhere, failures are rate-limited, and what a
//! browser can forge (form posts, foreign host names) is refused.

use std::{net::SocketAddr, sync::Arc};

use ailedger_core::{
    EntryData,
    token::{Scope, TokenGrant},
};
use ailedger_server::{
    AppState,
    auth::{AuthConfig, MAX_FAILURES, create_token},
    paths, router,
};
use ailedger_store::{NewEntry, Store};
use ailedger_store_postgres::PgStore;
use ailedger_store_sqlite::SqliteStore;
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// One request: (status, headers' Retry-After / WWW-Authenticate, JSON body).
async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<(&str, &str)>,
    host: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(h) = host {
        req = req.header("host", h);
    }
    if let Some((ctype, _)) = body {
        req = req.header("content-type", ctype);
    }
    let mut req = req
        .body(
            body.map(|(_, b)| Body::from(b.to_owned()))
                .unwrap_or_default(),
        )
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 40_000))));
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let hint = resp
        .headers()
        .get("retry-after")
        .or_else(|| resp.headers().get("www-authenticate"))
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        hint,
    )
}

const REGISTER: &str = r#"{"artifacts": [{"kind": "package", "ref": "pkg:pypi/idna@3.8"}]}"#;

async fn register(router: &Router, token: Option<&str>) -> (StatusCode, Value) {
    let (s, v, _) = call(
        router,
        "POST",
        paths::ARTIFACTS,
        token,
        Some(("application/json", REGISTER)),
        None,
    )
    .await;
    (s, v)
}

/// The access rules on one store: `other` is a second server on the same database
/// (the same store on SQLite; its own connections on PostgreSQL).
async fn access_rules(store: Arc<dyn Store>, other: Arc<dyn Store>, backend: &str) {
    let state = AppState::new(store.clone(), backend).await.unwrap();
    let app = router(state.clone());
    let second_state = AppState::new(other, backend).await.unwrap();
    let second = router(second_state.clone());
    let admin = create_token(store.as_ref(), "setup", "root", Scope::Admin, None)
        .await
        .unwrap()
        .secret;
    // Admin grants a writer and a reader through the API.
    let mut secrets = std::collections::HashMap::new();
    for (name, scope) in [("ci", "write"), ("viewer", "read")] {
        let body = json!({"name": name, "scope": scope, "expires": "90d"}).to_string();
        let (s, v, _) = call(
            &app,
            "POST",
            paths::TOKENS,
            Some(&admin),
            Some(("application/json", &body)),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v["secret"].as_str().unwrap().starts_with("ailt_"));
        secrets.insert(name, v["secret"].as_str().unwrap().to_owned());
    }
    let (ci, viewer) = (&secrets["ci"], &secrets["viewer"]);

    // 401 without a token, with a malformed or unknown one; nothing recorded.
    let head = store.head().await.unwrap();
    for token in [
        None,
        Some("nonsense"),
        Some(&*format!("ailt_{}", "A".repeat(43))),
    ] {
        let (s, v) = register(&app, token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{token:?}: {v}");
        assert_eq!(v["type"], "urn:ailedger:problem:unauthorized");
    }
    let (s, _, hint) = call(
        &app,
        "GET",
        "/v1/impact?ref=pkg:pypi/idna@3.8",
        None,
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "reads need a token too");
    assert_eq!(hint.as_deref(), Some("Bearer realm=\"ailedger\""));
    assert_eq!(store.head().await.unwrap(), head);

    // 403 naming the scope.
    let (s, v) = register(&app, Some(viewer)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("the write scope"),
        "{v}"
    );
    let (s, v, _) = call(&app, "GET", paths::TOKENS, Some(ci), None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("the admin scope"),
        "{v}"
    );
    assert_eq!(store.head().await.unwrap(), head);

    // The actor of an entry is the token's name, whatever header the client sends.
    let (s, v) = register(&app, Some(ci)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let seq = v["entries"][0]["seq"].as_u64().unwrap();
    let (_, e, _) = call(
        &app,
        "GET",
        &paths::fill(paths::ENTRY, &seq.to_string()),
        Some(viewer),
        None,
        None,
    )
    .await;
    assert_eq!(e["actor"], "ci", "{e}");
    let (_, who, _) = call(&second, "GET", paths::WHOAMI, Some(viewer), None, None).await;
    assert_eq!(who, json!({"name": "viewer", "scope": "read"}));

    // Token entries hold the hash, never the secret.
    for e in store.entries(0, 100).await.unwrap() {
        let body = String::from_utf8_lossy(&e.body);
        for secret in [&admin, ci, viewer] {
            assert!(
                !body.contains(secret.as_str()),
                "entry {} holds a secret",
                e.seq
            );
        }
    }

    // Revoked on one server: refused at once by it, and by the other once its index
    // reads the revocation (its tailer looks every 250 ms), though the other had the
    // token's record cached.
    let (s, _, _) = call(&second, "GET", paths::WHOAMI, Some(ci), None, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v, _) = call(
        &app,
        "DELETE",
        &paths::fill(paths::TOKEN, "ci"),
        Some(&admin),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["entries"][0]["kind"], "token-revoke");
    second_state.sync_index().await.unwrap();
    for server in [&app, &second] {
        let (s, v) = register(server, Some(ci)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
        assert!(v["detail"].as_str().unwrap().contains("revoked"), "{v}");
    }
    // Revoking it again: nothing to revoke.
    let (s, _, _) = call(
        &app,
        "DELETE",
        &paths::fill(paths::TOKEN, "ci"),
        Some(&admin),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list, _) = call(&second, "GET", paths::TOKENS, Some(&admin), None, None).await;
    let ci_row = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ci")
        .unwrap();
    assert_eq!(ci_row["active"], false);
    assert!(ci_row["revoked_seq"].is_u64());
    assert!(
        !list.to_string().contains("ailt_"),
        "a list shows no secret"
    );

    // An expired grant (written straight to the ledger, in the past) does not work.
    let old = "ailt_".to_owned() + &"B".repeat(43);
    store
        .append(vec![NewEntry {
            actor: "setup".into(),
            data: EntryData::Token {
                token: TokenGrant {
                    name: "old".into(),
                    scope: Scope::Admin,
                    hash: ailedger_core::token::hash_secret(&old),
                    expires: Some("2020-01-01T00:00:00.000000Z".into()),
                },
            },
        }])
        .await
        .unwrap();
    let (s, v) = register(&app, Some(&old)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["detail"].as_str().unwrap().contains("expired"), "{v}");

    // Malformed grants: refused with a 4xx naming the field, nothing recorded.
    let head = store.head().await.unwrap();
    for (body, status, want) in [
        (json!({"name": "x", "scope": "root"}), 422, "unknown scope"),
        (
            json!({"name": "a b", "scope": "read"}),
            422,
            "bad token name",
        ),
        (
            json!({"name": "x", "scope": "read", "expires": "soon"}),
            422,
            "expires",
        ),
        (
            json!({"name": "x", "scope": "read", "expires": "2020-01-01T00:00:00Z"}),
            422,
            "not in the future",
        ),
        (json!({"name": "x"}), 422, "scope"),
        (
            json!({"name": "x", "scope": "read", "extra": 1}),
            422,
            "extra",
        ),
    ] {
        let (s, v, _) = call(
            &app,
            "POST",
            paths::TOKENS,
            Some(&admin),
            Some(("application/json", &body.to_string())),
            None,
        )
        .await;
        assert_eq!(s.as_u16(), status, "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(want), "{body}: {v}");
    }
    let (s, _, _) = call(
        &app,
        "POST",
        paths::TOKENS,
        Some(&admin),
        Some(("application/json", "{not json")),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v, _) = call(&app, "DELETE", "/v1/tokens/a%20b", Some(&admin), None, None).await;
    assert_eq!(s.as_u16(), 422, "{v}");
    assert_eq!(store.head().await.unwrap(), head);

    // A granted name stays taken while active.
    let body = json!({"name": "viewer", "scope": "admin"}).to_string();
    let (s, v, _) = call(
        &app,
        "POST",
        paths::TOKENS,
        Some(&admin),
        Some(("application/json", &body)),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
}

#[tokio::test]
async fn access_rules_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    access_rules(store.clone(), store, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_rules_on_two_postgres_servers() {
    let Some((a, url, schema)) =
        super::pg_store("auth", "the PostgreSQL access-control test").await
    else {
        return;
    };
    // The second server: its own connections to the same schema.
    let b = PgStore::connect(&url, Some(&schema)).await.unwrap();
    access_rules(a, Arc::new(b), "postgres").await;
}

/// Reads without a token when the server serves them publicly; writes still need one.
#[tokio::test]
async fn public_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    let app = router(
        AppState::new(store, "sqlite")
            .await
            .unwrap()
            .with_auth(AuthConfig::new(true, None)),
    );
    let (s, _, _) = call(&app, "GET", paths::STATUS, None, None, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = register(&app, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = call(&app, "GET", paths::TOKENS, None, None, None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "token management is never public"
    );
}

/// Repeated failed authentications from one address get 429 with Retry-After.
#[tokio::test]
async fn failed_authentications_are_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    let app = router(AppState::new(store, "sqlite").await.unwrap());
    let wrong = format!("ailt_{}", "C".repeat(43));
    for _ in 0..MAX_FAILURES {
        let (s, _) = register(&app, Some(&wrong)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, v, retry) = call(&app, "GET", paths::STATUS, Some(&wrong), None, None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(retry.unwrap().parse::<u64>().unwrap() <= 60);
}

/// What a web page can make a browser send is refused: form content types on writes,
/// and (on a loopback server) any host name but loopback's, which DNS rebinding needs.
#[tokio::test]
async fn forged_browser_requests_are_refused_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    forged_browser_requests_are_refused(store, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_browser_requests_are_refused_on_postgres() {
    let Some((store, _, _)) = super::pg_store("forged", "the PostgreSQL forged-request test").await
    else {
        return;
    };
    forged_browser_requests_are_refused(store, "postgres").await;
}

async fn forged_browser_requests_are_refused(store: Arc<dyn Store>, backend: &str) {
    let listen: SocketAddr = "127.0.0.1:8080".parse().unwrap();
    let state = AppState::new(store.clone(), backend)
        .await
        .unwrap()
        .with_auth(AuthConfig::new(
            false,
            Some(ailedger_server::auth::loopback_hosts(&listen)),
        ));
    let admin = create_token(store.as_ref(), "setup", "root", Scope::Admin, None)
        .await
        .unwrap()
        .secret;
    let app = router(state);
    for ctype in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain;charset=UTF-8",
    ] {
        for token in [None, Some(admin.as_str())] {
            let (s, v, _) = call(
                &app,
                "POST",
                "/v1/documents?name=r.txt",
                token,
                Some((ctype, "requests==2.32.3\n")),
                Some("127.0.0.1:8080"),
            )
            .await;
            assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ctype}: {v}");
        }
    }
    let (s, v, _) = call(
        &app,
        "GET",
        paths::STATUS,
        Some(&admin),
        None,
        Some("rebind.attacker.example:8080"),
    )
    .await;
    assert_eq!(s, StatusCode::MISDIRECTED_REQUEST, "{v}");
    for host in ["localhost:8080", "127.0.0.1:8080", "[::1]:8080"] {
        let (s, v, _) = call(&app, "GET", paths::STATUS, Some(&admin), None, Some(host)).await;
        assert_eq!(s, StatusCode::OK, "{host}: {v}");
    }
    // The same document as an octet stream is accepted.
    let (s, v, _) = call(
        &app,
        "POST",
        "/v1/documents?name=requirements.txt",
        Some(&admin),
        Some(("application/octet-stream", "requests==2.32.3\n")),
        Some("localhost"),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
