//! The full audit (`ailedger_log::audit_log`, the engine of `ailedger log verify`)
//! in-process, through the router (`oneshot`) on a real SQLite file and, when
//! `AILEDGER_TEST_POSTGRES_URL` is set, on PostgreSQL: every tamper class is named by
//! its first bad seq over the API, the signer refuses with the same seq, the API serves
//! a corrupt body as stored, and a doctored derived row is caught by the replay
//! comparison (`ailedger_store::replay`).

use std::sync::Arc;

use ailedger_log::{
    AuditSource, Checkpoint, ConsistencyProof, EntryPage, Finding, Signer, VerifyError, audit_log,
    check_extends, open_checkpoint,
};
use ailedger_server::{
    AppState, CORRUPT_PROBLEM, EntriesView, EntryView, Problem,
    log::{CheckpointsView, LeavesView, LogState, SignError, SignerState, sign_once},
    paths, router,
};
use ailedger_store::{
    Store, StoredEntry,
    replay::{DerivedDifference, ReplayError, replay_and_compare},
};
use ailedger_store_postgres::PgStore;
use ailedger_store_sqlite::SqliteStore;
use axum::{
    Router,
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde_json::json;
use tower::ServiceExt;

/// The audit's source over the router, as the CLI's is over HTTP.
struct RouterSource(Router);

/// A failed request: what failed, and the problem the server answered with.
#[derive(Debug)]
struct FetchError {
    what: String,
    problem: Option<Box<Problem>>,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

impl RouterSource {
    async fn get<T: DeserializeOwned>(&self, uri: &str) -> Result<T, FetchError> {
        let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
        let resp = self.0.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        if status != StatusCode::OK {
            return Err(FetchError {
                what: format!("{uri}: {status}: {}", String::from_utf8_lossy(&bytes)),
                problem: serde_json::from_slice(&bytes).ok().map(Box::new),
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| FetchError {
            what: format!("{uri}: {e}"),
            problem: None,
        })
    }
}

fn fetch_error(what: impl std::fmt::Display) -> FetchError {
    FetchError {
        what: what.to_string(),
        problem: None,
    }
}

impl AuditSource for RouterSource {
    type Entry = StoredEntry;
    type Error = FetchError;

    /// The server names the seq of a row it cannot decode, as the CLI's source reads it.
    fn finding(&self, error: &FetchError) -> Option<Finding> {
        let p = error.problem.as_ref()?;
        (p.type_ == CORRUPT_PROBLEM).then_some(())?;
        Some(Finding::at(p.seq?, &p.detail))
    }

    async fn checkpoints(&self, after: u64) -> Result<Vec<String>, FetchError> {
        let v: CheckpointsView = self
            .get(&format!("{}?after={after}", paths::LOG_CHECKPOINTS))
            .await?;
        Ok(v.checkpoints)
    }

    async fn entries(&self, after: u64) -> Result<EntryPage<StoredEntry>, FetchError> {
        // Small pages, so that the audit crosses page boundaries.
        let v: EntriesView = self
            .get(&format!("{}?after={after}&limit=3", paths::ENTRIES))
            .await?;
        let leaves: LeavesView = self
            .get(&format!("{}?after={after}&limit=3", paths::LOG_LEAVES))
            .await?;
        let entries = v
            .entries
            .into_iter()
            .map(|e| e.into_stored().map_err(fetch_error))
            .collect::<Result<_, _>>()?;
        let tree_leaves = leaves
            .leaves
            .into_iter()
            .map(|(seq, h)| {
                let mut hash = [0u8; 32];
                hex::decode_to_slice(&h, &mut hash).map_err(fetch_error)?;
                Ok((seq, hash))
            })
            .collect::<Result<_, FetchError>>()?;
        Ok(EntryPage {
            entries,
            tree_leaves,
        })
    }

    async fn consistency(&self, from: u64, to: u64) -> Result<ConsistencyProof, FetchError> {
        self.get(&format!("{}?from={from}&to={to}", paths::LOG_CONSISTENCY))
            .await
    }
}

#[path = "../../../../tests/support/tamper.rs"]
mod tamper;
use tamper::{Pool, Tamper};

struct Ledger {
    _dir: tempfile::TempDir,
    pool: Pool,
    store: Arc<dyn Store>,
    state: AppState,
    source: RouterSource,
    signer: Signer,
}

/// A ledger of 8 registered packages (`pkg:pypi/p<seq>@1`) with checkpoint 8 signed,
/// or `None` (said loudly) for PostgreSQL without `AILEDGER_TEST_POSTGRES_URL`.
async fn ledger(backend: &str) -> Option<Ledger> {
    let dir = tempfile::tempdir().unwrap();
    let (pool, store): (Pool, Arc<dyn Store>) = if backend == "sqlite" {
        let s = Arc::new(SqliteStore::open(&dir.path().join("l.db")).await.unwrap());
        (Pool::Sqlite(s.pool().clone()), s)
    } else {
        let Ok(url) = std::env::var("AILEDGER_TEST_POSTGRES_URL") else {
            eprintln!(
                "SKIPPED: AILEDGER_TEST_POSTGRES_URL is not set; the in-process PostgreSQL audit test did not run"
            );
            return None;
        };
        let schema = format!(
            "audit_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        );
        let s = Arc::new(PgStore::connect(&url, Some(&schema)).await.unwrap());
        (Pool::Pg(s.pool().clone()), s)
    };
    let signer = Signer::from_seed("ledger.test/audit", [9; 32]).unwrap();
    // Reads are public here: the audit reads through the router like any auditor; the
    // ledger's 8 entries are written straight to the store (no token entry before them,
    // so the tamper classes' seqs hold).
    let mut state = AppState::new(store.clone(), backend)
        .await
        .unwrap()
        .with_auth(ailedger_server::auth::AuthConfig::new(true, None));
    state.log = LogState::signing(signer.clone());
    let ledger = Ledger {
        _dir: dir,
        pool,
        store,
        source: RouterSource(router(state.clone())),
        state,
        signer,
    };
    for i in 1..=8 {
        ledger.register(&format!("pkg:pypi/p{i}@1")).await;
    }
    assert_eq!(
        sign_once(ledger.store.as_ref(), &ledger.state.log).await,
        Ok(Some(8))
    );
    Some(ledger)
}

impl Ledger {
    async fn register(&self, purl: &str) {
        let (name, version) = purl
            .trim_start_matches("pkg:pypi/")
            .split_once('@')
            .unwrap();
        let data = ailedger_core::EntryData::Register {
            artifacts: vec![ailedger_core::ArtifactFact {
                id: purl.to_owned(),
                kind: ailedger_core::ArtifactKind::Package,
                name: Some(name.to_owned()),
                version: Some(version.to_owned()),
                aliases: vec![],
                attrs: Default::default(),
            }],
            edges: vec![],
        };
        self.store
            .append(vec![ailedger_store::NewEntry {
                actor: "audit@test".into(),
                data,
            }])
            .await
            .unwrap();
    }

    async fn audit(&self) -> Result<ailedger_log::LogAudit, VerifyError<FetchError>> {
        audit_log(&self.source, &self.signer.verifier(), None).await
    }
}

async fn tamper_case(backend: &str, t: Tamper) {
    let Some(l) = ledger(backend).await else {
        return;
    };
    let clean = l.audit().await.unwrap_or_else(|e| panic!("{t:?}: {e}"));
    assert_eq!(
        (
            clean.summary.size,
            clean.latest.size,
            clean.summary.checkpoints_verified
        ),
        (8, 8, 1)
    );
    t.apply(l.store.as_ref(), &l.pool, 0).await;
    let seq = t.first_bad(0).unwrap();
    match l.audit().await {
        Err(VerifyError::Failed(f)) => {
            assert_eq!(f.first_bad_seq, Some(seq), "{t:?}: {f}");
            assert!(
                f.message.starts_with(&format!("first bad seq {seq}: ")),
                "{f}"
            );
        }
        other => panic!("{t:?}: the audit must fail naming seq {seq}, got {other:?}"),
    }
    // The signer refuses to sign over it (a new entry gives it a reason to), naming the
    // same seq, and says so in its health.
    l.register("pkg:pypi/late@1").await;
    match sign_once(l.store.as_ref(), &l.state.log).await {
        Err(SignError::Refused { first_bad_seq, .. }) => {
            assert_eq!(first_bad_seq, Some(seq), "{t:?}");
        }
        other => panic!("{t:?}: the signer must refuse, got {other:?}"),
    }
    let health = l.state.log.health();
    assert_eq!(health.state, SignerState::Refused);
    assert_eq!(serde_json::to_value(&health).unwrap()["state"], "refused");
}

/// An old entry tampered with after the log was signed over several rounds is still
/// caught by the next round: the rolling sweep wraps around rather than re-checking
/// only what the previous round signed.
#[tokio::test]
async fn the_sweep_rechecks_entries_signed_in_earlier_rounds() {
    let Some(l) = ledger("sqlite").await else {
        return;
    };
    for (purls, size) in [
        (&["pkg:pypi/a@1", "pkg:pypi/b@1"][..], 10),
        (&["pkg:pypi/c@1"], 11),
    ] {
        for purl in purls {
            l.register(purl).await;
        }
        assert_eq!(
            sign_once(l.store.as_ref(), &l.state.log).await,
            Ok(Some(size))
        );
    }
    // Entry 3, signed in the first round: "p3" -> "q3" in its body.
    let mut body = l.store.entries(2, 1).await.unwrap().remove(0).body;
    let at = body.windows(3).position(|w| w == b"/p3").unwrap() + 1;
    body[at] = b'q';
    l.pool
        .exec("UPDATE entries SET body = $1 WHERE seq = 3", &[&body])
        .await;
    l.register("pkg:pypi/late@1").await;
    match sign_once(l.store.as_ref(), &l.state.log).await {
        Err(SignError::Refused { first_bad_seq, .. }) => assert_eq!(first_bad_seq, Some(3)),
        other => panic!("the signer must refuse, got {other:?}"),
    }
}

macro_rules! tamper_tests {
    ($($name:ident: $backend:literal, $t:expr;)+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                tamper_case($backend, $t).await;
            }
        )+
    };
}

tamper_tests! {
    audit_one_byte_sqlite: "sqlite", Tamper::OneByte;
    audit_invalid_json_sqlite: "sqlite", Tamper::InvalidJson;
    audit_short_leaf_hash_sqlite: "sqlite", Tamper::ShortLeafHash;
    audit_short_tree_leaf_sqlite: "sqlite", Tamper::ShortTreeLeaf;
    audit_delete_sqlite: "sqlite", Tamper::Delete;
    audit_swap_sqlite: "sqlite", Tamper::Swap;
    audit_truncate_reappend_sqlite: "sqlite", Tamper::TruncateAndReappend;
    audit_one_byte_postgres: "postgres", Tamper::OneByte;
    audit_invalid_json_postgres: "postgres", Tamper::InvalidJson;
    audit_short_leaf_hash_postgres: "postgres", Tamper::ShortLeafHash;
    audit_short_tree_leaf_postgres: "postgres", Tamper::ShortTreeLeaf;
    audit_delete_postgres: "postgres", Tamper::Delete;
    audit_swap_postgres: "postgres", Tamper::Swap;
    audit_truncate_reappend_postgres: "postgres", Tamper::TruncateAndReappend;
}

/// A body that is not JSON is served as stored, in `body_b64`; a good one as the exact
/// stored bytes in `body`. Neither is a server error.
#[tokio::test]
async fn corrupt_bodies_are_served_as_stored() {
    let l = ledger("sqlite").await.unwrap();
    let stored = l.store.entries(0, 100).await.unwrap();
    Tamper::InvalidJson
        .apply(l.store.as_ref(), &l.pool, 0)
        .await;
    let tampered = l.store.entries(5, 1).await.unwrap().remove(0);
    let v: EntriesView = l.source.get(paths::ENTRIES).await.unwrap();
    assert_eq!(v.entries.len(), 8);
    let good: &EntryView = &v.entries[4];
    assert_eq!(good.body.as_ref().unwrap().get().as_bytes(), stored[4].body);
    assert_eq!(good.body_b64, None);
    let bad = &v.entries[5];
    assert!(bad.body.is_none());
    assert_eq!(bad.body_bytes().unwrap(), tampered.body);
    assert_eq!(bad.clone().into_stored().unwrap(), tampered);
    let one: EntryView = l.source.get(&paths::fill(paths::ENTRY, "6")).await.unwrap();
    assert_eq!(one.body_bytes().unwrap(), tampered.body);
    // The inclusion proof's entry too: the body is not UTF-8, so it comes in base64.
    let with_proof: ailedger_server::log::LogEntryView = l
        .source
        .get(&paths::fill(paths::LOG_ENTRY, "6"))
        .await
        .unwrap();
    assert!(with_proof.body.is_none());
    assert_eq!(with_proof.body_bytes().unwrap(), tampered.body);
    let cp = open_checkpoint(&with_proof.checkpoint, &l.signer.verifier(), "checkpoint").unwrap();
    assert!(
        with_proof
            .proof
            .verify_body(&tampered.body, &cp.root)
            .is_err()
    );
    assert!(
        with_proof
            .proof
            .verify_body(&stored[5].body, &cp.root)
            .is_ok()
    );
    // The OpenAPI document says so: `body` is optional, `body_b64` is there.
    let doc: serde_json::Value = l.source.get(paths::OPENAPI).await.unwrap();
    for view in ["EntryView", "LogEntryView"] {
        let schema = &doc["components"]["schemas"][view];
        assert!(
            schema["properties"]["body_b64"].is_object(),
            "{view}: {schema}"
        );
        let required = schema["required"].as_array().unwrap();
        assert!(!required.contains(&json!("body")), "{view}: {schema}");
        assert!(!required.contains(&json!("body_b64")), "{view}: {schema}");
    }
}

/// A derived row altered in the database: the entries still verify, the replay
/// comparison names the row.
#[tokio::test]
async fn replay_catches_a_doctored_derived_row() {
    let l = ledger("sqlite").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scratch = SqliteStore::open(&dir.path().join("a.db")).await.unwrap();
    assert_eq!(
        replay_and_compare(l.store.as_ref(), &scratch)
            .await
            .unwrap(),
        8
    );
    Tamper::DerivedRow.apply(l.store.as_ref(), &l.pool, 0).await;
    l.audit().await.unwrap();
    let scratch = SqliteStore::open(&dir.path().join("b.db")).await.unwrap();
    match replay_and_compare(l.store.as_ref(), &scratch).await {
        Err(ReplayError::Differs(d)) => {
            assert!(
                matches!(&*d, DerivedDifference::Artifact { live, .. } if live.name.as_deref() == Some("evil")),
                "{d}"
            );
            assert!(d.to_string().contains("derived tables differ"), "{d}");
        }
        other => panic!("the replay must differ: {other:?}"),
    }
}

/// Checkpoints seen earlier: one the log extends passes (with a consistency proof from
/// the API), one of another history of the same size is a fork, a larger one a
/// rollback; and an audit given a conflicting seen checkpoint fails.
#[tokio::test]
async fn forks_and_rollbacks_against_a_seen_checkpoint() {
    let l = ledger("sqlite").await.unwrap();
    let key = l.signer.verifier();
    let at = |size: u64, root: [u8; 32]| Checkpoint {
        origin: "ledger.test/audit".into(),
        size,
        root,
    };
    let four = at(4, l.store.root_at(4).await.unwrap());
    for i in 9..=10 {
        l.register(&format!("pkg:pypi/p{i}@1")).await;
    }
    assert_eq!(
        sign_once(l.store.as_ref(), &l.state.log).await,
        Ok(Some(10))
    );
    let audit = audit_log(&l.source, &key, Some(&four)).await.unwrap();
    assert_eq!(
        (
            audit.latest.size,
            audit.previous_size,
            audit.summary.checkpoints_verified
        ),
        (10, Some(4), 3)
    );
    let latest = audit.latest.clone();
    check_extends(&l.source, Some(&four), &latest)
        .await
        .unwrap();

    let other = at(10, [7; 32]);
    let e = check_extends(&l.source, Some(&other), &latest)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("FORK: two signed checkpoints of size 10"),
        "{e}"
    );
    let e = audit_log(&l.source, &key, Some(&other)).await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("FORK: the checkpoint this client saw (10)"),
        "{e}"
    );
    let other = at(6, [7; 32]);
    let e = check_extends(&l.source, Some(&other), &latest)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("FORK: checkpoint 10 does not extend checkpoint 6"),
        "{e}"
    );
    let bigger = at(12, [7; 32]);
    let e = check_extends(&l.source, Some(&bigger), &latest)
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("FORK OR ROLLBACK"), "{e}");

    // A key the log was not signed with: its checkpoints do not verify.
    let stranger = Signer::from_seed("ledger.test/audit", [3; 32]).unwrap();
    let e = audit_log(&l.source, &stranger.verifier(), None)
        .await
        .unwrap_err();
    assert!(matches!(e, VerifyError::Failed(_)), "{e}");
    assert!(e.to_string().contains("does not verify with key"), "{e}");
}
