//! [`AppState`]: the store, the in-memory graph index and the log's keys, shared by all
//! handlers; the tailer that keeps the index current with other servers' writes.

use std::{
    sync::{Arc, RwLock, RwLockReadGuard},
    time::Duration,
};

use ailedger_core::{GraphIndex, graph::GraphChanges};
use ailedger_store::Store;

use crate::{ApiError, log};

/// Shared state of all handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub index: Arc<RwLock<GraphIndex>>,
    sync: Arc<tokio::sync::Mutex<()>>,
    /// Writes of this server between their start and their index update; the tailer
    /// waits for them rather than reading their rows back from the store.
    writing: Arc<std::sync::atomic::AtomicUsize>,
    pub(crate) backend: String,
    /// The tamper-evident log's keys and signer health (no key until set).
    pub log: log::LogState,
    /// Who may do what: public reads, allowed host names, failed-login counts.
    pub auth: Arc<crate::auth::AuthConfig>,
    /// Token records already read, by secret hash (`crate::auth::TokenCache`).
    pub tokens: Arc<crate::auth::TokenCache>,
    /// Entry times and alias resolutions already read (`crate::memo`).
    pub(crate) memos: Arc<crate::memo::Memos>,
    /// Incidents, blocks, quarantine and advisories, folded from the ledger's entries
    /// (`routes::incidents::book` brings it up to the store before each use).
    pub(crate) book: Arc<tokio::sync::Mutex<ailedger_core::incident::Book>>,
    /// The book's head as of its last fold, readable without its lock.
    pub(crate) book_head: Arc<std::sync::atomic::AtomicU64>,
    /// The matcher of every imported advisory, for the book's last advisory seq.
    pub(crate) advisory_matcher: Arc<std::sync::Mutex<Option<(u64, AdvisoryMatcher)>>>,
    /// How webhooks are delivered (and which URLs subscriptions may name).
    pub webhooks: Arc<crate::webhooks::WebhookConfig>,
    /// The memory document ingests may use at once (`routes::documents::IngestPermit`).
    pub(crate) ingest_budget: Arc<IngestBudget>,
    /// Bounds on the work of one read request.
    pub(crate) limits: Limits,
    /// The group committer of writes (`crate::commit`), started by the first write.
    pub(crate) committer: Arc<std::sync::OnceLock<tokio::sync::mpsc::Sender<crate::commit::Job>>>,
}

/// Bounds on the work and size of one read request (each a `serve` flag; the
/// "Limits" table of docs/security.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Hits in an `impact`/`deps` answer whose request names no `limit`.
    pub traversal_default: u32,
    /// Most hits one `impact`/`deps` answer may hold: a larger `limit` is refused (422).
    pub traversal_max: u32,
    /// Bytes of entry bodies one `GET /v1/entries` page holds at most.
    pub entries_page_bytes: u64,
    /// An entry body larger than this is listed by reference (`body_ref`), not inline.
    pub entry_inline_bytes: u64,
    /// The largest document `POST /v1/documents` accepts (413 above it).
    pub document_bytes: u64,
}

impl Limits {
    pub const DEFAULT_TRAVERSAL: u32 = 1000;
    pub const DEFAULT_TRAVERSAL_MAX: u32 = 10_000;
    pub const DEFAULT_ENTRIES_PAGE_MIB: u32 = 16;
    pub const DEFAULT_ENTRY_INLINE_KIB: u32 = 1024;
    pub const DEFAULT_DOCUMENT_MIB: u32 = 512;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            traversal_default: Self::DEFAULT_TRAVERSAL,
            traversal_max: Self::DEFAULT_TRAVERSAL_MAX,
            entries_page_bytes: u64::from(Self::DEFAULT_ENTRIES_PAGE_MIB) << 20,
            entry_inline_bytes: u64::from(Self::DEFAULT_ENTRY_INLINE_KIB) << 10,
            document_bytes: u64::from(Self::DEFAULT_DOCUMENT_MIB) << 20,
        }
    }
}

/// The memory budget of concurrent document ingests, in MiB: each takes an estimate of
/// what parsing its document costs (a multiple of its size) and gives it back when it
/// ends; an ingest that does not fit now is answered 503 with `Retry-After`.
#[derive(Debug)]
pub struct IngestBudget {
    pub(crate) mib: u32,
    pub(crate) permits: Arc<tokio::sync::Semaphore>,
}

impl IngestBudget {
    /// The default budget: 4 GiB.
    pub const DEFAULT_MIB: u32 = 4096;

    pub fn new(mib: u32) -> Self {
        let mib = mib.max(1);
        IngestBudget {
            mib,
            permits: Arc::new(tokio::sync::Semaphore::new(mib as usize)),
        }
    }
}

impl Default for IngestBudget {
    fn default() -> Self {
        IngestBudget::new(Self::DEFAULT_MIB)
    }
}

