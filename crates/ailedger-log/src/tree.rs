//! The stored-node scheme: how a database keeps the Merkle tree so that appends cost
//! O(1) amortised writes and proofs cost O(log n) reads.
//!
//! The stores persist only *perfect* subtrees. A [`NodeId`] `(level, index)` names the
//! hash of the perfect subtree over leaves `[index·2^level, (index+1)·2^level)`. Such a
//! node never changes once the tree has grown past its last leaf, so rows are written
//! once and never updated.
//!
//! * On append, [`Frontier::append`] returns the leaf node and every perfect subtree the
//!   new leaf completes (on average fewer than two nodes per leaf). The store writes
//!   them in the same transaction as the entry.
//! * The RFC 9162 tree of any size is the right-to-left fold of the perfect subtrees
//!   given by the binary expansion of its size, so its root, and every proof element,
//!   can be computed from O(log n) stored nodes. [`inclusion_plan`],
//!   [`consistency_plan`] and [`root_plan`] say which nodes to read; [`Plan::assemble`]
//!   turns what was read into the RFC 9162 proof or root.
//!
//! Nothing here does I/O or async: the store fetches the listed nodes however it likes
//! (one `WHERE (level, idx) IN (...)` query) and hands them back through a closure.
//!
//! The in-memory [`Frontier`] must only move forward with committed data: append on a
//! clone inside the write transaction and keep the clone once the commit succeeds (or
//! [`Frontier::restore`] after a failed commit).
//!
//! ```
//! use std::collections::HashMap;
//! use ailedger_log::{Frontier, NodeId, inclusion_plan, leaf_hash, root_plan, verify_inclusion};
//!
//! let mut frontier = Frontier::new();
//! let mut table: HashMap<NodeId, [u8; 32]> = HashMap::new(); // the store's node table
//! for seq in 1..=10u64 {
//!     let body = format!("entry {seq}");
//!     // In the entry's write transaction: insert the entry and these node rows.
//!     for (id, hash) in frontier.append(leaf_hash(body.as_bytes())) {
//!         table.insert(id, hash);
//!     }
//! }
//!
//! // Inclusion proof of seq 3 (leaf index 2) at size 10: one batched read.
//! let plan = inclusion_plan(2, 10)?;
//! let rows: HashMap<_, _> = plan.node_ids().into_iter().map(|id| (id, table[&id])).collect();
//! let proof = plan.assemble(|id| rows.get(&id).copied())?;
//!
//! // The root at any size (e.g. to sign a checkpoint), from O(log n) rows.
//! let root = root_plan(10)?.assemble_root(|id| table.get(&id).copied())?;
//! assert_eq!(root, frontier.root());
//! verify_inclusion(&table[&NodeId::leaf(2)], 2, 10, &proof, &root)?;
//!
//! // After a restart, reload the frontier from O(log n) rows.
//! let restored = Frontier::restore(10, |id| table.get(&id).copied())?;
//! assert_eq!(restored, frontier);
//! # Ok::<(), ailedger_log::Error>(())
//! ```

use crate::merkle::{EMPTY_ROOT, node_hash, split_point};
use crate::{Error, Hash};

/// The largest tree size (and so leaf index bound) accepted by plans and
/// [`Frontier::from_nodes`]: sizes and indices must fit a signed 64-bit database column.
pub const MAX_TREE_SIZE: u64 = i64::MAX as u64;

/// A stored perfect subtree: the hash over leaves `[index·2^level, (index+1)·2^level)`.
/// Level 0 nodes are the leaf hashes themselves, with `index` = leaf index = seq − 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub const fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }

    /// The leaf node for 0-based leaf `index`.
    pub const fn leaf(index: u64) -> Self {
        Self { level: 0, index }
    }

    /// First leaf covered, or `None` if it does not fit in a `u64`.
    pub fn first_leaf(&self) -> Option<u64> {
        self.index
            .checked_mul(1u64.checked_shl(u32::from(self.level))?)
    }

    /// One past the last leaf covered: the smallest tree size containing this node.
    pub fn end_leaf(&self) -> Option<u64> {
        self.index
            .checked_add(1)?
            .checked_mul(1u64.checked_shl(u32::from(self.level))?)
    }
}

