//! `ailedger webhook …` against real `ailedger serve` processes, delivering to a real
//! loopback receiver: a delivery queued while the receiver is down survives a restart
//! of the server and arrives exactly once.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ailedger_core::{
    EntryData, Severity,
    incident::{IncidentEvent, Target},
};
use ailedger_store::{NewEntry, Store as _};
use serde_json::Value;

use crate::{fails, free_port, json, ok, serve_with};

/// What the receiver got: (headers as lowercase name → value, body).
type Got = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

/// An HTTP receiver on `addr` answering 200, on a thread of its own.
fn start_receiver(addr: SocketAddr) -> Got {
    let got: Got = Arc::default();
    let seen = got.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = axum::Router::new().route(
                "/hook",
                axum::routing::post(
                    move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                        let seen = seen.clone();
                        async move {
                            let headers = headers
                                .iter()
                                .map(|(k, v)| {
                                    (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                                })
                                .collect();
                            seen.lock().unwrap().push((headers, body.to_vec()));
                            "ok"
                        }
                    },
                ),
            );
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            ready_tx.send(()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    got
}

/// Appends an `incident` entry to the ledger file, as another writer would.
fn open_incident(db: &str, id: &str) -> u64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = ailedger_store_sqlite::SqliteStore::open(std::path::Path::new(db))
            .await
            .unwrap();
        store
            .append(vec![NewEntry {
                actor: "responder@ci".into(),
                data: EntryData::Incident {
                    incident: IncidentEvent::Open {
                        target: Target::Artifact { id: id.into() },
                        reason: "a cryptominer in the published wheel".into(),
                        severity: Severity::Critical,
                        evidence: vec![],
                        advisory: None,
                    },
                },
            }])
            .await
            .unwrap()[0]
            .seq
    })
}

fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

const FAST: &[&str] = &[
    "--webhook-backoff",
    "0.3",
    "--webhook-backoff-max",
    "0.6",
    "--webhook-max-attempts",
    "100",
    "--webhook-timeout",
    "2",
];

#[test]
fn a_delivery_survives_a_server_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("l.db").to_string_lossy().into_owned();
    // The receiver's port, with nothing listening on it yet.
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let hook_url = format!("http://{addr}/hook");
    let server = serve_with(&db, FAST);
    let url = server.url.clone();

    // Bad input: exit 2, one line naming the fault.
    for (args, want) in [
        (
            vec!["webhook", "add", "ftp://127.0.0.1/x", "--events", "*"],
            "url \"ftp://127.0.0.1/x\"",
        ),
        (
            vec!["webhook", "add", "http://hooks.example/x", "--events", "*"],
            "--webhook-allow-http",
        ),
        (
            vec!["webhook", "add", &hook_url, "--events", "incident.opened"],
            "incident.opened",
        ),
        (vec!["webhook", "remove", "abc"], "webhook id \"abc\""),
        (vec!["webhook", "remove", "99"], "no active webhook 99"),
        (vec!["webhook", "deliveries", "99"], "no webhook 99"),
    ] {
        let (code, line) = fails(&url, &args);
        assert_eq!(code, 2, "{args:?}: {line}");
        assert!(line.contains(want), "{args:?}: {line:?} lacks {want:?}");
    }
    let (code, line) = fails(
        &url,
        &[
            "serve",
            "--webhook-backoff",
            "5",
            "--webhook-backoff-max",
            "1",
        ],
    );
    assert_eq!(code, 2);
    assert!(line.contains("--webhook-backoff-max 1"), "{line}");

    let secret = ok(
        &url,
        &[
            "webhook",
            "add",
            &hook_url,
            "--events",
            "incident.open,incident.exposed",
        ],
    )
    .trim()
    .to_owned();
    assert!(secret.starts_with("ailwh_"), "{secret}");
    let list = json(&url, &["webhook", "list"]);
    let hook = &list["webhooks"][0];
    let id = hook["id"].as_u64().unwrap().to_string();
    assert_eq!(
        hook["events"],
        serde_json::json!(["incident.open", "incident.exposed"])
    );
    let table = ok(&url, &["webhook", "list"]);
    assert!(
        table.contains(&hook_url) && !table.contains(&secret),
        "{table}"
    );

    // An incident while the receiver is down: attempts fail and are recorded.
    let seq = open_incident(&db, "pkg:pypi/ultralytics@8.3.41");
    let deliveries = |url: &str| json(url, &["webhook", "deliveries", &id]);
    wait_for(30, "a failed attempt", || {
        deliveries(&url)["deliveries"][0]["attempts"].as_u64() >= Some(1)
    });
    let d = deliveries(&url);
    let d0 = &d["deliveries"][0];
    assert_eq!(d0["state"], "pending", "{d}");
    assert!(
        d0["last_error"]
            .as_str()
            .unwrap()
            .contains("could not connect"),
        "{d}"
    );
    let table = ok(&url, &["webhook", "deliveries", &id]);
    assert!(
        table.contains("incident.open") && table.contains("pending"),
        "{table}"
    );
    drop(server);

    // The receiver comes up, then the server again on the same ledger.
    let got = start_receiver(addr);
    let server = serve_with(&db, FAST);
    let url = server.url.clone();
    wait_for(30, "the delivery", || !got.lock().unwrap().is_empty());
    wait_for(10, "the delivery to be recorded", || {
        deliveries(&url)["deliveries"][0]["state"] == "delivered"
    });
    // Time for a duplicate to show, were there one.
    std::thread::sleep(Duration::from_millis(1500));
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "exactly once");
    let (headers, body) = &got[0];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let want = format!(
        "sha256={}",
        hex::encode(ring::hmac::sign(&key, body).as_ref())
    );
    assert_eq!(header("x-ailedger-signature-256"), want);
    assert_eq!(header("x-ailedger-event"), "incident.open");
    let event: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(event["seq"], seq);
    assert_eq!(event["type"], "incident.open");
    let d = deliveries(&url);
    assert_eq!(d["deliveries"].as_array().unwrap().len(), 1, "{d}");
    assert_eq!(
        header("x-ailedger-delivery"),
        d["deliveries"][0]["id"].to_string()
    );
    assert!(d["deliveries"][0]["attempts"].as_u64() >= Some(2), "{d}");
    assert_eq!(d["deliveries"][0]["last_status"], 200);
    let list = json(&url, &["webhook", "list"]);
    assert_eq!(list["webhooks"][0]["delivered"], 1, "{list}");

    let removed = json(&url, &["webhook", "remove", &id]);
    assert!(removed["removed"].is_string(), "{removed}");
    assert_eq!(
        json(&url, &["webhook", "list"])["webhooks"],
        serde_json::json!([])
    );
    // A non-admin token may not manage webhooks.
    let writer = json(
        &url,
        &["token", "create", "--name", "w", "--scope", "write"],
    );
    let out = std::process::Command::new(crate::BIN)
        .args(["webhook", "list"])
        .env("AILEDGER_URL", &url)
        .env("AILEDGER_TOKEN", writer["secret"].as_str().unwrap())
        .env(
            "AILEDGER_CONFIG_DIR",
            std::env::temp_dir().join("ailedger-e2e-no-config"),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
