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
    // Connecting runs the migrator, which waits for other tests' migrations (a lock
    // wait the timeout also bounds): a retryable conflict, so retried here.
    let connect = || async {
        for _ in 0..50 {
            match PgStore::connect(&url, Some(&schema)).await {
                Err(e) if e.is_retryable() => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                other => return other.unwrap(),
            }
        }
        panic!("the migrator's lock stayed taken for 50 tries");
    };
    let store = connect().await;
    let other = connect().await;
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

/// Alias prefix scans on a database whose default collation is a locale's (ICU
/// `en-US`), where `model:Foo@2` sorts between `model:foo@` and `model:foo@` + U+10FFFF:
/// the scan still means "starts with", so `model:foo` does not reach `model:Foo`.
#[tokio::test]
async fn alias_prefix_scans_ignore_the_database_collation() {
    let Ok(url) = std::env::var("AILEDGER_TEST_POSTGRES_URL") else {
        eprintln!("SKIPPED: AILEDGER_TEST_POSTGRES_URL is not set; the collation test did not run");
        return;
    };
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let db = format!("ailedger_{}", unique_schema());
    sqlx::query(&format!(
        "CREATE DATABASE {db} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
    ))
    .execute(&admin)
    .await
    .unwrap();
    let mut opts: sqlx::postgres::PgConnectOptions = url.parse().unwrap();
    opts = opts.database(&db);
    let db_url = sqlx::ConnectOptions::to_url_lossy(&opts).to_string();
    // The premise: under this database's collation the range holds another name.
    let probe = sqlx::PgPool::connect(&db_url).await.unwrap();
    let inside: bool = sqlx::query_scalar(
        "SELECT 'model:Foo@2'::text >= 'model:foo@' AND 'model:Foo@2'::text < 'model:foo@' || chr(1114111)",
    )
    .fetch_one(&probe)
    .await
    .unwrap();
    probe.close().await;
    assert!(
        inside,
        "the locale collation should sort model:Foo@2 inside the range"
    );

    let store = PgStore::connect(&db_url, None).await.unwrap();
    let named = |name: &str, version: &str| NewEntry {
        actor: "test".into(),
        data: EntryData::Register {
            artifacts: vec![ArtifactFact {
                id: format!("model:{name}@{version}"),
                kind: ArtifactKind::Model,
                name: Some(name.into()),
                version: Some(version.into()),
                aliases: vec![],
                attrs: Default::default(),
            }],
            edges: vec![],
        },
    };
    store.append(vec![named("Foo", "2")]).await.unwrap();
    let found = store.aliases_with_prefix("model:foo@", 11).await.unwrap();
    assert!(found.is_empty(), "{found:?}");
    store.append(vec![named("foo", "1")]).await.unwrap();
    let found = store.aliases_with_prefix("model:foo@", 11).await.unwrap();
    assert_eq!(
        found.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        ["model:foo@1"]
    );
    drop(store);
    sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .execute(&admin)
        .await
        .unwrap();
}
