//! The tamper-evident log over HTTP, and the checkpoint signer.
//!
//! * Endpoints under `/v1/log/` ([`routes`]): the verifier key, the latest signed
//!   checkpoint, entries with inclusion proofs, inclusion and consistency proofs, the
//!   stored leaf hashes and checkpoint history (for `ailedger log verify`), and the
//!   signer's status.
//! * [`sign_once`] / [`spawn_signer`]: at most once a second, when entries were added,
//!   the server re-derives the tree over the new entries from their bodies, checks it
//!   against the stored nodes and the previous checkpoint, and only then signs a new
//!   checkpoint. A failed check is sticky: the server refuses to sign until restarted
//!   and reports why in `GET /v1/log/status` and the `ailedger-log-error` header of
//!   `GET /v1/log/checkpoint`.
//!
//! **Designated signer.** Only a server holding the private key signs. The first
//! checkpoint stored pins the key: a server whose key differs from the one that signed
//! the latest stored checkpoint refuses to sign (and says so), so several servers on one
//! PostgreSQL database either share one key file (any of them may sign; Ed25519 is
//! deterministic, so two servers signing the same size write the same note) or run
//! with `--no-log-sign`.

use std::{
    io::Write as _,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};

use ailedger_log::{
    Checkpoint, ConsistencyProof, Frontier, InclusionProof, LeafError, Signer, Verifier, check_leaf,
};
use ailedger_store::{Store, StoreError, StoredEntry, log::SavedCheckpoint};
use axum::{
    Json,
    extract::{Path as UrlPath, State},
    http::header,
    response::{IntoResponse, Response},
    routing::{MethodRouter, get},
};
use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::{ApiError, ApiQuery, AppState, paths};

/// Most leaves or checkpoints one page returns.
pub const MAX_LOG_PAGE: u32 = 10_000;
/// Older leaves re-checked against their bodies per signing round (a rolling sweep).
pub const SWEEP_PER_ROUND: u64 = 20_000;
/// At most this many bytes of old bodies are re-read by one round's sweep (a ledger of
/// large document entries is swept over more rounds).
pub const SWEEP_BYTES_PER_ROUND: usize = 16 * 1024 * 1024;
/// Entries read from the store at once while checking leaves.
const CHECK_BATCH: u64 = 500;
/// Header of `GET /v1/log/checkpoint` set when the signer refused to sign.
pub const LOG_ERROR_HEADER: &str = "ailedger-log-error";

/// Why a key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a signer key: {source}")]
    Parse {
        path: String,
        source: ailedger_log::NoteError,
    },
    #[error("key name {0:?} is not valid (no white space or '+')")]
    Name(String),
    #[error(
        "{path} may be read or changed by group or others (mode {mode:03o}): run `chmod 600 {path}`"
    )]
    TooOpen { path: String, mode: u32 },
    #[error("{path} is the key of {found:?}, not of --log-origin {wanted:?}")]
    OriginMismatch {
        path: String,
        found: String,
        wanted: String,
    },
}

/// Loads the signer key at `path`, or creates one named `origin` there (mode 0600).
/// An existing key's name must equal `origin` when `origin` was given explicitly. On
/// Unix an existing key that group or others may access is refused ([`KeyError::TooOpen`]):
/// whoever can read it can sign checkpoints over a rewritten ledger.
pub fn load_or_create_key(
    path: &Path,
    origin: &str,
    explicit_origin: bool,
) -> Result<Signer, KeyError> {
    let shown = path.display().to_string();
    let io = |source| KeyError::Io {
        path: shown.clone(),
        source,
    };
    let load = || -> Result<Signer, KeyError> {
        let mut file = std::fs::File::open(path).map_err(io)?;
        // The mode of the file read, not of whatever the path names a moment later.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(KeyError::TooOpen {
                    path: shown.clone(),
                    mode,
                });
            }
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).map_err(io)?;
        let signer = Signer::from_text(text.trim()).map_err(|source| KeyError::Parse {
            path: shown.clone(),
            source,
        })?;
        if explicit_origin && signer.name() != origin {
            return Err(KeyError::OriginMismatch {
                path: shown.clone(),
                found: signer.name().into(),
                wanted: origin.into(),
            });
        }
        Ok(signer)
    };
    if path.exists() {
        return load();
    }
    let signer = Signer::generate(origin).map_err(|_| KeyError::Name(origin.into()))?;
    // Written whole to a file of its own, then linked into place: a crash leaves either
    // no key or the whole key at `path`, never an empty file, and of two servers
    // starting at once the second to link uses the first one's key.
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let written = opts.open(&tmp).and_then(|mut f| {
        f.write_all(format!("{}\n", signer.to_text()).as_bytes())?;
        f.sync_all()
    });
    let linked = written.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            // The new name is durable once its directory is.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(signer)
        }
        // Another server created it first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load(),
        Err(e) => Err(io(e)),
    }
}

