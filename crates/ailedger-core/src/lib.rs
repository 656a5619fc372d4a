//! ailedger's domain: what an artifact, a reference, an edge and a ledger entry are,
//! how entries are encoded for hashing, and the in-memory graph index with its
//! blast-radius queries.
//!
//! **Architecture invariant:** this crate does no I/O, no async and knows nothing of
//! databases or HTTP. Everything here takes values and returns values.

pub mod blast;
pub mod canonical;
pub mod deployment;
pub mod digest;
pub mod entry;
pub mod event;
pub mod finding;
pub mod graph;
pub mod identity;
pub mod incident;
pub mod kind;
pub mod manifest;
pub mod osv;
pub mod osv_range;
pub mod purl;
pub mod redact;
pub mod reference;
pub mod spdx;
pub mod token;
pub mod vers;
pub mod version;

pub use digest::Sha256Digest;
pub use entry::{
    ArtifactFact, DocumentInfo, EdgeFact, Entry, EntryData, EntryHead, Op, PolicyRecord,
};
pub use finding::{Finding, Location, Severity};
pub use graph::{GraphIndex, Hit};
pub use kind::{ArtifactKind, EdgeKind};
pub use purl::Purl;
pub use reference::Ref;

/// Why a value given to the domain was refused. Each variant names the offending input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("malformed digest {input:?}: {reason}")]
    Digest { input: String, reason: &'static str },
    #[error("malformed purl {input:?}: {reason}")]
    Purl { input: String, reason: String },
    #[error("unknown artifact kind {0:?} (expected one of: {kinds})", kinds = kind::ArtifactKind::NAMES.join(", "))]
    ArtifactKind(String),
    #[error("unknown edge type {0:?} (expected one of: {kinds})", kinds = kind::EdgeKind::NAMES.join(", "))]
    EdgeKind(String),
    #[error("malformed ref {input:?}: {reason}")]
    Ref { input: String, reason: String },
    #[error("bad manifest path {path:?}: {reason}")]
    ManifestPath { path: String, reason: &'static str },
    #[error("bad time {input:?}: expected RFC 3339, e.g. 2026-11-24T10:00:00Z")]
    Time { input: String },
    #[error("{0}")]
    Identity(String),
    #[error("{0}")]
    Token(String),
    #[error("invalid entry: {0}")]
    Entry(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
