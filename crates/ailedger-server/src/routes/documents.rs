//! Document ingest: `POST /v1/documents` takes an SBOM, lockfile or MCP config as it is,
//! detects its format from its content, stores the raw bytes content-addressed, runs the
//! same inspection `ailedger inspect` runs, and appends one `document` entry that merges
//! what the document says into the graph. `GET /v1/documents/{digest}` returns the bytes.
//!
//! Secrets are never stored: MCP configs and lockfiles are stored and recorded as their
//! redacted form (`ailedger_formats::parse_redacted`), the digest of what was submitted
//! kept as an alias of the document; findings are inspected on the submitted bytes and
//! carry redacted evidence only.

use ailedger_core::{ArtifactFact, DocumentInfo, EntryData, Finding, Sha256Digest, redact};
use ailedger_formats::{Format, Options};
use ailedger_store::{Blob, NewEntry};
use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use super::ApiQuery;
use crate::auth::Caller;
use crate::{ApiError, AppState, paths};

/// Largest document accepted by default (`serve --max-document-mib`).
pub const MAX_DOCUMENT: usize = 512 * 1024 * 1024;

/// What parsing and recording a document costs in memory, as a multiple of its size
/// (measured: 1.5 GB peak for a 132 MB SBOM, docs/benchmarks.md).
pub const INGEST_MEMORY_FACTOR: u64 = 12;