/// The default key name: `ailedger.local/<host name>`, with anything a key name may
/// not contain replaced by `-`.
pub fn default_origin() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let host: String = host
        .chars()
        .map(|c| {
            if c.is_whitespace() || c == '+' || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect();
    format!("ailedger.local/{host}")
}

/// Whether this server signs checkpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SignerState {
    /// It holds the key and signs.
    Signing,
    /// It holds no private key (another server signs).
    #[default]
    NotSigning,
    /// It found the stored log inconsistent and refuses to sign until restarted.
    Refused,
}

/// What the signer last did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct SignerHealth {
    /// `signing`, `not-signing` (no private key here), or `refused`.
    pub state: SignerState,
    /// Why the signer refused (sticky until restart) or the last transient failure.
    pub error: Option<String>,
    /// The first seq found inconsistent, when known.
    pub first_bad_seq: Option<u64>,
    /// Size of the last checkpoint this server signed.
    pub last_signed: Option<u64>,
}

#[derive(Debug, Default)]
struct LogInner {
    signer: Option<Signer>,
    verifier: Option<Verifier>,
    health: Mutex<SignerHealth>,
    /// Rolling sweep position: where the next round's re-check starts (0 after a full pass).
    sweep: Mutex<u64>,
    refused: Mutex<Option<SignError>>,
}

/// The log part of the server's state: the keys and the signer's health.
#[derive(Debug, Clone, Default)]
pub struct LogState(Arc<LogInner>);

impl LogState {
    /// A server that signs with `signer`.
    pub fn signing(signer: Signer) -> Self {
        let verifier = signer.verifier();
        Self::build(Some(signer), Some(verifier), SignerState::Signing)
    }

    /// A server that does not sign; `verifier` (if known) is published as the log key,
    /// otherwise the key stored with the latest checkpoint is.
    pub fn not_signing(verifier: Option<Verifier>) -> Self {
        Self::build(None, verifier, SignerState::NotSigning)
    }

    fn build(signer: Option<Signer>, verifier: Option<Verifier>, state: SignerState) -> Self {
        Self(Arc::new(LogInner {
            signer,
            verifier,
            health: Mutex::new(SignerHealth {
                state,
                ..Default::default()
            }),
            ..Default::default()
        }))
    }

    pub fn verifier(&self) -> Option<&Verifier> {
        self.0.verifier.as_ref()
    }

    pub fn health(&self) -> SignerHealth {
        self.0
            .health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_health(&self, f: impl FnOnce(&mut SignerHealth)) {
        f(&mut self.0.health.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// Why no checkpoint was signed.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SignError {
    /// The stored state is inconsistent; the server will not sign over it.
    #[error("refusing to sign: {reason}")]
    Refused {
        first_bad_seq: Option<u64>,
        reason: String,
    },
    /// Another key signed the latest checkpoint: this server is not the designated signer.
    #[error("not signing: the latest checkpoint was signed by {0}, not by this server's key")]
    OtherKey(String),
    /// The database failed; the next round tries again.
    #[error("{0}")]
    Store(String),
}

impl From<StoreError> for SignError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt { seq, reason } => SignError::Refused {
                first_bad_seq: Some(seq),
                reason: format!("seq {seq}: {reason}"),
            },
            StoreError::Log(e) => SignError::Refused {
                first_bad_seq: None,
                reason: format!("stored tree: {e}"),
            },
            other => SignError::Store(other.to_string()),
        }
    }
}

