//! Request and response bodies of the HTTP API. Requests speak in refs (any alias);
//! the server resolves them to artifact ids before anything is written.

use base64::{Engine as _, engine::general_purpose::STANDARD as BASE64};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, value::RawValue};
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
    /// contains, deploys, describes, attests, built-by.
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
    /// Who answers for it (a team); kept across later deploys unless given again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "ml-platform")]
    pub owner: Option<String>,
    /// How to reach the owner: an https:// or mailto: URL or an e-mail address (stored
    /// with any secret in the URL removed); kept across later deploys unless given again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "ml-oncall@example.com")]
    pub contact: Option<String>,
    #[serde(default)]
    pub attrs: Map<String, Value>,
    /// Deploy the last known-good configuration instead of `uses` (which must be
    /// empty): the most recent one it ran before its exposure to anything a live
    /// incident or the blocklist covers, of which nothing is covered now.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rollback_to_known_good: bool,
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
    /// What the write made consume something a live incident or the blocklist covers:
    /// the write is recorded, and each flag says what it touched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<crate::routes::incidents::Flag>,
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
    /// When `since_seq` was written (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    pub until_seq: Option<u64>,
    /// When `until_seq` was written (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
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
    /// When `first_seq` and `last_seq` were written (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Every edge from or to it, active or ended.
    pub edges: Vec<EdgeView>,
    /// The attestations that attest it (active `attests` edges), newest first: who
    /// signed, what was verified, under which policy, and the SLSA level.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attestations: Vec<AttestationView>,
}

/// One attestation of an artifact, as judged when it was ingested.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttestationView {
    /// The attestation artifact (`sha256:` of the document; `GET /v1/documents/{digest}`).
    pub id: String,
    /// The entry that ingested it.
    pub seq: u64,
    pub format: String,
    /// verified, unverified or failed.
    pub outcome: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// Each signer: method, key id or certificate identity and issuer, outcome, reason.
    #[schema(value_type = Vec<Object>)]
    pub signers: Vec<Value>,
    /// The `policy` entry that judged it (`None`: the built-in empty policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_seq: Option<u64>,
    /// The SLSA build level the policy granted, for provenance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slsa_level: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HitView {
    pub id: String,
    /// `<kind>:<name>@<version>` when the id is a digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub kind: String,
    pub depth: u32,
    /// This hit's position in the whole answer (from 0, breadth-first: nearest first).
    pub pos: u64,
    /// The position of the hit this one was reached from, on its shortest path to the
    /// queried artifact; absent when that is the queried artifact itself. A parent
    /// comes before its children, so following `parent` rebuilds the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u64>,
    /// The edge between this artifact and its parent (or the queried artifact): for
    /// `impact` this artifact consumes the parent; for `deps` the parent consumes it.
    pub edge: String,
    /// For a `contains` edge: where the file sits within its model or dataset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// The highest severity among this artifact's inspection findings, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Its provenance: `verified`, `unverified` or `failed` — for an attestation, how
    /// the trust policy judged it; for anything else, the best judgement among the
    /// attestations that attest it. Absent when nothing attests it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    /// The entry since which this path has existed (the latest start of its edges).
    pub since_seq: u64,
    /// When that entry was written (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
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
    /// The depth limit asked for (`None`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth: Option<u32>,
    /// Hits in this answer.
    pub count: usize,
    /// Hits in the whole traversal (within `depth`).
    pub total: usize,
    /// Deployments in the whole traversal.
    pub deployment_count: usize,
    /// Ids of the deployments among this answer's hits.
    pub deployments: Vec<String>,
    /// The hits at positions `offset`..`offset + count`, nearest first.
    pub hits: Vec<HitView>,
    /// Position of the first hit.
    pub offset: u64,
    /// More hits follow: ask again with `cursor` = `next`.
    pub truncated: bool,
    /// The cursor of the next answer (it pins the ledger state, `at_seq`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The hits before `offset` that this answer's paths pass through, so each page
    /// rebuilds its paths on its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ancestors: Vec<HitView>,
}

/// A ledger entry exactly as stored. The body is never decoded or re-encoded on the
/// way out, so an auditor hashes what the server holds, even when it is corrupt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntryView {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub kind: String,
    /// The leaf hash stored beside the body (lowercase hex).
    pub leaf_hash: String,
    /// The stored body, byte for byte: the canonical entry (RFC 8785 JSON) that was
    /// hashed. Present when the stored bytes are exactly one JSON object; otherwise
    /// absent and `body_b64` holds them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub body: Option<Box<RawValue>>,
    /// The stored body in standard base64 with padding, only when it is not a JSON
    /// object (a corrupt entry: `log verify` names its seq).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_b64: Option<String>,
    /// In a list, a body larger than the server's inline limit is not given: this is
    /// where to read it (`GET /v1/entries/{seq}`), and `body_size` its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_size: Option<u64>,
}