/// A document ingest's share of the server's ingest memory budget
/// ([`crate::state::IngestBudget`]), taken from the request's `Content-Length` before
/// the body is read (a request without one is counted as an eighth of the largest
/// document), held until the ingest ends. When the budget is full the request is
/// answered 503 with `Retry-After`; a document larger than the whole budget takes all
/// of it and runs alone.
#[derive(Debug)]
pub(crate) struct IngestPermit(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

/// Seconds a client is asked to wait when the ingest budget is full.
const INGEST_RETRY_AFTER: u64 = 5;

impl axum::extract::FromRequestParts<AppState> for IngestPermit {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, ApiError> {
        let length = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(state.limits.document_bytes / 8);
        let budget = &state.ingest_budget;
        let mib = length
            .saturating_mul(INGEST_MEMORY_FACTOR)
            .div_ceil(1024 * 1024)
            .clamp(1, u64::from(budget.mib));
        let permits = u32::try_from(mib).unwrap_or(budget.mib);
        // Owned by the handler for the request's life.
        match Arc::clone(&budget.permits).try_acquire_many_owned(permits) {
            Ok(p) => Ok(IngestPermit(p)),
            Err(_) => Err(ApiError::Busy {
                detail: format!(
                    "the ingest memory budget ({} MiB, `ailedger serve --ingest-memory-mib`) is in use by other ingests; this document needs about {mib} MiB: try again in {INGEST_RETRY_AFTER} s",
                    budget.mib
                ),
                retry_after: INGEST_RETRY_AFTER,
            }),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct IngestQuery {
    /// The name the document was submitted under (a file name), recorded in the entry.
    name: Option<String>,
    /// Refuse an attestation unless it is verified by a signer the policy trusts.
    #[serde(default)]
    require_verified: bool,
    /// Refuse a document with any local fault (a hash that is not hex, a relationship
    /// naming no element, a package without a name…) instead of repairing it and
    /// recording it with a warning at the fault's pointer: 422 naming the pointer, and
    /// nothing is recorded (docs/formats.md, "Repairs").
    #[serde(default)]
    strict: bool,
}

/// What ingesting one document did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IngestView {
    /// `sha256:<hex>` of the stored bytes; `GET /v1/documents/{digest}` returns them.
    /// For a document that had secrets removed, the digest of its redacted form.
    pub digest: String,
    /// `sha256:<hex>` of the bytes as submitted, when secrets were removed from them
    /// (an alias of the document artifact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_digest: Option<String>,
    pub format: String,
    /// The entry that ingested it.
    pub seq: u64,
    /// True when the same bytes were ingested before: nothing new was recorded.
    pub unchanged: bool,
    /// Artifacts the document names (itself included).
    pub artifacts: usize,
    /// Of those, how many were new to the ledger (the rest merged into known ones).
    pub added: usize,
    pub merged: usize,
    pub edges: usize,
    pub warnings: Vec<String>,
    /// Inspection findings recorded on the document and its packages.
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
    /// `-r`/`-c` includes of a requirements file, for the client to ingest too.
    pub includes: Vec<String>,
    /// For a signed (or unsigned) attestation: how the trust policy judged it — the
    /// outcome (verified, unverified, failed) and why, each signer, the SLSA level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub attestation: Option<serde_json::Value>,
    /// What the document made consume something a live incident or the blocklist
    /// covers (the document is recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<super::incidents::Flag>,
}

async fn salt(state: &AppState) -> Result<[u8; 32], ApiError> {
    let mut fresh = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut fresh)
        .map_err(|_| ApiError::Internal("no randomness for the secret salt".into()))?;
    let stored = state
        .store
        .setting("secret_salt", &hex::encode(fresh))
        .await?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(stored.trim(), &mut out)
        .map_err(|e| ApiError::Internal(format!("stored secret salt: {e}")))?;
    Ok(out)
}

/// Inspection of what a document names: config-level checks on the document, typosquat
/// checks on each package.
fn inspect(
    name: &str,
    format: &Format,
    bytes: &[u8],
    doc: &mut ailedger_formats::Document,
) -> Vec<Finding> {
    let mut all = Vec::new();
    let doc_findings = match format {
        Format::McpConfig { .. } => {
            ailedger_inspect::inspect_mcp_config(name, bytes).unwrap_or_default()
        }
        Format::RequirementsTxt | Format::PipFreeze => {
            ailedger_inspect::inspect_requirements(name, &String::from_utf8_lossy(bytes))
        }
        _ => Vec::new(),
    };
    attach(&mut doc.document, &doc_findings);
    all.extend(doc_findings);
    for a in &mut doc.artifacts {
        let Ok(ailedger_core::Ref::Purl(p)) = a.id.parse::<ailedger_core::Ref>() else {
            continue;
        };
        let eco = match p.ty() {
            "pypi" => "pypi",
            "npm" => "npm",
            _ => continue,
        };
        let findings = ailedger_inspect::check_package_name(eco, &p.full_name());
        attach(a, &findings);
        all.extend(findings);
    }
    all
}

fn attach(a: &mut ArtifactFact, findings: &[Finding]) {
    if !findings.is_empty()
        && let Ok(v) = serde_json::to_value(findings)
    {
        a.attrs.insert("findings".into(), v);
    }
}

/// Ingest a document: CycloneDX 1.2–1.7 (JSON, XML), SPDX 2.2/2.3 and 3.0, a lockfile
/// (requirements.txt, pip freeze, poetry.lock, uv.lock, Pipfile.lock, package-lock.json,
/// Cargo.lock) or an MCP client config. The format is detected from the content.
#[utoipa::path(post, path = paths::DOCUMENTS, params(IngestQuery),
    request_body(content = String, description = "the document's raw bytes", content_type = "application/octet-stream"),
    responses((status = 200, body = IngestView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    _permit: IngestPermit,
    ApiQuery(q): ApiQuery<IngestQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<IngestView>, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the document is larger than this server's limit of {} MiB (serve --max-document-mib)",
                state.limits.document_bytes >> 20
            ))
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })?;
    let actor = caller.name;
    let label = q.name.clone().unwrap_or_else(|| "document".into());
    if body.is_empty() {
        return Err(ApiError::Invalid(format!("{label}: the document is empty")));
    }
    let original = Sha256Digest::of(&body);
    // The same bytes again: stored as they are, or as the redacted form that names
    // them as its original.
    let mut known = state
        .store
        .document_seq(&original)
        .await?
        .map(|seq| (original, seq));
    if known.is_none()
        && let Some(id) = state.store.resolve(&original.to_string()).await?
        && let Ok(stored) = id.parse::<Sha256Digest>()
        && let Some(seq) = state.store.document_seq(&stored).await?
    {
        known = Some((stored, seq));
    }
    // Under `strict` a document recorded before (perhaps repaired then) is checked
    // again: its faults refuse it now as they would have refused it then.
    if q.strict && known.is_some() {
        let opts = Options {
            strict: true,
            ..Options::default()
        };
        let bytes = body.clone();
        let checked =
            tokio::task::spawn_blocking(move || ailedger_formats::parse(&bytes, &opts).map(|_| ()))
                .await
                .map_err(|e| ApiError::Internal(format!("parser: {e}")))?;
        // Attestations are not documents of the formats crate: judged below.
        if let Err(e) = checked
            && !matches!(e, ailedger_formats::Error::Unrecognised(_))
        {
            return Err(ApiError::Invalid(format!(
                "{label}: {}",
                redact::text(&e.to_string(), redact::UrlRule::Endpoint)
            )));
        }
    }
    if let Some((digest, seq)) = known {
        let format = state
            .store
            .blob(&digest)
            .await?
            .map(|(f, _)| f)
            .unwrap_or_default();
        return Ok(Json(IngestView {
            digest: digest.to_string(),
            original_digest: (digest != original).then(|| original.to_string()),
            format,
            seq,
            unchanged: true,
            artifacts: 0,
            added: 0,
            merged: 0,
            edges: 0,
            warnings: vec![],
            findings: vec![],
            includes: vec![],
            attestation: None,
            flags: vec![],
        }));
    }
    // Signed provenance (DSSE envelopes, Sigstore bundles, in-toto statements, model
    // signatures) is judged under the trust policy; everything else is parsed below.
    let sniffed = body.clone();
    let attestation = tokio::task::spawn_blocking(move || ailedger_attest::judge::detect(&sniffed))
        .await
        .map_err(|e| ApiError::Internal(format!("attestation reader: {e}")))?;
    if let Some(parsed) = attestation {
        let parsed = parsed.map_err(|e| ApiError::Invalid(format!("{label}: {e}")))?;
        return crate::verify::ingest_attestation(
            &state,
            actor,
            q.name,
            q.require_verified,
            body,
            parsed,
        )
        .await
        .map(Json);
    }
    let started = std::time::Instant::now();
    let mut opts = Options::new(salt(&state).await?);
    opts.strict = q.strict;
    let bytes = body.clone();
    let name = label.clone();
    // The parse runs on a thread of its own that ends with it: the memory it used and
    // freed goes back with the thread (a pooled thread would keep it, idle, for as long
    // as the pool keeps the thread; measured 10-20% of a large document's peak).
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("ailedger-parse".into())
        .spawn(move || {
            let parsed = (|| {
                let red = ailedger_formats::parse_redacted(&bytes, &opts).map_err(|e| {
                    // A parse error may quote the document: it is answered (and may be
                    // logged), so it is redacted too.
                    let msg = e.to_string();
                    ApiError::Invalid(format!(
                        "{name}: {}",
                        redact::text(&msg, redact::UrlRule::Endpoint)
                    ))
                })?;
                let parsed_ms = started.elapsed().as_millis() as u64;
                let ailedger_formats::Redacted {
                    document: mut doc,
                    bytes: stored,
                    ..
                } = red;
                let format = doc.format.clone();
                // Inspected as submitted (the secrets are what some findings are
                // about); evidence is redacted by the inspector.
                let findings = inspect(&name, &format, &bytes, &mut doc);
                tracing::debug!(parsed_ms, "parsed and inspected");
                Ok::<_, ApiError>((doc, findings, stored))
            })();
            let _ = tx.send(parsed);
        })
        .map_err(|e| ApiError::Internal(format!("parser thread: {e}")))?;
    let (doc, findings, stored) = rx
        .await
        .map_err(|e| ApiError::Internal(format!("parser thread: {e}")))??;
    let format = doc.format.to_string();
    let digest = doc.digest;
    // What is stored: the redacted bytes, or the body when nothing was removed.
    let stored = match stored {
        Some(b) => b,
        // No copy when the body is the only owner of its buffer (the parser's handle is
        // gone by now).
        None => Vec::from(body),
    };
    let warnings: Vec<String> = doc
        .warnings
        .iter()
        .map(|w| format!("{}: {}", w.pointer, w.message))
        .collect();
    let mut artifacts = Vec::with_capacity(doc.artifacts.len() + 1);
    artifacts.push(doc.document);
    artifacts.extend(doc.artifacts);
    let (n_artifacts, n_edges) = (artifacts.len(), doc.edges.len());
    let data = EntryData::Document {
        document: DocumentInfo {
            digest,
            format: format.clone(),
            size: stored.len() as u64,
            name: q.name,
        },
        artifacts,
        edges: doc.edges,
        warnings: warnings.clone(),
    };
    let parsed_at = started.elapsed();
    let (appended, flags) = record(
        &state,
        actor,
        data,
        Blob {
            digest,
            format: format.clone(),
            bytes: stored,
        },
    )
    .await?;
    tracing::debug!(
        parse_inspect_ms = parsed_at.as_millis() as u64,
        append_and_sync_ms = (started.elapsed() - parsed_at).as_millis() as u64,
        "ingest"
    );
    Ok(Json(IngestView {
        digest: digest.to_string(),
        original_digest: (digest != original).then(|| original.to_string()),
        format,
        seq: appended.seq,
        unchanged: false,
        artifacts: n_artifacts,
        added: appended.created,
        merged: n_artifacts - appended.created,
        edges: n_edges,
        warnings,
        findings,
        includes: doc.includes,
        attestation: None,
        flags,
    }))
}

