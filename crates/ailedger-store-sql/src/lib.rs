//! The SQL both relational backends share, as ordinary generic Rust: [`SqlStore`]
//! implements [`Store`] and [`LogStore`] for any [`Dialect`], and each backend crate
//! supplies its dialect (the few SQL fragments that differ, its write lock and how it
//! recognises a conflict) and its own connection and migration code.
//!
//! Every statement here is written in the common subset of SQLite and PostgreSQL:
//! `$n` placeholders used in increasing order, `RETURNING`, `ON CONFLICT DO NOTHING`,
//! partial unique indexes.
//!
//! Bulk reads and writes bind one JSON array per statement instead of one parameter
//! per value: binding is where sqlx and SQLite spent most of a large write (measured:
//! 30,000 edges took 250 ms as 120-parameter statements, 100 ms as one JSON array). In
//! SQL the two dialects differ only in how a JSON array becomes rows
//! ([`Dialect::ROWS`], [`Dialect::TEXTS`]).
//!
//! **Architecture invariant:** this crate decides no entry's meaning: appends and
//! replays go through [`ailedger_store::apply_data`] / [`ailedger_store::apply`] over
//! [`ailedger_store::cached::CachedWriter`], and this crate only provides the rows
//! underneath.
//!
//! The sqlx bounds the generic code needs (an executor on a connection, which Rust types
//! encode and decode) are spelled out on each generic impl: Rust does not imply a
//! trait's where clauses, so a bundling trait would not spare writing them.

mod log;
mod read;
mod webhook;
mod write;

use std::{fmt::Debug, future::Future};

use ailedger_core::{
    Entry, Sha256Digest,
    graph::{EdgeRow, GraphChanges, GraphSink},
};
use ailedger_log::{Hash, NodeId};
use ailedger_store::{
    Appended, ArtifactRecord, BackendErrorKind, Blob, Counts, DerivedDump, NewEntry, PageBudget,
    PageEntry, Result, Store, StoreError, StoredEntry, TokenRecord,
    log::{FrontierCache, LogStore, SavedCheckpoint},
    webhook::{
        Attempt, DeliveryRecord, DueDelivery, NewDelivery, NewWebhook, WebhookRecord, WebhookStats,
    },
};
use async_trait::async_trait;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Transaction, Type,
    error::DatabaseError,
};

/// What one relational backend does differently. The value lives in the [`SqlStore`]
/// (SQLite keeps its process-local write mutex in it).
pub trait Dialect: Debug + Send + Sync + 'static {
    /// The sqlx database.
    type Db: Database;

    /// A FROM item yielding one row per element of the JSON array bound as `$1`, the
    /// element as `j.value` (columns are read with `j.value->>n`).
    const ROWS: &'static str;
    /// A SELECT yielding the elements of the JSON array of strings bound as `$1`.
    const TEXTS: &'static str;

    /// What [`Dialect::write_lock`] holds for the duration of a write transaction.
    type WriteGuard<'a>: Send
    where
        Self: 'a;

    /// Taken before every write transaction begins, released after it ends. (Writers
    /// of all processes are also serialised in the database, by the `ledger_head` row
    /// every write transaction updates first.)
    fn write_lock(&self) -> impl Future<Output = Self::WriteGuard<'_>> + Send;

    /// Whether the database refused a statement because it collided with another
    /// transaction, so that the same transaction may succeed if tried again.
    fn is_conflict(e: &dyn DatabaseError) -> bool;
}

/// Turns a sqlx error into a [`StoreError::Backend`] of the right kind, with sqlx's
/// message.
pub fn db_err<D: Dialect>(e: sqlx::Error) -> StoreError {
    let kind = error_kind::<D>(&e);
    StoreError::backend(kind, e.to_string())
}

/// [`db_err`] with what was being done (a path, "migrating") before the message.
pub fn db_err_in<D: Dialect>(context: impl std::fmt::Display, e: sqlx::Error) -> StoreError {
    let kind = error_kind::<D>(&e);
    StoreError::backend(kind, format!("{context}: {e}"))
}

/// The kind of a sqlx error.
pub fn error_kind<D: Dialect>(e: &sqlx::Error) -> BackendErrorKind {
    match e {
        sqlx::Error::Database(db) if D::is_conflict(db.as_ref()) => BackendErrorKind::Conflict,
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => BackendErrorKind::Unavailable,
        _ => BackendErrorKind::Other,
    }
}

