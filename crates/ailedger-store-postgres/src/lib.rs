//! PostgreSQL backend: several `ailedger serve` processes may write to one database.
//! Every write transaction first updates the single `ledger_head` row, whose row lock
//! serialises writers across processes, so seq stays gap-free (a rolled-back
//! transaction rolls back its reservation too) and commits happen in seq order.

use std::{collections::HashMap, str::FromStr, time::Duration};

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
use ailedger_store_sql::{Dialect, SqlStore, migrate_err};
use sqlx::{
    error::DatabaseError,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/postgres");

/// PostgreSQL's part of the shared SQL: `json_array_elements`; no lock of its own (the
/// `ledger_head` row lock orders writers, in this process as in others).
#[derive(Debug, Default)]
struct Postgres;

impl Dialect for Postgres {
    type Db = sqlx::Postgres;
    const ROWS: &'static str = "json_array_elements($1::json) AS j(value)";
    const TEXTS: &'static str = "SELECT json_array_elements_text($1::json)";
    type WriteGuard<'a> = ();

    fn write_lock(&self) -> impl Future<Output = Self::WriteGuard<'_>> + Send {
        std::future::ready(())
    }

    /// SQLSTATE `40001` (serialization failure), `40P01` (deadlock detected) and
    /// `55P03` (lock not available, e.g. after `lock_timeout`).
    fn is_conflict(e: &dyn DatabaseError) -> bool {
        matches!(e.code().as_deref(), Some("40001" | "40P01" | "55P03"))
    }
}

fn db_err(e: sqlx::Error) -> StoreError {
    ailedger_store_sql::db_err::<Postgres>(e)
}

/// A ledger in a PostgreSQL database (or one schema of it).
#[derive(Debug)]
pub struct PgStore(SqlStore<Postgres>);

impl PgStore {
    /// Connects to `url` and migrates. `schema`, when given, is created if needed and
    /// used as the search path (tests give each test its own schema).
    pub async fn connect(url: &str, schema: Option<&str>) -> Result<Self> {
        let mut opts = PgConnectOptions::from_str(url).map_err(db_err)?;
        if let Some(schema) = schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(StoreError::other(format!("bad schema name {schema:?}")));
            }
            let setup = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await
                .map_err(db_err)?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .execute(&setup)
                .await
                .map_err(db_err)?;
            setup.close().await;
            opts = opts.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(db_err)?;
        // Concurrent first starts must not race each other's migrations.
        MIGRATOR.run(&pool).await.map_err(migrate_err::<Postgres>)?;
        Ok(Self(SqlStore::new(pool, Postgres)))
    }

    /// Direct access for tests that tamper with the database.
    pub fn pool(&self) -> &PgPool {
        self.0.pool()
    }
}

// The shared implementation, forwarded: `Store` is another crate's trait, so it cannot
// be implemented for `SqlStore<Postgres>` here, and the constructors above need a type of
// this crate.

#[async_trait::async_trait]
impl Store for PgStore {
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
impl LogStore for PgStore {
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
