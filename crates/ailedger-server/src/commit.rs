//! Group commit: the writes that arrive while a transaction is being committed share
//! the next one, so concurrent writers pay one sync to disk between them instead of
//! one each (SQLite runs with `synchronous=FULL`; PostgreSQL syncs its WAL per commit).
//!
//! One task per server, on a thread of its own, takes the waiting writes in arrival order, appends their entries
//! in one transaction, brings the index up to them and only then answers each write
//! with its own entries (read-your-writes holds as before). A group whose transaction
//! fails is appended again write by write, so one bad write fails alone and records
//! nothing, exactly as if it had come on its own. A write of many entries (a batch) is
//! never grouped.

use ailedger_store::{Appended, NewEntry};
use tokio::sync::{mpsc, oneshot};

use crate::{ApiError, AppState};

/// Writes of more entries than this are committed on their own.
const GROUP_ALONE: usize = 16;
/// Most entries one group commits.
const GROUP_ENTRIES: usize = 512;

/// One write waiting for the committer.
#[derive(Debug)]
pub(crate) struct Job {
    entries: Vec<NewEntry>,
    reply: oneshot::Sender<Result<Vec<Appended>, ApiError>>,
}

/// Appends one write's entries, possibly in one transaction with other writes, and
/// answers once the index holds them.
pub(crate) async fn append(
    state: &AppState,
    entries: Vec<NewEntry>,
) -> Result<Vec<Appended>, ApiError> {
    if entries.len() > GROUP_ALONE {
        return alone(state, entries).await;
    }
    let tx = state.committer.get_or_init(|| spawn(state.clone())).clone();
    let (reply, answer) = oneshot::channel();
    tx.send(Job { entries, reply })
        .await
        .map_err(|_| ApiError::Internal("the committer has stopped".into()))?;
    answer
        .await
        .map_err(|_| ApiError::Internal("the committer dropped a write".into()))?
}

/// Starts the committer on a thread of its own, with a single-threaded runtime: each
/// statement of a group's transaction is a round trip to the SQLite connection's thread,
/// and on the server's runtime the committer would wait behind every ready request task
/// after each one (measured: a group of about 12 writes took 10 ms under load). The
/// thread ends when the last sender (the last clone of the state) is dropped.
fn spawn(mut state: AppState) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel::<Job>(1024);
    // The committer's own state must not reach the sender, or the channel would never
    // close and the thread never end.
    state.committer = std::sync::Arc::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => {
            let started = std::thread::Builder::new()
                .name("ailedger-commit".into())
                .spawn(move || runtime.block_on(run(state, rx)));
            if let Err(e) = started {
                tracing::error!(error = %e, "no committer thread; writes will fail");
            }
        }
        Err(e) => tracing::error!(error = %e, "no committer runtime; writes will fail"),
    }
    tx
}

async fn run(state: AppState, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut count = first.entries.len();
        let mut group = vec![first];
        while count < GROUP_ENTRIES {
            match rx.try_recv() {
                Ok(job) => {
                    count += job.entries.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        commit(&state, group).await;
    }
}

/// One write in a transaction of its own, its changes applied to the index.
async fn alone(state: &AppState, entries: Vec<NewEntry>) -> Result<Vec<Appended>, ApiError> {
    let _writing = state.writing_guard();
    let (appended, changes) = state.store.append_indexed(entries, None).await?;
    if let (Some(first), Some(last)) = (appended.first(), appended.last()) {
        state.sync_own_write(first.seq, last.seq, changes).await?;
    }
    Ok(appended)
}

async fn commit(state: &AppState, group: Vec<Job>) {
    if group.len() == 1 {
        for job in group {
            let started = std::time::Instant::now();
            let r = alone(state, job.entries).await;
            tracing::debug!(
                writes = 1,
                us = started.elapsed().as_micros() as u64,
                "group commit"
            );
            let _ = job.reply.send(r);
        }
        return;
    }
    let sizes: Vec<usize> = group.iter().map(|j| j.entries.len()).collect();
    let all: Vec<NewEntry> = group.iter().flat_map(|j| j.entries.clone()).collect();
    let started = std::time::Instant::now();
    match alone(state, all).await {
        Ok(appended) => {
            tracing::debug!(
                writes = group.len(),
                entries = appended.len(),
                us = started.elapsed().as_micros() as u64,
                "group commit"
            );
            let mut rest = appended.into_iter();
            for (job, n) in group.into_iter().zip(sizes) {
                let _ = job.reply.send(Ok(rest.by_ref().take(n).collect()));
            }
        }
        // Nothing of the group was recorded: each write again on its own, so only a
        // write that fails by itself fails.
        Err(_) => {
            for job in group {
                let _ = job.reply.send(alone(state, job.entries).await);
            }
        }
    }
}
