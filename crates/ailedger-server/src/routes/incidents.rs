//! Incidents (`/v1/incidents…`), the blocklist (`/v1/blocklist…`) and the write-time
//! flags every write gets when it makes something consume a compromised artifact.
//!
//! The state is the ledger's own `incident`, `containment` and `advisory` entries,
//! folded by `ailedger_core::incident::Book`; this server keeps one folded copy and
//! brings it up to the store (one indexed query) before each use, so other servers'
//! incident writes count too. Writes of those entries hold the copy's lock, so a
//! transition is checked against the state it is appended after.

use std::{
    collections::{BTreeMap, HashMap},
    sync::atomic::Ordering,
};

use ailedger_core::{
    ArtifactKind, EntryData, Severity,
    blast::Report,
    entry::format_time,
    incident::{Block, Book, Containment, Cover, Evidence, IncidentEvent, State, Step, Target},
};
use ailedger_store::{Blob, NewEntry};
use axum::{
    Json,
    extract::{Path, State as AxumState},
    http::header,
    response::{IntoResponse, Response},
};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiJson, ApiQuery};
use crate::{ApiError, AppState, auth::Caller, build, paths};

/// Largest evidence file accepted with an incident.
pub(crate) const MAX_EVIDENCE: usize = 32 * 1024 * 1024;

/// The folded book, brought up to the store.
pub(crate) async fn book(state: &AppState) -> Result<tokio::sync::MutexGuard<'_, Book>, ApiError> {
    // Whether the store holds book entries the book has not folded is asked before
    // the lock is taken: every write asks, and the answer is nearly always no, so
    // concurrent writes do not queue behind one another's query.
    let seen = state.book_head.load(Ordering::Acquire);
    let newer = state.store.book_entries(seen, 1).await?;
    let mut book = state.book.lock().await;
    if newer.is_empty() && book.head() == seen {
        return Ok(book);
    }
    loop {
        let batch = state.store.book_entries(book.head(), 1000).await?;
        if batch.is_empty() {
            break;
        }
        for stored in &batch {
            book.apply(&stored.decode()?);
        }
    }
    state.book_head.store(book.head(), Ordering::Release);
    Ok(book)
}

/// Appends entries while the book is locked, and folds them in.
pub(crate) async fn append_entries(
    state: &AppState,
    book: &mut Book,
    actor: &str,
    data: Vec<EntryData>,
    blob: Option<Blob>,
) -> Result<Vec<u64>, ApiError> {
    let entries: Vec<NewEntry> = data
        .iter()
        .cloned()
        .map(|data| NewEntry {
            actor: actor.to_owned(),
            data,
        })
        .collect();
    let _writing = state.writing_guard();
    let (appended, changes) = state.store.append_indexed(entries, blob).await?;
    if let (Some(first), Some(last)) = (appended.first(), appended.last()) {
        state.sync_own_write(first.seq, last.seq, changes).await?;
    }
    for (a, data) in appended.iter().zip(data) {
        book.apply(&ailedger_core::Entry {
            seq: a.seq,
            time_us: a.time_us,
            actor: actor.to_owned(),
            data,
        });
    }
    state.book_head.store(book.head(), Ordering::Release);
    Ok(appended.iter().map(|a| a.seq).collect())
}

// ---- requests and views ----

/// A file or link given as evidence.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceInput {
    /// A web page (an advisory, a write-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A file's name…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// …and its bytes, base64: kept in the ledger's document store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
}

/// Mark something compromised: opens an incident.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompromiseRequest {
    /// A ref or digest, a purl (every version), or a purl with a `vers:` range
    /// (`pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42`). Or give `osv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "pkg:pypi/ultralytics@vers:pypi/>=8.3.41|<=8.3.42")]
    pub target: Option<String>,
    /// An OSV record: the incident covers what it affects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osv: Option<serde_json::Value>,
    pub reason: String,
    /// info, low, medium, high (default) or critical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceInput>,
    /// The advisory's id (`GHSA-…`, `MAL-…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    /// Also put the target on the blocklist.
    #[serde(default)]
    pub block: bool,
}

/// A step of an incident.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StepView {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A write-time flag recorded on an incident.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExposureView {
    pub seq: u64,
    pub time: String,
    pub consumer: String,
    pub via: String,
}

/// An incident.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentView {
    pub id: u64,
    pub state: String,
    pub severity: String,
    /// The target as recorded.
    #[schema(value_type = Object)]
    pub target: serde_json::Value,
    /// The target as a person reads it.
    pub describe: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub evidence: Vec<serde_json::Value>,
    pub opened_by: String,
    pub opened: String,
    pub steps: Vec<StepView>,
    pub exposures: Vec<ExposureView>,
    /// Blocklist entries opened for it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentsView {
    pub incidents: Vec<IncidentView>,
}