/// Why an [`EntryView`] does not give back a stored entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryViewError {
    #[error("seq {0}: malformed leaf hash")]
    LeafHash(u64),
    #[error("seq {0}: time: {1}")]
    Time(u64, String),
    #[error("seq {0}: body_b64 is not base64")]
    Base64(u64),
    #[error("seq {0}: neither body nor body_b64")]
    NoBody(u64),
    #[error("seq {0}: the body is given by reference ({1}); read it there")]
    ByReference(u64, String),
}

impl EntryView {
    /// The view of a stored entry: the body as a raw JSON value when the stored bytes
    /// are exactly one JSON object, else as base64.
    pub fn of(e: ailedger_store::StoredEntry) -> Self {
        let (body, body_b64) = match raw_object(e.body) {
            Ok(raw) => (Some(raw), None),
            Err(bytes) => (None, Some(BASE64.encode(bytes))),
        };
        Self {
            seq: e.seq,
            time: ailedger_core::entry::format_time(e.time_us),
            actor: e.actor,
            kind: e.kind,
            leaf_hash: hex::encode(e.leaf_hash),
            body,
            body_b64,
            body_ref: None,
            body_size: None,
        }
    }

    /// The view of an entry of a list page: as [`EntryView::of`], or with a reference
    /// to the body where the page left it out.
    pub fn of_page(e: ailedger_store::PageEntry) -> Self {
        match e.omitted {
            None => Self::of(e.entry),
            Some(size) => {
                let seq = e.entry.seq;
                let mut v = Self::of(ailedger_store::StoredEntry {
                    body: Vec::new(),
                    ..e.entry
                });
                v.body_b64 = None;
                v.body_ref = Some(crate::paths::fill(crate::paths::ENTRY, &seq.to_string()));
                v.body_size = Some(size);
                v
            }
        }
    }

    /// The stored bytes of the body.
    pub fn body_bytes(&self) -> Result<Vec<u8>, EntryViewError> {
        if let Some(r) = &self.body_ref {
            return Err(EntryViewError::ByReference(self.seq, r.clone()));
        }
        stored_body(
            self.seq,
            self.body.as_deref().map(|raw| raw.get().as_bytes()),
            self.body_b64.as_deref(),
        )
    }

    /// The entry as stored (what an auditor checks).
    pub fn into_stored(self) -> Result<ailedger_store::StoredEntry, EntryViewError> {
        let body = self.body_bytes()?;
        let mut leaf_hash = [0u8; 32];
        hex::decode_to_slice(&self.leaf_hash, &mut leaf_hash)
            .map_err(|_| EntryViewError::LeafHash(self.seq))?;
        let time_us = ailedger_core::entry::parse_time(&self.time)
            .map_err(|e| EntryViewError::Time(self.seq, e.to_string()))?;
        Ok(ailedger_store::StoredEntry {
            seq: self.seq,
            time_us,
            actor: self.actor,
            kind: self.kind,
            body,
            leaf_hash,
        })
    }
}

/// A stored body from the field that holds it as text or the one in base64.
pub(crate) fn stored_body(
    seq: u64,
    text: Option<&[u8]>,
    b64: Option<&str>,
) -> Result<Vec<u8>, EntryViewError> {
    match (text, b64) {
        (Some(text), _) => Ok(text.to_vec()),
        (None, Some(b64)) => BASE64.decode(b64).map_err(|_| EntryViewError::Base64(seq)),
        (None, None) => Err(EntryViewError::NoBody(seq)),
    }
}

/// `bytes` as a raw JSON value when they are exactly one JSON object (no white space
/// around it, so serving it changes no byte); otherwise the bytes back.
fn raw_object(bytes: Vec<u8>) -> Result<Box<RawValue>, Vec<u8>> {
    if bytes.first() != Some(&b'{') || bytes.last() != Some(&b'}') {
        return Err(bytes);
    }
    let text = String::from_utf8(bytes).map_err(|e| e.into_bytes())?;
    match serde_json::from_str::<&RawValue>(&text) {
        Ok(raw) => Ok(raw.to_owned()),
        Err(_) => Err(text.into_bytes()),
    }
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

/// A trust policy to put in force (admin).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyRequest {
    /// `toml` or `yaml`; without it, TOML and then YAML are tried.
    #[serde(default)]
    pub format: Option<String>,
    /// The policy text (schemas/trust-policy.schema.json).
    pub text: String,
    /// Files the policy names (Sigstore trusted roots), by name, with their contents.
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
}