/// Appends the aligned perfect subtrees covering leaves `[start, end)`, left to right.
///
/// For every range the RFC 9162 recursion produces (`start` is a multiple of a power of
/// two at least `end - start`), these are the binary digits of `end - start`, and the
/// right-to-left fold of their hashes is `MTH(D[start:end])`.
fn cover(start: u64, end: u64, out: &mut Vec<NodeId>) {
    let mut pos = start;
    while pos < end {
        let by_alignment = if pos == 0 { 63 } else { pos.trailing_zeros() };
        let by_length = 63 - (end - pos).leading_zeros();
        let level = by_alignment.min(by_length);
        out.push(NodeId {
            level: level as u8,
            index: pos >> level,
        });
        pos += 1u64 << level;
    }
}

fn fold_right(hashes: impl DoubleEndedIterator<Item = Hash>) -> Option<Hash> {
    hashes.rev().reduce(|right, left| node_hash(&left, &right))
}

/// The compact range `[0, size)`: one hash per set bit of `size`, largest subtree first.
///
/// This is all the state an appender needs. Keep one in memory next to the store; after a
/// restart, rebuild it with [`Frontier::restore`] from the O(log n) nodes named by
/// [`Frontier::node_ids_for_size`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The frontier's perfect-subtree hashes, in the order of
    /// [`Frontier::node_ids_for_size`]`(self.size())`.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The stored nodes making up the frontier of a tree of `size` leaves, largest first.
    pub fn node_ids_for_size(size: u64) -> Vec<NodeId> {
        let mut out = Vec::with_capacity(size.count_ones() as usize);
        cover(0, size, &mut out);
        out
    }

    /// Rebuilds a frontier from the hashes of [`Frontier::node_ids_for_size`]`(size)`, in
    /// that order.
    pub fn from_nodes(size: u64, hashes: Vec<Hash>) -> Result<Self, Error> {
        if size > MAX_TREE_SIZE {
            return Err(Error::SizeTooLarge(size));
        }
        if hashes.len() != size.count_ones() as usize {
            return Err(Error::FrontierShape {
                size,
                got: hashes.len(),
            });
        }
        Ok(Self { size, hashes })
    }

    /// Rebuilds a frontier by looking up each of its nodes with `fetch`.
    pub fn restore<F: Fn(NodeId) -> Option<Hash>>(size: u64, fetch: F) -> Result<Self, Error> {
        if size > MAX_TREE_SIZE {
            return Err(Error::SizeTooLarge(size));
        }
        let hashes = Self::node_ids_for_size(size)
            .into_iter()
            .map(|id| fetch(id).ok_or(Error::MissingNode(id)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { size, hashes })
    }

    /// Appends leaf `self.size()` and returns the nodes to store: the leaf node
    /// `(0, size)` first, then each perfect subtree it completes, bottom-up.
    pub fn append(&mut self, leaf_hash: Hash) -> Vec<(NodeId, Hash)> {
        let mut out = Vec::with_capacity(2);
        self.append_into(leaf_hash, &mut out);
        out
    }

    /// [`Frontier::append`] without allocating: the new nodes are pushed onto `out`.
    pub fn append_into(&mut self, leaf_hash: Hash, out: &mut Vec<(NodeId, Hash)>) {
        let mut id = NodeId::leaf(self.size);
        let mut hash = leaf_hash;
        out.push((id, hash));
        // While the new node is a right child, its left sibling is the smallest subtree
        // of the frontier; merge them.
        while id.index & 1 == 1 {
            let Some(left) = self.hashes.pop() else { break };
            hash = node_hash(&left, &hash);
            id = NodeId {
                level: id.level + 1,
                index: id.index >> 1,
            };
            out.push((id, hash));
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// Appends a leaf without reporting the new nodes (for audits and tests).
    pub fn push(&mut self, leaf_hash: Hash) {
        let mut hash = leaf_hash;
        let mut index = self.size;
        while index & 1 == 1 {
            let Some(left) = self.hashes.pop() else { break };
            hash = node_hash(&left, &hash);
            index >>= 1;
        }
        self.hashes.push(hash);
        self.size += 1;
    }

    /// The RFC 9162 root of the tree of `self.size()` leaves (O(log n) hashing).
    pub fn root(&self) -> Hash {
        fold_right(self.hashes.iter().copied()).unwrap_or(EMPTY_ROOT)
    }
}

/// Which stored nodes a proof or root needs, and how to combine them.
///
/// Each output element is one *group* of nodes: a single perfect subtree, or, on the
/// right edge of the tree, several perfect subtrees folded right to left into the
/// ephemeral (never stored) node `MTH(D[a:size])`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    groups: Vec<Vec<NodeId>>,
}

impl Plan {
    fn from_ranges(ranges: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let groups = ranges
            .into_iter()
            .map(|(start, end)| {
                let mut ids = Vec::new();
                cover(start, end, &mut ids);
                ids
            })
            .collect();
        Self { groups }
    }

    /// Every stored node to read, without duplicates, in assembly order. Fetch these in
    /// one query.
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.groups.iter().flatten().copied().collect()
    }

    /// Number of hashes [`Plan::assemble`] returns.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when the proof is empty (e.g. a one-leaf tree or equal sizes).
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Builds the RFC 9162 proof (or, for a [`root_plan`], the one-element root) from
    /// the stored nodes. `fetch` returns the stored hash of a node, or `None` if it is
    /// missing, which is reported as [`Error::MissingNode`].
    pub fn assemble<F: Fn(NodeId) -> Option<Hash>>(&self, fetch: F) -> Result<Vec<Hash>, Error> {
        self.groups
            .iter()
            .map(|ids| {
                let hashes = ids
                    .iter()
                    .map(|id| fetch(*id).ok_or(Error::MissingNode(*id)))
                    .collect::<Result<Vec<_>, _>>()?;
                // Groups are never empty by construction; an empty one would be the
                // empty tree.
                Ok(fold_right(hashes.into_iter()).unwrap_or(EMPTY_ROOT))
            })
            .collect()
    }

    /// For a [`root_plan`]: the root hash (the empty-tree hash for size 0).
    pub fn assemble_root<F: Fn(NodeId) -> Option<Hash>>(&self, fetch: F) -> Result<Hash, Error> {
        let hashes = self.assemble(fetch)?;
        match hashes.as_slice() {
            [] => Ok(EMPTY_ROOT),
            [root] => Ok(*root),
            _ => Err(Error::NotARootPlan),
        }
    }
}

