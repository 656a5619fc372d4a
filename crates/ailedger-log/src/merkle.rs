//! RFC 9162 (Certificate Transparency v2) Merkle tree hashing and proof verification.
//!
//! This module exists so that every other part of ailedger — the stores, the server,
//! the CLI's `log verify`, the audit — agrees on one definition of the tree. The
//! verification functions follow the algorithms of RFC 9162 §2.1.3.2 (inclusion) and
//! §2.1.4.2 (consistency) step by step; the `*_from_leaves` functions follow the
//! recursive definitions of §2.1.3.1 (`PATH`) and §2.1.4.1 (`SUBPROOF`) and are the
//! reference against which the stored-node plans in [`crate::tree`] are tested.
//!
//! All inputs may come from the network: nothing here panics, whatever the sizes,
//! indices or proof lengths.

use sha2::{Digest as _, Sha256};

use crate::{Error, Hash};

/// Domain-separation prefix of a leaf hash.
pub const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash.
pub const NODE_PREFIX: u8 = 0x01;

/// The root of the empty tree: `SHA-256()` of no bytes.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Leaf hash: `SHA-256(0x00 || bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([LEAF_PREFIX]);
    h.update(bytes);
    h.finalize().into()
}

/// Interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([NODE_PREFIX]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly smaller than `n`. Only meaningful for `n >= 2`.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[n])` of RFC 9162 §2.1.1 over already-hashed leaves.
pub fn root_of(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => EMPTY_ROOT,
        [one] => *one,
        _ => {
            let k = split_point(leaf_hashes.len() as u64) as usize;
            node_hash(&root_of(&leaf_hashes[..k]), &root_of(&leaf_hashes[k..]))
        }
    }
}

/// `PATH(m, D[n])` of RFC 9162 §2.1.3.1: the inclusion proof of leaf `index` in the
/// tree over `leaf_hashes`. Reference implementation, O(n) hashing; for tests and tools.
pub fn inclusion_proof_from_leaves(index: u64, leaf_hashes: &[Hash]) -> Result<Vec<Hash>, Error> {
    let size = leaf_hashes.len() as u64;
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    fn path(m: usize, d: &[Hash], out: &mut Vec<Hash>) {
        if d.len() <= 1 {
            return;
        }
        let k = split_point(d.len() as u64) as usize;
        if m < k {
            path(m, &d[..k], out);
            out.push(root_of(&d[k..]));
        } else {
            path(m - k, &d[k..], out);
            out.push(root_of(&d[..k]));
        }
    }
    let mut out = Vec::new();
    path(index as usize, leaf_hashes, &mut out);
    Ok(out)
}

/// `PROOF(m, D[n])` of RFC 9162 §2.1.4.1: the consistency proof from the tree of the
/// first `old_size` leaves to the tree over all of `leaf_hashes`. Reference
/// implementation, O(n) hashing; for tests and tools. Empty when `old_size` is 0 or
/// equal to the new size.
pub fn consistency_proof_from_leaves(
    old_size: u64,
    leaf_hashes: &[Hash],
) -> Result<Vec<Hash>, Error> {
    let new_size = leaf_hashes.len() as u64;
    if old_size > new_size {
        return Err(Error::SizeOrder { old_size, new_size });
    }
    fn subproof(m: usize, d: &[Hash], whole: bool, out: &mut Vec<Hash>) {
        let n = d.len();
        if m == n {
            if !whole {
                out.push(root_of(d));
            }
            return;
        }
        let k = split_point(n as u64) as usize;
        if m <= k {
            subproof(m, &d[..k], whole, out);
            out.push(root_of(&d[k..]));
        } else {
            subproof(m - k, &d[k..], false, out);
            out.push(root_of(&d[..k]));
        }
    }
    let mut out = Vec::new();
    if old_size > 0 && old_size < new_size {
        subproof(old_size as usize, leaf_hashes, true, &mut out);
    }
    Ok(out)
}

/// Recomputes the root from an inclusion proof, RFC 9162 §2.1.3.2 steps 1–4.
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, Error> {
    // Step 1.
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    // Steps 2 and 3.
    let mut f_n = index;
    let mut s_n = size - 1;
    let mut r = *leaf_hash;
    // Step 4.
    for p in proof {
        if s_n == 0 {
            return Err(Error::ProofLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5, first half.
    if s_n != 0 {
        return Err(Error::ProofLength);
    }
    Ok(r)
}

/// Verifies that `leaf_hash` is leaf number `index` (0-based) of the tree of `size`
/// leaves whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    let computed = root_from_inclusion_proof(leaf_hash, index, size, proof)?;
    if &computed != root {
        return Err(Error::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a prefix of the
/// tree of `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2).
///
/// The degenerate cases the RFC leaves to the caller are strict here: equal sizes need
/// equal roots and an empty proof; from size 0 the proof must be empty and `old_root`
/// must be the empty-tree hash.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), Error> {
    if old_size > new_size {
        return Err(Error::SizeOrder { old_size, new_size });
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(Error::ProofLength);
        }
        return if old_root == new_root {
            Ok(())
        } else {
            Err(Error::RootMismatch)
        };
    }
    if old_size == 0 {
        if !proof.is_empty() {
            return Err(Error::ProofLength);
        }
        return if old_root == &EMPTY_ROOT {
            Ok(())
        } else {
            Err(Error::RootMismatch)
        };
    }
    // Step 1.
    let Some((first, rest)) = proof.split_first() else {
        return Err(Error::ProofLength);
    };
    // Step 2: when old_size is a power of two, the old root itself starts the path.
    let (seed, path) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    // Step 3.
    let mut f_n = old_size - 1;
    let mut s_n = new_size - 1;
    // Step 4.
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5.
    let mut f_r = *seed;
    let mut s_r = *seed;
    // Step 6.
    for c in path {
        if s_n == 0 {
            return Err(Error::ProofLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 7.
    if s_n != 0 {
        return Err(Error::ProofLength);
    }
    if &f_r != old_root || &s_r != new_root {
        return Err(Error::RootMismatch);
    }
    Ok(())
}
