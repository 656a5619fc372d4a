//! SQLite backend: the embedded default. One database file in WAL mode; writers in
//! one process queue on a mutex, writers in several processes on SQLite's own lock
//! (with a busy timeout).

use std::{collections::HashMap, path::Path, str::FromStr, time::Duration};

use ailedger_core::{
    Entry, Sha256Digest,
    graph::{EdgeRow, GraphChanges, GraphSink},
};
use ailedger_log::{Hash, NodeId};
use ailedger_store::{
    Appended, ArtifactRecord, Blob, Counts, DerivedDump, NewEntry, PageBudget, PageEntry, Result,
    Store, StoreError, StoredEntry,
    log::{LogStore, SavedCheckpoint},
    webhook::{
        Attempt, DeliveryRecord, DueDelivery, NewDelivery, NewWebhook, WebhookRecord, WebhookStats,
    },
};
use ailedger_store_sql::{Dialect, SqlStore, db_err_in, migrate_err};
use sqlx::{
    error::DatabaseError,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

/// How long a write waits for another process's write lock before it fails with a
/// retryable conflict.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite's part of the shared SQL: `json_each`, and a process-local write mutex.
#[derive(Debug, Default)]
struct Sqlite {
    /// Writers of this process queue here rather than on SQLite's lock (whose busy
    /// handler sleeps and polls).
    write: tokio::sync::Mutex<()>,
}

impl Dialect for Sqlite {
    type Db = sqlx::Sqlite;
    const ROWS: &'static str = "json_each($1) AS j";
    const TEXTS: &'static str = "SELECT value FROM json_each($1)";
    type WriteGuard<'a> = tokio::sync::MutexGuard<'a, ()>;

    fn write_lock(&self) -> impl Future<Output = Self::WriteGuard<'_>> + Send {
        self.write.lock()
    }

    /// `SQLITE_BUSY` (another connection holds the lock past the busy timeout) and
    /// `SQLITE_LOCKED`, with their extended codes.
    fn is_conflict(e: &dyn DatabaseError) -> bool {
        const SQLITE_BUSY: i32 = 5;
        const SQLITE_LOCKED: i32 = 6;
        let primary = e
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff);
        matches!(primary, Some(SQLITE_BUSY | SQLITE_LOCKED))
    }
}

fn db_err(e: sqlx::Error) -> StoreError {
    ailedger_store_sql::db_err::<Sqlite>(e)
}

/// A ledger in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore(SqlStore<Sqlite>);

/// Options of a writable ledger file: WAL, `synchronous=FULL` (the WAL is synced
/// before a commit returns, so an acknowledged write survives a power cut, and the
/// checkpoint signer, which signs only sizes it reads as committed, never signs a size
/// a power cut could roll back: docs/security.md, "Crash consistency"), a 64 MiB page
/// cache, in-memory statement journals, and a WAL checkpoint every 10,000 pages (40 MiB)
/// instead of SQLite's 1,000: the commit that crosses the mark runs the checkpoint and
/// its sync, so under a stream of small writes fewer, larger ones cost less (the load
/// bench's writes went from 878/s to 963/s).
///
/// Foreign keys are not enforced: the single applier (`ailedger_store::apply`) refuses
/// any entry naming an unknown artifact before a row is written, and the replay test
/// proves the derived tables are a function of the entries. Enforcing them again costs
/// two primary-key probes per edge and one per alias (a fifth of a 30,000-edge
/// document's write time, docs/benchmarks.md).
fn writable(opts: SqliteConnectOptions) -> SqliteConnectOptions {
    opts.create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(false)
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
        .pragma("wal_autocheckpoint", "10000")
}

