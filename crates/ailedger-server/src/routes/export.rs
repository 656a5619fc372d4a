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
    // Writing a large subgraph is CPU work: off the async runtime.
    let bytes = tokio::task::spawn_blocking(move || ailedger_export::spdx::to_json(&sub))
        .await
        .map_err(|e| ApiError::Internal(format!("SPDX writer: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/spdx+json")], bytes).into_response())
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
    /// `json` (default). `xml` is not written yet and is refused.
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
    match q.format.as_deref() {
        None | Some("json") => {}
        Some("xml") => {
            return Err(ApiError::Invalid(
                "format: xml is not written yet; use json".into(),
            ));
        }
        Some(other) => {
            return Err(ApiError::Invalid(format!(
                "format: {other:?} is not json or xml"
            )));
        }
    }
    let at = seq_of(&state, q.as_of.as_deref()).await?;
    let sub = gather(&state, &q.ref_, at).await?;
    // Writing a large subgraph is CPU work: off the async runtime.
    let body = tokio::task::spawn_blocking(move || cyclonedx::to_json(&sub, spec))
        .await
        .map_err(|e| ApiError::Internal(format!("CycloneDX writer: {e}")))?;
    let content_type = format!("application/vnd.cyclonedx+json; version={}", spec.as_str());
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The subgraph of `input` (any ref) as of seq `at` (default: now); not found when the
/// artifact was first recorded after `at`.
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
    let (ids, edges, attesters) = {
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
        (ids, edges, attesters)
    };
    let mut records: HashMap<String, ailedger_store::ArtifactRecord> = state
        .store
        .artifacts(&ids)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    if let Some(r) = records.get(&root)
        && r.first_seq > at
    {
        return Err(ApiError::NotFound(format!(
            "{input} was first recorded at seq {}, after the export's seq {at}",
            r.first_seq
        )));
    }
    let mut artifacts = Vec::with_capacity(ids.len());
    for id in &ids {
        let r = records
            .remove(id)
            .ok_or_else(|| ApiError::Internal(format!("{id} is in the index but has no record")))?;
        let mut aliases = r.aliases;
        aliases.retain(|a| a != id);
        aliases.sort();
        artifacts.push(Artifact {
            id: r.id,
            kind: r.kind,
            name: r.name,
            version: r.version,
            aliases,
            attrs: r.attrs,
            first_seq: r.first_seq,
        });
    }
    let mut attestations: Vec<Attestation> = Vec::new();
    for (a, subject) in attesters {
        match attestations.last_mut() {
            Some(last) if last.id == a => last.subjects.push(subject),
            _ => {
                let attrs = artifacts.iter().find(|x| x.id == a).map(|x| &x.attrs);
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
