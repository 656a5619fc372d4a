//! The storage boundary: the [`Store`] trait every backend implements, the one
//! function that turns an entry into derived rows ([`apply`]), replay into a scratch
//! store with the derived-table comparison ([`replay`]), and the contract suite
//! (module `contract`, feature `contract-tests`) that every backend must pass.
//!
//! **Architecture invariant:** no backend types (sqlx, connection pools) appear in
//! this crate's API. Backends convert their errors into [`StoreError`] inside.
//!
//! **Architecture invariant:** derived-state semantics live only in [`apply`]. A
//! backend provides primitive row operations through [`Writer`]; it never decides
//! what an entry means. That is what makes a replay reproduce identical state on
//! every backend.

pub mod cached;
#[cfg(feature = "contract-tests")]
pub mod contract;
pub mod log;
pub mod replay;
pub mod webhook;

use std::{collections::HashMap, fmt::Debug};

use ailedger_core::{
    ArtifactFact, ArtifactKind, EdgeFact, Entry, EntryData, EntryHead, Op,
    entry::validate,
    graph::{EdgeRow, GraphIndex, GraphSink},
};
use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An entry refers to an artifact id that does not exist.
    #[error("unknown artifact {0}")]
    UnknownArtifact(String),
    /// An entry revokes a token that is not active.
    #[error("no active token named {0}")]
    UnknownToken(String),
    /// An entry contradicts what the ledger already holds.
    #[error("conflict: {0}")]
    Conflict(String),
    /// An entry is malformed.
    #[error("invalid entry: {0}")]
    Invalid(#[from] ailedger_core::Error),
    /// Stored data does not decode or does not add up.
    #[error("corrupt ledger at seq {seq}: {reason}")]
    Corrupt { seq: u64, reason: String },
    /// The database could not be opened or refused an operation. `kind` says whether
    /// trying again may succeed (see [`StoreError::is_retryable`]).
    #[error("database: {message}")]
    Backend {
        kind: BackendErrorKind,
        message: String,
    },
    /// A tree size or leaf the log cannot answer for, or a missing tree node.
    #[error("log: {0}")]
    Log(#[from] ailedger_log::Error),
    /// A tree size beyond the ledger's head.
    #[error("the log has {head} entries, not {size}")]
    BeyondHead { size: u64, head: u64 },
}

/// What kind of backend failure a [`StoreError::Backend`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendErrorKind {
    /// The write collided with another transaction (a serialization failure, deadlock or
    /// lock timeout on PostgreSQL; `SQLITE_BUSY` or `SQLITE_LOCKED` on SQLite): nothing
    /// was recorded, and the same call may succeed if tried again.
    Conflict,
    /// The database could not be reached (connection refused or lost, pool exhausted).
    Unavailable,
    /// Anything else: a refused statement, a schema mismatch, an internal error.
    Other,
}

impl StoreError {
    /// A backend failure of `kind`.
    pub fn backend(kind: BackendErrorKind, message: impl Into<String>) -> Self {
        Self::Backend {
            kind,
            message: message.into(),
        }
    }

    /// A backend failure that is neither a conflict nor unavailability.
    pub fn other(message: impl Into<String>) -> Self {
        Self::backend(BackendErrorKind::Other, message)
    }

