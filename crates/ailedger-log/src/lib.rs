//! ailedger's tamper-evident log: everything needed to commit ledger entries to an
//! RFC 9162 Merkle tree, prove things about it and sign its state.
//!
//! * [`merkle`]: RFC 9162 hashing, proof verification and reference proof generation.
//! * [`tree`]: the stored-node scheme the databases use — [`Frontier`] for appends,
//!   [`inclusion_plan`] / [`consistency_plan`] / [`root_plan`] for O(log n)-read proofs.
//! * [`note`] and [`checkpoint`]: C2SP signed notes and tlog checkpoints with Ed25519.
//! * [`proof`]: the JSON shapes of proofs served by the API.
//! * [`audit`]: the streaming tree check of a full audit ([`Audit`]).
//! * [`verify`]: the full audit behind `ailedger log verify` over an [`AuditSource`],
//!   fork detection ([`check_extends`]) and the per-entry leaf re-check ([`check_leaf`])
//!   that the checkpoint signer shares.
//! * [`trust`]: key pinning on first use and the last checkpoint seen ([`TrustState`]).
//!
//! **Architecture invariant:** this crate is pure. It does no file or network I/O and
//! knows nothing of databases or HTTP: stores pass node hashes in through closures, and
//! an audit reads through the [`AuditSource`] trait, whose implementations (in the CLI,
//! the server's tests) do the I/O. It needs no async runtime.
//! Parsers of untrusted input (notes, keys, proofs) return errors, never panic.

pub mod audit;
pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod tree;
pub mod trust;
pub mod verify;

pub use audit::{Audit, AuditError, AuditSummary};
pub use checkpoint::Checkpoint;
pub use merkle::{
    consistency_proof_from_leaves, inclusion_proof_from_leaves, leaf_hash, node_hash, root_of,
    verify_consistency, verify_inclusion,
};
pub use note::{NoteError, Signer, Verifier};
pub use proof::{ConsistencyProof, InclusionProof};
pub use tree::{Frontier, NodeId, Plan, consistency_plan, inclusion_plan, root_plan};
pub use trust::{KeyChoice, TrustState};
pub use verify::{
    AuditSource, CheckedPage, EntryPage, Finding, LeafCheck, LeafError, LogAudit, LoggedEntry,
    VerifyError, audit_log, check_extends, check_leaf, check_page, open_checkpoint,
};

/// A SHA-256 hash: a leaf, a node or a root.
pub type Hash = [u8; 32];

/// Why a tree operation or proof was refused. Each variant names the offending values.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("old size {old_size} is larger than new size {new_size}")]
    SizeOrder { old_size: u64, new_size: u64 },
    #[error("tree size {0} is too large")]
    SizeTooLarge(u64),
    #[error("proof has the wrong number of hashes for these sizes")]
    ProofLength,
    #[error("proof does not lead to the expected root")]
    RootMismatch,
    #[error("stored node (level {}, index {}) is missing", .0.level, .0.index)]
    MissingNode(NodeId),
    #[error("a frontier of size {size} needs {} hashes, got {got}", .size.count_ones())]
    FrontierShape { size: u64, got: usize },
    #[error("plan does not compute a single root")]
    NotARootPlan,
    #[error("seq 0 does not exist: seqs start at 1")]
    SeqZero,
    #[error("seq {seq} must be leaf index {}, not {leaf_index}", .seq.wrapping_sub(1))]
    SeqIndexMismatch { seq: u64, leaf_index: u64 },
    #[error("proof is for tree size {proof} but the checkpoint has size {checkpoint}")]
    CheckpointSize { proof: u64, checkpoint: u64 },
    #[error("checkpoints are from different logs")]
    OriginMismatch,
    #[error("leaf hash does not match the entry body")]
    LeafMismatch,
}

/// Fuzz body (`fuzz/fuzz_targets/log_note.rs`): the first line of `data` is parsed as a
/// verifier key and as a signer key, the rest as a checkpoint note opened with that key
/// and with a fixed one. Must never panic; the assertions check round trips.
pub fn fuzz_note(data: &[u8]) {
    let (key, note) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let key = String::from_utf8_lossy(key);
    if let Ok(signer) = Signer::from_text(&key) {
        assert_eq!(signer.to_text(), key, "signer key text must round-trip");
    }
    let parsed = Verifier::from_text(&key).ok();
    if let Some(v) = &parsed {
        assert_eq!(v.to_text(), key, "verifier key text must round-trip");
    }
    let Ok(note) = std::str::from_utf8(note) else {
        return;
    };
    let Ok(fixed) = Signer::from_seed("fuzz.example/log", [7; 32]) else {
        return;
    };
    for verifier in parsed.iter().chain([fixed.verifier()].iter()) {
        if let Ok(cp) = Checkpoint::open(note, verifier) {
            assert_eq!(Checkpoint::parse_body(&cp.body()).as_ref(), Ok(&cp));
        }
    }
    if let Ok(cp) = Checkpoint::parse_body(note) {
        assert_eq!(cp.body(), note, "checkpoint bodies are canonical");
    }
}
