//! Property tests of the stored-node scheme: proofs and roots assembled from the nodes
//! `Frontier::append` produced equal the RFC 9162 reference computed from all leaves,
//! and verify. Sizes are exhaustive up to 70, then edge cases around powers of two, then
//! deterministic pseudo-random picks up to 4100.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::collections::HashMap;

use ailedger_log::tree::MAX_TREE_SIZE;
use ailedger_log::{
    Error, Frontier, Hash, NodeId, consistency_plan, consistency_proof_from_leaves, inclusion_plan,
    inclusion_proof_from_leaves, leaf_hash, root_of, root_plan, verify_consistency,
    verify_inclusion,
};

const MAX: u64 = 4100;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct World {
    leaves: Vec<Hash>,
    nodes: HashMap<NodeId, Hash>,
    /// Root after each size, from the frontier (index = size).
    roots: Vec<Hash>,
}

fn world() -> World {
    let mut frontier = Frontier::new();
    let mut leaves = Vec::new();
    let mut nodes = HashMap::new();
    let mut roots = vec![frontier.root()];
    for i in 0..MAX {
        let leaf = leaf_hash(format!("entry {i}").as_bytes());
        leaves.push(leaf);
        let new = frontier.append(leaf);
        assert_eq!(new[0], (NodeId::leaf(i), leaf));
        // Leaf i completes one subtree per trailing one bit of i.
        assert_eq!(new.len(), 1 + i.trailing_ones() as usize);
        for (id, hash) in new {
            assert_eq!(
                id.end_leaf(),
                Some(i + 1),
                "node {id:?} completed by leaf {i}"
            );
            assert!(
                nodes.insert(id, hash).is_none(),
                "node {id:?} written twice"
            );
        }
        roots.push(frontier.root());
    }
    // At most two nodes per leaf.
    assert!(nodes.len() as u64 <= 2 * MAX);
    World {
        leaves,
        nodes,
        roots,
    }
}

fn sizes(rng: &mut Rng) -> Vec<u64> {
    let mut out: Vec<u64> = (1..=70).collect();
    for k in 6..=12 {
        let p = 1u64 << k;
        out.extend([p - 1, p, p + 1]);
    }
    out.push(MAX);
    for _ in 0..60 {
        out.push(1 + rng.below(MAX));
    }
    out
}

/// Checks the plan only names nodes inside the tree and that exist.
fn fetcher<'a>(w: &'a World, size: u64) -> impl Fn(NodeId) -> Option<Hash> + 'a {
    move |id| {
        assert!(
            id.end_leaf().is_some_and(|e| e <= size),
            "{id:?} outside tree of {size}"
        );
        w.nodes.get(&id).copied()
    }
}

fn log2_ceil(n: u64) -> usize {
    (64 - n.saturating_sub(1).leading_zeros()) as usize
}

#[test]
fn roots_from_frontier_and_root_plan_match_reference() {
    let w = world();
    let mut rng = Rng(0x5eed);
    for size in sizes(&mut rng).into_iter().chain([0]) {
        let reference = root_of(&w.leaves[..size as usize]);
        assert_eq!(w.roots[size as usize], reference, "frontier root at {size}");
        let plan = root_plan(size).unwrap();
        assert_eq!(plan.node_ids(), Frontier::node_ids_for_size(size));
        assert_eq!(
            plan.assemble_root(fetcher(&w, size)).unwrap(),
            reference,
            "root plan {size}"
        );

        // A frontier restored from stored nodes continues exactly like the original.
        let mut restored = Frontier::restore(size, |id| w.nodes.get(&id).copied()).unwrap();
        assert_eq!(restored.size(), size);
        assert_eq!(restored.root(), reference);
        if size < MAX {
            let new = restored.append(w.leaves[size as usize]);
            for (id, hash) in new {
                assert_eq!(w.nodes.get(&id), Some(&hash));
            }
            assert_eq!(restored.root(), w.roots[size as usize + 1]);
        }
    }
}

