//! What an auditing client remembers between runs, and the decisions made with it:
//! key pinning on first use (as Go's checksum-database client pins its key) and the
//! last checkpoint seen under each key, which every later checkpoint must extend
//! ([`check_extends`](crate::check_extends) reports a fork otherwise).
//!
//! [`TrustState`] is the state file's content; reading and writing the file is the
//! caller's (the CLI keeps it in `log-state.json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Checkpoint, Finding, NoteError, Verifier, open_checkpoint};

/// Keys pinned per server and the latest checkpoint seen per key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustState {
    /// Server URL → the verifier key pinned for it.
    #[serde(default)]
    pub servers: BTreeMap<String, String>,
    /// Verifier key → the latest checkpoint note seen under it.
    #[serde(default)]
    pub checkpoints: BTreeMap<String, String>,
}

/// Where the key an audit uses came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChoice {
    /// The key pinned for this server earlier.
    Pinned(Verifier),
    /// No key is pinned: the caller may fetch the server's key and [`TrustState::pin`]
    /// it (trust on first use), or must be given one.
    Unpinned,
}

impl TrustState {
    /// The key pinned for `server`. A pinned key that does not parse is an error, never
    /// a reason to pin again.
    pub fn pinned(&self, server: &str) -> Result<KeyChoice, NoteError> {
        match self.servers.get(server) {
            Some(text) => Verifier::from_text(text).map(KeyChoice::Pinned),
            None => Ok(KeyChoice::Unpinned),
        }
    }

    /// Pins `key` for `server` (first use). An already pinned key is never replaced:
    /// returns false then.
    pub fn pin(&mut self, server: &str, key: &Verifier) -> bool {
        if self.servers.contains_key(server) {
            return false;
        }
        self.servers.insert(server.to_owned(), key.to_text());
        true
    }

    /// The latest checkpoint seen under `key`, opened with it.
    pub fn seen(&self, key: &Verifier) -> Result<Option<Checkpoint>, Finding> {
        self.checkpoints
            .get(&key.to_text())
            .map(|note| open_checkpoint(note, key, "the checkpoint in the state file"))
            .transpose()
    }

    /// Remembers `checkpoint` (with its `note`) as seen under `key` when it is newer than
    /// the one seen so far. Call it only once `checkpoint` was verified to extend that
    /// one. Returns whether anything changed.
    pub fn see(&mut self, key: &Verifier, checkpoint: &Checkpoint, note: &str) -> bool {
        let newer = match self.seen(key) {
            Ok(Some(old)) => old.size < checkpoint.size,
            // Nothing (readable) seen yet.
            Ok(None) | Err(_) => true,
        };
        if newer {
            self.checkpoints.insert(key.to_text(), note.to_owned());
        }
        newer
    }
}