/// The trust policy in force.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct PolicyView {
    /// The `policy` entry; `None` for the built-in empty policy (nothing set yet).
    pub seq: Option<u64>,
    pub time: Option<String>,
    pub actor: Option<String>,
    /// `sha256:<hex>` of the text.
    pub digest: Option<String>,
    pub format: Option<String>,
    pub text: Option<String>,
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
    /// The policy as read (defaults filled in).
    #[schema(value_type = Object)]
    pub policy: Value,
}

/// Grants a token (admin). The answer holds its secret, shown this once.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Its name: the actor of every entry written with it.
    #[schema(example = "ci-release")]
    pub name: String,
    /// One of: read, write, admin.
    #[schema(example = "write")]
    pub scope: String,
    /// How long it works: `<n>d`, `<n>h` or `<n>m` (e.g. `90d`), or an RFC 3339 time.
    /// Without it, until revoked.
    #[serde(default)]
    pub expires: Option<String>,
}

/// A token just granted.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TokenCreated {
    pub name: String,
    pub scope: String,
    pub expires: Option<String>,
    /// The secret: send it as `Authorization: Bearer <secret>`. Shown only now; the
    /// ledger keeps its SHA-256.
    pub secret: String,
    /// The `token` entry that granted it.
    pub seq: u64,
}

/// A token as the ledger knows it (never its secret).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TokenView {
    pub name: String,
    pub scope: String,
    pub expires: Option<String>,
    /// The entry that granted it.
    pub created_seq: u64,
    /// When it was granted (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The entry that revoked it.
    pub revoked_seq: Option<u64>,
    /// When it was revoked (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<String>,
    /// Neither revoked nor expired.
    pub active: bool,
}

/// Every token.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct TokensView {
    pub tokens: Vec<TokenView>,
}

/// Who the request's token is.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct WhoamiView {
    pub name: String,
    pub scope: String,
}

/// Subscribes a URL to ledger events.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where events are POSTed: `https://`, or `http://` to a loopback host (elsewhere
    /// only when the server runs with `--webhook-allow-http`).
    #[schema(example = "https://hooks.example/ailedger")]
    pub url: String,
    /// Event types (`incident.open`, `containment.block`, …) or patterns:
    /// `incident.*`, `containment.*`, `*`.
    #[schema(example = json!(["incident.open", "incident.exposed"]))]
    pub events: Vec<String>,
}

/// A subscription just added, with its secret.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct WebhookCreated {
    pub id: u64,
    pub url: String,
    pub events: Vec<String>,
    /// The HMAC-SHA256 key of the `X-Ailedger-Signature-256` header. Shown only now.
    pub secret: String,
    /// It gets the events of entries after this seq (the ledger's head when it was
    /// added).
    pub after_seq: u64,
    pub created: String,
}

/// A subscription (never its secret) and how its deliveries stand.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: u64,
    pub url: String,
    pub events: Vec<String>,
    pub after_seq: u64,
    pub created: String,
    pub created_by: String,
    /// Set on a removed subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    pub pending: u64,
    pub delivered: u64,
    pub failed: u64,
    /// The error of the most recent failed attempt still on record.
    pub last_error: Option<String>,
}

/// Every active subscription.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct WebhooksView {
    pub webhooks: Vec<WebhookView>,
}

/// One event queued for one subscription.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Also sent as `X-Ailedger-Delivery`.
    pub id: u64,
    /// The event type.
    pub event: String,
    /// The entry that is the event.
    pub seq: u64,
    /// pending, delivered or failed.
    pub state: String,
    pub attempts: u32,
    /// When a pending delivery is tried next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<String>,
    /// The HTTP status of the last attempt, if one came back.
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub created: String,
    pub delivered: Option<String>,
}

/// A subscription's most recent deliveries, newest first.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct DeliveriesView {
    pub webhook: u64,
    pub deliveries: Vec<DeliveryView>,
}

/// A policy-gate check (`POST /v1/check`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The release: any ref, typically `deployment:<name>` or a model.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// A policy file whose `gate` section to apply; without it, the gate section of
    /// the policy in force.
    #[serde(default)]
    pub policy: Option<CheckPolicy>,
}

/// A policy file given with a check (read, not put in force).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckPolicy {
    /// `toml` or `yaml`; without it, TOML and then YAML are tried.
    #[serde(default)]
    pub format: Option<String>,
    /// The policy text (schemas/trust-policy.schema.json).
    pub text: String,
}