impl SqliteStore {
    /// Opens (creating if needed) the ledger file at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<Self> {
        Self::open_with_busy_timeout(path, BUSY_TIMEOUT).await
    }

    /// [`SqliteStore::open`] with another busy timeout: how long a write waits for
    /// another process's write lock before it fails with a retryable conflict
    /// ([`StoreError::is_retryable`]).
    pub async fn open_with_busy_timeout(path: &Path, busy_timeout: Duration) -> Result<Self> {
        let opts = writable(SqliteConnectOptions::new().filename(path)).busy_timeout(busy_timeout);
        Self::connect(opts).await.map_err(|e| match e {
            StoreError::Backend { kind, message } => {
                StoreError::backend(kind, format!("{}: {message}", path.display()))
            }
            e => e,
        })
    }

    /// Opens an existing ledger file read-only, without migrating it: for auditing a
    /// file (`log verify --db`) without changing it. Refuses a file whose schema is not
    /// the one this build writes.
    pub async fn open_read_only(path: &Path) -> Result<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(false)
            .read_only(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .map_err(|e| db_err_in::<Sqlite>(path.display(), e))?;
        let applied: i64 =
            sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await
                .map_err(|e| {
                    db_err_in::<Sqlite>(
                        format_args!("{}: not an ailedger ledger", path.display()),
                        e,
                    )
                })?;
        let known = MIGRATOR.iter().count() as i64;
        if applied != known {
            return Err(StoreError::other(format!(
                "{}: the ledger's schema is at migration {applied} of {known}; open it once with `ailedger serve` of this version, on a copy",
                path.display()
            )));
        }
        Ok(Self(SqlStore::new(pool, Sqlite::default())))
    }

    /// Opens a `sqlite:` URL.
    pub async fn open_url(url: &str) -> Result<Self> {
        let opts = writable(SqliteConnectOptions::from_str(url).map_err(db_err)?);
        Self::connect(opts).await
    }

    async fn connect(opts: SqliteConnectOptions) -> Result<Self> {
        // A connection to a local file does not go stale: no ping (a round trip to the
        // connection's thread) before each use.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(opts)
            .await
            .map_err(db_err)?;
        MIGRATOR.run(&pool).await.map_err(migrate_err::<Sqlite>)?;
        Ok(Self(SqlStore::new(pool, Sqlite::default())))
    }

    /// Direct access for tests that tamper with the database.
    pub fn pool(&self) -> &SqlitePool {
        self.0.pool()
    }
}

