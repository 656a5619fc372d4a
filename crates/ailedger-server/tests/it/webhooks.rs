//! Webhooks end to end in one process: the API, the dispatcher and the delivery worker
//! over a real SQLite file, delivering over loopback HTTP to real receivers started
//! here (an axum server that records what it gets, and a TCP listener that accepts and
//! never answers).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ailedger_core::{
    EntryData, Severity,
    event::Retry,
    incident::{Containment, IncidentEvent, Target},
};
use ailedger_server::{AppState, router, webhooks::WebhookConfig};
use ailedger_store::NewEntry;
use ailedger_store_sqlite::SqliteStore;
use axum::{
    Router,
    http::{HeaderMap, StatusCode},
};
use serde_json::{Value, json};

use crate::call_as;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A loopback receiver answering 503 to its first `fail` requests, then 200.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

async fn receiver(fail: usize) -> Receiver {
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let seen = got.clone();
    let app = Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push(Received {
                    headers,
                    body: body.to_vec(),
                });
                if seen.len() <= fail {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { url, got }
}

/// A loopback listener that accepts connections and never answers; it counts them.
async fn hung_receiver() -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let accepted: Arc<Mutex<usize>> = Arc::default();
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            *count.lock().unwrap() += 1;
            held.push(conn);
        }
    });
    (url, accepted)
}

struct Hooks {
    _dir: tempfile::TempDir,
    state: AppState,
    router: Router,
    token: String,
}

/// A server state with fast polling and short backoff, its webhook tasks running.
async fn hooks_app(timeout: Duration) -> Hooks {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
    let state = AppState::new(store, "sqlite")
        .await
        .unwrap()
        .with_webhooks(WebhookConfig {
            retry: Retry {
                base_ms: 100,
                cap_ms: 400,
                max_attempts: 5,
            },
            connect_timeout: Duration::from_secs(1),
            timeout,
            concurrency: 4,
            allow_http: false,
            poll: Duration::from_millis(50),
        });
    let token = ailedger_server::auth::create_token(
        state.store.as_ref(),
        "setup",
        "admin@ci",
        ailedger_core::token::Scope::Admin,
        None,
    )
    .await
    .unwrap()
    .secret;
    state.spawn_webhooks().unwrap();
    Hooks {
        _dir: dir,
        router: router(state.clone()),
        state,
        token,
    }
}

impl Hooks {
    async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, _, v) = call_as(
            &self.router,
            &self.token,
            method,
            uri,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await;
        (status, v)
    }

    async fn subscribe(&self, url: &str, events: &[&str]) -> Value {
        let (status, v) = self
            .call(
                "POST",
                "/v1/webhooks",
                Some(json!({"url": url, "events": events})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }

    /// Appends an entry through the store, as any writer (a handler, another server)
    /// would; returns its seq.
    async fn append(&self, data: EntryData) -> u64 {
        self.state
            .store
            .append(vec![NewEntry {
                actor: "responder@ci".into(),
                data,
            }])
            .await
            .unwrap()[0]
            .seq
    }
}

fn open_incident(id: &str) -> EntryData {
    EntryData::Incident {
        incident: IncidentEvent::Open {
            target: Target::Artifact { id: id.into() },
            reason: "a cryptominer in the published wheel".into(),
            severity: Severity::Critical,
            evidence: vec![],
            advisory: Some("GHSA-7x29-qqmq-v6qc".into()),
        },
    }
}

fn schema() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(format!("{ROOT}/schemas/webhook-event.schema.json")).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&serde_json::from_str(&text).unwrap())
        .unwrap()
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    hex::encode(ring::hmac::sign(&key, body).as_ref())
}

