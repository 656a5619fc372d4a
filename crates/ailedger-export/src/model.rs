//! What an export is made from.

use ailedger_core::{ArtifactKind, EdgeKind, Severity};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The ledger state an export was computed at: the same state gives the same document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerState {
    /// The seq the subgraph is as of (the ledger's head, or `--as-of`).
    pub seq: u64,
    /// That entry's time, RFC 3339 UTC.
    pub time: String,
    /// The Merkle tree size (= `seq`) and root hash (hex) of the ledger at `seq`, when
    /// the log has them.
    pub root_hash: Option<String>,
}

/// One artifact of the subgraph, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// The canonical id (a digest, a purl, `<kind>:<name>[@<version>]`).
    pub id: String,
    pub kind: ArtifactKind,
    pub name: Option<String>,
    pub version: Option<String>,
    /// Other refs that resolve to it (purls, digests, named refs), sorted.
    pub aliases: Vec<String>,
    /// Everything registered or ingested about it (licences, supplier, hashes, model
    /// card, manifest, findings, verification, env/owner for deployments…).
    pub attrs: Map<String, Value>,
    /// The seq of the entry that first recorded it.
    pub first_seq: u64,
}

/// An edge among the subgraph's artifacts, active at the export's seq: `from`
/// consumes `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub kind: EdgeKind,
    pub to: String,
    /// For `contains` edges: where `to` sits in `from` (a model's file names).
    pub paths: Vec<String>,
}

/// An attestation of one of the subgraph's artifacts (also in `artifacts`, by its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// The attestation artifact's id (`sha256:` of the envelope or bundle as ingested).
    pub id: String,
    /// What it attests.
    pub subjects: Vec<String>,
    /// `verified`, `unverified` or `failed`, as judged when ingested.
    pub verification: Option<String>,
    /// The in-toto predicate type, when it has one.
    pub predicate_type: Option<String>,
}

/// A live incident covering artifacts of the subgraph, for VEX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentVex {
    /// The incident's id (the seq that opened it).
    pub id: u64,
    /// `open` or `acknowledged` (as of the export's seq).
    pub state: String,
    pub severity: Severity,
    pub reason: String,
    /// The advisory id (`GHSA-…`, `MAL-…`), if any.
    pub advisory: Option<String>,
    /// When it was opened, RFC 3339 UTC.
    pub opened: String,
    /// The subgraph's artifacts it covers (the compromised ones, not their consumers).
    pub affects: Vec<String>,
}

/// Where a writer reads the full records of a subgraph's artifacts, a batch at a time,
/// so that a large export never holds every record at once.
pub trait Records {
    /// The records of `ids` (those that exist; in any order). An error ends the export.
    fn fetch(&mut self, ids: &[&str]) -> std::io::Result<Vec<Artifact>>;
}

/// The records a [`Subgraph`] holds itself (its `artifacts` are full records).
#[derive(Debug)]
pub struct Held<'a>(std::collections::HashMap<&'a str, &'a Artifact>);

impl<'a> Held<'a> {
    pub fn new(sub: &'a Subgraph) -> Self {
        Held(sub.artifacts.iter().map(|a| (a.id.as_str(), a)).collect())
    }
}

impl Records for Held<'_> {
    fn fetch(&mut self, ids: &[&str]) -> std::io::Result<Vec<Artifact>> {
        Ok(ids
            .iter()
            .filter_map(|id| self.0.get(id).map(|a| (*a).clone()))
            .collect())
    }
}

/// An artifact and everything it transitively consumes, as of one ledger state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subgraph {
    /// The exported artifact's id (`metadata.component` of a CycloneDX BOM).
    pub root: String,
    /// The root first, then everything it transitively consumes, nearest first, each
    /// once; attestations of them included. Either full records, or skeletons (`id` and
    /// `kind`; the rest empty) whose records a writer reads through a [`Records`].
    pub artifacts: Vec<Artifact>,
    /// Every edge among `artifacts` active at `ledger.seq`, sorted.
    pub edges: Vec<Edge>,
    pub attestations: Vec<Attestation>,
    pub incidents: Vec<IncidentVex>,
    pub ledger: LedgerState,
}

/// A model's recorded card split for a writer: the card without its `bom-ref` (which
/// named it in another document) and `modelParameters`, and the parameters with the
/// registered `task`, `architecture_family` and `model_architecture` where the card has
/// none, without `datasets` (the writers state the ledger's `trained-on` edges).
pub(crate) fn model_card_parts(a: &Artifact) -> (Map<String, Value>, Map<String, Value>) {
    let mut card = match a.attrs.get("modelCard") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    card.remove("bom-ref");
    let mut params = match card.remove("modelParameters") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for (k, key) in [
        ("task", "task"),
        ("architecture_family", "architectureFamily"),
        ("model_architecture", "modelArchitecture"),
    ] {
        if let (Some(Value::String(v)), false) = (a.attrs.get(k), params.contains_key(key)) {
            params.insert(key.into(), Value::from(v.clone()));
        }
    }
    params.remove("datasets");
    (card, params)
}

/// The records of `ids`, by id.
pub(crate) fn fetch_by_id(
    records: &mut dyn Records,
    ids: &[&str],
) -> std::io::Result<std::collections::HashMap<String, Artifact>> {
    Ok(records
        .fetch(ids)?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect())
}

/// The record of `id` in a fetched batch; an error when the store had none.
pub(crate) fn record_of<'a>(
    got: &'a std::collections::HashMap<String, Artifact>,
    id: &str,
) -> std::io::Result<&'a Artifact> {
    got.get(id)
        .ok_or_else(|| std::io::Error::other(format!("{id} is in the subgraph but has no record")))
}

/// A finding as `<code> <severity>: <message>` (its JSON when it has neither code nor
/// message).
pub(crate) fn finding(f: &Value) -> String {
    let code = f.get("code").and_then(Value::as_str).unwrap_or("");
    let sev = f.get("severity").and_then(Value::as_str).unwrap_or("");
    let msg = f.get("message").and_then(Value::as_str).unwrap_or("");
    if code.is_empty() && msg.is_empty() {
        serde_json::to_string(f).unwrap_or_default()
    } else {
        format!("{code} {sev}: {msg}")
    }
}