/// [`db_err`] for a migration failure.
pub fn migrate_err<D: Dialect>(e: sqlx::migrate::MigrateError) -> StoreError {
    match e {
        sqlx::migrate::MigrateError::Execute(e) => db_err_in::<D>("migrating", e),
        e => StoreError::other(format!("migrating: {e}")),
    }
}

/// The statements that embed a dialect's fragments, composed once per store.
#[derive(Debug)]
struct Statements {
    fetch_artifacts: String,
    fetch_aliases: String,
    fetch_active_edges: String,
    upsert_artifacts: String,
    insert_aliases: String,
    insert_edges: String,
    read_artifacts: String,
    read_aliases_of: String,
}

impl Statements {
    fn new(rows: &str, texts: &str) -> Self {
        Self {
            fetch_artifacts: format!(
                "SELECT id, kind, attrs, first_seq, merged_into FROM artifacts WHERE id IN ({texts})"
            ),
            fetch_aliases: format!("SELECT alias, artifact FROM aliases WHERE alias IN ({texts})"),
            fetch_active_edges: format!(
                "SELECT src, kind, dst, since_seq FROM edges WHERE until_seq IS NULL AND src IN ({texts})"
            ),
            upsert_artifacts: format!(
                "INSERT INTO artifacts (id, kind, name, version, attrs, first_seq, last_seq, merged_into) \
                 SELECT j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, \
                 CAST(j.value->>5 AS BIGINT), CAST(j.value->>6 AS BIGINT), j.value->>7 FROM {rows} \
                 WHERE true ON CONFLICT (id) DO UPDATE SET attrs = excluded.attrs, \
                 last_seq = excluded.last_seq, merged_into = excluded.merged_into"
            ),
            insert_aliases: format!(
                "INSERT INTO aliases (alias, artifact, seq) \
                 SELECT j.value->>0, j.value->>1, CAST(j.value->>2 AS BIGINT) FROM {rows}"
            ),
            insert_edges: format!(
                "INSERT INTO edges (src, kind, dst, since_seq, until_seq, paths) \
                 SELECT j.value->>0, j.value->>1, j.value->>2, CAST(j.value->>3 AS BIGINT), \
                 CAST(j.value->>4 AS BIGINT), j.value->>5 FROM {rows}"
            ),
            read_artifacts: format!(
                "SELECT id, kind, name, version, attrs, first_seq, last_seq, merged_into \
                 FROM artifacts WHERE id IN ({texts})"
            ),
            read_aliases_of: format!(
                "SELECT artifact, alias FROM aliases WHERE artifact IN ({texts}) ORDER BY artifact, alias"
            ),
        }
    }
}

/// A ledger in a relational database of dialect `D`: everything but opening it.
#[derive(Debug)]
pub struct SqlStore<D: Dialect> {
    pool: Pool<D::Db>,
    dialect: D,
    /// The appender's tree frontier of this process (see [`FrontierCache`]).
    log: FrontierCache,
    sql: Statements,
}

impl<D: Dialect> SqlStore<D> {
    /// A store over `pool`, whose database the backend has migrated.
    pub fn new(pool: Pool<D::Db>, dialect: D) -> Self {
        Self {
            pool,
            dialect,
            log: FrontierCache::default(),
            sql: Statements::new(D::ROWS, D::TEXTS),
        }
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool<D::Db> {
        &self.pool
    }

    /// The dialect value the store was made with.
    pub fn dialect(&self) -> &D {
        &self.dialect
    }

    /// Takes the dialect's write lock, then begins a transaction.
    async fn begin_write(&self) -> Result<WriteTx<'_, D>> {
        let guard = self.dialect.write_lock().await;
        let tx = self.pool.begin().await.map_err(db_err::<D>)?;
        Ok(WriteTx { tx, _guard: guard })
    }
}

/// A write transaction holding the dialect's write lock (released after the
/// transaction, committed or rolled back, is dropped).
struct WriteTx<'a, D: Dialect> {
    tx: Transaction<'a, D::Db>,
    _guard: D::WriteGuard<'a>,
}