/// Waits until `f` holds, up to `secs`.
async fn until(secs: u64, what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// An incident entry reaches a subscriber that fails twice on the third attempt: the
/// same signed body each time, valid against the documented schema; a subscriber to
/// other events gets nothing; entries that are no event announce nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_is_delivered_signed_after_two_failures() {
    let app = hooks_app(Duration::from_secs(5)).await;
    let rx = receiver(2).await;
    let other = receiver(0).await;
    let hook = app.subscribe(&rx.url, &["incident.*"]).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let id = hook["id"].as_u64().unwrap();
    let other_hook = app.subscribe(&other.url, &["containment.block"]).await;
    // The secret is in that answer only.
    let (status, list) = app.call("GET", "/v1/webhooks", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(&secret), "{list}");
    assert_eq!(list["webhooks"][0]["url"], rx.url.as_str());
    assert_eq!(list["webhooks"][0]["events"], json!(["incident.*"]));
    assert_eq!(list["webhooks"][0]["created_by"], "admin@ci");

    app.append(EntryData::Advisory { advisories: vec![] }).await;
    let seq = app
        .append(open_incident("pkg:pypi/ultralytics@8.3.41"))
        .await;
    app.append(EntryData::Containment {
        containment: Containment::Quarantine {
            artifact: "pkg:pypi/ultralytics@8.3.41".into(),
            reason: "under investigation".into(),
        },
    })
    .await;

    until(20, "three attempts", async || {
        rx.got.lock().unwrap().len() >= 3
    })
    .await;
    until(10, "the delivery to be recorded", async || {
        app.call("GET", &format!("/v1/webhooks/{id}/deliveries"), None)
            .await
            .1["deliveries"][0]["state"]
            == "delivered"
    })
    .await;
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "delivered on the third attempt, then no more");
    let validator = schema();
    for r in &got {
        assert_eq!(r.body, got[0].body, "every attempt sends the same bytes");
        let h = |name: &str| r.headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(h("content-type"), "application/json");
        assert_eq!(h("x-ailedger-event"), "incident.open");
        assert_eq!(
            h("x-ailedger-delivery"),
            h_of(&got[0], "x-ailedger-delivery")
        );
        assert_eq!(
            h("x-ailedger-signature-256"),
            format!("sha256={}", hmac_hex(&secret, &r.body))
        );
        assert_ne!(
            h("x-ailedger-signature-256"),
            format!("sha256={}", hmac_hex("another secret", &r.body))
        );
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}: {body}");
        // The schema holds the type to the action, and the data to its shape.
        let mut bad = body.clone();
        bad["type"] = json!("incident.ack");
        assert!(!validator.is_valid(&bad));
        let mut bad = body.clone();
        bad["data"]["severity"] = json!("dire");
        assert!(!validator.is_valid(&bad));
        assert_eq!(body["type"], "incident.open");
        assert_eq!(body["seq"], seq);
        assert_eq!(body["actor"], "responder@ci");
        assert_eq!(body["data"]["target"]["id"], "pkg:pypi/ultralytics@8.3.41");
        assert_eq!(body["data"]["severity"], "critical");
    }
    let (_, d) = app
        .call("GET", &format!("/v1/webhooks/{id}/deliveries"), None)
        .await;
    let d0 = &d["deliveries"][0];
    assert_eq!(d["deliveries"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(d0["attempts"], 3);
    assert_eq!(d0["last_status"], 200);
    assert_eq!(d0["seq"], seq);
    assert_eq!(d0["event"], "incident.open");
    assert_eq!(d0["id"].to_string(), h_of(&got[0], "x-ailedger-delivery"));
    assert!(
        d0["delivered"].is_string() && d0["last_error"].is_null(),
        "{d0}"
    );
    let (_, list) = app.call("GET", "/v1/webhooks", None).await;
    let row = &list["webhooks"][0];
    assert_eq!(
        (&row["delivered"], &row["pending"], &row["failed"]),
        (&json!(1), &json!(0), &json!(0))
    );
    // The containment.block subscriber got neither the incident nor the quarantine.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(other.got.lock().unwrap().is_empty());
    let other_id = other_hook["id"].as_u64().unwrap();
    let (_, d) = app
        .call("GET", &format!("/v1/webhooks/{other_id}/deliveries"), None)
        .await;
    assert_eq!(d["deliveries"], json!([]));

    // A removed subscription gets nothing more.
    let (status, removed) = app
        .call("DELETE", &format!("/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert!(removed["removed"].is_string(), "{removed}");
    assert_eq!(removed["delivered"], 1);
    app.append(open_incident("pkg:pypi/ultralytics@8.3.42"))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(rx.got.lock().unwrap().len(), 3);
    let (_, list) = app.call("GET", "/v1/webhooks", None).await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 1);
}

fn h_of(r: &Received, name: &str) -> String {
    r.headers.get(name).unwrap().to_str().unwrap().to_owned()
}

/// A receiver that accepts the connection and never answers delays neither writes nor
/// another subscriber's deliveries; its attempt ends at the timeout and is retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_receiver_blocks_nothing() {
    let timeout = Duration::from_secs(4);
    let app = hooks_app(timeout).await;
    let (hung_url, accepted) = hung_receiver().await;
    let hung = app.subscribe(&hung_url, &["*"]).await["id"]
        .as_u64()
        .unwrap();
    let healthy = receiver(0).await;
    app.append(open_incident("pkg:pypi/a@1")).await;
    until(10, "the hung receiver's connection", async || {
        *accepted.lock().unwrap() >= 1
    })
    .await;
    let hanging_since = Instant::now();
    // Writes while its attempt hangs: through the API and through the store.
    let started = Instant::now();
    let (status, v) = app
        .call(
            "POST",
            "/v1/artifacts",
            Some(json!({"artifacts": [{"kind": "package", "ref": "pkg:pypi/b@1"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let seq = app.append(open_incident("pkg:pypi/b@1")).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "writes took {took:?}");
    // Another subscriber is served meanwhile.
    app.subscribe(&healthy.url, &["incident.open"]).await;
    let late = app.append(open_incident("pkg:pypi/c@1")).await;
    assert!(late > seq);
    until(10, "the healthy receiver", async || {
        !healthy.got.lock().unwrap().is_empty()
    })
    .await;
    assert!(
        hanging_since.elapsed() < timeout,
        "the healthy receiver waited for the hung one"
    );
    // The hung attempt times out and is queued again.
    until(15, "the timeout to be recorded", async || {
        let (_, d) = app
            .call("GET", &format!("/v1/webhooks/{hung}/deliveries"), None)
            .await;
        d["deliveries"].as_array().unwrap().iter().any(|d| {
            d["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("timed out"))
        })
    })
    .await;
    let (_, d) = app
        .call("GET", &format!("/v1/webhooks/{hung}/deliveries"), None)
        .await;
    let first = d["deliveries"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(first["state"], "pending", "{first}");
    assert!(first["next_attempt"].is_string(), "{first}");
    assert!(first["last_status"].is_null(), "{first}");
}

/// Bad subscriptions are refused with a problem naming the field; only an admin token
/// manages webhooks.
#[tokio::test]
async fn bad_subscriptions_are_problems() {
    let app = hooks_app(Duration::from_secs(1)).await;
    for (body, status, want) in [
        (
            json!({"url": "http://hooks.example/x", "events": ["*"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "--webhook-allow-http",
        ),
        (
            json!({"url": "ftp://127.0.0.1/x", "events": ["*"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "url \"ftp://127.0.0.1/x\"",
        ),
        (
            json!({"url": "https://u:p@hooks.example/", "events": ["*"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "password",
        ),
        (
            json!({"url": "https://hooks.example/", "events": ["incident.opened"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "events: invalid entry: unknown event \"incident.opened\"",
        ),
        (
            json!({"url": "https://hooks.example/", "events": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "events",
        ),
        (
            json!({"url": "https://hooks.example/", "events": ["*"], "secret": "mine"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "secret",
        ),
        (
            json!({"events": ["*"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "url",
        ),
    ] {
        let (got, v) = app.call("POST", "/v1/webhooks", Some(body.clone())).await;
        assert_eq!(got, status, "{body}: {v}");
        let detail = v["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(want), "{body}: {detail:?} lacks {want:?}");
    }
    for (method, uri, status, want) in [
        (
            "DELETE",
            "/v1/webhooks/7",
            StatusCode::NOT_FOUND,
            "no active webhook 7",
        ),
        (
            "DELETE",
            "/v1/webhooks/x",
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook id \"x\"",
        ),
        (
            "GET",
            "/v1/webhooks/7/deliveries",
            StatusCode::NOT_FOUND,
            "no webhook 7",
        ),
    ] {
        let (got, v) = app.call(method, uri, None).await;
        assert_eq!(got, status, "{method} {uri}: {v}");
        assert!(
            v["detail"].as_str().unwrap_or_default().contains(want),
            "{v}"
        );
    }
    let id = app.subscribe("https://hooks.example/x", &["*"]).await["id"]
        .as_u64()
        .unwrap();
    let (got, v) = app
        .call(
            "GET",
            &format!("/v1/webhooks/{id}/deliveries?limit=0"),
            None,
        )
        .await;
    assert_eq!(got, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("limit 0"), "{v}");
    let writer = ailedger_server::auth::create_token(
        app.state.store.as_ref(),
        "admin@ci",
        "writer@ci",
        ailedger_core::token::Scope::Write,
        None,
    )
    .await
    .unwrap()
    .secret;
    for (method, uri) in [
        ("GET", "/v1/webhooks".to_string()),
        ("DELETE", format!("/v1/webhooks/{id}")),
        ("GET", format!("/v1/webhooks/{id}/deliveries")),
    ] {
        let (got, _, _) = call_as(&app.router, &writer, method, &uri, None).await;
        assert_eq!(got, StatusCode::FORBIDDEN, "{method} {uri}");
    }
    let body = json!({"url": "https://hooks.example/y", "events": ["*"]}).to_string();
    let (got, _, _) = call_as(
        &app.router,
        &writer,
        "POST",
        "/v1/webhooks",
        Some(body.into_bytes()),
    )
    .await;
    assert_eq!(got, StatusCode::FORBIDDEN);
}
