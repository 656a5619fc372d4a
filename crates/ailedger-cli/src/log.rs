//! `ailedger log …`: the tamper-evident log from the client's side, and the server's
//! key flags (`--log-key`, `--log-origin`, `--log-public-key`, `--no-log-sign`).
//!
//! * `log checkpoint`: fetch the latest checkpoint, verify its signature with the
//!   pinned key and its consistency with the last checkpoint this client saw.
//! * `log prove <seq>`: fetch an entry's inclusion proof and verify it locally.
//! * `log verify`: the full audit — recompute every leaf from the entries (from the API
//!   or, offline, from a database), rebuild the tree, check it against every signed
//!   checkpoint and the one this client saw last; `--replay` also rebuilds the derived
//!   tables in a scratch database and compares them.
//!
//! Keys are pinned on first use, as Go's checksum-database client does: the state file
//! (`<state dir>/log-state.json`) maps each server URL to the verifier key it first
//! served, and each key to the last checkpoint seen under it. A later checkpoint that
//! does not extend it is a fork, reported loudly (exit code 4).
//!
//! The audit itself, pinning and fork decisions are `ailedger-log`'s ([`audit_log`],
//! [`TrustState`], [`check_extends`]), the replay comparison `ailedger-store`'s
//! ([`replay_and_compare`]); this module supplies their sources (the API, `--db`),
//! reads and writes the state file, formats the output and maps errors to exit codes.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use ailedger_log::{
    AuditSource, CheckedPage, Checkpoint, ConsistencyProof, EntryPage, Finding, InclusionProof,
    KeyChoice, TrustState, Verifier, VerifyError, audit_log, check_extends, check_leaf,
    open_checkpoint,
};
use ailedger_server::{
    EntriesView, EntryView,
    log::{CheckpointsView, LeavesView, LogEntryView},
    paths,
};
use ailedger_store::{
    Store, StoredEntry,
    replay::{ReplayError, replay_and_compare},
};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::json;

use crate::{
    Ctx, Format,
    client::{Client, CorruptLedger, Unavailable, UserError},
};

/// The log failed verification (exit code 4).
#[derive(Debug, thiserror::Error)]
#[error("VERIFICATION FAILED: {0}")]
pub struct VerifyFailed(pub String);

fn failed(msg: impl Into<String>) -> anyhow::Error {
    VerifyFailed(msg.into()).into()
}

/// Flags of `ailedger serve` for the log's signing key.
#[derive(Debug, Args)]
pub struct LogKeyArgs {
    /// The checkpoint signing key (created on first start, mode 0600; refused when group
    /// or others may read or change it). Keep it where the database's administrators
    /// cannot reach it: whoever can rewrite the database must not also be able to re-sign
    /// it.
    /// Default: `ailedger-log.key` next to the SQLite file; for PostgreSQL, in the
    /// per-user state directory ($AILEDGER_STATE, else $XDG_STATE_HOME/ailedger, else
    /// ~/.local/state/ailedger).
    #[arg(long, env = "AILEDGER_LOG_KEY", value_name = "PATH")]
    pub log_key: Option<PathBuf>,
    /// The log's name (origin line of its checkpoints and the key name) for a new key.
    /// Default: ailedger.local/<host name>.
    #[arg(long, value_name = "NAME")]
    pub log_origin: Option<String>,
    /// Do not sign checkpoints (another server is the designated signer); serve the
    /// checkpoints it stores.
    #[arg(long)]
    pub no_log_sign: bool,
    /// With --no-log-sign: the verifier key (text or file) to publish at /v1/log/key.
    #[arg(long, value_name = "KEY", requires = "no_log_sign")]
    pub log_public_key: Option<String>,
}