impl<D: Dialect> std::ops::Deref for WriteTx<'_, D> {
    type Target = <D::Db as Database>::Connection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<D: Dialect> std::ops::DerefMut for WriteTx<'_, D> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl<D: Dialect> WriteTx<'_, D> {
    async fn commit(self) -> Result<()> {
        self.tx.commit().await.map_err(db_err::<D>)
    }
}

/// A multi-row `INSERT … VALUES (…), (…)` and its arguments, built together with the
/// database's own placeholders (`?` on SQLite, which binds in constant time where
/// numbered ones are looked up by name; `$n` on PostgreSQL). sqlx's `QueryBuilder` does
/// the same, but its `build` borrows the builder for the arguments' whole lifetime,
/// which generic code cannot end before the builder is dropped.
struct Values<'a, DB: Database> {
    sql: String,
    args: DB::Arguments<'a>,
    /// Values bound in the current row.
    in_row: usize,
}

impl<'a, DB: Database> Values<'a, DB> {
    fn new(head: &str) -> Self {
        let mut sql = String::with_capacity(head.len() + 4096);
        sql.push_str(head);
        sql.push_str("VALUES ");
        Self {
            sql,
            args: Default::default(),
            in_row: 0,
        }
    }

    /// Starts a row (the first, or one after [`Values::end_row`]).
    fn row(&mut self) {
        if !self.sql.ends_with("VALUES ") {
            self.sql.push_str(", ");
        }
        self.sql.push('(');
        self.in_row = 0;
    }

    fn bind<T: 'a + Encode<'a, DB> + Type<DB>>(&mut self, value: T) -> Result<&mut Self> {
        use sqlx::Arguments as _;
        if self.in_row > 0 {
            self.sql.push_str(", ");
        }
        self.args
            .add(value)
            .map_err(|e| StoreError::other(format!("binding a value: {e}")))?;
        self.args
            .format_placeholder(&mut self.sql)
            .map_err(|e| StoreError::other(format!("writing a placeholder: {e}")))?;
        self.in_row += 1;
        Ok(self)
    }

    fn end_row(&mut self) {
        self.sql.push(')');
    }

