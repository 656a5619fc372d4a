//! The full audit of a log, over whatever serves its entries, checkpoints and proofs:
//! the engine of `ailedger log verify` (over the HTTP API or over a database) and the
//! leaf re-check the checkpoint signer runs before it signs.
//!
//! The I/O is the caller's: an [`AuditSource`] fetches pages of entries (seq, stored
//! leaf hash, raw body bytes) with the tree's stored leaves beside them, signed
//! checkpoint notes and consistency proofs. [`audit_log`] does the rest: opens every
//! checkpoint with the verifier key, re-checks every entry with [`check_leaf`], rebuilds
//! the tree with [`Audit`] and checks it against every checkpoint and against the one
//! the client saw last; [`check_extends`] decides whether a checkpoint extends the one
//! seen before (or is a fork).
//!
//! Failures of the log are [`Finding`]s (they name the first bad seq when one can be
//! named); failures of the source are passed through as [`VerifyError::Source`].

use std::{
    collections::BTreeMap,
    future::Future,
    pin::pin,
    task::{Context, Poll},
};

use crate::{
    Audit, AuditError, AuditSummary, Checkpoint, ConsistencyProof, Hash, Verifier,
    merkle::leaf_hash,
};

/// An entry as a source serves it: its seq, its stored body (the bytes that were
/// hashed, raw) and the leaf hash stored beside it.
pub trait LoggedEntry {
    fn seq(&self) -> u64;
    /// The body exactly as stored.
    fn body(&self) -> &[u8];
    /// The leaf hash stored beside the body (the entry row's column).
    fn stored_leaf_hash(&self) -> &Hash;
    /// Checks the body is a valid entry agreeing with the rest of what is stored beside
    /// it (seq, and whatever other columns the source has). The leaf hash is checked by
    /// [`check_leaf`], not here. Returns the reason when it is not.
    fn check_body(&self) -> Result<(), String>;
}

/// Why an entry's leaf does not check out. See [`check_leaf`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    /// The body is not a valid entry, or disagrees with its row.
    #[error("corrupt ledger at seq {seq}: {reason}")]
    Body { seq: u64, reason: String },
    /// The body does not hash to the leaf hash stored beside it.
    #[error("corrupt ledger at seq {seq}: leaf hash does not match the body")]
    StoredHash { seq: u64 },
    /// The tree has no level-0 node for this seq.
    #[error("the tree has no leaf for this entry")]
    NoTreeLeaf { seq: u64 },
    /// The tree's level-0 node is not the hash of the body.
    #[error(
        "seq {seq}: stored leaf hash {} differs from the hash of the stored body {}",
        hex::encode(.tree),
        hex::encode(.recomputed)
    )]
    TreeLeaf {
        seq: u64,
        tree: Hash,
        recomputed: Hash,
    },
}

impl LeafError {
    /// The entry found bad.
    pub fn seq(&self) -> u64 {
        match self {
            LeafError::Body { seq, .. }
            | LeafError::StoredHash { seq }
            | LeafError::NoTreeLeaf { seq }
            | LeafError::TreeLeaf { seq, .. } => *seq,
        }
    }
}

/// What [`check_leaf`] found about one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafCheck {
    pub seq: u64,
    /// `SHA-256(0x00 || body)`: what goes into a rebuilt tree, good or bad.
    pub recomputed: Hash,
    /// The first thing wrong with the entry, if anything is.
    pub problem: Option<LeafError>,
}