fn refuse(seq: u64, reason: impl Into<String>) -> SignError {
    SignError::Refused {
        first_bad_seq: Some(seq),
        reason: format!("seq {seq}: {}", reason.into()),
    }
}

/// Re-derives leaves `after+1 ..= upto` from the stored bodies and checks them against
/// the entries' leaf-hash column and the tree's level-0 nodes. Feeds the recomputed
/// leaves to `frontier` when given. With `budget`, stops once that many body bytes were
/// checked (after at least one entry). Returns the last seq checked.
async fn check_leaves(
    store: &dyn Store,
    after: u64,
    upto: u64,
    mut frontier: Option<&mut Frontier>,
    budget: Option<usize>,
) -> Result<u64, SignError> {
    let mut pos = after;
    let mut read = 0usize;
    while pos < upto {
        let limit = u32::try_from((upto - pos).min(CHECK_BATCH)).unwrap_or(500);
        let entries = store.entries(pos, limit).await?;
        let leaves = store.log_leaves(pos, limit).await?;
        if entries.is_empty() {
            return Err(refuse(pos + 1, "entry is missing"));
        }
        for (i, e) in entries.iter().enumerate() {
            let want = pos + 1 + i as u64;
            if e.seq != want {
                return Err(refuse(
                    want,
                    format!("entry is missing (next stored entry is seq {})", e.seq),
                ));
            }
            if e.seq > upto {
                break;
            }
            // The audit's check: the body is a canonical entry agreeing with its columns
            // and hashes to its leaf hash column and to the tree's leaf. (It does not
            // decode a large body whole: a 300,000-component document's facts would
            // double the server's memory right after its ingest.)
            let tree_leaf = leaves.get(i).filter(|(seq, _)| *seq == e.seq);
            let check = check_leaf(e, tree_leaf.map(|(_, h)| h));
            match check.problem {
                None => {}
                Some(LeafError::TreeLeaf { .. }) => {
                    return Err(refuse(e.seq, "the body does not hash to the tree's leaf"));
                }
                Some(problem) => return Err(refuse(e.seq, problem.to_string())),
            }
            if let Some(f) = frontier.as_deref_mut() {
                f.push(check.recomputed);
            }
            read = read.saturating_add(e.body.len());
            if budget.is_some_and(|b| read >= b) {
                return Ok(e.seq);
            }
        }
        pos = pos.max(
            entries
                .last()
                .map_or(pos, |e: &StoredEntry| e.seq.min(upto)),
        );
    }
    Ok(pos)
}

/// One signing round: checks the stored state and, if entries were added since the
/// latest checkpoint, signs and stores a new one. Returns the new checkpoint's size,
/// or `None` when there was nothing to sign or this server holds no key.
pub async fn sign_once(store: &dyn Store, log: &LogState) -> Result<Option<u64>, SignError> {
    let Some(signer) = &log.0.signer else {
        return Ok(None);
    };
    if let Some(e) = log
        .0
        .refused
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
    {
        return Err(e);
    }
    let result = sign_round(store, log, signer).await;
    match &result {
        Ok(Some(size)) => log.set_health(|h| {
            h.state = SignerState::Signing;
            h.error = None;
            h.last_signed = Some(*size);
        }),
        Ok(None) => {}
        Err(e @ SignError::Refused { first_bad_seq, .. }) => {
            tracing::error!(error = %e, "the log is inconsistent; not signing checkpoints until restarted");
            *log.0.refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.clone());
            log.set_health(|h| {
                h.state = SignerState::Refused;
                h.error = Some(e.to_string());
                h.first_bad_seq = *first_bad_seq;
            });
        }
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint not signed");
            log.set_health(|h| h.error = Some(e.to_string()));
        }
    }
    result
}

