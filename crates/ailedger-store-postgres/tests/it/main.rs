//! The Store contract on PostgreSQL, each test in its own schema of the database named
//! by `AILEDGER_TEST_POSTGRES_URL`. Without that variable the tests say loudly that
//! they were skipped.

// Tests unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use ailedger_core::{ArtifactFact, ArtifactKind, EntryData};
use ailedger_store::{BackendErrorKind, NewEntry, Store, StoreError, contract::Fixture};
use ailedger_store_postgres::PgStore;

struct PgFixture {
    url: String,
    schema: String,
    store: Arc<dyn Store>,
}

fn unique_schema() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        nanos % 1_000_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn make() -> Option<PgFixture> {
    let Ok(url) = std::env::var("AILEDGER_TEST_POSTGRES_URL") else {
        eprintln!(
            "SKIPPED: AILEDGER_TEST_POSTGRES_URL is not set; the PostgreSQL contract tests did not run"
        );
        return None;
    };
    let schema = unique_schema();
    let store = Arc::new(PgStore::connect(&url, Some(&schema)).await.unwrap());
    Some(PgFixture { url, schema, store })
}

#[async_trait::async_trait]
impl Fixture for PgFixture {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
    async fn another(&self) -> Arc<dyn Store> {
        Arc::new(
            PgStore::connect(&self.url, Some(&self.schema))
                .await
                .unwrap(),
        )
    }
    async fn sibling(&self) -> Arc<dyn Store> {
        Arc::new(
            PgStore::connect(&self.url, Some(&unique_schema()))
                .await
                .unwrap(),
        )
    }
}

ailedger_store::contract_tests!(make);

fn register(name: &str) -> NewEntry {
    NewEntry {
        actor: "test".into(),
        data: EntryData::Register {
            artifacts: vec![ArtifactFact {
                id: format!("pkg:pypi/{name}@1.0"),
                kind: ArtifactKind::Package,
                name: Some(name.into()),
                version: Some("1.0".into()),
                aliases: vec![],
                attrs: Default::default(),
            }],
            edges: vec![],
        },
    }
}

/// A write that waits past `lock_timeout` for another server's write transaction
/// (which holds the `ledger_head` row lock) fails as a retryable conflict, records
/// nothing, and succeeds when tried again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_timeout_is_a_retryable_conflict() {
    let Ok(url) = std::env::var("AILEDGER_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: AILEDGER_TEST_POSTGRES_URL is not set; the conflict test did not run");
        return;
    };
    let schema = unique_schema();
    // Migrated first without the timeout: other tests' migrations may hold catalog
    // locks for longer than 200 ms on a loaded machine.
    drop(PgStore::connect(&url, Some(&schema)).await.unwrap());
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}options[lock_timeout]=200");
    let store = PgStore::connect(&url, Some(&schema)).await.unwrap();
    let other = PgStore::connect(&url, Some(&schema)).await.unwrap();
    let mut tx = other.pool().begin().await.unwrap();
    sqlx::query("UPDATE ledger_head SET seq = seq WHERE id = 1")
        .execute(&mut *tx)
        .await
        .unwrap();

    let err = store.append(vec![register("locked")]).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        matches!(
            &err,
            StoreError::Backend { kind: BackendErrorKind::Conflict, message } if message.contains("lock timeout")
        ),
        "{err:?}"
    );

    tx.rollback().await.unwrap();
    assert_eq!(store.head().await.unwrap(), 0);
    store.append(vec![register("locked")]).await.unwrap();
    assert_eq!(store.head().await.unwrap(), 1);

    // A refusal for another reason (here a bad schema name) is not retryable.
    let err = PgStore::connect(&url, Some("bad-name")).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
}
