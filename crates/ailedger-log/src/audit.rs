//! The tree half of a full audit: absorb every entry's leaf in seq order, recompute
//! the tree and compare it with signed checkpoints. [`audit_log`](crate::audit_log)
//! (`ailedger log verify`) drives it over a source of entries.
//!
//! The caller reads entries (in any batch size) and feeds them in; the audit keeps only
//! a [`Frontier`] (O(log n) memory) and the checkpoints still to be reached. It checks:
//!
//! * seqs are gap-free from 1 ([`AuditError::Gap`]; the entry is not absorbed);
//! * the stored leaf hash equals the hash of the stored body
//!   ([`AuditError::LeafMismatch`], naming the seq; the *recomputed* hash is absorbed,
//!   since the checkpoints commit to what the bodies hashed to when they were signed);
//! * at each expected checkpoint size, the recomputed root equals the checkpoint's
//!   ([`AuditError::RootMismatch`], naming the first bad seq if a leaf mismatch was
//!   seen, and otherwise the range it must lie in).
//!
//! After a `LeafMismatch` or `RootMismatch` the audit can continue, so a caller may list
//! every problem or stop at the first; [`Audit::finish`] fails if any were seen.

use std::collections::BTreeMap;

use crate::Hash;
use crate::checkpoint::Checkpoint;
use crate::merkle::leaf_hash;
use crate::tree::Frontier;

/// What an audit found wrong. Every variant names a seq or a tree size.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuditError {
    #[error("expected seq {expected}, got seq {got}: the ledger has a gap or is out of order")]
    Gap { expected: u64, got: u64 },
    #[error(
        "seq {seq}: stored leaf hash {} differs from the hash of the stored body {}",
        hex::encode(.stored),
        hex::encode(.recomputed)
    )]
    LeafMismatch {
        seq: u64,
        stored: Hash,
        recomputed: Hash,
    },
    #[error(
        "root of the first {size} entries is {} but the checkpoint says {}; {}",
        hex::encode(.computed),
        hex::encode(.expected),
        match .first_bad_seq {
            Some(seq) => format!("first bad seq is {seq}"),
            None => format!("first bad seq is between {} and {size}", .verified_through + 1),
        }
    )]
    RootMismatch {
        size: u64,
        expected: Hash,
        computed: Hash,
        /// The first seq whose stored leaf hash did not match its body, if any.
        first_bad_seq: Option<u64>,
        /// The largest size whose root matched a checkpoint (0 if none): entries up to
        /// here are proven good.
        verified_through: u64,
    },
    #[error("two different roots expected for size {size}")]
    ConflictingCheckpoints { size: u64 },
    #[error("a checkpoint for size {size} was given after the audit passed it (at {audited})")]
    AlreadyPast { size: u64, audited: u64 },
    #[error("the ledger ends at {audited} entries, before the checkpoint of size {size}")]
    Short { size: u64, audited: u64 },
    #[error(
        "{count} entries have stored leaf hashes that differ from their bodies, first seq {first_bad_seq}"
    )]
    BadLeaves { first_bad_seq: u64, count: u64 },
    #[error("{count} checkpoint roots did not match, first at size {first_size}")]
    BadRoots { first_size: u64, count: u64 },
}

/// The result of a successful audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSummary {
    /// Number of entries audited (= last seq).
    pub size: u64,
    /// Recomputed root over all of them.
    pub root: Hash,
    /// Number of checkpoint roots that matched.
    pub checkpoints_verified: u64,
}

/// Streaming audit over leaf hashes in seq order. See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Audit {
    frontier: Frontier,
    expected: BTreeMap<u64, Hash>,
    verified_through: u64,
    checkpoints_verified: u64,
    first_bad_seq: Option<u64>,
    bad_leaves: u64,
    first_bad_root: Option<u64>,
    bad_roots: u64,
}

impl Audit {
    pub fn new() -> Self {
        Self::default()
    }

    /// Expects the root of the first `size` entries to be `root`. If the audit is
    /// already at `size`, checks now.
    pub fn expect_root(&mut self, size: u64, root: Hash) -> Result<(), AuditError> {
        let audited = self.frontier.size();
        if size < audited {
            return Err(AuditError::AlreadyPast { size, audited });
        }
        if let Some(existing) = self.expected.get(&size) {
            return if *existing == root {
                Ok(())
            } else {
                Err(AuditError::ConflictingCheckpoints { size })
            };
        }
        self.expected.insert(size, root);
        if size == audited {
            self.check_expected()
        } else {
            Ok(())
        }
    }