async fn sign_round(
    store: &dyn Store,
    log: &LogState,
    signer: &Signer,
) -> Result<Option<u64>, SignError> {
    let verifier = signer.verifier();
    let head = store.tree_size().await?;
    let latest = store.latest_checkpoint().await?;
    let (last_size, last_root) = match &latest {
        Some(cp) => {
            if cp.key != verifier.to_text() {
                return Err(SignError::OtherKey(cp.key.clone()));
            }
            let opened = Checkpoint::open(&cp.note, &verifier).map_err(|e| SignError::Refused {
                first_bad_seq: None,
                reason: format!("stored checkpoint {} does not verify: {e}", cp.size),
            })?;
            if opened.size != cp.size || opened.root != cp.root || opened.origin != signer.name() {
                return Err(SignError::Refused {
                    first_bad_seq: None,
                    reason: format!("stored checkpoint {} disagrees with its note", cp.size),
                });
            }
            (cp.size, cp.root)
        }
        None => (0, ailedger_log::root_of(&[])),
    };
    if last_size > head {
        return Err(SignError::Refused {
            first_bad_seq: Some(head + 1),
            reason: format!(
                "the ledger has {head} entries but checkpoint {last_size} was signed: entries were removed"
            ),
        });
    }
    if latest.is_some() && last_size == head {
        return Ok(None);
    }
    // 1. The signed part of the stored tree still has the signed root.
    let mut frontier = Frontier::new();
    if last_size > 0 {
        let ids = Frontier::node_ids_for_size(last_size);
        let rows = store.log_nodes(&ids).await?;
        frontier =
            Frontier::restore(last_size, |id| rows.get(&id).copied()).map_err(StoreError::from)?;
        if frontier.root() != last_root {
            return Err(SignError::Refused {
                first_bad_seq: None,
                reason: format!("the stored tree's root at {last_size} is not the signed one"),
            });
        }
    }
    // 2. Rolling sweep over older entries: bodies still hash to the tree's leaves.
    if last_size > 0 {
        let from = {
            let s = *log.0.sweep.lock().unwrap_or_else(|e| e.into_inner());
            // A ledger that fits in one round's window (and byte budget) is swept whole
            // every round; a larger one a window at a time, wrapping around.
            if s >= last_size { 0 } else { s }
        };
        let to = (from + SWEEP_PER_ROUND).min(last_size);
        let reached = check_leaves(store, from, to, None, Some(SWEEP_BYTES_PER_ROUND)).await?;
        // Wrap once the signed part is covered. Resuming at `to` instead would, as the
        // log grows, only ever re-check the entries signed last round (which step 3
        // checked already) and never the older ones.
        let next = if reached >= last_size { 0 } else { reached };
        *log.0.sweep.lock().unwrap_or_else(|e| e.into_inner()) = next;
    }
    // 3. The new leaves, from their bodies, extend the signed tree to the stored root.
    check_leaves(store, last_size, head, Some(&mut frontier), None).await?;
    let root = store.root_at(head).await?;
    if frontier.root() != root {
        return Err(SignError::Refused {
            first_bad_seq: Some(last_size + 1),
            reason: format!(
                "the stored tree's root at {head} differs from the one recomputed from entries {}..={head}",
                last_size + 1
            ),
        });
    }
    let proof = store.consistency_proof(last_size, head).await?;
    proof
        .verify(&last_root, &root)
        .map_err(|e| SignError::Refused {
            first_bad_seq: None,
            reason: format!(
                "the stored tree at {head} is not consistent with checkpoint {last_size}: {e}"
            ),
        })?;
    let checkpoint = Checkpoint {
        origin: signer.name().to_owned(),
        size: head,
        root,
    };
    let note = checkpoint
        .sign(signer)
        .map_err(|e| SignError::Store(e.to_string()))?;
    store
        .save_checkpoint(&SavedCheckpoint {
            size: head,
            root,
            note,
            key: verifier.to_text(),
            time_us: ailedger_store::now_us(),
        })
        .await?;
    Ok(Some(head))
}