impl LogKeyArgs {
    /// The server's log state: loads or creates the key unless --no-log-sign.
    pub fn log_state(&self, db: &str) -> anyhow::Result<ailedger_server::log::LogState> {
        use ailedger_server::log::{LogState, default_origin, load_or_create_key};
        if self.no_log_sign {
            let verifier = self
                .log_public_key
                .as_deref()
                .map(read_verifier)
                .transpose()?;
            return Ok(LogState::not_signing(verifier));
        }
        let path = match &self.log_key {
            Some(p) => p.clone(),
            // Never the working directory, wherever the server happens to be started.
            None if db.starts_with("postgres://") || db.starts_with("postgresql://") => {
                let dir = state_dir(None).map_err(|_| {
                    UserError(
                        "no place for the log signing key: give --log-key (or set \
                         AILEDGER_LOG_KEY, AILEDGER_STATE or HOME)"
                            .into(),
                    )
                })?;
                create_private_dir(&dir)?;
                dir.join("ailedger-log.key")
            }
            None => {
                let file = db
                    .strip_prefix("sqlite://")
                    .or_else(|| db.strip_prefix("sqlite:"))
                    .unwrap_or(db);
                Path::new(file).with_file_name("ailedger-log.key")
            }
        };
        let origin = self.log_origin.clone().unwrap_or_else(default_origin);
        let signer = load_or_create_key(&path, &origin, self.log_origin.is_some())
            .map_err(|e| UserError(format!("--log-key: {e}")))?;
        tracing::info!(key = %signer.verifier().to_text(), path = %path.display(), "log signing key");
        Ok(LogState::signing(signer))
    }
}

/// Creates `dir` (and its parents) if missing, the last one mode 0700.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| UserError(format!("{}: {e}", dir.display())).into())
}

/// Reads a verifier key given as text or as a file holding it.
fn read_verifier(arg: &str) -> anyhow::Result<Verifier> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|e| UserError(format!("{arg}: {e}")))?
    } else {
        arg.to_owned()
    };
    Verifier::from_text(text.trim())
        .map_err(|e| UserError(format!("not a verifier key ({e}): {}", text.trim())).into())
}

/// The tamper-evident log: checkpoints, proofs and the full audit.
///
/// Exit codes: 0 verified, 2 usage or bad input, 3 server unreachable, 4 verification failed
/// (a bad signature, a proof that does not verify, a fork, or entries that do not match
/// the signed tree; the message names the first bad seq when it can).
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Fetch the latest signed checkpoint and verify it (signature, and consistency with the
    /// last checkpoint this client saw).
    ///
    /// Example: ailedger log checkpoint
    Checkpoint(StateArgs),
    /// Fetch an entry's inclusion proof against the latest checkpoint and verify it locally.
    ///
    /// Example: ailedger log prove 42 --format json > proof.json
    Prove(ProveArgs),
    /// Audit the whole log: recompute every leaf from the entries, rebuild the tree and check
    /// it against the signed checkpoints and the last one this client saw.
    ///
    /// Without --public-key the server's key is fetched and pinned on first use (trust on first
    /// use). With --public-key and --db it runs fully offline on a SQLite file or a postgres://
    /// URL. --replay (needs --db) also rebuilds the derived tables from the entries in a scratch
    /// database and compares them with the live ones.
    ///
    /// Exit codes: 0 verified, 2 usage or bad input, 3 server unreachable, 4 verification failed.
    ///
    /// Example: ailedger log verify
    /// Example: ailedger log verify --public-key log.pub --db ailedger.db --replay
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct StateArgs {
    /// Where pinned keys and last-seen checkpoints are kept. Default: $AILEDGER_STATE, else
    /// $XDG_STATE_HOME/ailedger, else ~/.local/state/ailedger.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The log's verifier key (text or a file holding it) instead of the pinned one.
    #[arg(long, value_name = "KEY")]
    pub public_key: Option<String>,
}

#[derive(Debug, Args)]
pub struct ProveArgs {
    /// The entry's seq.
    pub seq: u64,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Read the ledger from this database (SQLite file or postgres:// URL) instead of the API.
    #[arg(long, value_name = "FILE|URL")]
    pub db: Option<String>,
    /// Also rebuild the derived tables from the entries and compare (needs --db).
    #[arg(long)]
    pub replay: bool,
}

impl LogCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self {
            LogCommand::Checkpoint(a) => checkpoint(ctx, &a).await,
            LogCommand::Prove(a) => prove(ctx, &a).await,
            LogCommand::Verify(a) => verify(ctx, &a).await,
        }
    }
}

