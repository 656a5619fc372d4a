//! The Store contract on SQLite, each test on its own temporary file.

// Tests unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::sync::Arc;

use ailedger_store::{Store, contract::Fixture};
use ailedger_store_sqlite::SqliteStore;

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
