//! Published RFC 6962 test vectors, and RFC 9162 edge cases of the verifiers.
//!
//! Source: the 8-leaf tree used by certificate-transparency's merkle_tree_test and by
//! Trillian / transparency-dev/merkle (`proof/verify_test.go`: `leaves`, `roots`,
//! `inclusionProofs`, `consistencyProofs`). The hashes are facts about SHA-256, typed
//! in here; the corruption probes mirror the kinds that suite applies.

#![allow(clippy::unwrap_used)] // tests may unwrap

use ailedger_log::merkle::{EMPTY_ROOT, root_from_inclusion_proof};
use ailedger_log::{
    Error, Hash, consistency_proof_from_leaves, inclusion_proof_from_leaves, leaf_hash, root_of,
    verify_consistency, verify_inclusion,
};

fn h(s: &str) -> Hash {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).unwrap();
    out
}

const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// (0-based leaf index, tree size, proof)
const INCLUSION: &[(u64, u64, &[&str])] = &[
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, proof)
const CONSISTENCY: &[(u64, u64, &[&str])] = &[
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn leaf_hashes() -> Vec<Hash> {
    LEAVES
        .iter()
        .map(|l| leaf_hash(&hex::decode(l).unwrap()))
        .collect()
}

fn root(size: u64) -> Hash {
    h(ROOTS[size as usize - 1])
}

fn hashes(list: &[&str]) -> Vec<Hash> {
    list.iter().map(|s| h(s)).collect()
}

const SOME_HASH: &str = "abacaba000000000000000000000000000000000000000000060061e00123456";

#[test]
fn roots_for_sizes_1_to_8() {
    let leaves = leaf_hashes();
    for size in 1..=8 {
        assert_eq!(root_of(&leaves[..size]), h(ROOTS[size - 1]), "size {size}");
    }
    assert_eq!(root_of(&[]), EMPTY_ROOT);
    assert_eq!(
        hex::encode(EMPTY_ROOT),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn leaf_and_node_hashes_have_the_rfc_prefixes() {
    // SHA-256 of the single byte 0x00 (the leaf hash of the empty entry) ...
    assert_eq!(leaf_hash(b""), h(ROOTS[0]));
    // ... and of 0x01 || left || right.
    let leaves = leaf_hashes();
    assert_eq!(ailedger_log::node_hash(&leaves[0], &leaves[1]), h(ROOTS[1]));
}

#[test]
fn published_inclusion_proofs_generate_and_verify() {
    let leaves = leaf_hashes();
    for &(index, size, proof) in INCLUSION {
        let proof = hashes(proof);
        let got = inclusion_proof_from_leaves(index, &leaves[..size as usize]).unwrap();
        assert_eq!(got, proof, "generate {index}/{size}");
        let leaf = leaves[index as usize];
        verify_inclusion(&leaf, index, size, &proof, &root(size)).unwrap();

        // Corruptions: each must fail.
        let r = root(size);
        let mut probes: Vec<(u64, u64, Hash, Vec<Hash>, Hash, String)> = vec![
            (
                index.wrapping_sub(1),
                size,
                leaf,
                proof.clone(),
                r,
                "index-1".into(),
            ),
            (index + 1, size, leaf, proof.clone(), r, "index+1".into()),
            (index ^ 2, size, leaf, proof.clone(), r, "index^2".into()),
            (index, size * 2, leaf, proof.clone(), r, "size*2".into()),
            (index, size / 2, leaf, proof.clone(), r, "size/2".into()),
            (
                index,
                size,
                h(SOME_HASH),
                proof.clone(),
                r,
                "wrong leaf".into(),
            ),
            (
                index,
                size,
                leaf,
                proof.clone(),
                EMPTY_ROOT,
                "empty root".into(),
            ),
            (
                index,
                size,
                leaf,
                proof.clone(),
                h(SOME_HASH),
                "random root".into(),
            ),
            (
                index,
                size,
                leaf,
                [proof.clone(), vec![r]].concat(),
                r,
                "trailing root".into(),
            ),
            (
                index,
                size,
                leaf,
                [vec![r], proof.clone()].concat(),
                r,
                "preceding root".into(),
            ),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i][0] ^= 8;
            probes.push((index, size, leaf, p, r, format!("flip proof[{i}]")));
        }
        if !proof.is_empty() {
            probes.push((
                index,
                size,
                leaf,
                proof[..proof.len() - 1].to_vec(),
                r,
                "cut".into(),
            ));
        }
        if proof.len() > 1 {
            let mut p = proof.clone();
            p.insert(1, h(SOME_HASH));
            probes.push((index, size, leaf, p, r, "inserted".into()));
        }
        for (i, s, l, p, rt, desc) in probes {
            if i == index && s == size && l == leaf && p == proof && rt == r {
                continue; // e.g. index ^ 2 == index is impossible, but size/2 == size for 1
            }
            assert!(
                verify_inclusion(&l, i, s, &p, &rt).is_err(),
                "{desc} verified for {index}/{size}"
            );
        }
    }
}

#[test]
fn published_consistency_proofs_generate_and_verify() {
    let leaves = leaf_hashes();
    for &(old, new, proof) in CONSISTENCY {
        let proof = hashes(proof);
        let got = consistency_proof_from_leaves(old, &leaves[..new as usize]).unwrap();
        assert_eq!(got, proof, "generate {old}->{new}");
        let (r1, r2) = (root(old), root(new));
        verify_consistency(old, new, &proof, &r1, &r2).unwrap();
        if proof.is_empty() {
            continue;
        }
        let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>, String)> = vec![
            (old - 1, new, r1, r2, proof.clone(), "old-1".into()),
            (old + 1, new, r1, r2, proof.clone(), "old+1".into()),
            (old ^ 2, new, r1, r2, proof.clone(), "old^2".into()),
            (old, new * 2, r1, r2, proof.clone(), "new*2".into()),
            (old, new / 2, r1, r2, proof.clone(), "new/2".into()),
            (
                old,
                new,
                h(SOME_HASH),
                r2,
                proof.clone(),
                "wrong root1".into(),
            ),
            (
                old,
                new,
                r1,
                h(SOME_HASH),
                proof.clone(),
                "wrong root2".into(),
            ),
            (old, new, r2, r1, proof.clone(), "swapped".into()),
            (old, new, r1, r2, vec![], "empty proof".into()),
            (
                old,
                new,
                r1,
                r2,
                [proof.clone(), vec![r1]].concat(),
                "trailing r1".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                [proof.clone(), vec![r2]].concat(),
                "trailing r2".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                [vec![r1], proof.clone()].concat(),
                "preceding r1".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                [vec![r2], proof.clone()].concat(),
                "preceding r2".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                [vec![proof[0]], proof.clone()].concat(),
                "dup p0".into(),
            ),
            (
                old,
                new,
                r1,
                r2,
                proof[..proof.len() - 1].to_vec(),
                "truncated".into(),
            ),
        ];
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i][0] ^= 16;
            probes.push((old, new, r1, r2, p, format!("flip proof[{i}]")));
        }
        for (o, n, a, b, p, desc) in probes {
            assert!(
                verify_consistency(o, n, &p, &a, &b).is_err(),
                "{desc} verified for {old}->{new}"
            );
        }
    }
}