// ---------------------------------------------------------------- local state

fn state_dir(arg: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = arg {
        return Ok(p.to_owned());
    }
    if let Some(p) = std::env::var_os("AILEDGER_STATE").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p).join("ailedger"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/state/ailedger")),
        None => {
            Err(UserError("no state directory: give --state or set AILEDGER_STATE".into()).into())
        }
    }
}

/// The client's state file: what [`TrustState`] holds, as `log-state.json`.
struct StateFile {
    path: PathBuf,
    data: TrustState,
}

impl StateFile {
    fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join("log-state.json");
        let data = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| UserError(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => TrustState::default(),
            Err(e) => return Err(UserError(format!("{}: {e}", path.display())).into()),
        };
        Ok(Self { path, data })
    }

    fn save(&self) -> anyhow::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| UserError(format!("{}: {e}", dir.display())))?;
        let tmp = self.path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(&self.data)?;
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| UserError(format!("{}: {e}", self.path.display())))?;
        Ok(())
    }

    /// Remembers `latest` as the last checkpoint seen under `verifier` if it is newer.
    fn see(&mut self, verifier: &Verifier, latest: &Checkpoint, note: &str) -> anyhow::Result<()> {
        if self.data.see(verifier, latest, note) {
            self.save()?;
        }
        Ok(())
    }
}

/// The verifier to use: --public-key, else the one pinned for this server, else fetched
/// from the server and pinned (trust on first use). `None` server means offline.
async fn verifier_for(
    args: &StateArgs,
    state: &mut StateFile,
    server: Option<&Client>,
    url: &str,
) -> anyhow::Result<Verifier> {
    if let Some(k) = &args.public_key {
        return read_verifier(k);
    }
    let pinned = state.data.pinned(url).map_err(|e| {
        UserError(format!(
            "{}: pinned key for {url}: {e}",
            state.path.display()
        ))
    })?;
    if let KeyChoice::Pinned(verifier) = pinned {
        return Ok(verifier);
    }
    let Some(client) = server else {
        return Err(UserError(format!(
            "no key pinned for {url}: give --public-key (offline) or run once against the server"
        ))
        .into());
    };
    let text = client.get_text(paths::LOG_KEY).await?;
    let verifier = Verifier::from_text(text.trim())
        .map_err(|e| Unavailable(format!("the server's log key is malformed: {e}")))?;
    eprintln!(
        "pinned log key {} for {url} (trust on first use)",
        verifier.to_text()
    );
    state.data.pin(url, &verifier);
    state.save()?;
    Ok(verifier)
}

/// A finding of the audit library: exit code 4.
fn finding(f: Finding) -> anyhow::Error {
    failed(f.message)
}

/// A failed verification: the log's fault (exit 4) or the source's (its own error).
fn verify_error(e: VerifyError<anyhow::Error>) -> anyhow::Error {
    match e {
        VerifyError::Failed(f) => finding(f),
        VerifyError::Source(e) => e,
    }
}

// ---------------------------------------------------------------- checkpoint, prove