    /// Expects an (already opened) checkpoint's root at its size.
    pub fn expect_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), AuditError> {
        self.expect_root(checkpoint.size, checkpoint.root)
    }

    /// Absorbs the leaf hash of entry `seq`, which must be `self.size() + 1`.
    pub fn push(&mut self, seq: u64, leaf_hash: &Hash) -> Result<(), AuditError> {
        let expected = self.frontier.size() + 1;
        if seq != expected {
            return Err(AuditError::Gap { expected, got: seq });
        }
        self.frontier.push(*leaf_hash);
        self.check_expected()
    }

    /// Like [`Audit::push`], given both the hash recomputed from the entry's body and the
    /// hash the store holds for it. The recomputed hash goes into the tree.
    pub fn push_checked(
        &mut self,
        seq: u64,
        recomputed: &Hash,
        stored: &Hash,
    ) -> Result<(), AuditError> {
        let expected = self.frontier.size() + 1;
        if seq != expected {
            return Err(AuditError::Gap { expected, got: seq });
        }
        self.frontier.push(*recomputed);
        let leaf = if recomputed != stored {
            self.first_bad_seq.get_or_insert(seq);
            self.bad_leaves += 1;
            Err(AuditError::LeafMismatch {
                seq,
                stored: *stored,
                recomputed: *recomputed,
            })
        } else {
            Ok(())
        };
        // A root mismatch at this size is the more serious finding; report it first.
        self.check_expected()?;
        leaf
    }

    /// Like [`Audit::push`] for an entry found bad elsewhere (see
    /// [`check_leaf`](crate::check_leaf)): its recomputed hash goes into the tree, and
    /// it counts as a bad leaf (the first one is named by a later root mismatch and by
    /// [`Audit::finish`]).
    pub fn push_bad(&mut self, seq: u64, recomputed: &Hash) -> Result<(), AuditError> {
        let expected = self.frontier.size() + 1;
        if seq != expected {
            return Err(AuditError::Gap { expected, got: seq });
        }
        self.frontier.push(*recomputed);
        self.first_bad_seq.get_or_insert(seq);
        self.bad_leaves += 1;
        self.check_expected()
    }

    /// [`Audit::push_checked`] hashing the canonical entry body here.
    pub fn push_body(&mut self, seq: u64, body: &[u8], stored: &Hash) -> Result<(), AuditError> {
        self.push_checked(seq, &leaf_hash(body), stored)
    }

    fn check_expected(&mut self) -> Result<(), AuditError> {
        let size = self.frontier.size();
        let Some(expected) = self.expected.remove(&size) else {
            return Ok(());
        };
        let computed = self.frontier.root();
        if computed == expected {
            self.checkpoints_verified += 1;
            if self.first_bad_root.is_none() && self.first_bad_seq.is_none() {
                self.verified_through = size;
            }
            Ok(())
        } else {
            self.first_bad_root.get_or_insert(size);
            self.bad_roots += 1;
            Err(AuditError::RootMismatch {
                size,
                expected,
                computed,
                first_bad_seq: self.first_bad_seq,
                verified_through: self.verified_through,
            })
        }
    }

    /// Entries absorbed so far (= last seq).
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Root over the entries absorbed so far.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The first seq whose stored leaf hash differed from its body, if any.
    pub fn first_bad_seq(&self) -> Option<u64> {
        self.first_bad_seq
    }

    /// The largest size proven good by a matching checkpoint, before any problem.
    pub fn verified_through(&self) -> u64 {
        self.verified_through
    }

    /// Ends the audit: fails if any problem was seen or a checkpoint was never reached.
    pub fn finish(self) -> Result<AuditSummary, AuditError> {
        if let Some(first_bad_seq) = self.first_bad_seq {
            return Err(AuditError::BadLeaves {
                first_bad_seq,
                count: self.bad_leaves,
            });
        }
        if let Some(first_size) = self.first_bad_root {
            return Err(AuditError::BadRoots {
                first_size,
                count: self.bad_roots,
            });
        }
        if let Some((&size, _)) = self.expected.first_key_value() {
            return Err(AuditError::Short {
                size,
                audited: self.frontier.size(),
            });
        }
        Ok(AuditSummary {
            size: self.frontier.size(),
            root: self.frontier.root(),
            checkpoints_verified: self.checkpoints_verified,
        })
    }
}