#[test]
fn degenerate_sizes() {
    let a = h(SOME_HASH);
    let b = root(3);
    // Inclusion in an empty tree, or past the end, never verifies.
    for (i, s) in [(0, 0), (1, 0), (2, 1), (u64::MAX, u64::MAX)] {
        assert!(verify_inclusion(&a, i, s, &[], &a).is_err());
    }
    // One-leaf tree: root is the leaf hash, proof empty.
    verify_inclusion(&a, 0, 1, &[], &a).unwrap();
    assert_eq!(
        verify_inclusion(&a, 0, 1, &[a], &a),
        Err(Error::ProofLength)
    );
    // Huge proofs are refused, not looped over forever.
    let long = vec![a; 100_000];
    assert_eq!(
        root_from_inclusion_proof(&a, 5, 8, &long),
        Err(Error::ProofLength)
    );
    assert!(verify_consistency(3, 8, &long, &a, &b).is_err());
    // Consistency degenerate cases.
    verify_consistency(0, 0, &[], &EMPTY_ROOT, &EMPTY_ROOT).unwrap();
    verify_consistency(0, 5, &[], &EMPTY_ROOT, &b).unwrap();
    assert!(verify_consistency(0, 5, &[], &a, &b).is_err());
    assert!(verify_consistency(0, 5, &[a], &EMPTY_ROOT, &b).is_err());
    verify_consistency(3, 3, &[], &b, &b).unwrap();
    assert!(verify_consistency(3, 3, &[], &a, &b).is_err());
    assert!(verify_consistency(3, 3, &[b], &b, &b).is_err());
    assert!(matches!(
        verify_consistency(4, 3, &[], &b, &b),
        Err(Error::SizeOrder { .. })
    ));
    assert!(verify_consistency(1, 2, &[], &a, &b).is_err());
    assert!(inclusion_proof_from_leaves(3, &leaf_hashes()[..3]).is_err());
    assert!(consistency_proof_from_leaves(4, &leaf_hashes()[..3]).is_err());
}