async fn checkpoint(ctx: &Ctx, args: &StateArgs) -> anyhow::Result<()> {
    let mut state = StateFile::load(&state_dir(args.state.as_deref())?)?;
    let url = ctx.client.base().to_owned();
    let verifier = verifier_for(args, &mut state, Some(&ctx.client), &url).await?;
    let note = ctx.client.get_text(paths::LOG_CHECKPOINT).await?;
    let cp = open_checkpoint(&note, &verifier, "the server's checkpoint").map_err(finding)?;
    let seen = state.data.seen(&verifier).map_err(finding)?;
    check_extends(&ApiSource(&ctx.client), seen.as_ref(), &cp)
        .await
        .map_err(verify_error)?;
    state.see(&verifier, &cp, &note)?;
    let seen = seen.map(|c| c.size);
    match ctx.format {
        Format::Json => println!(
            "{}",
            json!({"origin": cp.origin, "size": cp.size, "root": hex::encode(cp.root), "note": note, "previous_size": seen})
        ),
        Format::Table | Format::Sarif | Format::Xml => {
            print!("{note}");
            eprintln!(
                "verified: signed by {}; {}",
                verifier.to_text(),
                match seen {
                    Some(s) => format!("consistent with size {s} seen earlier"),
                    None => "first checkpoint seen from this log".into(),
                }
            );
        }
    }
    Ok(())
}

async fn prove(ctx: &Ctx, args: &ProveArgs) -> anyhow::Result<()> {
    let mut state = StateFile::load(&state_dir(args.state.state.as_deref())?)?;
    let url = ctx.client.base().to_owned();
    let verifier = verifier_for(&args.state, &mut state, Some(&ctx.client), &url).await?;
    if args.seq == 0 {
        return Err(UserError("seq starts at 1".into()).into());
    }
    let view: LogEntryView = ctx
        .client
        .get(&paths::fill(paths::LOG_ENTRY, &args.seq.to_string()), &[])
        .await?;
    let cp =
        open_checkpoint(&view.checkpoint, &verifier, "the proof's checkpoint").map_err(finding)?;
    let proof: InclusionProof = view.proof.clone();
    if proof.seq != args.seq {
        return Err(failed(format!(
            "asked for seq {}, got a proof for seq {}",
            args.seq, proof.seq
        )));
    }
    proof
        .verify_checkpoint(&cp)
        .map_err(|e| failed(format!("seq {}: inclusion proof: {e}", args.seq)))?;
    proof
        .verify_body(
            &view.body_bytes().map_err(|e| failed(e.to_string()))?,
            &cp.root,
        )
        .map_err(|e| failed(format!("seq {}: entry body: {e}", args.seq)))?;
    match ctx.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&proof)?),
        Format::Table | Format::Sarif | Format::Xml => {
            println!(
                "seq {} is in checkpoint {} of {} (root {})",
                proof.seq,
                cp.size,
                cp.origin,
                hex::encode(cp.root)
            );
            println!("leaf hash {}", hex::encode(proof.leaf_hash));
            for (i, h) in proof.hashes.iter().enumerate() {
                println!("  {i:>2} {}", hex::encode(h));
            }
            println!("verified: proof, entry body and checkpoint signature");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- verify

/// The audit's source over the HTTP API.
struct ApiSource<'a>(&'a Client);

/// The audit's source over a database (`--db`).
struct DbSource(Arc<dyn Store>);

/// [`check_leaf`] over a page on all cores, off the async runtime.
async fn check_in_parallel(
    page: EntryPage<StoredEntry>,
) -> anyhow::Result<CheckedPage<StoredEntry>> {
    tokio::task::spawn_blocking(move || {
        use rayon::prelude::*;
        let checks = page
            .entries
            .par_iter()
            .map(|e| check_leaf(e, page.tree_leaves.get(&e.seq)))
            .collect();
        (page, checks)
    })
    .await
    .context("checking a page of entries")
}

