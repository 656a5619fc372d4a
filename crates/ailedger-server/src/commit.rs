//! Group commit: the writes that arrive while a transaction is being committed share
//! the next one, so concurrent writers pay one sync to disk between them instead of
//! one each (SQLite runs with `synchronous=FULL`; PostgreSQL syncs its WAL per commit).
//!
//! One task per server takes the waiting writes in arrival order, appends their entries
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

fn spawn(state: AppState) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(1024);
    tokio::spawn(async move {
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
    });
    tx
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