/// Re-derives an entry's leaf from its stored body and checks it, in this order: the
/// body is a valid entry agreeing with its row ([`LoggedEntry::check_body`]), it hashes
/// to the leaf hash stored beside it, and to the tree's level-0 node for its seq
/// (`tree_leaf`, `None` when the tree has none). The one check the signer runs before
/// signing and the audit runs over every entry.
pub fn check_leaf<E: LoggedEntry + ?Sized>(entry: &E, tree_leaf: Option<&Hash>) -> LeafCheck {
    let seq = entry.seq();
    let recomputed = leaf_hash(entry.body());
    let problem = if let Err(reason) = entry.check_body() {
        Some(LeafError::Body { seq, reason })
    } else if recomputed != *entry.stored_leaf_hash() {
        Some(LeafError::StoredHash { seq })
    } else {
        match tree_leaf {
            None => Some(LeafError::NoTreeLeaf { seq }),
            Some(tree) if *tree != recomputed => Some(LeafError::TreeLeaf {
                seq,
                tree: *tree,
                recomputed,
            }),
            Some(_) => None,
        }
    };
    LeafCheck {
        seq,
        recomputed,
        problem,
    }
}

/// One page of entries, with the tree's stored leaves (level-0 nodes) for their seqs.
#[derive(Debug, Clone)]
pub struct EntryPage<E> {
    /// In seq order.
    pub entries: Vec<E>,
    /// seq → the tree's stored leaf hash.
    pub tree_leaves: BTreeMap<u64, Hash>,
}

impl<E> Default for EntryPage<E> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            tree_leaves: BTreeMap::new(),
        }
    }
}

/// A page with what [`check_leaf`] found about each of its entries, in order.
pub type CheckedPage<E> = (EntryPage<E>, Vec<LeafCheck>);

/// [`check_leaf`] over every entry of a page, one after another.
pub fn check_page<E: LoggedEntry>(page: &EntryPage<E>) -> Vec<LeafCheck> {
    page.entries
        .iter()
        .map(|e| check_leaf(e, page.tree_leaves.get(&e.seq())))
        .collect()
}

/// What an audit reads a log from (the HTTP API, a database, a router in a test). The
/// implementation does the I/O; the audit's decisions are [`audit_log`]'s.
pub trait AuditSource {
    type Entry: LoggedEntry;
    /// How fetching failed (the source is unavailable, or refuses to serve).
    type Error;

    /// Signed checkpoint notes of tree size greater than `after`, oldest first; an
    /// empty page at the end.
    fn checkpoints(&self, after: u64) -> impl Future<Output = Result<Vec<String>, Self::Error>>;

    /// Entries with seq greater than `after`, in seq order, with the tree's stored leaves
    /// for them; an empty page at the end.
    fn entries(
        &self,
        after: u64,
    ) -> impl Future<Output = Result<EntryPage<Self::Entry>, Self::Error>>;

    /// The consistency proof from the tree of `from` entries to the tree of `to`.
    fn consistency(
        &self,
        from: u64,
        to: u64,
    ) -> impl Future<Output = Result<ConsistencyProof, Self::Error>>;

    /// Whether a fetch error is the log's fault rather than the source's: the source
    /// reports stored data it cannot decode at a seq (a corrupt row). Such an error
    /// becomes the audit's [`Finding`]. The default: none is.
    fn finding(&self, error: &Self::Error) -> Option<Finding> {
        let _ = error;
        None
    }

    /// [`check_page`] over a fetched page, while the next one is fetched. The default
    /// checks here; an implementation may move the work to other threads.
    fn check_page(
        &self,
        page: EntryPage<Self::Entry>,
    ) -> impl Future<Output = Result<CheckedPage<Self::Entry>, Self::Error>> {
        async move {
            let checks = check_page(&page);
            Ok((page, checks))
        }
    }
}

/// Something wrong with the log (not with fetching it): `ailedger log verify`'s exit 4.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Finding {
    /// The first entry found bad, when one can be named.
    pub first_bad_seq: Option<u64>,
    /// What is wrong, naming the first bad seq when known.
    pub message: String,
}

