//! Exports of a ledger subgraph — an artifact or deployment and everything it
//! transitively consumes, as of one ledger state — as supply-chain documents.
//!
//! The server gathers a [`Subgraph`] (from the graph index, the store and the incident
//! book); the writers here turn it into documents. Pure: no I/O, and deterministic — the
//! same subgraph gives byte-identical output.
//!
//! **Invariant:** a writer reads only its [`Subgraph`]; everything a document states
//! comes from the ledger state named in [`LedgerState`].

pub mod cyclonedx;
mod json;
pub mod model;
pub mod spdx;

pub use model::{Artifact, Attestation, Edge, Held, IncidentVex, LedgerState, Records, Subgraph};

/// What an export request can get wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported CycloneDX spec version {0:?} (expected 1.6 or 1.7)")]
    SpecVersion(String),
    #[error("unsupported export format {0:?} (expected json or xml)")]
    Format(String),
    #[error("not a CycloneDX JSON BOM: {0}")]
    NotABom(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
