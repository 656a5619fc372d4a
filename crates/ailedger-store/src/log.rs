//! The tamper-evident log's storage: the [`LogStore`] trait every [`Store`](crate::Store)
//! also implements, and [`FrontierCache`], the appender state a backend keeps next to
//! its pool.
//!
//! The tree scheme is `ailedger_log::tree`: the store persists the perfect subtrees the
//! [`Frontier`] returns on append (table `log_nodes`), in the same transaction as the
//! entries, and answers roots and proofs from O(log n) of them. The root is never
//! computed on the write path. Signed checkpoints are kept in table `checkpoints`; they
//! are not entries.
//!
//! The backends provide the primitive reads and writes (the relational ones share
//! theirs, in `ailedger-store-sql`); roots and proofs are provided methods here, so
//! every backend computes them alike.

use std::collections::HashMap;

use ailedger_log::{
    ConsistencyProof, Frontier, Hash, InclusionProof, NodeId, consistency_plan, inclusion_plan,
    root_plan,
};
use async_trait::async_trait;

use crate::{Result, StoreError};

/// A signed checkpoint as stored: the note, its parsed size and root, and the verifier
/// key (note format) that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    pub key: String,
    pub time_us: i64,
}

/// The last committed [`Frontier`] of this process, so that an append does not read it
/// back from the database. Only trusted when its size equals the size the append
/// reserved from: another process may have appended meanwhile (PostgreSQL).
#[derive(Debug, Default)]
pub struct FrontierCache(std::sync::Mutex<Frontier>);

impl FrontierCache {
    /// The cached frontier if it is the one for a tree of `size` leaves.
    pub fn get(&self, size: u64) -> Option<Frontier> {
        let f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        (f.size() == size).then(|| f.clone())
    }

    /// Remembers `f`; call only after the transaction that wrote its nodes committed.
    pub fn set(&self, f: Frontier) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = f;
    }
}

/// Reading and writing the log's tables. Roots and proofs are provided on top of
/// [`LogStore::log_nodes`].
#[async_trait]
pub trait LogStore: Send + Sync {
    /// The stored hashes of the given nodes; missing nodes are absent from the map.
    async fn log_nodes(&self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>>;
    /// The stored leaf hashes (level-0 nodes) of seqs greater than `after`, at most
    /// `limit`, in seq order, as `(seq, leaf hash)`.
    async fn log_leaves(&self, after: u64, limit: u32) -> Result<Vec<(u64, Hash)>>;
    /// The size of the committed tree (= the ledger head; both move in one transaction).
    async fn tree_size(&self) -> Result<u64>;
    /// The checkpoint with the largest size, if any.
    async fn latest_checkpoint(&self) -> Result<Option<SavedCheckpoint>>;
    /// Checkpoints with size greater than `after`, at most `limit`, by size.
    async fn checkpoints(&self, after: u64, limit: u32) -> Result<Vec<SavedCheckpoint>>;
    /// Stores a checkpoint; `false` if one of that size already exists (and is kept).
    async fn save_checkpoint(&self, cp: &SavedCheckpoint) -> Result<bool>;

    /// The RFC 9162 root of the first `size` entries, from O(log n) stored nodes.
    async fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size).await?;
        let plan = root_plan(size)?;
        let rows = self.log_nodes(&plan.node_ids()).await?;
        Ok(plan.assemble_root(|id| rows.get(&id).copied())?)
    }

    /// The inclusion proof of entry `seq` in the tree of `size` entries. The leaf hash
    /// is the stored level-0 node.
    async fn inclusion_proof(&self, seq: u64, size: u64) -> Result<InclusionProof> {
        let index = seq.checked_sub(1).ok_or(ailedger_log::Error::SeqZero)?;
        self.check_size(size).await?;
        let plan = inclusion_plan(index, size)?;
        let mut ids = plan.node_ids();
        ids.push(NodeId::leaf(index));
        let rows = self.log_nodes(&ids).await?;
        let hashes = plan.assemble(|id| rows.get(&id).copied())?;
        let leaf = rows
            .get(&NodeId::leaf(index))
            .copied()
            .ok_or(ailedger_log::Error::MissingNode(NodeId::leaf(index)))?;
        Ok(InclusionProof::new(seq, size, leaf, hashes)?)
    }

    /// The consistency proof from the tree of `from` entries to the tree of `to`.
    async fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof> {
        self.check_size(to).await?;
        let plan = consistency_plan(from, to)?;
        let rows = self.log_nodes(&plan.node_ids()).await?;
        let hashes = plan.assemble(|id| rows.get(&id).copied())?;
        Ok(ConsistencyProof { from, to, hashes })
    }

    /// Fails with [`StoreError::BeyondHead`] when `size` exceeds the tree.
    async fn check_size(&self, size: u64) -> Result<()> {
        let head = self.tree_size().await?;
        if size > head {
            return Err(StoreError::BeyondHead { size, head });
        }
        Ok(())
    }
}
