//! The JSON shapes of proofs, shared by the server (which produces them) and the CLI
//! and auditors (which verify them), so both sides serialise exactly the same fields.
//!
//! Hashes are 64 lowercase hex digits; anything else is refused on deserialisation.

use serde::{Deserialize, Serialize};

use crate::checkpoint::Checkpoint;
use crate::merkle::{verify_consistency, verify_inclusion};
use crate::{Error, Hash};

/// `serde(with)` helpers for hashes as lowercase hex strings.
pub mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::Hash;

    /// Decodes exactly 64 lowercase hex digits.
    pub fn decode(text: &str) -> Option<Hash> {
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(out)
    }

    pub fn serialize<S: Serializer>(hash: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        decode(&text).ok_or_else(|| D::Error::custom("expected 64 lowercase hex digits"))
    }

    /// The same for a list of hashes.
    pub mod list {
        use serde::ser::SerializeSeq as _;
        use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

        use crate::Hash;

        pub fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
            let mut seq = s.serialize_seq(Some(hashes.len()))?;
            for h in hashes {
                seq.serialize_element(&hex::encode(h))?;
            }
            seq.end()
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
            let texts = Vec::<String>::deserialize(d)?;
            texts
                .iter()
                .map(|t| {
                    super::decode(t)
                        .ok_or_else(|| D::Error::custom("expected 64 lowercase hex digits"))
                })
                .collect()
        }
    }
}

/// Proof that entry `seq` (leaf `leaf_index` = `seq` − 1) is in the tree of `tree_size`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    pub leaf_index: u64,
    pub seq: u64,
    pub tree_size: u64,
    #[serde(with = "hex_hash")]
    pub leaf_hash: Hash,
    #[serde(with = "hex_hash::list")]
    pub hashes: Vec<Hash>,
}

impl InclusionProof {
    /// A proof for entry `seq`; fails if `seq` is 0.
    pub fn new(
        seq: u64,
        tree_size: u64,
        leaf_hash: Hash,
        hashes: Vec<Hash>,
    ) -> Result<Self, Error> {
        let leaf_index = seq.checked_sub(1).ok_or(Error::SeqZero)?;
        Ok(Self {
            leaf_index,
            seq,
            tree_size,
            leaf_hash,
            hashes,
        })
    }

    /// Verifies against the root of the tree of `self.tree_size` leaves.
    pub fn verify(&self, root: &Hash) -> Result<(), Error> {
        if self.seq == 0 || self.leaf_index != self.seq - 1 {
            return Err(Error::SeqIndexMismatch {
                seq: self.seq,
                leaf_index: self.leaf_index,
            });
        }
        verify_inclusion(
            &self.leaf_hash,
            self.leaf_index,
            self.tree_size,
            &self.hashes,
            root,
        )
    }

    /// Verifies against an (already opened) checkpoint, which must be of `tree_size`.
    pub fn verify_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), Error> {
        if checkpoint.size != self.tree_size {
            return Err(Error::CheckpointSize {
                proof: self.tree_size,
                checkpoint: checkpoint.size,
            });
        }
        self.verify(&checkpoint.root)
    }

    /// Also checks the leaf hash against the entry's canonical body.
    pub fn verify_body(&self, body: &[u8], root: &Hash) -> Result<(), Error> {
        if crate::merkle::leaf_hash(body) != self.leaf_hash {
            return Err(Error::LeafMismatch);
        }
        self.verify(root)
    }
}

/// Proof that the tree of `from` leaves is a prefix of the tree of `to` leaves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    #[serde(with = "hex_hash::list")]
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    pub fn verify(&self, from_root: &Hash, to_root: &Hash) -> Result<(), Error> {
        verify_consistency(self.from, self.to, &self.hashes, from_root, to_root)
    }

    /// Verifies between two (already opened) checkpoints of the same origin, whose sizes
    /// must be `from` and `to`.
    pub fn verify_checkpoints(&self, old: &Checkpoint, new: &Checkpoint) -> Result<(), Error> {
        if old.origin != new.origin {
            return Err(Error::OriginMismatch);
        }
        if old.size != self.from {
            return Err(Error::CheckpointSize {
                proof: self.from,
                checkpoint: old.size,
            });
        }
        if new.size != self.to {
            return Err(Error::CheckpointSize {
                proof: self.to,
                checkpoint: new.size,
            });
        }
        self.verify(&old.root, &new.root)
    }
}