    /// The kind of a [`StoreError::Backend`]; `None` for the other variants.
    pub fn backend_kind(&self) -> Option<BackendErrorKind> {
        match self {
            Self::Backend { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// Whether the operation failed only because it collided with another writer, so
    /// that repeating it unchanged may succeed (nothing of it was recorded).
    pub fn is_retryable(&self) -> bool {
        self.backend_kind() == Some(BackendErrorKind::Conflict)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An entry about to be written: the store assigns seq and time.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub actor: String,
    pub data: EntryData,
}

/// Raw bytes of an ingested document, stored content-addressed with its entry.
#[derive(Debug, Clone)]
pub struct Blob {
    pub digest: ailedger_core::Sha256Digest,
    pub format: String,
    pub bytes: Vec<u8>,
}

/// What [`Store::append`] assigned to one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appended {
    pub seq: u64,
    pub time_us: i64,
    #[serde(serialize_with = "hex_bytes")]
    pub leaf_hash: [u8; 32],
    /// Notes from applying the entry, e.g. an alias already held by another artifact.
    pub notes: Vec<String>,
    /// How many of the entry's artifacts were new to the ledger.
    pub created: usize,
}

fn hex_bytes<S: serde::Serializer>(b: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ailedger_core::Sha256Digest(*b).hex())
}

/// Bounds on one page of entries ([`Store::entries_page`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageBudget {
    /// A body larger than this is left out of the page (given by reference).
    pub inline_max: u64,
    /// The page ends before the body that would take it past this many bytes.
    pub page_bytes: u64,
}

/// An entry of a byte-budgeted page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEntry {
    /// The entry; its `body` is empty when it was left out.
    pub entry: StoredEntry,
    /// The size of the body left out, when it was larger than the inline limit.
    pub omitted: Option<u64>,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub seq: u64,
    pub time_us: i64,
    pub actor: String,
    pub kind: String,
    pub body: Vec<u8>,
    pub leaf_hash: [u8; 32],
}

impl StoredEntry {
    /// Builds the stored form of an entry: canonical body and leaf hash.
    pub fn encode(entry: &Entry) -> Result<Self> {
        Self::encode_parts(entry.seq, entry.time_us, &entry.actor, &entry.data)
    }

    /// [`StoredEntry::encode`] from borrowed parts.
    pub fn encode_parts(seq: u64, time_us: i64, actor: &str, data: &EntryData) -> Result<Self> {
        let body = ailedger_core::entry::body_of(seq, time_us, actor, data)?;
        Ok(Self {
            seq,
            time_us,
            actor: actor.to_owned(),
            kind: data.kind().to_owned(),
            leaf_hash: ailedger_core::canonical::leaf_hash(&body),
            body,
        })
    }

    /// Validates and encodes new entries numbered from `first` at `time_us`: the CPU
    /// work of an append, which a backend runs beside its database work.
    pub fn encode_new(entries: &[NewEntry], first: u64, time_us: i64) -> Result<Vec<Self>> {
        entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                validate(&e.data)?;
                Self::encode_parts(first + i as u64, time_us, &e.actor, &e.data)
            })
            .collect()
    }

    /// What [`decode`](Self::decode) checks, without keeping (or, for a large body,
    /// ever holding) the decoded entry: see [`Entry::check_body`].
    pub fn check(&self) -> Result<()> {
        let head = Entry::check_body(&self.body).map_err(|e| self.corrupt(e.to_string()))?;
        self.agrees_with(&head)
    }

    /// Decodes the body and checks the columns beside it agree with it.
    pub fn decode(&self) -> Result<Entry> {
        let e = Entry::from_body(&self.body).map_err(|e| self.corrupt(e.to_string()))?;
        self.agrees_with(&EntryHead::of(&e))?;
        Ok(e)
    }

    fn corrupt(&self, reason: String) -> StoreError {
        StoreError::Corrupt {
            seq: self.seq,
            reason,
        }
    }

    /// The columns agree with what the body says, and the leaf hash is the body's.
    fn agrees_with(&self, head: &EntryHead) -> Result<()> {
        self.columns_agree(head)?;
        if ailedger_core::canonical::leaf_hash(&self.body) != self.leaf_hash {
            return Err(self.corrupt("leaf hash does not match the body".into()));
        }
        Ok(())
    }

    /// The seq, time, actor and kind columns agree with what the body says.
    fn columns_agree(&self, head: &EntryHead) -> Result<()> {
        if head.seq != self.seq
            || head.time_us != self.time_us
            || head.actor != self.actor
            || head.kind != self.kind
        {
            return Err(self.corrupt("columns disagree with the body".into()));
        }
        Ok(())
    }
}

/// What the log's leaf re-check ([`ailedger_log::check_leaf`], run by the signer and by
/// every audit) needs of a stored entry.
impl ailedger_log::LoggedEntry for StoredEntry {
    fn seq(&self) -> u64 {
        self.seq
    }

    fn body(&self) -> &[u8] {
        &self.body
    }

    fn stored_leaf_hash(&self) -> &[u8; 32] {
        &self.leaf_hash
    }