/// Runs [`sign_once`] every `every` until the process ends (nothing if no key).
pub fn spawn_signer(state: &AppState, every: Duration) -> Option<tokio::task::JoinHandle<()>> {
    state.log.0.signer.as_ref()?;
    let (store, log) = (state.store.clone(), state.log.clone());
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let _ = sign_once(store.as_ref(), &log).await;
        }
    }))
}

/// The `/v1/log/` routes (rows of [`crate::table`]).
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        (paths::LOG_KEY, get(key)),
        (paths::LOG_CHECKPOINT, get(checkpoint)),
        (paths::LOG_CHECKPOINTS, get(checkpoints)),
        (paths::LOG_STATUS, get(status)),
        (paths::LOG_ENTRY, get(log_entry)),
        (paths::LOG_LEAVES, get(leaves)),
        (paths::LOG_INCLUSION, get(inclusion)),
        (paths::LOG_CONSISTENCY, get(consistency)),
    ]
}

#[derive(Debug, OpenApi)]
#[openapi(
    paths(
        key,
        checkpoint,
        checkpoints,
        status,
        log_entry,
        leaves,
        inclusion,
        consistency
    ),
    components(schemas(
        InclusionProofView,
        ConsistencyProofView,
        LogEntryView,
        LeavesView,
        CheckpointsView,
        LogStatusView,
        SignerHealth,
        SignerState
    ))
)]
pub struct LogApi;

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn latest(state: &AppState) -> Result<SavedCheckpoint, ApiError> {
    state
        .store
        .latest_checkpoint()
        .await?
        .ok_or_else(|| ApiError::NotFound("no checkpoint has been signed yet".into()))
}

/// The checkpoint verifier key, in note format (`<name>+<key id>+<base64 key>`).
#[utoipa::path(get, path = paths::LOG_KEY,
    responses((status = 200, body = String, content_type = "text/plain"), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
async fn key(State(state): State<AppState>) -> Result<Response, ApiError> {
    if let Some(v) = state.log.verifier() {
        return Ok(text(format!("{}\n", v.to_text())));
    }
    let cp = latest(&state).await?;
    Ok(text(format!("{}\n", cp.key)))
}

/// The latest signed checkpoint (a C2SP tlog-checkpoint signed note). When this
/// server's signer refused to sign, the `ailedger-log-error` header says why.
#[utoipa::path(get, path = paths::LOG_CHECKPOINT,
    responses((status = 200, body = String, content_type = "text/plain"), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
async fn checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let cp = latest(&state).await?;
    let mut resp = text(cp.note);
    let health = state.log.health();
    if let Some(error) = health
        .error
        .filter(|_| health.state == SignerState::Refused)
    {
        let one_line: String = error
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if let Ok(v) =
            header::HeaderValue::from_str(&one_line.replace(|c: char| !c.is_ascii(), "?"))
        {
            resp.headers_mut().insert(LOG_ERROR_HEADER, v);
        }
    }
    Ok(resp)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    /// Items after this seq or size (default 0).
    after: Option<u64>,
    /// At most this many (default and maximum 10000).
    limit: Option<u32>,
}

impl PageQuery {
    fn limit(&self) -> u32 {
        self.limit.unwrap_or(MAX_LOG_PAGE).clamp(1, MAX_LOG_PAGE)
    }
}

/// Signed checkpoints, by size.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckpointsView {
    /// Each a signed note.
    pub checkpoints: Vec<String>,
}