impl Finding {
    /// A finding that names no entry.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            first_bad_seq: None,
            message: message.into(),
        }
    }

    /// A finding at `seq`: the message starts `first bad seq <seq>: `.
    pub fn at(seq: u64, what: impl std::fmt::Display) -> Self {
        Self {
            first_bad_seq: Some(seq),
            message: format!("first bad seq {seq}: {what}"),
        }
    }

    /// An [`AuditError`], with the first bad seq when it names one.
    pub fn of_audit(e: &AuditError) -> Self {
        let seq = match e {
            AuditError::Gap { expected, .. } => Some(*expected),
            AuditError::LeafMismatch { seq, .. } => Some(*seq),
            AuditError::RootMismatch { first_bad_seq, .. } => *first_bad_seq,
            AuditError::BadLeaves { first_bad_seq, .. } => Some(*first_bad_seq),
            _ => None,
        };
        match seq {
            Some(s) => Self::at(s, e),
            None => Self::new(e.to_string()),
        }
    }
}

/// Why a verification did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError<E> {
    /// The log is not what it should be.
    #[error("{0}")]
    Failed(#[from] Finding),
    /// The source failed to serve it.
    #[error("{0}")]
    Source(E),
}

/// A fetch error as the audit reports it: a [`Finding`] when the source says the log
/// is at fault ([`AuditSource::finding`]), else the source's own error.
fn fetch_error<S: AuditSource>(source: &S) -> impl Fn(S::Error) -> VerifyError<S::Error> + '_ {
    move |e| match source.finding(&e) {
        Some(f) => VerifyError::Failed(f),
        None => VerifyError::Source(e),
    }
}

/// Opens a signed checkpoint note with `verifier` and checks it is for the key's log.
/// `what` names the note in the finding (`"the server's checkpoint"`).
pub fn open_checkpoint(note: &str, verifier: &Verifier, what: &str) -> Result<Checkpoint, Finding> {
    let cp = Checkpoint::open(note, verifier).map_err(|e| {
        Finding::new(format!(
            "{what} does not verify with key {}: {e}",
            verifier.name()
        ))
    })?;
    if cp.origin != verifier.name() {
        return Err(Finding::new(format!(
            "{what} is for log {:?}, not {:?}",
            cp.origin,
            verifier.name()
        )));
    }
    Ok(cp)
}

/// Checks that `latest` extends `seen`, the checkpoint a client saw earlier (nothing to
/// check when it saw none): same size means the same root, a larger size needs a
/// consistency proof from `source`, and a smaller one is a rollback. A checkpoint that
/// does not extend is a `FORK`: two signed notes that cannot both be true.
pub async fn check_extends<S: AuditSource>(
    source: &S,
    seen: Option<&Checkpoint>,
    latest: &Checkpoint,
) -> Result<(), VerifyError<S::Error>> {
    let Some(old) = seen else { return Ok(()) };
    if old.size > latest.size {
        return Err(Finding::new(format!(
            "FORK OR ROLLBACK: this client saw checkpoint size {} earlier, the log now shows size {}",
            old.size, latest.size
        ))
        .into());
    }
    if old.size == latest.size && old.root != latest.root {
        return Err(Finding::new(format!(
            "FORK: two signed checkpoints of size {} with different roots",
            old.size
        ))
        .into());
    }
    if old.size < latest.size {
        let proof = source
            .consistency(old.size, latest.size)
            .await
            .map_err(fetch_error(source))?;
        proof.verify_checkpoints(old, latest).map_err(|e| {
            Finding::new(format!(
                "FORK: checkpoint {} does not extend checkpoint {} this client saw earlier ({e})",
                latest.size, old.size
            ))
        })?;
    }
    Ok(())
}

/// What a successful [`audit_log`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogAudit {
    /// Entries audited, their recomputed root and how many checkpoints matched it.
    pub summary: AuditSummary,
    /// The log's latest signed checkpoint, and its note.
    pub latest: Checkpoint,
    pub latest_note: String,
    /// The size of the checkpoint the client saw earlier, which `latest` extends.
    pub previous_size: Option<u64>,
}

impl LogAudit {
    /// Entries after the latest checkpoint (their leaves matched the stored tree).
    pub fn unsigned_entries(&self) -> u64 {
        self.summary.size.saturating_sub(self.latest.size)
    }
}