/// What a responder writes when moving an incident on.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Block matching artifacts.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    /// As for incidents: a ref, a digest, a purl, or a purl with a `vers:` range.
    pub target: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlockView {
    pub id: u64,
    #[schema(value_type = Object)]
    pub target: serde_json::Value,
    pub describe: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
    pub actor: String,
    pub time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifted: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlocklistView {
    pub blocks: Vec<BlockView>,
}

/// A write that made something consume a compromised or blocked artifact: the write
/// is recorded, and the flag says what it touched.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Flag {
    /// `incident`, `block` or `quarantine`.
    pub kind: String,
    /// The incident that covers it (an `exposed` event is recorded on it)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
    /// …or the blocklist entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<u64>,
    /// What now consumes it (for a newly registered compromised artifact, itself).
    pub consumer: String,
    /// The artifact the write made it consume.
    pub via: String,
    /// The compromised artifact reached.
    pub compromised: String,
    pub message: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// `open` (open and acknowledged; the default), `resolved`, `retracted` or `all`.
    state: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportQuery {
    /// Compute it as of this seq (default: now): the same seq gives the same report.
    at: Option<u64>,
    /// `json` (default), `markdown`, `csv` or `table`.
    format: Option<String>,
}

// ---- targets ----

/// Reads a target as written: a purl range or package, else a ref resolved to an
/// artifact (a digest or purl not yet known is kept as it is: registering it later is
/// flagged).
pub(crate) async fn target_of(state: &AppState, input: &str) -> Result<Target, ApiError> {
    let input = input.trim();
    if let Some(t) = Target::parse_package(input)? {
        return Ok(t);
    }
    let r: ailedger_core::Ref = input.parse()?;
    let canonical = r.to_string();
    match build::resolve_ref(state, &build::Local::new(), input).await {
        Ok(id) => Ok(Target::Artifact { id }),
        Err(ApiError::NotFound(_)) if !matches!(r, ailedger_core::Ref::Named { .. }) => {
            Ok(Target::Artifact { id: canonical })
        }
        Err(e) => Err(e),
    }
}

fn severity_of(s: Option<&str>) -> Result<Severity, ApiError> {
    s.unwrap_or("high")
        .parse()
        .map_err(|e: String| ApiError::Invalid(format!("severity: {e}")))
}

async fn evidence_of(inputs: &[EvidenceInput]) -> Result<(Vec<Evidence>, Option<Blob>), ApiError> {
    let mut out = Vec::new();
    let mut blob = None;
    for (i, e) in inputs.iter().enumerate() {
        let at = format!("evidence[{i}]");
        match (&e.url, &e.content_base64) {
            (Some(url), None) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 8192
                {
                    return Err(ApiError::Invalid(format!(
                        "{at}.url: expected an http(s) URL"
                    )));
                }
                out.push(Evidence {
                    url: Some(
                        ailedger_core::redact::url(url, ailedger_core::redact::UrlRule::Endpoint)
                            .into_owned(),
                    ),
                    digest: None,
                    name: e.name.clone(),
                });
            }
            (None, Some(b64)) => {
                if blob.is_some() {
                    return Err(ApiError::Invalid(format!(
                        "{at}: one evidence file per request (give more as URLs or add them later)"
                    )));
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|err| ApiError::Invalid(format!("{at}.content_base64: {err}")))?;
                if bytes.len() > MAX_EVIDENCE {
                    return Err(ApiError::Invalid(format!(
                        "{at}: {} bytes, over the limit of {MAX_EVIDENCE}",
                        bytes.len()
                    )));
                }
                let digest = ailedger_core::Sha256Digest::of(&bytes);
                out.push(Evidence {
                    url: None,
                    digest: Some(digest),
                    name: e.name.clone(),
                });
                blob = Some(Blob {
                    digest,
                    format: "incident evidence".into(),
                    bytes,
                });
            }
            _ => {
                return Err(ApiError::Invalid(format!(
                    "{at}: give either url or content_base64"
                )));
            }
        }
    }
    Ok((out, blob))
}

// ---- handlers ----