#[test]
fn inclusion_plans_match_reference_proofs() {
    let w = world();
    let mut rng = Rng(0xfeed);
    for size in sizes(&mut rng) {
        let leaves = &w.leaves[..size as usize];
        let root = w.roots[size as usize];
        let mut indices: Vec<u64> = if size <= 70 {
            (0..size).collect()
        } else {
            vec![
                0,
                1,
                size / 2,
                size - 2,
                size - 1,
                rng.below(size),
                rng.below(size),
            ]
        };
        indices.dedup();
        for index in indices {
            let plan = inclusion_plan(index, size).unwrap();
            assert!(
                plan.node_ids().len() <= 2 * log2_ceil(size) + 1,
                "plan too big"
            );
            let proof = plan.assemble(fetcher(&w, size)).unwrap();
            let reference = inclusion_proof_from_leaves(index, leaves).unwrap();
            assert_eq!(proof, reference, "inclusion {index}/{size}");
            verify_inclusion(&leaves[index as usize], index, size, &proof, &root).unwrap();
        }
    }
}

#[test]
fn consistency_plans_match_reference_proofs() {
    let w = world();
    let mut rng = Rng(0xbeef);
    let mut pairs: Vec<(u64, u64)> = Vec::new();
    for new in 0..=40 {
        for old in 0..=new {
            pairs.push((old, new));
        }
    }
    for new in sizes(&mut rng) {
        for old in [
            1,
            2,
            new / 2,
            new - 1,
            new,
            rng.below(new + 1),
            (new + 1).next_power_of_two() / 2,
        ] {
            if old <= new {
                pairs.push((old, new));
            }
        }
    }
    for (old, new) in pairs {
        let plan = consistency_plan(old, new).unwrap();
        assert!(
            plan.node_ids().len() <= 2 * log2_ceil(new) + 2,
            "plan too big"
        );
        let proof = plan.assemble(fetcher(&w, new)).unwrap();
        let reference = consistency_proof_from_leaves(old, &w.leaves[..new as usize]).unwrap();
        assert_eq!(proof, reference, "consistency {old}->{new}");
        let (r1, r2) = (w.roots[old as usize], w.roots[new as usize]);
        verify_consistency(old, new, &proof, &r1, &r2).unwrap();
        if !proof.is_empty() && r1 != r2 {
            assert!(verify_consistency(old, new, &proof, &r2, &r1).is_err());
        }
    }
}

#[test]
fn plans_report_missing_nodes_and_bad_sizes() {
    let plan = inclusion_plan(5, 13).unwrap();
    let first = plan.node_ids()[0];
    assert_eq!(plan.assemble(|_| None), Err(Error::MissingNode(first)));
    assert!(matches!(
        inclusion_plan(13, 13),
        Err(Error::IndexOutOfRange { .. })
    ));
    assert!(matches!(
        consistency_plan(14, 13),
        Err(Error::SizeOrder { .. })
    ));
    assert!(matches!(
        root_plan(MAX_TREE_SIZE + 1),
        Err(Error::SizeTooLarge(_))
    ));
    assert!(matches!(
        inclusion_plan(0, u64::MAX),
        Err(Error::SizeTooLarge(_))
    ));
    assert!(consistency_plan(0, 13).unwrap().is_empty());
    assert!(consistency_plan(13, 13).unwrap().is_empty());
    assert!(inclusion_plan(0, 1).unwrap().is_empty());
    assert_eq!(
        root_plan(0).unwrap().assemble_root(|_| None),
        Ok(ailedger_log::merkle::EMPTY_ROOT)
    );
    assert!(matches!(
        Frontier::from_nodes(5, vec![[0; 32]]),
        Err(Error::FrontierShape { size: 5, got: 1 })
    ));
    assert!(Frontier::restore(5, |_| None).is_err());
}

#[test]
fn plans_at_the_largest_size_stay_logarithmic() {
    let size = MAX_TREE_SIZE;
    let plan = inclusion_plan(size / 3, size).unwrap();
    assert!(plan.node_ids().len() <= 2 * 63 + 1);
    assert_eq!(plan.len(), 63);
    let plan = consistency_plan(size / 3, size).unwrap();
    assert!(plan.node_ids().len() <= 2 * 63 + 2);
    let ids = Frontier::node_ids_for_size(size);
    assert_eq!(ids.len(), 63);
    assert_eq!(ids.last().and_then(NodeId::end_leaf), Some(size));
}