// The shared implementation, forwarded: `Store` is another crate's trait, so it cannot
// be implemented for `SqlStore<Sqlite>` here, and the constructors above need a type of
// this crate.

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<Appended>> {
        self.0.append(entries).await
    }
    async fn append_indexed(
        &self,
        entries: Vec<NewEntry>,
        blob: Option<Blob>,
    ) -> Result<(Vec<Appended>, GraphChanges)> {
        self.0.append_indexed(entries, blob).await
    }
    async fn blob(&self, digest: &Sha256Digest) -> Result<Option<(String, Vec<u8>)>> {
        self.0.blob(digest).await
    }
    async fn document_seq(&self, digest: &Sha256Digest) -> Result<Option<u64>> {
        self.0.document_seq(digest).await
    }
    async fn setting(&self, name: &str, init: &str) -> Result<String> {
        self.0.setting(name, init).await
    }
    async fn head(&self) -> Result<u64> {
        self.0.head().await
    }
    async fn counts(&self) -> Result<Counts> {
        self.0.counts().await
    }
    async fn entries(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>> {
        self.0.entries(after, limit).await
    }
    async fn entries_page(
        &self,
        after: u64,
        limit: u32,
        budget: PageBudget,
    ) -> Result<Vec<PageEntry>> {
        self.0.entries_page(after, limit, budget).await
    }
    async fn book_entries(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>> {
        self.0.book_entries(after, limit).await
    }
    async fn latest_policy(&self, at: Option<u64>) -> Result<Option<StoredEntry>> {
        self.0.latest_policy(at).await
    }
    async fn seq_at(&self, time_us: i64) -> Result<u64> {
        self.0.seq_at(time_us).await
    }
    async fn seq_times(&self, seqs: &[u64]) -> Result<Vec<(u64, i64)>> {
        self.0.seq_times(seqs).await
    }
    async fn resolve(&self, alias: &str) -> Result<Option<String>> {
        self.0.resolve(alias).await
    }
    async fn aliases_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<(String, String)>> {
        self.0.aliases_with_prefix(prefix, limit).await
    }
    async fn artifact(&self, id: &str) -> Result<Option<ArtifactRecord>> {
        self.0.artifact(id).await
    }
    async fn artifacts(&self, ids: &[String]) -> Result<Vec<ArtifactRecord>> {
        self.0.artifacts(ids).await
    }
    async fn edges_of(&self, id: &str) -> Result<Vec<EdgeRow>> {
        self.0.edges_of(id).await
    }
    async fn load_into(&self, index: &mut (dyn GraphSink + Send), after: u64) -> Result<u64> {
        self.0.load_into(index, after).await
    }
    async fn dump_derived(&self) -> Result<DerivedDump> {
        self.0.dump_derived().await
    }
    async fn token_by_hash(&self, hash: &str) -> Result<Option<ailedger_store::TokenRecord>> {
        self.0.token_by_hash(hash).await
    }
    async fn tokens(&self) -> Result<Vec<ailedger_store::TokenRecord>> {
        self.0.tokens().await
    }
    async fn replay(&self, entries: Vec<Entry>) -> Result<()> {
        self.0.replay(entries).await
    }
    async fn add_webhook(&self, hook: NewWebhook) -> Result<WebhookRecord> {
        self.0.add_webhook(hook).await
    }
    async fn webhooks(&self, removed: bool) -> Result<Vec<WebhookRecord>> {
        self.0.webhooks(removed).await
    }
    async fn webhook(&self, id: u64) -> Result<Option<WebhookRecord>> {
        self.0.webhook(id).await
    }
    async fn remove_webhook(&self, id: u64, now_us: i64) -> Result<bool> {
        self.0.remove_webhook(id, now_us).await
    }
    async fn webhook_stats(&self, id: u64) -> Result<WebhookStats> {
        self.0.webhook_stats(id).await
    }
    async fn webhook_cursor(&self) -> Result<u64> {
        self.0.webhook_cursor().await
    }
    async fn enqueue_deliveries(
        &self,
        from: u64,
        to: u64,
        deliveries: Vec<NewDelivery>,
        now_us: i64,
    ) -> Result<bool> {
        self.0
            .enqueue_deliveries(from, to, deliveries, now_us)
            .await
    }
    async fn due_deliveries(&self, now_us: i64, limit: u32) -> Result<Vec<DueDelivery>> {
        self.0.due_deliveries(now_us, limit).await
    }
    async fn claim_delivery(&self, id: u64, due_us: i64, lease_until_us: i64) -> Result<bool> {
        self.0.claim_delivery(id, due_us, lease_until_us).await
    }
    async fn record_attempt(&self, id: u64, attempt: Attempt) -> Result<()> {
        self.0.record_attempt(id, attempt).await
    }
    async fn deliveries(&self, webhook_id: u64, limit: u32) -> Result<Vec<DeliveryRecord>> {
        self.0.deliveries(webhook_id, limit).await
    }
}

#[async_trait::async_trait]
impl LogStore for SqliteStore {
    async fn log_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>> {
        self.0.log_nodes(ids).await
    }
    async fn log_leaves(&self, after: u64, limit: u32) -> Result<Vec<(u64, Hash)>> {
        self.0.log_leaves(after, limit).await
    }
    async fn tree_size(&self) -> Result<u64> {
        self.0.tree_size().await
    }
    async fn latest_checkpoint(&self) -> Result<Option<SavedCheckpoint>> {
        self.0.latest_checkpoint().await
    }
    async fn checkpoints(&self, after: u64, limit: u32) -> Result<Vec<SavedCheckpoint>> {
        self.0.checkpoints(after, limit).await
    }
    async fn save_checkpoint(&self, cp: &SavedCheckpoint) -> Result<bool> {
        self.0.save_checkpoint(cp).await
    }
}