/// Appends a `document` entry with its stored bytes in one transaction, and brings the
/// graph index up to it before answering (read-your-writes).
pub(crate) async fn record(
    state: &AppState,
    actor: String,
    data: EntryData,
    blob: Blob,
) -> Result<(ailedger_store::Appended, Vec<super::incidents::Flag>), ApiError> {
    let watch = super::incidents::Watch::before(state, std::slice::from_ref(&data)).await?;
    let _writing = state.writing_guard();
    let (mut appended, changes) = state
        .store
        .append_indexed(
            vec![NewEntry {
                actor: actor.clone(),
                data,
            }],
            Some(blob),
        )
        .await?;
    let appended = appended
        .pop()
        .ok_or_else(|| ApiError::Internal("append returned nothing".into()))?;
    state
        .sync_own_write(appended.seq, appended.seq, changes)
        .await?;
    drop(_writing);
    let flags = watch.after(state, &actor).await?;
    Ok((appended, flags))
}

/// The raw bytes of an ingested document.
#[utoipa::path(get, path = paths::DOCUMENT, params(("digest" = String, Path, description = "sha256:<hex>")),
    responses((status = 200, description = "the document as ingested"), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn document(
    State(state): State<AppState>,
    Path(digest): Path<String>,
) -> Result<Response, ApiError> {
    let d: Sha256Digest = digest.parse()?;
    let Some((format, bytes)) = state.store.blob(&d).await? else {
        return Err(ApiError::NotFound(format!("no document {d}")));
    };
    let ctype = if format.contains("XML") {
        "application/xml"
    } else if format.starts_with("CycloneDX")
        || format.starts_with("SPDX")
        || format.contains("MCP")
        || format.contains("json")
        || format.contains("Pipfile")
        || format.contains("package-lock")
    {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    Ok(([(header::CONTENT_TYPE, ctype)], bytes).into_response())
}
