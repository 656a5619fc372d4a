//! The Store contract on SQLite, each test on its own temporary file.

// Tests unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::{sync::Arc, time::Duration};

use ailedger_core::{ArtifactFact, ArtifactKind, EntryData};
use ailedger_store::{BackendErrorKind, NewEntry, Store, StoreError, contract::Fixture};
use ailedger_store_sqlite::SqliteStore;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

struct SqliteFixture {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
}

async fn make() -> Option<SqliteFixture> {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("ledger.db"))
            .await
            .unwrap(),
    );
    Some(SqliteFixture { dir, store })
}

#[async_trait::async_trait]
impl Fixture for SqliteFixture {
    fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
    async fn another(&self) -> Arc<dyn Store> {
        Arc::new(
            SqliteStore::open(&self.dir.path().join("ledger.db"))
                .await
                .unwrap(),
        )
    }
    async fn sibling(&self) -> Arc<dyn Store> {
        let path = self
            .dir
            .path()
            .join(format!("sibling-{}.db", rand_suffix()));
        Arc::new(SqliteStore::open(&path).await.unwrap())
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
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

/// A write that meets another process's write lock past the busy timeout fails as a
/// retryable conflict, records nothing, and succeeds when tried again; other backend
/// failures are not retryable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_database_is_a_retryable_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let store = SqliteStore::open_with_busy_timeout(&path, Duration::ZERO)
        .await
        .unwrap();
    // Another process's writer: a bare connection holding the write lock.
    let other = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    let mut conn = other.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .unwrap();

    let err = store.append(vec![register("busy")]).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        matches!(
            &err,
            StoreError::Backend { kind: BackendErrorKind::Conflict, message } if message.contains("database is locked")
        ),
        "{err:?}"
    );

    sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
    assert_eq!(store.head().await.unwrap(), 0);
    store.append(vec![register("busy")]).await.unwrap();
    assert_eq!(store.head().await.unwrap(), 1);

    // A file that cannot be opened is a backend failure, but not a retryable one.
    let err = SqliteStore::open(dir.path()).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Backend { kind, .. } if kind != BackendErrorKind::Conflict),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}