fn check_size(size: u64) -> Result<(), Error> {
    if size > MAX_TREE_SIZE {
        Err(Error::SizeTooLarge(size))
    } else {
        Ok(())
    }
}

/// The nodes needed for the inclusion proof of leaf `index` (0-based, = seq − 1) in the
/// tree of `size` leaves. Follows `PATH` of RFC 9162 §2.1.3.1.
pub fn inclusion_plan(index: u64, size: u64) -> Result<Plan, Error> {
    check_size(size)?;
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    // Walk from the root down to the leaf, noting each sibling range; the proof lists
    // them leaf-first.
    let (mut start, mut end) = (0u64, size);
    let mut siblings = Vec::new();
    while end - start > 1 {
        let mid = start + split_point(end - start);
        if index < mid {
            siblings.push((mid, end));
            end = mid;
        } else {
            siblings.push((start, mid));
            start = mid;
        }
    }
    siblings.reverse();
    Ok(Plan::from_ranges(siblings))
}

/// The nodes needed for the consistency proof from the tree of `old_size` leaves to the
/// tree of `new_size` leaves. Follows `SUBPROOF` of RFC 9162 §2.1.4.1; empty when
/// `old_size` is 0 or equals `new_size`.
pub fn consistency_plan(old_size: u64, new_size: u64) -> Result<Plan, Error> {
    check_size(new_size)?;
    if old_size > new_size {
        return Err(Error::SizeOrder { old_size, new_size });
    }
    let mut ranges = Vec::new();
    if old_size > 0 && old_size < new_size {
        let (mut start, mut end) = (0u64, new_size);
        // `whole`: the current subtree's left part is the entire old tree, whose root
        // the verifier already has.
        let mut whole = true;
        loop {
            if end == old_size {
                if !whole {
                    ranges.push((start, end));
                }
                break;
            }
            let mid = start + split_point(end - start);
            if old_size <= mid {
                ranges.push((mid, end));
                end = mid;
            } else {
                ranges.push((start, mid));
                start = mid;
                whole = false;
            }
        }
    }
    ranges.reverse();
    Ok(Plan::from_ranges(ranges))
}

/// The nodes needed to compute the root of the tree of `size` leaves; use
/// [`Plan::assemble_root`].
pub fn root_plan(size: u64) -> Result<Plan, Error> {
    check_size(size)?;
    let plan = if size == 0 {
        Plan { groups: Vec::new() }
    } else {
        Plan::from_ranges([(0, size)])
    };
    Ok(plan)
}