impl AuditSource for ApiSource<'_> {
    type Entry = StoredEntry;
    type Error = anyhow::Error;

    async fn checkpoints(&self, after: u64) -> anyhow::Result<Vec<String>> {
        let v: CheckpointsView = self
            .0
            .get(paths::LOG_CHECKPOINTS, &[("after", &after.to_string())])
            .await?;
        Ok(v.checkpoints)
    }

    async fn entries(&self, after: u64) -> anyhow::Result<EntryPage<StoredEntry>> {
        let a = after.to_string();
        let view: EntriesView = self
            .0
            .get(paths::ENTRIES, &[("after", &a), ("limit", "1000")])
            .await?;
        let n = view.entries.len().to_string();
        let leaves: LeavesView = if view.entries.is_empty() {
            LeavesView { leaves: vec![] }
        } else {
            self.0
                .get(paths::LOG_LEAVES, &[("after", &a), ("limit", &n)])
                .await?
        };
        // Bodies arrive as stored (raw JSON, or base64 when they are not JSON); one
        // above the server's inline limit is read on its own, where the list points.
        let mut entries = Vec::with_capacity(view.entries.len());
        for e in view.entries {
            let e = match &e.body_ref {
                Some(at) => self.0.get::<EntryView>(at, &[]).await?,
                None => e,
            };
            entries.push(e.into_stored().map_err(|err| failed(err.to_string()))?);
        }
        let mut tree_leaves = BTreeMap::new();
        for (seq, h) in leaves.leaves {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(&h, &mut hash)
                .map_err(|_| failed(format!("seq {seq}: malformed tree leaf")))?;
            tree_leaves.insert(seq, hash);
        }
        Ok(EntryPage {
            entries,
            tree_leaves,
        })
    }

    async fn consistency(&self, from: u64, to: u64) -> anyhow::Result<ConsistencyProof> {
        self.0
            .get(
                paths::LOG_CONSISTENCY,
                &[("from", &from.to_string()), ("to", &to.to_string())],
            )
            .await
    }

    async fn check_page(
        &self,
        page: EntryPage<StoredEntry>,
    ) -> anyhow::Result<CheckedPage<StoredEntry>> {
        check_in_parallel(page).await
    }

    /// The server names the seq of a stored row it cannot decode.
    fn finding(&self, error: &anyhow::Error) -> Option<Finding> {
        error
            .downcast_ref::<CorruptLedger>()
            .map(|c| Finding::at(c.seq, &c.detail))
    }
}

impl AuditSource for DbSource {
    type Entry = StoredEntry;
    type Error = anyhow::Error;

    async fn checkpoints(&self, after: u64) -> anyhow::Result<Vec<String>> {
        Ok(self
            .0
            .checkpoints(after, 10_000)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|c| c.note)
            .collect())
    }

    async fn entries(&self, after: u64) -> anyhow::Result<EntryPage<StoredEntry>> {
        let entries = self.0.entries(after, 10_000).await.map_err(db_error)?;
        let n = u32::try_from(entries.len()).unwrap_or(10_000).max(1);
        let tree_leaves = self
            .0
            .log_leaves(after, n)
            .await
            .map_err(db_error)?
            .into_iter()
            .collect();
        Ok(EntryPage {
            entries,
            tree_leaves,
        })
    }

    async fn consistency(&self, from: u64, to: u64) -> anyhow::Result<ConsistencyProof> {
        self.0
            .consistency_proof(from, to)
            .await
            .map_err(|e| failed(format!("the stored tree cannot prove {from} -> {to}: {e}")))
    }

    async fn check_page(
        &self,
        page: EntryPage<StoredEntry>,
    ) -> anyhow::Result<CheckedPage<StoredEntry>> {
        check_in_parallel(page).await
    }
}

fn db_error(e: ailedger_store::StoreError) -> anyhow::Error {
    match e {
        ailedger_store::StoreError::Corrupt { seq, reason } => {
            failed(format!("first bad seq {seq}: {reason}"))
        }
        other => Unavailable(format!("database: {other}")).into(),
    }
}