/// Advisory ids and a matcher whose record covers index them.
pub(crate) type AdvisoryMatcher = Arc<(Vec<String>, ailedger_core::incident::Matcher)>;

impl AppState {
    /// Builds the graph index from the store and wraps both.
    pub async fn new(
        store: Arc<dyn Store>,
        backend: &str,
    ) -> Result<Self, ailedger_store::StoreError> {
        let index = ailedger_store::build_index(store.as_ref()).await?;
        Ok(Self {
            store,
            index: Arc::new(RwLock::new(index)),
            sync: Arc::default(),
            writing: Arc::default(),
            backend: backend.to_owned(),
            log: log::LogState::default(),
            auth: Arc::default(),
            tokens: Arc::default(),
            memos: Arc::default(),
            book: Arc::default(),
            book_head: Arc::default(),
            advisory_matcher: Arc::default(),
            webhooks: Arc::default(),
            ingest_budget: Arc::default(),
            limits: Limits::default(),
            committer: Arc::default(),
        })
    }

    /// The same state with this memory budget for concurrent document ingests, in MiB.
    pub fn with_ingest_budget(mut self, mib: u32) -> Self {
        self.ingest_budget = Arc::new(IngestBudget::new(mib));
        self
    }

    /// The same state with these bounds on read requests. The default answer size
    /// is kept within the maximum, and a page holds at least one inlined body.
    pub fn with_limits(mut self, mut limits: Limits) -> Self {
        limits.traversal_max = limits.traversal_max.max(1);
        limits.traversal_default = limits.traversal_default.clamp(1, limits.traversal_max);
        limits.entries_page_bytes = limits.entries_page_bytes.max(limits.entry_inline_bytes);
        self.limits = limits;
        self
    }

    /// The same state with these access settings (the default: every route but the
    /// OpenAPI document and the health check needs a token; any host name).
    pub fn with_auth(mut self, auth: crate::auth::AuthConfig) -> Self {
        self.auth = Arc::new(auth);
        self
    }

    /// The same state with these webhook delivery settings.
    pub fn with_webhooks(mut self, config: crate::webhooks::WebhookConfig) -> Self {
        self.webhooks = Arc::new(config);
        self
    }

    /// Starts the webhook dispatcher and delivery worker (see [`crate::webhooks`]).
    pub fn spawn_webhooks(&self) -> Result<[tokio::task::JoinHandle<()>; 2], ApiError> {
        crate::webhooks::spawn(self.store.clone(), self.webhooks.clone())
    }

    pub(crate) fn read_index(&self) -> RwLockReadGuard<'_, GraphIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the index up to the store's head.
    pub async fn sync_index(&self) -> Result<u64, ApiError> {
        let _one_at_a_time = self.sync.lock().await;
        let after = self.read_index().head();
        let mut changes = GraphChanges::default();
        let head = self.store.load_into(&mut changes, after).await?;
        if head > after {
            // Entries this server did not apply as it wrote them (another writer's, a
            // token revocation among them, perhaps): cached tokens may be stale.
            self.tokens.invalidate();
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            apply_changes(&mut index, changes, head)?;
        }
        Ok(head)
    }

    /// Applies the changes this server's own write made, when the index is exactly at
    /// the seq before them; otherwise (another writer came in between) reads from the
    /// store as the tailer does. Either way the index then includes the write.
    pub async fn sync_own_write(
        &self,
        first: u64,
        last: u64,
        changes: GraphChanges,
    ) -> Result<(), ApiError> {
        {
            let _one_at_a_time = self.sync.lock().await;
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            if index.head() + 1 == first {
                apply_changes(&mut index, changes, last)?;
                return Ok(());
            }
        }
        self.sync_index().await.map(|_| ())
    }

    /// Marks a write in flight until the guard drops.
    pub(crate) fn writing_guard(&self) -> WritingGuard {
        self.writing
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        WritingGuard(self.writing.clone())
    }

    /// Tails the store every `every` until the process ends.
    pub fn spawn_tailer(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if state.writing.load(std::sync::atomic::Ordering::Acquire) > 0 {
                    continue;
                }
                if let Err(e) = state.sync_index().await {
                    tracing::warn!(error = %e, "index sync failed");
                }
            }
        })
    }
}

/// Applies changes read or made up to `head`; an edge naming an unknown artifact means
/// the store and the index disagree.
fn apply_changes(index: &mut GraphIndex, changes: GraphChanges, head: u64) -> Result<(), ApiError> {
    let unknown = changes.apply_to(index);
    index.set_head(head);
    match unknown.first() {
        Some(row) => Err(ApiError::Internal(format!(
            "edge row names an unknown artifact: {row:?}"
        ))),
        None => Ok(()),
    }
}

/// Counts a write in flight (see [`AppState::writing_guard`]).
#[derive(Debug)]
pub(crate) struct WritingGuard(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for WritingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}