/// Mark an artifact, a package range or an OSV record's packages compromised (admin):
/// opens an incident, and with `block` a blocklist entry for the same target.
#[utoipa::path(post, path = paths::INCIDENTS, request_body = CompromiseRequest,
    responses((status = 200, body = IncidentView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn open(
    AxumState(state): AxumState<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CompromiseRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let severity = severity_of(req.severity.as_deref())?;
    let (evidence, blob) = evidence_of(&req.evidence).await?;
    let mut data = Vec::new();
    let (target, advisory) = match (&req.target, &req.osv) {
        (Some(t), None) => (target_of(&state, t).await?, req.advisory.clone()),
        (None, Some(osv)) => {
            let (record, _skipped) = ailedger_core::incident::Advisory::from_osv(osv)
                .map_err(|e| ApiError::Invalid(format!("osv: {e}")))?;
            crate::routes::advisories::check_schema(osv)
                .map_err(|e| ApiError::Invalid(format!("osv: {e}")))?;
            if record.withdrawn.is_some() {
                return Err(ApiError::Invalid(format!(
                    "osv: {} is withdrawn: it affects nothing",
                    record.id
                )));
            }
            let id = record.id.clone();
            data.push(EntryData::Advisory {
                advisories: vec![record],
            });
            (
                Target::Advisory { id: id.clone() },
                req.advisory.clone().or(Some(id)),
            )
        }
        _ => {
            return Err(ApiError::Invalid("give either target or osv".into()));
        }
    };
    let event = IncidentEvent::Open {
        target: target.clone(),
        reason: req.reason.clone(),
        severity,
        evidence,
        advisory,
    };
    event.validate()?;
    let opened_at = data.len();
    data.push(EntryData::Incident { incident: event });
    let mut book = book(&state).await?;
    let seqs = append_entries(&state, &mut book, &caller.name, data, blob).await?;
    let id = seqs[opened_at];
    if req.block {
        // A second entry, so it can name the incident by its seq.
        append_entries(
            &state,
            &mut book,
            &caller.name,
            vec![EntryData::Containment {
                containment: Containment::Block {
                    target,
                    reason: req.reason.clone(),
                    incident: Some(id),
                },
            }],
            None,
        )
        .await?;
    }
    tracing::warn!(incident = id, by = %caller.name, "incident opened");
    view(&state, &book, id).await.map(Json)
}

/// Incidents, most recent first.
#[utoipa::path(get, path = paths::INCIDENTS, params(ListQuery),
    responses((status = 200, body = IncidentsView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn list(
    AxumState(state): AxumState<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<IncidentsView>, ApiError> {
    let wanted: fn(State) -> bool = match q.state.as_deref().unwrap_or("open") {
        "open" => |s| s.is_live(),
        "resolved" => |s| s == State::Resolved,
        "retracted" => |s| s == State::Retracted,
        "all" => |_| true,
        other => {
            return Err(ApiError::Invalid(format!(
                "state {other:?}: expected open, resolved, retracted or all"
            )));
        }
    };
    let book = book(&state).await?;
    let ids: Vec<u64> = book
        .incidents
        .values()
        .rev()
        .filter(|i| wanted(i.state))
        .map(|i| i.id)
        .collect();
    let mut incidents = Vec::with_capacity(ids.len());
    for id in ids {
        incidents.push(view(&state, &book, id).await?);
    }
    Ok(Json(IncidentsView { incidents }))
}

/// One incident with its history.
#[utoipa::path(get, path = paths::INCIDENT, params(("id" = u64, Path, description = "the incident's id (the seq that opened it)")),
    responses((status = 200, body = IncidentView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn show(
    AxumState(state): AxumState<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IncidentView>, ApiError> {
    let id = incident_id(&id)?;
    let book = book(&state).await?;
    view(&state, &book, id).await.map(Json)
}

fn incident_id(s: &str) -> Result<u64, ApiError> {
    s.trim_start_matches('#')
        .parse()
        .map_err(|_| ApiError::Invalid(format!("incident id {s:?}: expected a number")))
}

/// Acknowledge an incident (admin): a responder has taken it.
#[utoipa::path(post, path = paths::INCIDENT_ACK, request_body = TransitionRequest, params(("id" = u64, Path, description = "the incident's id")),
    responses((status = 200, body = IncidentView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn ack(
    AxumState(state): AxumState<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TransitionRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let incident = incident_id(&id)?;
    transition(
        &state,
        &caller,
        IncidentEvent::Ack {
            incident,
            note: req.note,
        },
    )
    .await
}

/// Resolve an incident (admin): contained and closed.
#[utoipa::path(post, path = paths::INCIDENT_RESOLVE, request_body = TransitionRequest, params(("id" = u64, Path, description = "the incident's id")),
    responses((status = 200, body = IncidentView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn resolve(
    AxumState(state): AxumState<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<TransitionRequest>,
) -> Result<Json<IncidentView>, ApiError> {
    let incident = incident_id(&id)?;
    transition(
        &state,
        &caller,
        IncidentEvent::Resolve {
            incident,
            note: req.note,
        },
    )
    .await
}

async fn transition(
    state: &AppState,
    caller: &Caller,
    event: IncidentEvent,
) -> Result<Json<IncidentView>, ApiError> {
    let id = match &event {
        IncidentEvent::Ack { incident, .. } | IncidentEvent::Resolve { incident, .. } => *incident,
        _ => return Err(ApiError::Internal("not a transition".into())),
    };
    let mut book = book(state).await?;
    if !book.incidents.contains_key(&id) {
        return Err(ApiError::NotFound(format!("no incident #{id}")));
    }
    book.check(&event)
        .map_err(|e| ApiError::Conflict(e.to_string()))?;
    append_entries(
        state,
        &mut book,
        &caller.name,
        vec![EntryData::Incident { incident: event }],
        None,
    )
    .await?;
    view(state, &book, id).await.map(Json)
}

async fn view(state: &AppState, book: &Book, id: u64) -> Result<IncidentView, ApiError> {
    let i = book
        .incidents
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no incident #{id}")))?;
    let times = super::seq_times(state, i.exposures.iter().map(|e| e.0)).await?;
    let step = |s: &Step| StepView {
        seq: s.seq,
        time: format_time(s.time_us),
        actor: s.actor.clone(),
        action: s.action.into(),
        note: s.note.clone(),
    };
    Ok(IncidentView {
        id,
        state: i.state.as_str().into(),
        severity: i.severity.to_string(),
        target: serde_json::to_value(&i.target).map_err(|e| ApiError::Internal(e.to_string()))?,
        describe: i.target.describe(),
        reason: i.reason.clone(),
        advisory: i.advisory.clone(),
        evidence: i
            .evidence
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        opened_by: i.opened_by.clone(),
        opened: format_time(i.opened_us),
        steps: i.steps.iter().map(step).collect(),
        exposures: i
            .exposures
            .iter()
            .map(|(seq, consumer, via)| ExposureView {
                seq: *seq,
                time: times.get(seq).cloned().unwrap_or_default(),
                consumer: consumer.clone(),
                via: via.clone(),
            })
            .collect(),
        blocks: book
            .blocks
            .values()
            .filter(|b| b.incident == Some(id))
            .map(|b| b.id)
            .collect(),
    })
}

/// The blast-radius report of an incident: every affected deployment with its
/// environment, owner, path, exposure window and last known-good; the intermediate
/// artifacts; the seq and Merkle root it was computed at.
#[utoipa::path(get, path = paths::INCIDENT_REPORT, params(("id" = u64, Path, description = "the incident's id"), ReportQuery),
    responses((status = 200, description = "the report (JSON, Markdown, CSV or a text table)"), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn report(
    AxumState(state): AxumState<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let id = incident_id(&id)?;
    let format = q.format.as_deref().unwrap_or("json");
    if !matches!(format, "json" | "markdown" | "csv" | "table") {
        return Err(ApiError::Invalid(format!(
            "format {format:?}: expected json, markdown, csv or table"
        )));
    }
    let report = incident_report(&state, id, q.at).await?;
    Ok(match format {
        "markdown" => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            report.markdown(),
        )
            .into_response(),
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report.csv(),
        )
            .into_response(),
        "table" => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            report.table(),
        )
            .into_response(),
        _ => Json(report).into_response(),
    })
}

/// Builds an incident's report (off the async runtime: it walks the index).
pub(crate) async fn incident_report(
    state: &AppState,
    id: u64,
    at: Option<u64>,
) -> Result<Report, ApiError> {
    let book = book(state).await?;
    let incident = book
        .incidents
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no incident #{id}")))?;
    let head = state.read_index().head();
    if let Some(at) = at
        && at > head
    {
        return Err(ApiError::Invalid(format!(
            "at={at}: the ledger's head is {head}"
        )));
    }
    let at = at.unwrap_or(head);
    let matcher = book
        .matcher_for(id)
        .ok_or_else(|| ApiError::NotFound(format!("no incident #{id}")))?;
    let live = book.matcher();
    let target = incident.target.describe();
    drop(book);
    let index = state.index.clone();
    let mut report = tokio::task::spawn_blocking(move || {
        let index = index.read().unwrap_or_else(|e| e.into_inner());
        let targets: Vec<&str> = matcher
            .matched_in(&index)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let live_targets: Vec<&str> = live
            .matched_in(&index)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let exposure = index.exposure(&targets, Some(at));
        let live = index.exposure(&live_targets, Some(at));
        Report::build(Some(id), target, &index, &exposure, &live)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("report task: {e}")))?;
    let times = super::seq_times(state, report.seqs().into_iter()).await?;
    report.fill_times(&times);
    if at > 0
        && let Ok(root) = state.store.root_at(at).await
    {
        report.checkpoint = Some(ailedger_core::blast::Checkpoint {
            tree_size: at,
            root_hash: ailedger_core::Sha256Digest(root).hex(),
        });
    }
    Ok(report)
}

// ---- blocklist ----

/// Put matching artifacts on the blocklist (admin): every later registration or
/// deployment of one is flagged, and fails the policy gate.
#[utoipa::path(post, path = paths::BLOCKLIST, request_body = BlockRequest,
    responses((status = 200, body = BlockView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn block(
    AxumState(state): AxumState<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BlockRequest>,
) -> Result<Json<BlockView>, ApiError> {
    let target = target_of(&state, &req.target).await?;
    let c = Containment::Block {
        target,
        reason: req.reason,
        incident: req.incident,
    };
    c.validate()?;
    let mut book = book(&state).await?;
    if let Some(i) = req.incident
        && !book.incidents.contains_key(&i)
    {
        return Err(ApiError::NotFound(format!("incident: no incident #{i}")));
    }
    let seqs = append_entries(
        &state,
        &mut book,
        &caller.name,
        vec![EntryData::Containment { containment: c }],
        None,
    )
    .await?;
    block_view(&book.blocks[&seqs[0]]).map(Json)
}

/// The blocklist (lifted entries too, with the entry that lifted them).
#[utoipa::path(get, path = paths::BLOCKLIST,
    responses((status = 200, body = BlocklistView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn blocklist(
    AxumState(state): AxumState<AppState>,
) -> Result<Json<BlocklistView>, ApiError> {
    let book = book(&state).await?;
    Ok(Json(BlocklistView {
        blocks: book
            .blocks
            .values()
            .map(block_view)
            .collect::<Result<_, _>>()?,
    }))
}

/// Lift a blocklist entry (admin).
#[utoipa::path(delete, path = paths::BLOCK, params(("id" = u64, Path, description = "the blocklist entry's id")),
    responses((status = 200, body = BlockView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn unblock(
    AxumState(state): AxumState<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BlockView>, ApiError> {
    let id = incident_id(&id)?;
    let mut book = book(&state).await?;
    match book.blocks.get(&id) {
        None => return Err(ApiError::NotFound(format!("no blocklist entry #{id}"))),
        Some(b) if b.lifted.is_some() => {
            return Err(ApiError::Conflict(format!(
                "blocklist entry #{id} was lifted already"
            )));
        }
        Some(_) => {}
    }
    append_entries(
        &state,
        &mut book,
        &caller.name,
        vec![EntryData::Containment {
            containment: Containment::Unblock {
                block: id,
                note: None,
            },
        }],
        None,
    )
    .await?;
    block_view(&book.blocks[&id]).map(Json)
}

fn block_view(b: &Block) -> Result<BlockView, ApiError> {
    Ok(BlockView {
        id: b.id,
        target: serde_json::to_value(&b.target).map_err(|e| ApiError::Internal(e.to_string()))?,
        describe: b.target.describe(),
        reason: b.reason.clone(),
        incident: b.incident,
        actor: b.actor.clone(),
        time: format_time(b.time_us),
        lifted: b.lifted,
    })
}

// ---- write-time flags ----

/// What a write makes consume what: `(consumer, consumed)` for each edge it starts and
/// each artifact a deployment uses; `(None, id)` for each artifact it registers.
fn touches(data: &EntryData) -> Vec<(Option<String>, String)> {
    match data {
        EntryData::Register { artifacts, edges }
        | EntryData::Document {
            artifacts, edges, ..
        } => artifacts
            .iter()
            .map(|a| (None, a.id.clone()))
            .chain(edges.iter().map(|e| (Some(e.from.clone()), e.to.clone())))
            .collect(),
        EntryData::Link { edges } => edges
            .iter()
            .map(|e| (Some(e.from.clone()), e.to.clone()))
            .collect(),
        EntryData::Deploy { deployment, uses } => uses
            .iter()
            .map(|u| (Some(deployment.id.clone()), u.clone()))
            .collect(),
        _ => vec![],
    }
}

/// What a deployment ran last before its exposure to anything live, for a rollback.
pub(crate) async fn known_good_uses(state: &AppState, id: &str) -> Result<Vec<String>, ApiError> {
    if !state.read_index().contains(id) {
        return Err(ApiError::NotFound(format!(
            "{id}: no such deployment to roll back"
        )));
    }
    let live = book(state).await?.matcher();
    let index = state.index.clone();
    let id = id.to_owned();
    tokio::task::spawn_blocking(move || {
        let index = index.read().unwrap_or_else(|e| e.into_inner());
        let targets: Vec<&str> = live
            .matched_in(&index)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let exposure = index.exposure(&targets, None);
        ailedger_core::blast::known_good_of(&index, &id, &exposure).map(|k| k.uses)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("known-good task: {e}")))?
    .map_err(ApiError::Conflict)
}

/// What a write must remember, before it is appended, to be flagged after it: what it
/// makes consume what (when anything is watched) and the new models and packages
/// quarantine may hold.
pub(crate) struct Watch {
    touches: Vec<(Option<String>, String)>,
    candidates: Vec<String>,
}

impl Watch {
    /// Taken before the write's entries are appended (the index does not have them yet).
    pub(crate) async fn before(state: &AppState, data: &[EntryData]) -> Result<Self, ApiError> {
        let touches = if watching(state).await? {
            data.iter().flat_map(touches).collect()
        } else {
            vec![]
        };
        let candidates = data
            .iter()
            .flat_map(|d| quarantine_candidates(state, d))
            .collect();
        Ok(Watch {
            touches,
            candidates,
        })
    }

    /// After the write is in the index: its flags (incidents, blocks, quarantine).
    pub(crate) async fn after(self, state: &AppState, actor: &str) -> Result<Vec<Flag>, ApiError> {
        let touched: Vec<String> = self.touches.iter().map(|(_, to)| to.clone()).collect();
        let mut flags = flag(state, actor, self.touches).await?;
        flags.extend(quarantine_after(state, actor, self.candidates, touched).await?);
        Ok(flags)
    }
}

/// Whether writes need their touches collected: something is live, or advisories
/// are imported (a write may register a package one affects).
async fn watching(state: &AppState) -> Result<bool, ApiError> {
    let book = book(state).await?;
    Ok(book.advisories_seq > 0
        || !book.quarantined.is_empty()
        || book.incidents.values().any(|i| i.state.is_live())
        || book.blocks.values().any(|b| b.lifted.is_none()))
}

/// Most flags one write answers with (the incident keeps every `exposed` event).
const MAX_FLAGS: usize = 1000;

/// After a write is in the index: the flags for what it made consume something a live
/// incident or block covers, with an `exposed` event recorded on each incident for
/// each new consumer. Costs nothing while nothing is live.
async fn flag(
    state: &AppState,
    actor: &str,
    touches: Vec<(Option<String>, String)>,
) -> Result<Vec<Flag>, ApiError> {
    if touches.is_empty() {
        return Ok(vec![]);
    }
    let mut book = book(state).await?;
    open_for_advisories(state, &mut book, actor, &touches).await?;
    let matcher = book.matcher();
    if matcher.is_empty() {
        return Ok(vec![]);
    }
    let index = state.index.clone();
    let found = tokio::task::spawn_blocking(move || {
        let index = index.read().unwrap_or_else(|e| e.into_inner());
        let matched = matcher.matched_in(&index);
        if matched.is_empty() {
            return vec![];
        }
        let covers: HashMap<&str, &Vec<Cover>> = matched.iter().map(|(id, c)| (*id, c)).collect();
        let targets: Vec<&str> = matched.iter().map(|(id, _)| *id).collect();
        let exposure = index.exposure(&targets, None);
        let mut out: BTreeMap<(Cover, String), (String, String)> = BTreeMap::new();
        for (consumer, to) in touches {
            if out.len() >= MAX_FLAGS {
                break;
            }
            if !exposure.exposed_at(&to, None) && !covers.contains_key(to.as_str()) {
                continue;
            }
            // The compromised artifact reached from `to`: itself, or the path's end.
            let reached = match covers.get(to.as_str()) {
                Some(_) => to.clone(),
                None => exposure
                    .of(&to)
                    .and_then(|e| e.path.last().map(|(_, id)| (*id).to_owned()))
                    .unwrap_or_else(|| to.clone()),
            };
            let Some(cs) = covers.get(reached.as_str()) else {
                continue;
            };
            for c in cs.iter() {
                out.entry((*c, consumer.clone().unwrap_or_else(|| to.clone())))
                    .or_insert((to.clone(), reached.clone()));
            }
        }
        out.into_iter()
            .map(|((c, consumer), (via, reached))| (c, consumer, via, reached))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("flag task: {e}")))?;
    let mut flags = Vec::with_capacity(found.len());
    let mut events = Vec::new();
    for (cover, consumer, via, compromised) in found {
        let (incident, block, message) = match cover {
            Cover::Incident(i) => {
                let seen = book.incidents.get(&i).is_some_and(|inc| {
                    inc.exposures
                        .iter()
                        .any(|(_, c, v)| *c == consumer && *v == via)
                });
                if !seen {
                    events.push(EntryData::Incident {
                        incident: IncidentEvent::Exposed {
                            incident: i,
                            consumer: consumer.clone(),
                            via: via.clone(),
                        },
                    });
                }
                (
                    Some(i),
                    None,
                    format!("{consumer} now consumes {compromised}, compromised in incident #{i}"),
                )
            }
            Cover::Block(b) => (
                None,
                Some(b),
                format!("{consumer} now consumes {compromised}, on the blocklist (entry #{b})"),
            ),
            Cover::Record(_) => continue,
        };
        flags.push(Flag {
            kind: if incident.is_some() {
                "incident"
            } else {
                "block"
            }
            .into(),
            incident,
            block,
            consumer,
            via,
            compromised,
            message,
        });
    }
    if !events.is_empty() {
        append_entries(state, &mut book, actor, events, None).await?;
    }
    for f in &flags {
        tracing::warn!(consumer = %f.consumer, compromised = %f.compromised, "write flagged");
    }
    Ok(flags)
}

/// Imported advisories that match an artifact this write touches, and have no live
/// incident yet (the artifact was not in the ledger when they were imported), open one
/// now, before the write's flags are computed.
async fn open_for_advisories(
    state: &AppState,
    book: &mut Book,
    actor: &str,
    touches: &[(Option<String>, String)],
) -> Result<(), ApiError> {
    if book.advisories_seq == 0 {
        return Ok(());
    }
    let cached = {
        let mut cache = state
            .advisory_matcher
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match &*cache {
            Some((seq, m)) if *seq == book.advisories_seq => m.clone(),
            _ => {
                let m = std::sync::Arc::new(book.advisory_matcher());
                *cache = Some((book.advisories_seq, m.clone()));
                m
            }
        }
    };
    let (ids, matcher) = &*cached;
    let mut hits: Vec<&str> = Vec::new();
    for (_, to) in touches {
        for c in matcher.covers([to.as_str()]) {
            if let Cover::Record(i) = c
                && let Some(id) = ids.get(i as usize)
            {
                hits.push(id);
            }
        }
    }
    hits.sort_unstable();
    hits.dedup();
    let mut events = Vec::new();
    for id in hits {
        let Some(a) = book.advisories.get(id) else {
            continue;
        };
        let live = a
            .incident
            .is_some_and(|i| book.incidents.get(&i).is_some_and(|x| x.state.is_live()));
        if live {
            continue;
        }
        events.push(EntryData::Incident {
            incident: super::advisories::open_event(&a.record),
        });
    }
    if !events.is_empty() {
        append_entries(state, book, actor, events, None).await?;
    }
    Ok(())
}

/// What a write declares that quarantine applies to: new models and packages (not yet
/// in the index before the write).
fn quarantine_candidates(state: &AppState, data: &EntryData) -> Vec<String> {
    let artifacts = match data {
        EntryData::Register { artifacts, .. } | EntryData::Document { artifacts, .. } => artifacts,
        _ => return vec![],
    };
    let index = state.read_index();
    artifacts
        .iter()
        .filter(|a| matches!(a.kind, ArtifactKind::Model | ArtifactKind::Package))
        .filter(|a| !index.contains(&a.id))
        .map(|a| a.id.clone())
        .collect()
}

/// After a write, with `quarantine` on in the policy in force: the new models and
/// packages that fail the gate's checks on themselves are quarantined (one
/// `containment` entry each), and quarantined artifacts the write touched (an
/// attestation of one, say) that now pass are released.
async fn quarantine_after(
    state: &AppState,
    actor: &str,
    new: Vec<String>,
    touched: Vec<String>,
) -> Result<Vec<Flag>, ApiError> {
    if new.is_empty() && touched.is_empty() {
        return Ok(vec![]);
    }
    let Some((rules, policy)) = super::check::quarantine_rules(state).await? else {
        return Ok(vec![]);
    };
    let mut ids = new;
    {
        let book = book(state).await?;
        ids.extend(
            touched
                .into_iter()
                .filter(|t| book.quarantined.contains_key(t)),
        );
    }
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    // The gate reads the book itself (containment): it is not held meanwhile.
    let verdicts = super::check::held_back(state, &ids, &rules, &policy).await?;
    let mut book = book(state).await?;
    let mut entries = Vec::new();
    let mut flags = Vec::new();
    for (id, failures) in verdicts {
        let held = book.quarantined.contains_key(&id);
        if failures.is_empty() {
            if held {
                entries.push(EntryData::Containment {
                    containment: Containment::Release {
                        artifact: id.clone(),
                        note: Some("the policy's checks pass".into()),
                    },
                });
            }
            continue;
        }
        if held {
            continue;
        }
        let reason = failures
            .iter()
            .map(|f| format!("{} {}", f.code.as_str(), f.message))
            .collect::<Vec<_>>()
            .join("; ");
        flags.push(Flag {
            kind: "quarantine".into(),
            incident: None,
            block: None,
            consumer: id.clone(),
            via: id.clone(),
            compromised: id.clone(),
            message: format!("{id} is quarantined until the policy's checks pass: {reason}"),
        });
        entries.push(EntryData::Containment {
            containment: Containment::Quarantine {
                artifact: id,
                reason,
            },
        });
    }
    if !entries.is_empty() {
        append_entries(state, &mut book, actor, entries, None).await?;
    }
    Ok(flags)
}

/// The live incidents and active blocks that cover each of these artifacts now, and
/// whether it is quarantined, for the policy gate (only ids with any are in the map).
pub(crate) async fn covering(
    state: &AppState,
    ids: &[&str],
) -> Result<HashMap<String, ailedger_attest::gate::Containment>, ApiError> {
    let book = book(state).await?;
    let matcher = book.matcher();
    let mut out = HashMap::new();
    for id in ids {
        let covers = if matcher.is_empty() {
            vec![]
        } else {
            matcher.covers([*id])
        };
        let quarantined = book.quarantined.contains_key(*id);
        if covers.is_empty() && !quarantined {
            continue;
        }
        let (mut incidents, mut blocks) = (vec![], vec![]);
        for c in covers {
            match c {
                Cover::Incident(i) => incidents.push(i),
                Cover::Block(b) => blocks.push(b),
                Cover::Record(_) => {}
            }
        }
        out.insert(
            (*id).to_owned(),
            ailedger_attest::gate::Containment {
                incidents,
                blocked: blocks,
                quarantined,
            },
        );
    }
    Ok(out)
}

// ---- quarantine ----

/// A quarantined artifact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuarantinedView {
    pub artifact: String,
    /// The entry that quarantined it, and its time.
    pub seq: u64,
    pub time: String,
    /// The checks it failed.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuarantineView {
    pub quarantined: Vec<QuarantinedView>,
}

/// Release a quarantined artifact.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    #[serde(rename = "ref")]
    pub ref_: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Release it although the policy's checks still fail (the note should say why).
    #[serde(default)]
    pub force: bool,
}

/// Quarantined artifacts (newly registered models and packages held until the
/// policy's checks on them pass).
#[utoipa::path(get, path = paths::QUARANTINE,
    responses((status = 200, body = QuarantineView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn quarantined(
    AxumState(state): AxumState<AppState>,
) -> Result<Json<QuarantineView>, ApiError> {
    let held: Vec<(String, u64, String)> = book(&state)
        .await?
        .quarantined
        .iter()
        .map(|(artifact, (seq, reason))| (artifact.clone(), *seq, reason.clone()))
        .collect();
    let times = super::seq_times(&state, held.iter().map(|h| h.1)).await?;
    Ok(Json(QuarantineView {
        quarantined: held
            .into_iter()
            .map(|(artifact, seq, reason)| QuarantinedView {
                time: times.get(&seq).cloned().unwrap_or_default(),
                artifact,
                seq,
                reason,
            })
            .collect(),
    }))
}

/// Release a quarantined artifact (admin): when the policy's checks on it pass now, or
/// with `force`. Still failing, it stays, and the answer names what fails and what
/// would make it pass.
#[utoipa::path(post, path = paths::QUARANTINE_RELEASE, request_body = ReleaseRequest,
    responses((status = 200, body = QuarantineView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn release(
    AxumState(state): AxumState<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ReleaseRequest>,
) -> Result<Json<QuarantineView>, ApiError> {
    let id = build::resolve_ref(&state, &build::Local::new(), &req.ref_).await?;
    if !book(&state).await?.quarantined.contains_key(&id) {
        return Err(ApiError::Conflict(format!("{id} is not quarantined")));
    }
    if !req.force
        && let Some((rules, policy)) = super::check::quarantine_rules(&state).await?
    {
        let verdicts =
            super::check::held_back(&state, std::slice::from_ref(&id), &rules, &policy).await?;
        if let Some((_, failures)) = verdicts.first()
            && !failures.is_empty()
        {
            let why: Vec<String> = failures
                .iter()
                .map(|f| format!("{} {} ({})", f.code.as_str(), f.message, f.recommendation))
                .collect();
            return Err(ApiError::Conflict(format!(
                "{id} still fails the policy's checks: {}",
                why.join("; ")
            )));
        }
    }
    let mut book = book(&state).await?;
    if !book.quarantined.contains_key(&id) {
        return Err(ApiError::Conflict(format!("{id} is not quarantined")));
    }
    let note = match (req.force, req.note) {
        (true, Some(n)) => Some(format!("forced: {n}")),
        (true, None) => Some("forced".into()),
        (false, n) => n,
    };
    append_entries(
        &state,
        &mut book,
        &caller.name,
        vec![EntryData::Containment {
            containment: Containment::Release { artifact: id, note },
        }],
        None,
    )
    .await?;
    drop(book);
    quarantined(AxumState(state)).await
}
