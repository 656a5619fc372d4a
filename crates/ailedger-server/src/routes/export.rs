//! Exports (`/v1/export/…`, read): a ledger subgraph — an artifact or deployment and
//! everything it transitively consumes, as of a seq — gathered here from the index, the
//! store and the incident book into an `ailedger_export::Subgraph`, which the writers of
//! `ailedger-export` turn into documents.

use std::collections::{BTreeSet, HashMap};

use ailedger_core::{
    EdgeKind,
    entry::{format_time, parse_time},
    incident::Cover,
};
use ailedger_export::{
    Artifact, Attestation, Edge, IncidentVex, LedgerState, Subgraph,
    cyclonedx::{self, SpecVersion},
};

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::{
    ApiError, AppState,
    build::{Local, resolve_ref},
    paths,
    routes::ApiQuery,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    /// The exported artifact: any ref (`sha256:<hex>`, a purl, `<kind>:<name>[@<version>]`,
    /// e.g. `deployment:prod/support-bot`).
    #[serde(rename = "ref")]
    ref_: String,
    /// Export the ledger as it was at this RFC 3339 time (default: its head).
    as_of: Option<String>,
}

/// The seq an `as_of` time names (`None`: the head).
async fn seq_of(state: &AppState, as_of: Option<&str>) -> Result<Option<u64>, ApiError> {
    match as_of {
        Some(t) => {
            let us = parse_time(t).map_err(|e| ApiError::Invalid(format!("as_of: {e}")))?;
            Ok(Some(state.store.seq_at(us).await?))
        }
        None => Ok(None),
    }
}