/// Checkpoints this log has signed, oldest first.
#[utoipa::path(get, path = paths::LOG_CHECKPOINTS, params(PageQuery),
    responses((status = 200, body = CheckpointsView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
async fn checkpoints(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<CheckpointsView>, ApiError> {
    let cps = state
        .store
        .checkpoints(q.after.unwrap_or(0), q.limit())
        .await?;
    Ok(Json(CheckpointsView {
        checkpoints: cps.into_iter().map(|c| c.note).collect(),
    }))
}

/// The log's size and the signer's health.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogStatusView {
    pub tree_size: u64,
    pub checkpoint_size: Option<u64>,
    pub key: Option<String>,
    pub signer: SignerHealth,
}

/// Tree size, latest checkpoint and whether this server signs (or refused to).
#[utoipa::path(get, path = paths::LOG_STATUS, responses((status = 200, body = LogStatusView)))]
async fn status(State(state): State<AppState>) -> Result<Json<LogStatusView>, ApiError> {
    let cp = state.store.latest_checkpoint().await?;
    Ok(Json(LogStatusView {
        tree_size: state.store.tree_size().await?,
        key: state
            .log
            .verifier()
            .map(Verifier::to_text)
            .or_else(|| cp.as_ref().map(|c| c.key.clone())),
        checkpoint_size: cp.map(|c| c.size),
        signer: state.log.health(),
    }))
}

/// Stored leaf hashes (the tree's level-0 nodes).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeavesView {
    /// `[seq, leaf hash hex]` pairs in seq order.
    #[schema(value_type = Vec<Vec<String>>)]
    pub leaves: Vec<(u64, String)>,
}

/// The tree's stored leaf hashes, for auditors comparing them with the entries.
#[utoipa::path(get, path = paths::LOG_LEAVES, params(PageQuery),
    responses((status = 200, body = LeavesView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
async fn leaves(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<LeavesView>, ApiError> {
    let rows = state
        .store
        .log_leaves(q.after.unwrap_or(0), q.limit())
        .await?;
    Ok(Json(LeavesView {
        leaves: rows.into_iter().map(|(s, h)| (s, hex::encode(h))).collect(),
    }))
}

/// An RFC 9162 inclusion proof (hashes are lowercase hex).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InclusionProofView {
    pub leaf_index: u64,
    pub seq: u64,
    pub tree_size: u64,
    pub leaf_hash: String,
    pub hashes: Vec<String>,
}

/// An RFC 9162 consistency proof (hashes are lowercase hex).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConsistencyProofView {
    pub from: u64,
    pub to: u64,
    pub hashes: Vec<String>,
}

/// An entry with its inclusion proof against the latest checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogEntryView {
    pub seq: u64,
    /// The canonical body, exactly the bytes that were hashed (a JSON text). Absent
    /// when the stored bytes are not UTF-8; `body_b64` holds them then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The stored body in standard base64 with padding, only when it is not UTF-8 (a
    /// corrupt entry, whose proof then fails to verify against it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_b64: Option<String>,
    #[schema(value_type = InclusionProofView)]
    pub proof: InclusionProof,
    /// The signed checkpoint the proof is against.
    pub checkpoint: String,
}

impl LogEntryView {
    /// The stored bytes of the body.
    pub fn body_bytes(&self) -> Result<Vec<u8>, crate::EntryViewError> {
        crate::dto::stored_body(
            self.seq,
            self.body.as_deref().map(str::as_bytes),
            self.body_b64.as_deref(),
        )
    }
}

fn parse_seq(seq: &str) -> Result<u64, ApiError> {
    match seq.parse::<u64>() {
        Ok(0) => Err(ApiError::BadRequest("seq starts at 1".into())),
        Ok(n) => Ok(n),
        Err(_) => Err(ApiError::BadRequest(format!("seq {seq:?} is not a number"))),
    }
}

fn log_error(e: StoreError) -> ApiError {
    match e {
        StoreError::BeyondHead { .. } => ApiError::NotFound(e.to_string()),
        StoreError::Log(ailedger_log::Error::MissingNode(_)) => ApiError::Internal(e.to_string()),
        StoreError::Log(inner) => ApiError::BadRequest(inner.to_string()),
        other => other.into(),
    }
}

/// An entry and its inclusion proof against the latest checkpoint.
#[utoipa::path(get, path = paths::LOG_ENTRY, params(("seq" = u64, Path, description = "entry seq, from 1")),
    responses((status = 200, body = LogEntryView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
async fn log_entry(
    State(state): State<AppState>,
    UrlPath(seq): UrlPath<String>,
) -> Result<Json<LogEntryView>, ApiError> {
    let seq = parse_seq(&seq)?;
    let cp = latest(&state).await?;
    if seq > cp.size {
        return Err(ApiError::NotFound(format!(
            "entry {seq} is not in the latest checkpoint (size {}) yet",
            cp.size
        )));
    }
    let proof = state
        .store
        .inclusion_proof(seq, cp.size)
        .await
        .map_err(log_error)?;
    let entry = state
        .store
        .entries(seq - 1, 1)
        .await?
        .pop()
        .filter(|e| e.seq == seq)
        .ok_or_else(|| ApiError::NotFound(format!("no entry {seq}")))?;
    // Served as stored: a corrupt body is the auditor's finding, not a server error.
    let (body, body_b64) = match String::from_utf8(entry.body) {
        Ok(text) => (Some(text), None),
        Err(e) => (None, Some(BASE64.encode(e.into_bytes()))),
    };
    Ok(Json(LogEntryView {
        seq,
        body,
        body_b64,
        proof,
        checkpoint: cp.note,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    /// The entry's seq (from 1).
    seq: u64,
    /// Tree size (default: the latest checkpoint's).
    size: Option<u64>,
}

async fn default_size(state: &AppState, size: Option<u64>) -> Result<u64, ApiError> {
    match size {
        Some(s) => Ok(s),
        None => Ok(latest(state).await?.size),
    }
}

/// Inclusion proof of entry `seq` in the tree of `size` entries.
#[utoipa::path(get, path = paths::LOG_INCLUSION, params(InclusionQuery),
    responses((status = 200, body = InclusionProofView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
async fn inclusion(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<InclusionQuery>,
) -> Result<Json<InclusionProof>, ApiError> {
    if q.seq == 0 {
        return Err(ApiError::BadRequest("seq starts at 1".into()));
    }
    let size = default_size(&state, q.size).await?;
    if q.seq > size {
        return Err(ApiError::BadRequest(format!(
            "seq {} is not in a tree of size {size}",
            q.seq
        )));
    }
    Ok(Json(
        state
            .store
            .inclusion_proof(q.seq, size)
            .await
            .map_err(log_error)?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    /// The older tree size.
    from: u64,
    /// The newer tree size (default: the latest checkpoint's).
    to: Option<u64>,
}

/// Consistency proof from the tree of `from` entries to the tree of `to` entries.
#[utoipa::path(get, path = paths::LOG_CONSISTENCY, params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProofView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
async fn consistency(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let to = default_size(&state, q.to).await?;
    if q.from > to {
        return Err(ApiError::BadRequest(format!(
            "from {} is larger than to {to}",
            q.from
        )));
    }
    Ok(Json(
        state
            .store
            .consistency_proof(q.from, to)
            .await
            .map_err(log_error)?,
    ))
}

#[cfg(test)]
mod key_tests {
    use super::{KeyError, load_or_create_key};

    #[cfg(unix)]
    #[test]
    fn keys_are_created_private_and_refused_when_others_may_read_them() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.key");
        let created = load_or_create_key(&path, "ledger.test/log", true).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = load_or_create_key(&path, "ledger.test/log", true).unwrap();
        assert_eq!(loaded.verifier().to_text(), created.verifier().to_text());
        for open in [0o640, 0o604, 0o620] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(open)).unwrap();
            let err = load_or_create_key(&path, "ledger.test/log", true).unwrap_err();
            assert!(matches!(err, KeyError::TooOpen { mode, .. } if mode == open));
            let msg = err.to_string();
            assert!(
                msg.contains(&path.display().to_string()) && msg.contains("chmod 600"),
                "{msg}"
            );
        }
    }
}