    /// The statement and its arguments (the statement must outlive the borrow the
    /// arguments are executed under, so it is a local of its own).
    fn into_parts(self) -> (String, DB::Arguments<'a>) {
        (self.sql, self.args)
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

#[async_trait]
impl<D, DB> Store for SqlStore<D>
where
    D: Dialect<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB> + Default,
    usize: ColumnIndex<DB::Row>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    Vec<u8>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    for<'a> &'a str: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
{
    async fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<Appended>> {
        Ok(self.append_in(entries, None).await?.0)
    }
    async fn append_indexed(
        &self,
        entries: Vec<NewEntry>,
        blob: Option<Blob>,
    ) -> Result<(Vec<Appended>, GraphChanges)> {
        self.append_in(entries, blob).await
    }
    async fn blob(&self, digest: &Sha256Digest) -> Result<Option<(String, Vec<u8>)>> {
        self.blob_in(digest).await
    }
    async fn document_seq(&self, digest: &Sha256Digest) -> Result<Option<u64>> {
        self.document_seq_in(digest).await
    }
    async fn setting(&self, name: &str, init: &str) -> Result<String> {
        self.setting_in(name, init).await
    }
    async fn head(&self) -> Result<u64> {
        self.head_in().await
    }
    async fn counts(&self) -> Result<Counts> {
        self.counts_in().await
    }
    async fn entries(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>> {
        self.entries_in(after, limit).await
    }
    async fn entries_page(
        &self,
        after: u64,
        limit: u32,
        budget: PageBudget,
    ) -> Result<Vec<PageEntry>> {
        self.entries_page_in(after, limit, budget).await
    }
    async fn book_entries(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>> {
        self.book_entries_in(after, limit).await
    }
    async fn latest_policy(&self, at: Option<u64>) -> Result<Option<StoredEntry>> {
        self.latest_policy_in(at).await
    }
    async fn seq_at(&self, time_us: i64) -> Result<u64> {
        self.seq_at_in(time_us).await
    }
    async fn seq_times(&self, seqs: &[u64]) -> Result<Vec<(u64, i64)>> {
        self.seq_times_in(seqs).await
    }
    async fn resolve(&self, alias: &str) -> Result<Option<String>> {
        self.resolve_in(alias).await
    }
    async fn aliases_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<(String, String)>> {
        self.aliases_with_prefix_in(prefix, limit).await
    }
    async fn artifact(&self, id: &str) -> Result<Option<ArtifactRecord>> {
        self.artifact_in(id).await
    }
    async fn artifacts(&self, ids: &[String]) -> Result<Vec<ArtifactRecord>> {
        self.artifacts_in(ids).await
    }
    async fn edges_of(&self, id: &str) -> Result<Vec<EdgeRow>> {
        self.edges_of_in(id).await
    }
    async fn load_into(&self, index: &mut (dyn GraphSink + Send), after: u64) -> Result<u64> {
        self.load_into_in(index, after).await
    }
    async fn dump_derived(&self) -> Result<DerivedDump> {
        self.dump_derived_in().await
    }
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        self.token_by_hash_in(hash).await
    }
    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        self.tokens_in().await
    }
    async fn replay(&self, entries: Vec<Entry>) -> Result<()> {
        self.replay_in(entries).await
    }
    async fn add_webhook(&self, hook: NewWebhook) -> Result<WebhookRecord> {
        self.add_webhook_in(hook).await
    }
    async fn webhooks(&self, removed: bool) -> Result<Vec<WebhookRecord>> {
        self.webhooks_in(removed).await
    }
    async fn webhook(&self, id: u64) -> Result<Option<WebhookRecord>> {
        self.webhook_in(id).await
    }
    async fn remove_webhook(&self, id: u64, now_us: i64) -> Result<bool> {
        self.remove_webhook_in(id, now_us).await
    }
    async fn webhook_stats(&self, id: u64) -> Result<WebhookStats> {
        self.webhook_stats_in(id).await
    }
    async fn webhook_cursor(&self) -> Result<u64> {
        self.webhook_cursor_in().await
    }
    async fn enqueue_deliveries(
        &self,
        from: u64,
        to: u64,
        deliveries: Vec<NewDelivery>,
        now_us: i64,
    ) -> Result<bool> {
        self.enqueue_deliveries_in(from, to, deliveries, now_us)
            .await
    }
    async fn due_deliveries(&self, now_us: i64, limit: u32) -> Result<Vec<DueDelivery>> {
        self.due_deliveries_in(now_us, limit).await
    }
    async fn claim_delivery(&self, id: u64, due_us: i64, lease_until_us: i64) -> Result<bool> {
        self.claim_delivery_in(id, due_us, lease_until_us).await
    }
    async fn record_attempt(&self, id: u64, attempt: Attempt) -> Result<()> {
        self.record_attempt_in(id, attempt).await
    }
    async fn deliveries(&self, webhook_id: u64, limit: u32) -> Result<Vec<DeliveryRecord>> {
        self.deliveries_in(webhook_id, limit).await
    }
}

#[async_trait]
impl<D, DB> LogStore for SqlStore<D>
where
    D: Dialect<Db = DB>,
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB> + Default,
    usize: ColumnIndex<DB::Row>,
    i64: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    Vec<u8>: for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    for<'a> &'a str: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
    for<'a> &'a [u8]: Encode<'a, DB> + Decode<'a, DB> + Type<DB>,
{
    async fn log_nodes(&self, ids: &[NodeId]) -> Result<std::collections::HashMap<NodeId, Hash>> {
        let mut conn = self.pool.acquire().await.map_err(db_err::<D>)?;
        log::nodes_on::<D>(&mut conn, ids).await
    }
    async fn log_leaves(&self, after: u64, limit: u32) -> Result<Vec<(u64, Hash)>> {
        self.log_leaves_in(after, limit).await
    }
    async fn tree_size(&self) -> Result<u64> {
        self.head_in().await
    }
    async fn latest_checkpoint(&self) -> Result<Option<SavedCheckpoint>> {
        self.latest_checkpoint_in().await
    }
    async fn checkpoints(&self, after: u64, limit: u32) -> Result<Vec<SavedCheckpoint>> {
        self.checkpoints_in(after, limit).await
    }
    async fn save_checkpoint(&self, cp: &SavedCheckpoint) -> Result<bool> {
        self.save_checkpoint_in(cp).await
    }
}