/// SPDX 2.3 JSON of the artifact and everything it transitively consumes, as of the
/// ledger's head or `as_of`; deterministic for one ledger state.
#[utoipa::path(get, path = paths::EXPORT_SPDX, params(ExportQuery),
    responses((status = 200, description = "an SPDX 2.3 JSON document", content_type = "application/spdx+json"),
        (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn spdx(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let at = seq_of(&state, q.as_of.as_deref()).await?;
    let sub = gather(&state, &q.ref_, at).await?;
    // Written on a blocking thread, the records read a batch at a time, into the
    // streamed body (as the CycloneDX export is).
    let (mut out, body) = streamed_body();
    let mut records = StoreRecords {
        store: state.store.clone(),
        runtime: tokio::runtime::Handle::current(),
    };
    tokio::task::spawn_blocking(move || {
        let written = ailedger_export::spdx::write_to(&sub, &mut records, &mut out);
        out.end(written);
    });
    Ok(([(header::CONTENT_TYPE, "application/spdx+json")], body).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct CycloneDxQuery {
    /// The exported artifact: any ref (`deployment:prod/support-bot`, a purl, a digest).
    #[serde(rename = "ref")]
    ref_: String,
    /// `1.6` (default) or `1.7`.
    spec_version: Option<String>,
    /// Export the ledger as it was at this RFC 3339 time (default: its head).
    as_of: Option<String>,
    /// `json` (default) or `xml`.
    format: Option<String>,
}

/// A CycloneDX BOM of an artifact and everything it transitively consumes, as of the
/// ledger's head or `as_of`; deterministic (the same ledger state gives the same bytes).
#[utoipa::path(get, path = paths::EXPORT_CYCLONEDX, params(CycloneDxQuery),
    responses((status = 200, description = "The BOM", content_type = "application/vnd.cyclonedx+json"),
        (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn cyclonedx(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CycloneDxQuery>,
) -> Result<Response, ApiError> {
    let spec: SpecVersion = match q.spec_version.as_deref() {
        None => SpecVersion::V1_6,
        Some(v) => v
            .parse()
            .map_err(|e| ApiError::Invalid(format!("spec_version: {e}")))?,
    };
    let format: cyclonedx::Format = match q.format.as_deref() {
        None => cyclonedx::Format::Json,
        Some(f) => f
            .parse()
            .map_err(|e| ApiError::Invalid(format!("format: {e}")))?,
    };
    let at = seq_of(&state, q.as_of.as_deref()).await?;
    let sub = gather(&state, &q.ref_, at).await?;
    let content_type = format!("{}; version={}", format.media_type(), spec.as_str());
    // The BOM is written on a blocking thread (CPU work, and the records are read a
    // batch at a time as it goes) into a bounded channel that the body drains: neither
    // the document nor every record is held at once.
    let (mut out, body) = streamed_body();
    let mut records = StoreRecords {
        store: state.store.clone(),
        runtime: tokio::runtime::Handle::current(),
    };
    tokio::task::spawn_blocking(move || {
        let written = cyclonedx::write_to(&sub, spec, format, &mut records, &mut out);
        out.end(written);
    });
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// How much of a streamed export is buffered before it is handed to the body.
const CHUNK: usize = 64 * 1024;

/// A streamed answer's body, and the writer that feeds it (through a channel of a few
/// chunks, so a slow reader slows the writer instead of filling memory).
fn streamed_body() -> (ChannelWriter, axum::body::Body) {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    (
        ChannelWriter {
            buf: Vec::with_capacity(CHUNK),
            tx,
        },
        axum::body::Body::from_stream(stream),
    )
}

/// Writes into a streamed body from a blocking thread.
struct ChannelWriter {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }

    /// Ends the body: cleanly when the writer succeeded; otherwise with an error, which
    /// aborts the answer, so a client never takes a truncated document for a whole one.
    fn end(mut self, written: std::io::Result<()>) {
        let result = written.and_then(|()| self.send());
        if let Err(e) = result {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::error!("export failed while streaming: {e}");
            }
            let _ = self.tx.blocking_send(Err(e));
        }
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads artifact records from the store for a writer on a blocking thread.
struct StoreRecords {
    store: std::sync::Arc<dyn ailedger_store::Store>,
    runtime: tokio::runtime::Handle,
}

impl ailedger_export::Records for StoreRecords {
    fn fetch(&mut self, ids: &[&str]) -> std::io::Result<Vec<Artifact>> {
        let ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
        let records = self
            .runtime
            .block_on(self.store.artifacts(&ids))
            .map_err(std::io::Error::other)?;
        Ok(records.into_iter().map(artifact).collect())
    }
}

/// The export's view of a stored record.
fn artifact(r: ailedger_store::ArtifactRecord) -> Artifact {
    let mut aliases = r.aliases;
    aliases.retain(|a| *a != r.id);
    aliases.sort();
    Artifact {
        id: r.id,
        kind: r.kind,
        name: r.name,
        version: r.version,
        aliases,
        attrs: r.attrs,
        first_seq: r.first_seq,
    }
}

/// The subgraph of `input` (any ref) as of seq `at` (default: now), as skeletons (ids
/// and kinds) whose records the writers read through [`StoreRecords`]; not found when
/// the artifact was first recorded after `at`.
pub(crate) async fn gather(
    state: &AppState,
    input: &str,
    at: Option<u64>,
) -> Result<Subgraph, ApiError> {
    let root = resolve_ref(state, &Local::new(), input).await?;
    if !state.read_index().contains(&root) {
        state.sync_index().await?;
    }
    let head = state.read_index().head();
    let at = match at {
        Some(a) if a > head => {
            return Err(ApiError::Invalid(format!(
                "as of seq {a}: the ledger's head is {head}"
            )));
        }
        Some(a) => a,
        None => head,
    };
    // The root, what it consumes, and what attests any of them.
    let (ids, edges, attesters, kinds) = {
        let index = state.read_index();
        let hits = index
            .deps(&root, Some(at))
            .ok_or_else(|| ApiError::NotFound(format!("unknown ref {input}")))?;
        let mut ids: Vec<String> = std::iter::once(root.clone())
            .chain(hits.iter().map(|h| h.id.to_owned()))
            .collect();
        let mut attesters: BTreeSet<(String, String)> = BTreeSet::new();
        for id in &ids {
            for a in index.sources_of(id, EdgeKind::Attests, Some(at)) {
                attesters.insert((a.to_owned(), id.clone()));
            }
        }
        for (a, _) in &attesters {
            if !ids.contains(a) {
                ids.push(a.clone());
            }
        }
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let kinds: HashMap<String, ailedger_core::ArtifactKind> = ids
            .iter()
            .filter_map(|id| index.kind_of(id).map(|k| (id.clone(), k)))
            .collect();
        let edges: Vec<Edge> = index
            .edges_among(&refs, Some(at))
            .into_iter()
            .map(|(from, kind, to, paths)| Edge {
                from: from.to_owned(),
                kind,
                to: to.to_owned(),
                paths: paths.iter().map(|p| p.to_string()).collect(),
            })
            .collect();
        (ids, edges, attesters, kinds)
    };
    let root_record =
        state.store.artifact(&root).await?.ok_or_else(|| {
            ApiError::Internal(format!("{root} is in the index but has no record"))
        })?;
    if root_record.first_seq > at {
        return Err(ApiError::NotFound(format!(
            "{input} was first recorded at seq {}, after the export's seq {at}",
            root_record.first_seq
        )));
    }
    // Skeletons (the writers read the records as they go), with the attestations'
    // records, whose verification and predicate type the writers need up front.
    let wanted: Vec<String> = attesters.iter().map(|(a, _)| a.clone()).collect();
    let mut records: HashMap<String, Artifact> = HashMap::new();
    for batch in wanted.chunks(1_000) {
        for r in state.store.artifacts(batch).await? {
            records.insert(r.id.clone(), artifact(r));
        }
    }
    let mut artifacts = Vec::with_capacity(ids.len());
    for id in &ids {
        let a = match records.get(id) {
            Some(a) => a.clone(),
            None => Artifact {
                id: id.clone(),
                kind: kinds.get(id.as_str()).copied().ok_or_else(|| {
                    ApiError::Internal(format!("{id} is in the index without a kind"))
                })?,
                name: None,
                version: None,
                aliases: Vec::new(),
                attrs: serde_json::Map::new(),
                first_seq: 0,
            },
        };
        artifacts.push(a);
    }
    let mut attestations: Vec<Attestation> = Vec::new();
    for (a, subject) in attesters {
        match attestations.last_mut() {
            Some(last) if last.id == a => last.subjects.push(subject),
            _ => {
                let attrs = records.get(&a).map(|x| &x.attrs);
                let text = |pointer: &str| {
                    attrs.and_then(|m| {
                        serde_json::Value::Object(m.clone())
                            .pointer(pointer)
                            .and_then(|v| v.as_str().map(str::to_owned))
                    })
                };
                attestations.push(Attestation {
                    id: a,
                    subjects: vec![subject],
                    verification: text("/verification"),
                    predicate_type: text("/attestation/items/0/predicate_type"),
                });
            }
        }
    }
    let incidents = incidents_at(state, &ids, at).await?;
    let time = state
        .store
        .seq_times(&[at])
        .await?
        .first()
        .map(|(_, t)| format_time(*t))
        .unwrap_or_default();
    let root_hash = if at > 0 {
        state
            .store
            .root_at(at)
            .await
            .ok()
            .map(|r| ailedger_core::Sha256Digest(r).hex())
    } else {
        None
    };
    Ok(Subgraph {
        root,
        artifacts,
        edges,
        attestations,
        incidents,
        ledger: LedgerState {
            seq: at,
            time,
            root_hash,
        },
    })
}

/// The incidents live at seq `at` that cover any of `ids`, with what they cover.
async fn incidents_at(
    state: &AppState,
    ids: &[String],
    at: u64,
) -> Result<Vec<IncidentVex>, ApiError> {
    let book = super::incidents::book(state).await?;
    let mut out = Vec::new();
    for i in book.incidents.values().filter(|i| i.id <= at) {
        // Its state as of `at`: the last step at or before it.
        let state_at = i
            .steps
            .iter()
            .filter(|s| s.seq <= at)
            .fold("open", |s, step| match step.action {
                "ack" => "acknowledged",
                "resolve" => "resolved",
                "retract" => "retracted",
                _ => s,
            });
        if !matches!(state_at, "open" | "acknowledged") {
            continue;
        }
        let Some(m) = book.matcher_for(i.id) else {
            continue;
        };
        let affects: Vec<String> = ids
            .iter()
            .filter(|id| m.covers([id.as_str()]).contains(&Cover::Incident(i.id)))
            .cloned()
            .collect();
        if affects.is_empty() {
            continue;
        }
        out.push(IncidentVex {
            id: i.id,
            state: state_at.into(),
            severity: i.severity,
            reason: i.reason.clone(),
            advisory: i.advisory.clone(),
            opened: format_time(i.opened_us),
            affects,
        });
    }
    Ok(out)
}