/// Opens `--db` without creating anything.
async fn open_db(db: &str) -> anyhow::Result<Arc<dyn Store>> {
    let is_pg = db.starts_with("postgres://") || db.starts_with("postgresql://");
    if !is_pg {
        let path = db
            .strip_prefix("sqlite://")
            .or_else(|| db.strip_prefix("sqlite:"))
            .unwrap_or(db);
        if !Path::new(path).is_file() {
            return Err(UserError(format!("--db {path}: no such file")).into());
        }
        // An audit must not change what it audits: read-only, no migrations.
        let store = ailedger_store_sqlite::SqliteStore::open_read_only(Path::new(path))
            .await
            .map_err(|e| UserError(format!("--db {e}")))?;
        return Ok(Arc::new(store));
    }
    Ok(crate::serve::open_store(db).await?.0)
}

async fn verify(ctx: &Ctx, args: &VerifyArgs) -> anyhow::Result<()> {
    if args.replay && args.db.is_none() {
        return Err(UserError(
            "--replay needs --db: the derived tables are compared in the database itself".into(),
        )
        .into());
    }
    let mut state = StateFile::load(&state_dir(args.state.state.as_deref())?)?;
    let url = ctx.client.base().to_owned();
    let store = match &args.db {
        Some(db) => Some(open_db(db).await?),
        None => None,
    };
    let online = if store.is_none() {
        Some(&ctx.client)
    } else {
        None
    };
    let verifier = verifier_for(&args.state, &mut state, online, &url).await?;
    let started = std::time::Instant::now();
    let seen = state.data.seen(&verifier).map_err(finding)?;
    let audit = match &store {
        Some(s) => audit_log(&DbSource(s.clone()), &verifier, seen.as_ref()).await,
        None => audit_log(&ApiSource(&ctx.client), &verifier, seen.as_ref()).await,
    }
    .map_err(verify_error)?;
    state.see(&verifier, &audit.latest, &audit.latest_note)?;

    let replay = match (&store, args.replay) {
        (Some(s), true) => Some(replay(s.as_ref()).await?),
        _ => None,
    };
    let (summary, latest, seen) = (&audit.summary, &audit.latest, audit.previous_size);
    let unsigned = audit.unsigned_entries();
    match ctx.format {
        Format::Json => println!(
            "{}",
            json!({
                "verified": true,
                "entries": summary.size,
                "root": hex::encode(summary.root),
                "checkpoint": {"origin": latest.origin, "size": latest.size, "root": hex::encode(latest.root)},
                "checkpoints_verified": summary.checkpoints_verified,
                "previous_size": seen,
                "unsigned_entries": unsigned,
                "replayed_entries": replay,
                "seconds": started.elapsed().as_secs_f64(),
            })
        ),
        Format::Table | Format::Sarif | Format::Xml => {
            println!(
                "verified {} entries against {} signed checkpoints of {}",
                summary.size, summary.checkpoints_verified, latest.origin
            );
            println!(
                "latest checkpoint: size {} root {}",
                latest.size,
                hex::encode(latest.root)
            );
            match seen {
                Some(s) => println!("consistent with checkpoint {s} this client saw earlier"),
                None => println!(
                    "first audit of this log by this client; checkpoint {} remembered",
                    latest.size
                ),
            }
            if unsigned > 0 {
                println!(
                    "{unsigned} newer entries are not in a checkpoint yet (their leaves match the stored tree)"
                );
            }
            if let Some(n) = replay {
                println!("replayed {n} entries: derived tables match");
            }
        }
    }
    Ok(())
}

/// Replays every entry into a scratch SQLite database and compares the derived tables
/// with `live`'s. Returns the number of entries replayed.
async fn replay(live: &dyn Store) -> anyhow::Result<u64> {
    let dir = tempfile::tempdir().context("creating a scratch directory")?;
    let scratch = ailedger_store_sqlite::SqliteStore::open(&dir.path().join("replay.db"))
        .await
        .map_err(|e| Unavailable(format!("scratch database: {e}")))?;
    replay_and_compare(live, &scratch)
        .await
        .map_err(|e| match e {
            ReplayError::Live(e) => db_error(e),
            other => failed(other.to_string()),
        })
}