    /// [`StoredEntry::check`] but for the leaf hash, which `check_leaf` compares itself.
    fn check_body(&self) -> std::result::Result<(), String> {
        Entry::check_body(&self.body)
            .map_err(|e| e.to_string())
            .and_then(|head| self.columns_agree(&head).map_err(corrupt_reason))
    }
}

/// The reason of a [`StoreError::Corrupt`] (the seq is said elsewhere).
fn corrupt_reason(e: StoreError) -> String {
    match e {
        StoreError::Corrupt { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// An artifact as the derived tables know it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArtifactRecord {
    pub id: String,
    pub kind: ArtifactKind,
    pub name: Option<String>,
    pub version: Option<String>,
    pub attrs: Map<String, Value>,
    pub first_seq: u64,
    pub last_seq: u64,
    /// Set when this artifact, once known only by name and version, was merged into
    /// the artifact a purl or digest identifies: its refs now resolve there and its
    /// edges moved there (ended here, started there, in the merging entry).
    pub merged_into: Option<String>,
    pub aliases: Vec<String>,
}

/// Every derived row, in a stable order: what a replay must reproduce.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DerivedDump {
    pub artifacts: Vec<ArtifactRecord>,
    /// `(alias, artifact id, seq)`
    pub aliases: Vec<(String, String, u64)>,
    pub edges: Vec<EdgeRow>,
    /// `(digest, seq, format)` of every ingested document.
    pub documents: Vec<(String, u64, String)>,
    /// Every token grant, by name.
    pub tokens: Vec<TokenRecord>,
}

/// An API token as the derived `tokens` table holds it (from `token` and
/// `token-revoke` entries): never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    pub name: String,
    pub scope: ailedger_core::token::Scope,
    /// `sha256:<hex>` of the secret.
    pub hash: String,
    /// When it stops working, in microseconds since the epoch.
    pub expires_us: Option<i64>,
    /// The entry that granted it.
    pub created_seq: u64,
    /// The entry that revoked it.
    pub revoked_seq: Option<u64>,
}

impl TokenRecord {
    /// Whether it works at `now_us`: not revoked and not expired.
    pub fn is_active(&self, now_us: i64) -> bool {
        self.revoked_seq.is_none() && self.expires_us.is_none_or(|t| now_us < t)
    }
}

/// Counts for sizing the graph index before loading it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub entries: u64,
    pub artifacts: u64,
    pub edges: u64,
}

