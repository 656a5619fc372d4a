//! The Store contract on PostgreSQL, each test in its own schema of the database named
//! by `AILEDGER_TEST_POSTGRES_URL`. Without that variable the tests say loudly that
//! they were skipped.

// Tests unwrap and print: a failure should be loud, not handled.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use ailedger_store::{Store, contract::Fixture};
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