/// The size line of a checkpoint note (0 when it has none), for paging.
fn size_of_note(note: &str) -> u64 {
    note.lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

/// Every signed checkpoint note `source` holds, oldest first.
async fn all_checkpoints<S: AuditSource>(source: &S) -> Result<Vec<String>, S::Error> {
    let mut out = Vec::new();
    let mut after = 0u64;
    loop {
        let page = source.checkpoints(after).await?;
        let Some(last) = page.last().map(|n| size_of_note(n)) else {
            break;
        };
        if last <= after {
            break;
        }
        after = last;
        out.extend(page);
    }
    Ok(out)
}

/// The full audit. Opens every signed checkpoint `source` holds with `verifier`, checks
/// every entry ([`check_leaf`]) and the tree rebuilt from their bodies against every
/// checkpoint and against `seen` (the checkpoint this client saw last, already opened
/// with `verifier`), then checks that the latest checkpoint extends `seen`
/// ([`check_extends`]). Stops at the first gap; otherwise reads to the end and reports
/// the first problem.
pub async fn audit_log<S: AuditSource>(
    source: &S,
    verifier: &Verifier,
    seen: Option<&Checkpoint>,
) -> Result<LogAudit, VerifyError<S::Error>> {
    let notes = all_checkpoints(source).await.map_err(fetch_error(source))?;
    let mut audit = Audit::new();
    let mut latest: Option<(Checkpoint, &String)> = None;
    for note in &notes {
        let what = format!("stored checkpoint {}", size_of_note(note));
        let cp = open_checkpoint(note, verifier, &what)?;
        audit
            .expect_checkpoint(&cp)
            .map_err(|e| Finding::of_audit(&e))?;
        if latest.as_ref().is_none_or(|(l, _)| l.size < cp.size) {
            latest = Some((cp, note));
        }
    }
    let Some((latest, latest_note)) = latest else {
        return Err(
            Finding::new("the log has no signed checkpoint: nothing to verify against").into(),
        );
    };
    if let Some(seen) = seen
        && seen.size <= latest.size
    {
        audit.expect_checkpoint(seen).map_err(|e| {
            Finding::new(format!(
                "FORK: the checkpoint this client saw ({}) conflicts with the log's: {e}",
                seen.size
            ))
        })?;
    }

    // Each page is checked while the next one is fetched.
    let mut first_problem: Option<Finding> = None;
    let mut page = source.entries(0).await.map_err(fetch_error(source))?;
    'pages: while let Some(last) = page.entries.last().map(LoggedEntry::seq) {
        let (next, checked) = join(source.entries(last), source.check_page(page)).await;
        let (_, checks) = checked.map_err(fetch_error(source))?;
        for check in checks {
            let step = match &check.problem {
                None => audit.push(check.seq, &check.recomputed),
                Some(problem) => {
                    first_problem.get_or_insert_with(|| Finding::at(check.seq, problem));
                    audit.push_bad(check.seq, &check.recomputed)
                }
            };
            if let Err(err) = step {
                let stop = matches!(err, AuditError::Gap { .. });
                first_problem.get_or_insert_with(|| Finding::of_audit(&err));
                if stop {
                    break 'pages;
                }
            }
        }
        page = next.map_err(fetch_error(source))?;
        if page.entries.first().is_some_and(|e| e.seq() <= last) {
            break;
        }
    }
    if let Some(p) = first_problem {
        return Err(p.into());
    }
    let summary = audit.finish().map_err(|e| Finding::of_audit(&e))?;
    check_extends(source, seen, &latest).await?;
    Ok(LogAudit {
        summary,
        latest_note: latest_note.clone(),
        latest,
        previous_size: seen.map(|c| c.size),
    })
}

/// Runs two futures concurrently on the caller's task (no runtime needed).
async fn join<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    std::future::poll_fn(move |cx: &mut Context<'_>| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        match (ra.take(), rb.take()) {
            (Some(x), Some(y)) => Poll::Ready((x, y)),
            (x, y) => {
                ra = x;
                rb = y;
                Poll::Pending
            }
        }
    })
    .await
}