/// A ledger store. Appends are atomic per call: all entries and their derived rows,
/// or nothing.
#[async_trait]
pub trait Store: log::LogStore + Send + Sync + Debug {
    /// Appends entries in one transaction; seq is gap-free and totally ordered even
    /// with several processes writing to one database.
    async fn append(&self, entries: Vec<NewEntry>) -> Result<Vec<Appended>>;
    /// Like [`Store::append`] (with an optional document's bytes), also returning the
    /// changes the entries made to the graph, so the writing server can apply them to
    /// its index without reading them back.
    async fn append_indexed(
        &self,
        entries: Vec<NewEntry>,
        blob: Option<Blob>,
    ) -> Result<(Vec<Appended>, ailedger_core::graph::GraphChanges)>;
    /// The raw bytes and format of a stored document.
    async fn blob(&self, digest: &ailedger_core::Sha256Digest)
    -> Result<Option<(String, Vec<u8>)>>;
    /// The seq of the entry that ingested a document, if it was ingested.
    async fn document_seq(&self, digest: &ailedger_core::Sha256Digest) -> Result<Option<u64>>;
    /// A server setting; `init` is stored and returned when it is not set yet.
    async fn setting(&self, name: &str, init: &str) -> Result<String>;
    /// The last committed seq (0 when empty).
    async fn head(&self) -> Result<u64>;
    async fn counts(&self) -> Result<Counts>;
    /// Up to `limit` entries with seq greater than `after`, in seq order.
    async fn entries(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>>;
    /// Up to `limit` entries with seq greater than `after`, in seq order, holding at
    /// most `budget.page_bytes` of bodies: a body larger than `budget.inline_max` is
    /// not read (its size is given instead), and the page ends before the body that
    /// would pass the page's budget. It holds at least one entry when one follows.
    async fn entries_page(
        &self,
        after: u64,
        limit: u32,
        budget: PageBudget,
    ) -> Result<Vec<PageEntry>>;
    /// The latest `policy` entry at or before seq `at` (the head when `None`): the trust
    /// policy in force there.
    async fn latest_policy(&self, at: Option<u64>) -> Result<Option<StoredEntry>>;
    /// The `incident`, `containment` and `advisory` entries after `after`, in seq
    /// order (what `ailedger_core::incident::Book` folds).
    async fn book_entries(&self, after: u64, limit: u32) -> Result<Vec<StoredEntry>>;
    /// The last seq written at or before `time_us` (0 when none).
    async fn seq_at(&self, time_us: i64) -> Result<u64>;
    /// The time (µs since the epoch) of each of these seqs that exists, in seq order.
    async fn seq_times(&self, seqs: &[u64]) -> Result<Vec<(u64, i64)>>;
    /// The artifact id an alias (a canonical ref string) names.
    async fn resolve(&self, alias: &str) -> Result<Option<String>>;
    /// Aliases starting with `prefix` (for unversioned named refs), at most `limit`.
    async fn aliases_with_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<(String, String)>>;
    async fn artifact(&self, id: &str) -> Result<Option<ArtifactRecord>>;
    /// The artifacts of these ids, in the order given; unknown ids are left out. One
    /// query (plus one for aliases) per thousand ids.
    async fn artifacts(&self, ids: &[String]) -> Result<Vec<ArtifactRecord>>;
    /// Every edge row (active or ended) from or to `id`.
    async fn edges_of(&self, id: &str) -> Result<Vec<EdgeRow>>;
    /// Feeds the index everything that changed after `after` up to the current head,
    /// and returns that head. Artifacts first, then edge rows.
    async fn load_into(&self, index: &mut (dyn GraphSink + Send), after: u64) -> Result<u64>;
    /// Every derived row, for replay comparison.
    async fn dump_derived(&self) -> Result<DerivedDump>;
    /// The token whose secret hashes to `hash` (`sha256:<hex>`), revoked or not.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>>;
    /// Every token grant, by name.
    async fn tokens(&self) -> Result<Vec<TokenRecord>>;
    /// Writes already-sequenced entries (a replay): each must continue the sequence.
    async fn replay(&self, entries: Vec<Entry>) -> Result<()>;

    // Webhooks (see [`webhook`]): subscriptions and their delivery queue, kept beside
    // the ledger, never in it.

    /// Adds a subscription; it gets the events of entries after the head at this time.
    async fn add_webhook(&self, hook: webhook::NewWebhook) -> Result<webhook::WebhookRecord>;
    /// Every subscription by id, removed ones too when `removed`.
    async fn webhooks(&self, removed: bool) -> Result<Vec<webhook::WebhookRecord>>;
    /// One subscription, removed or not.
    async fn webhook(&self, id: u64) -> Result<Option<webhook::WebhookRecord>>;
    /// Removes a subscription at `now_us`; its pending deliveries fail. False when there
    /// is no such subscription, or it was removed already.
    async fn remove_webhook(&self, id: u64, now_us: i64) -> Result<bool>;
    /// A subscription's deliveries counted by state, and its most recent error.
    async fn webhook_stats(&self, id: u64) -> Result<webhook::WebhookStats>;
    /// The seq up to which the ledger's events have been queued (0 at first).
    async fn webhook_cursor(&self) -> Result<u64>;
    /// In one transaction: queues `deliveries` (each at most once per subscription and
    /// seq) and moves the cursor from `from` to `to`, only if the cursor is still at
    /// `from`. False, with nothing queued, when it is not (another server moved it).
    async fn enqueue_deliveries(
        &self,
        from: u64,
        to: u64,
        deliveries: Vec<webhook::NewDelivery>,
        now_us: i64,
    ) -> Result<bool>;
    /// Pending deliveries of subscriptions not removed whose next attempt is due at
    /// `now_us`, the earliest first, at most `limit`.
    async fn due_deliveries(&self, now_us: i64, limit: u32) -> Result<Vec<webhook::DueDelivery>>;
    /// Takes a due delivery for one attempt: moves its next attempt from `due_us` to
    /// `lease_until_us` (when it is tried again should this process die meanwhile), only
    /// if it is still pending at `due_us`. False when another worker took it.
    async fn claim_delivery(&self, id: u64, due_us: i64, lease_until_us: i64) -> Result<bool>;
    /// Records an attempt of a pending delivery (a delivery no longer pending, e.g. of
    /// a subscription removed meanwhile, is left as it is).
    async fn record_attempt(&self, id: u64, attempt: webhook::Attempt) -> Result<()>;
    /// A subscription's most recent deliveries, newest first, at most `limit`.
    async fn deliveries(&self, webhook_id: u64, limit: u32)
    -> Result<Vec<webhook::DeliveryRecord>>;
}

/// Primitive row operations a backend offers inside one write transaction.
#[async_trait]
pub trait Writer: Send {
    async fn insert_entry(&mut self, e: &StoredEntry) -> Result<()>;
    /// Kind and attributes of an existing artifact.
    async fn artifact_state(
        &mut self,
        id: &str,
    ) -> Result<Option<(ArtifactKind, Map<String, Value>)>>;
    /// Whether an artifact exists (cheaper than [`Writer::artifact_state`]).
    async fn artifact_exists(&mut self, id: &str) -> Result<bool> {
        Ok(self.artifact_state(id).await?.is_some())
    }
    async fn insert_artifact(&mut self, a: &ArtifactFact, seq: u64) -> Result<()>;
    async fn touch_artifact(
        &mut self,
        id: &str,
        attrs: Option<&Map<String, Value>>,
        seq: u64,
    ) -> Result<()>;
    /// The artifact an alias names, if any.
    async fn alias_owner(&mut self, alias: &str) -> Result<Option<String>>;
    async fn insert_alias(&mut self, alias: &str, id: &str, seq: u64) -> Result<()>;
    /// Targets of `from`'s active edges of kind `edge`.
    async fn active_targets(
        &mut self,
        from: &str,
        edge: ailedger_core::EdgeKind,
    ) -> Result<Vec<String>>;
    async fn edge_active(&mut self, e: &EdgeFact) -> Result<bool>;
    async fn start_edge(&mut self, e: &EdgeFact, seq: u64) -> Result<()>;
    async fn end_edge(&mut self, e: &EdgeFact, seq: u64) -> Result<()>;
    /// Records that entry `seq` ingested a document (ignored if already recorded).
    async fn record_document(&mut self, d: &ailedger_core::DocumentInfo, seq: u64) -> Result<()>;
    /// The artifact an existing artifact was merged into, if it was.
    async fn merged_into(&mut self, id: &str) -> Result<Option<String>>;
    /// Sources and kinds of the active edges into `to`.
    async fn active_sources(&mut self, to: &str) -> Result<Vec<(String, ailedger_core::EdgeKind)>>;
    /// Points every alias of `from` (its own id included) at `to`.
    async fn redirect_aliases(&mut self, from: &str, to: &str, seq: u64) -> Result<()>;
    /// Marks `id` as merged into `into` at `seq`.
    async fn mark_merged(&mut self, id: &str, into: &str, seq: u64) -> Result<()>;
    /// Whether a token of this name is granted and not revoked (expiry aside).
    async fn token_active(&mut self, name: &str) -> Result<bool>;
    /// Records a grant (replacing a revoked grant of the same name).
    async fn grant_token(
        &mut self,
        t: &ailedger_core::token::TokenGrant,
        expires_us: Option<i64>,
        seq: u64,
    ) -> Result<()>;
    /// Records the revocation of the active token `name`.
    async fn revoke_token(&mut self, name: &str, seq: u64) -> Result<()>;
}

/// Applies one entry: writes it and its derived rows through `w`. Returns notes.
///
/// This is the only place that decides what an entry means for derived state.
///
/// Identity merging: an artifact known only by a named ref (`package:left-pad@1.3.0`)
/// is provisional. When a later fact with a purl or digest id lists that named ref among
/// its aliases, the provisional artifact is merged into it: its aliases resolve to the
/// new id, its active edges end and restart on the new id, and its row records
/// `merged_into`. Any later fact or edge naming a merged artifact, or naming an alias of
/// another artifact as its id, is applied to the artifact that ref resolves to.
pub async fn apply(w: &mut dyn Writer, entry: &Entry) -> Result<Applied> {
    validate(&entry.data)?;
    let stored = StoredEntry::encode(entry)?;
    w.insert_entry(&stored).await?;
    let (notes, created) = apply_data(w, entry.seq, &entry.data).await?;
    Ok(Applied {
        stored,
        notes,
        created,
    })
}

/// Above this many artifacts and edges, an append writes its entry rows before it works
/// out the derived rows (see `append_in`): peak memory instead of overlap.
static LARGE_APPEND_ITEMS: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(200_000);

/// Whether an append of `n` artifacts and edges takes the large-append path.
pub fn is_large_append(n: usize) -> bool {
    n > LARGE_APPEND_ITEMS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets the large-append threshold (tests use it to run both paths on small data; both
/// paths write the same rows, so other appends meanwhile stay correct).
#[doc(hidden)]
pub fn set_large_append_items(n: usize) {
    LARGE_APPEND_ITEMS.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// What returns freed memory to the operating system at once (set by the binary, which
/// knows its allocator); see [`release_freed_memory`].
static RELEASE_FREED_MEMORY: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets what [`release_freed_memory`] calls (once; later calls are ignored).
pub fn set_release_freed_memory(release: fn()) {
    let _ = RELEASE_FREED_MEMORY.set(release);
}

/// Asks the allocator to return freed memory now. A large append calls this between
/// freeing its data and inserting its entry row, the moment of its peak memory.
pub fn release_freed_memory() {
    if let Some(release) = RELEASE_FREED_MEMORY.get() {
        release();
    }
}

/// The artifacts and edges an entry carries.
pub fn items(data: &EntryData) -> usize {
    match data {
        EntryData::Register { artifacts, edges }
        | EntryData::Document {
            artifacts, edges, ..
        } => artifacts.len() + edges.len(),
        EntryData::Link { edges } | EntryData::Unlink { edges } => edges.len(),
        EntryData::Deploy { uses, .. } => uses.len() + 1,
        EntryData::Token { .. }
        | EntryData::TokenRevoke { .. }
        | EntryData::Policy { .. }
        | EntryData::Incident { .. }
        | EntryData::Containment { .. } => 1,
        EntryData::Advisory { advisories } => advisories.len(),
    }
}

/// The derived-row half of [`apply`]: what entry `seq` carrying `data` changes. The
/// caller has validated `data` (or will, and rolls back if that fails) and inserts the
/// entry row itself.
pub async fn apply_data(
    w: &mut dyn Writer,
    seq: u64,
    data: &EntryData,
) -> Result<(Vec<String>, usize)> {
    let mut notes = Vec::new();
    let mut created = 0;
    // Ids of this entry's facts that stand for another artifact.
    let mut redirects: HashMap<String, String> = HashMap::new();
    // Artifacts first, so that edges within one entry may refer to them.
    for op in data.ops() {
        if let Op::Artifact(a) = op
            && apply_artifact(w, a, seq, &mut notes, &mut redirects).await?
        {
            created += 1;
        }
    }
    apply_rest(w, seq, data, notes, created, &redirects).await
}

/// [`apply_data`] that frees each artifact's attributes as soon as it is applied (they
/// live on in the writer's buffered rows), so a large entry's attributes are not held
/// twice. The same rows as [`apply_data`]; `data` is left without attributes.
pub async fn apply_data_consuming(
    w: &mut dyn Writer,
    seq: u64,
    data: &mut EntryData,
) -> Result<(Vec<String>, usize)> {
    let (EntryData::Register { artifacts, .. } | EntryData::Document { artifacts, .. }) = data
    else {
        return apply_data(w, seq, data).await;
    };
    let mut notes = Vec::new();
    let mut created = 0;
    let mut redirects: HashMap<String, String> = HashMap::new();
    // The artifacts in the order `ops` yields them for these entry kinds.
    for a in artifacts.iter_mut() {
        if apply_artifact(w, a, seq, &mut notes, &mut redirects).await? {
            created += 1;
        }
        a.attrs = Map::new();
    }
    apply_rest(w, seq, data, notes, created, &redirects).await
}

/// The rest of [`apply_data`] once the artifacts are applied: references checked, then
/// documents and edges.
async fn apply_rest(
    w: &mut dyn Writer,
    seq: u64,
    data: &EntryData,
    mut notes: Vec<String>,
    created: usize,
    redirects: &HashMap<String, String>,
) -> Result<(Vec<String>, usize)> {
    for id in data.referenced_ids() {
        if !w.artifact_exists(id).await? {
            return Err(StoreError::UnknownArtifact(id.to_owned()));
        }
    }
    for op in data.ops() {
        match op {
            Op::Artifact(_) => {}
            Op::Document(d) => w.record_document(d, seq).await?,
            Op::StartEdge(e) => {
                let Some(e) = canonical_edge(w, e, redirects).await? else {
                    continue;
                };
                if !w.edge_active(&e).await? {
                    w.start_edge(&e, seq).await?;
                }
            }
            Op::EndEdge(e) => {
                let Some(e) = canonical_edge(w, e, redirects).await? else {
                    continue;
                };
                if w.edge_active(&e).await? {
                    w.end_edge(&e, seq).await?;
                } else {
                    notes.push(format!("{} {} {} was not active", e.from, e.edge, e.to));
                }
            }
            Op::SetEdges { from, edge, to } => {
                let from = canonical_id(w, from, redirects).await?;
                let mut want = Vec::with_capacity(to.len());
                for t in to {
                    let t = canonical_id(w, t, redirects).await?;
                    if t != from && !want.contains(&t) {
                        want.push(t);
                    }
                }
                let current = w.active_targets(&from, edge).await?;
                for old in current.iter().filter(|c| !want.contains(c)) {
                    let e = EdgeFact::new(from.clone(), edge, old.clone());
                    w.end_edge(&e, seq).await?;
                }
                for new in want.iter().filter(|t| !current.contains(t)) {
                    let e = EdgeFact::new(from.clone(), edge, new.clone());
                    w.start_edge(&e, seq).await?;
                }
            }
            Op::Token(t) => {
                if w.token_active(&t.name).await? {
                    return Err(StoreError::Conflict(format!(
                        "a token named {} is active; revoke it first",
                        t.name
                    )));
                }
                let expires_us = match &t.expires {
                    Some(e) => Some(ailedger_core::entry::parse_time(e)?),
                    None => None,
                };
                w.grant_token(t, expires_us, seq).await?;
            }
            Op::RevokeToken(name) => {
                if !w.token_active(name).await? {
                    return Err(StoreError::UnknownToken(name.to_owned()));
                }
                w.revoke_token(name, seq).await?;
            }
        }
    }
    Ok((notes, created))
}

/// The id an artifact ref of an entry stands for: itself, or where it was redirected
/// or merged.
async fn canonical_id(
    w: &mut dyn Writer,
    id: &str,
    redirects: &HashMap<String, String>,
) -> Result<String> {
    if let Some(to) = redirects.get(id) {
        return Ok(to.clone());
    }
    Ok(w.merged_into(id).await?.unwrap_or_else(|| id.to_owned()))
}

/// An edge with both ends made canonical; `None` when that makes it a self-loop.
async fn canonical_edge(
    w: &mut dyn Writer,
    e: &EdgeFact,
    redirects: &HashMap<String, String>,
) -> Result<Option<EdgeFact>> {
    let from = canonical_id(w, &e.from, redirects).await?;
    let to = canonical_id(w, &e.to, redirects).await?;
    Ok((from != to).then_some(EdgeFact {
        from,
        edge: e.edge,
        to,
        paths: e.paths.clone(),
    }))
}

/// What [`apply`] did.
#[derive(Debug)]
pub struct Applied {
    pub stored: StoredEntry,
    pub notes: Vec<String>,
    /// How many artifacts were new.
    pub created: usize,
}

async fn apply_artifact(
    w: &mut dyn Writer,
    a: &ArtifactFact,
    seq: u64,
    notes: &mut Vec<String>,
    redirects: &mut HashMap<String, String>,
) -> Result<bool> {
    // The artifact this fact is about: its own id, unless that id was merged into
    // another artifact or is an alias of one.
    let mut target = a.id.clone();
    let mut state = w.artifact_state(&a.id).await?;
    if state.is_some() {
        if let Some(into) = w.merged_into(&a.id).await? {
            target = into;
        }
    } else if let Some(owner) = w.alias_owner(&a.id).await? {
        target = owner;
    }
    if target != a.id {
        notes.push(format!("{} is known as {target}; recorded there", a.id));
        redirects.insert(a.id.clone(), target.clone());
        state = w.artifact_state(&target).await?;
    }
    let created = match state {
        None => {
            w.insert_artifact(a, seq).await?;
            w.insert_alias(&a.id, &a.id, seq).await?;
            true
        }
        Some((kind, mut attrs)) => {
            if kind != a.kind {
                return Err(StoreError::Conflict(format!(
                    "{target} is a {kind}, not a {}",
                    a.kind
                )));
            }
            let changed = a.attrs.iter().any(|(k, v)| attrs.get(k) != Some(v));
            if changed {
                for (k, v) in &a.attrs {
                    attrs.insert(k.clone(), v.clone());
                }
            }
            w.touch_artifact(&target, changed.then_some(&attrs), seq)
                .await?;
            false
        }
    };
    for alias in &a.aliases {
        match w.alias_owner(alias).await? {
            None => w.insert_alias(alias, &target, seq).await?,
            Some(owner) if owner == target => {}
            Some(owner) if owner == *alias && is_provisional(alias, a.kind, w).await? => {
                merge(w, alias, &target, seq).await?;
                notes.push(format!("{alias} merged into {target}"));
            }
            Some(owner) => notes.push(format!(
                "alias {alias} already names {owner}; not added to {target}"
            )),
        }
    }
    Ok(created)
}

/// Whether `id` is a provisional artifact of `kind`: known by a named ref only, not
/// merged yet.
async fn is_provisional(id: &str, kind: ArtifactKind, w: &mut dyn Writer) -> Result<bool> {
    if !matches!(
        id.parse::<ailedger_core::Ref>(),
        Ok(ailedger_core::Ref::Named { .. })
    ) {
        return Ok(false);
    }
    let same_kind = matches!(w.artifact_state(id).await?, Some((k, _)) if k == kind);
    Ok(same_kind && w.merged_into(id).await?.is_none())
}

/// Merges artifact `from` into `into` at `seq`: edges move, aliases follow, attributes
/// `into` lacks are copied, and `from` records where it went.
async fn merge(w: &mut dyn Writer, from: &str, into: &str, seq: u64) -> Result<()> {
    // Each active edge of `from`, as (the edge to end, the edge to start in its place).
    let mut moves = Vec::new();
    for edge in ailedger_core::EdgeKind::ALL.iter().copied() {
        for to in w.active_targets(from, edge).await? {
            let new = EdgeFact::new(into, edge, to.clone());
            let old = EdgeFact::new(from, edge, to);
            moves.push((old, new));
        }
    }
    for (src, edge) in w.active_sources(from).await? {
        let new = EdgeFact::new(src.clone(), edge, into);
        let old = EdgeFact::new(src, edge, from);
        moves.push((old, new));
    }
    for (old, new) in moves {
        w.end_edge(&old, seq).await?;
        if new.from != new.to && !w.edge_active(&new).await? {
            w.start_edge(&new, seq).await?;
        }
    }
    if let (Some((_, theirs)), Some((_, mut ours))) =
        (w.artifact_state(from).await?, w.artifact_state(into).await?)
    {
        let before = ours.len();
        for (k, v) in theirs {
            ours.entry(k).or_insert(v);
        }
        let changed = ours.len() != before;
        w.touch_artifact(into, changed.then_some(&ours), seq)
            .await?;
    }
    w.redirect_aliases(from, into, seq).await?;
    w.mark_merged(from, into, seq).await
}

/// Rebuilds a graph index from a store.
pub async fn build_index(store: &dyn Store) -> Result<GraphIndex> {
    let c = store.counts().await?;
    let mut index = GraphIndex::with_capacity(c.artifacts as usize, c.edges as usize);
    index.begin_bulk();
    let head = store.load_into(&mut index, 0).await?;
    index.end_bulk();
    index.set_head(head);
    index.shrink_to_fit();
    Ok(index)
}

/// Current time in microseconds since the epoch.
pub fn now_us() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}
