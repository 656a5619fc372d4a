//! SQLite backend: the embedded default. One database file in WAL mode; writers in
//! one process queue on a mutex, writers in several processes on SQLite's own lock
//! (with a busy timeout).

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

ailedger_store::sqlx_backend!(
    sqlx::Sqlite,
    SqliteStore,
    SqliteWriter,
    rows = "json_each($1) AS j",
    texts = "SELECT value FROM json_each($1)"
);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// A ledger in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    write: tokio::sync::Mutex<()>,
    log: ailedger_store::log::FrontierCache,
}

/// A write transaction holding the process-local write lock.
struct WriteTx<'a> {
    tx: sqlx::Transaction<'a, sqlx::Sqlite>,
    _guard: tokio::sync::MutexGuard<'a, ()>,
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = sqlx::SqliteConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl WriteTx<'_> {
    async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// Options of a writable ledger file: WAL, `synchronous=NORMAL` (a commit survives a
/// process crash; a power cut may lose the last commits but never corrupts the file),
/// a 64 MiB page cache and in-memory statement journals.
///
/// Foreign keys are not enforced: the single applier (`ailedger_store::apply`) refuses
/// any entry naming an unknown artifact before a row is written, and the replay test
/// proves the derived tables are a function of the entries. Enforcing them again costs
/// two primary-key probes per edge and one per alias (a fifth of a 30,000-edge
/// document's write time, docs/benchmarks.md).
fn writable(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(false)
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
}

impl SqliteStore {
    /// Opens (creating if needed) the ledger file at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<Self> {
        let opts = writable(SqliteConnectOptions::new().filename(path));
        Self::connect(opts)
            .await
            .map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))
    }

    /// Opens an existing ledger file read-only, without migrating it: for auditing a
    /// file (`log verify --db`) without changing it. Refuses a file whose schema is not
    /// the one this build writes.
    pub async fn open_read_only(path: &Path) -> Result<Self> {
        let err = |e: String| StoreError::Backend(format!("{}: {e}", path.display()));
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .read_only(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .map_err(|e| err(e.to_string()))?;
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await
                .map_err(|e| err(format!("not an ailedger ledger ({e})")))?;
        let known = MIGRATOR.iter().count() as i64;
        if applied != known {
            return Err(err(format!(
                "the ledger's schema is at migration {applied} of {known}; open it once with `ailedger serve` of this version, on a copy"
            )));
        }
        Ok(Self {
            pool,
            write: tokio::sync::Mutex::new(()),
            log: Default::default(),
        })
    }

    /// Opens a `sqlite:` URL.
    pub async fn open_url(url: &str) -> Result<Self> {
        let opts = writable(SqliteConnectOptions::from_str(url).map_err(db_err)?);
        Self::connect(opts).await
    }

    async fn connect(opts: SqliteConnectOptions) -> Result<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(db_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("migrating: {e}")))?;
        Ok(Self {
            pool,
            write: tokio::sync::Mutex::new(()),
            log: Default::default(),
        })
    }

    async fn begin_write(&self) -> Result<WriteTx<'_>> {
        let guard = self.write.lock().await;
        let tx = self.pool.begin().await.map_err(db_err)?;
        Ok(WriteTx { tx, _guard: guard })
    }

    /// Direct access for tests that tamper with the database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
