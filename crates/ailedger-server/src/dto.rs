//! Request and response bodies of the HTTP API. Requests speak in refs (any alias);
//! the server resolves them to artifact ids before anything is written.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// An artifact to register.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactInput {
    /// One of: model, dataset, package, file, mcp-config, mcp-server, sbom,
    /// attestation, deployment, builder, source, environment.
    #[schema(example = "package")]
    pub kind: String,
    /// Its identity: `sha256:<hex>` or a purl. Without it, `<kind>:<name>@<version>`
    /// is the identity.
    #[serde(default, rename = "ref")]
    #[schema(example = "pkg:pypi/torch@2.4.1")]
    pub ref_: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// More refs that should resolve to this artifact (e.g. `sha256:` of a wheel).
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub attrs: Map<String, Value>,
}

/// An edge, by refs.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EdgeInput {
    /// The consumer.
    pub from: String,
    /// One of: depends-on, built-from, derived-from, trained-on, uses-tool, runs,
    /// contains, deploys, describes, attests.
    #[schema(example = "depends-on")]
    pub edge: String,
    /// What it consumes.
    pub to: String,
    /// For a `contains` edge: where `to` sits within `from` (a file's paths in a model
    /// or dataset directory, `/`-separated and relative).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

/// Registers artifacts (and edges among them or to known artifacts) as one entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub artifacts: Vec<ArtifactInput>,
    #[serde(default)]
    pub edges: Vec<EdgeInput>,
}

/// Starts or ends edges as one entry.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    pub edges: Vec<EdgeInput>,
}

/// Sets what a deployment consumes now.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    #[schema(example = "chatbot")]
    pub name: String,
    #[schema(example = "prod")]
    pub env: String,
    /// Refs of everything the deployment consumes; edges to anything not listed end.
    pub uses: Vec<String>,
    #[serde(default)]
    pub attrs: Map<String, Value>,
}

/// Many writes in one transaction: all are recorded, or none.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    pub entries: Vec<BatchItem>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum BatchItem {
    Register(RegisterRequest),
    Link(LinkRequest),
    Unlink(LinkRequest),
    Deploy(DeployRequest),
}

/// What a write recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WriteResponse {
    pub entries: Vec<WrittenEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WrittenEntry {
    pub seq: u64,
    pub time: String,
    pub kind: String,
    /// Hex SHA-256 leaf hash of the canonical entry body.
    pub leaf_hash: String,
    /// Artifact ids the entry declared, in order.
    pub artifacts: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EdgeView {
    pub from: String,
    pub edge: String,
    pub to: String,
    pub since_seq: u64,
    pub until_seq: Option<u64>,
    /// A `contains` edge's paths: where `to` sits within `from`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

/// An artifact with its aliases and edges.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ArtifactView {
    pub id: String,
    pub kind: String,
    pub name: Option<String>,
    pub version: Option<String>,
    pub aliases: Vec<String>,
    #[schema(value_type = Object)]
    pub attrs: Map<String, Value>,
    pub first_seq: u64,
    pub last_seq: u64,
    /// Every edge from or to it, active or ended.
    pub edges: Vec<EdgeView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Step {
    pub edge: String,
    pub to: String,
    /// `<kind>:<name>@<version>` when `to` is a digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// For a `contains` step: where the file sits within its model or dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HitView {
    pub id: String,
    /// `<kind>:<name>@<version>` when the id is a digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub kind: String,
    pub depth: u32,
    /// One shortest path from this artifact to the queried one.
    pub path: Vec<Step>,
    /// The highest severity among this artifact's inspection findings, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The entry since which this path has existed (the latest start of its edges).
    pub since_seq: u64,
}

/// The answer to `impact` or `deps`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TraversalView {
    /// The ref as asked.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// The artifact id it resolved to.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub kind: String,
    /// `impact` (consumers) or `deps` (consumed).
    pub direction: String,
    /// The seq the answer describes (the ledger head unless `as_of` was given).
    pub at_seq: u64,
    pub as_of: Option<String>,
    pub count: usize,
    /// Ids of the deployments among the hits.
    pub deployments: Vec<String>,
    pub hits: Vec<HitView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub kind: String,
    pub leaf_hash: String,
    /// The canonical body (RFC 8785 JSON), as stored and hashed.
    #[schema(value_type = Object)]
    pub body: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntriesView {
    pub head: u64,
    pub entries: Vec<EntryView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResolveView {
    #[serde(rename = "ref")]
    pub ref_: String,
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusView {
    pub head: u64,
    pub index_head: u64,
    pub artifacts: u64,
    pub edges: u64,
    pub backend: String,
    pub version: String,
}
