//! OSV import (`POST /v1/advisories`, admin): records are checked against the OSV
//! schema, kept as `advisory` entries, matched against the ledger's packages (by purl
//! with the ecosystem's version order, and by package file digest), and each record
//! that matches opens an incident (or updates its incident when it changed; a
//! withdrawn record retracts it). Import is idempotent and incremental: a record whose
//! canonical JSON has the digest already recorded is unchanged and not re-applied;
//! `POST /v1/advisories/known` tells a client which of its records to send at all.

use std::collections::HashMap;

use ailedger_core::{
    EntryData, Severity,
    incident::{Advisory, Cover, IncidentEvent, Matcher, Target},
};
use axum::{Json, extract::State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{
    ApiJson,
    incidents::{append_entries, book},
};
use crate::{ApiError, AppState, auth::Caller, paths};

/// Most records one import request may carry.
pub const MAX_RECORDS: usize = 5000;
/// Largest import request body.
pub(crate) const MAX_BODY: usize = 128 * 1024 * 1024;
/// Most `(id, digest)` pairs one `known` request may carry.
pub const MAX_KNOWN: usize = 50_000;

/// Checks a record against the OSV schema.
pub(crate) fn check_schema(record: &Value) -> Result<(), String> {
    ailedger_formats::validate_osv(record)
}

/// A record a client holds: its id and the digest of its canonical JSON.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnownRecord {
    pub id: String,
    /// `sha256:<hex>` of the record's RFC 8785 canonical JSON.
    pub digest: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnownRequest {
    pub records: Vec<KnownRecord>,
}

/// Which of the records the ledger does not hold as they are (new or changed).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct KnownView {
    pub changed: Vec<String>,
}

/// OSV records to import.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<Value>,
}

/// What became of one record.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
pub struct RecordResult {
    /// The record's position in the request.
    pub index: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `new`, `changed`, `unchanged`, `withdrawn` or `invalid` (nothing applied).
    pub status: String,
    /// Why it is invalid, or what was skipped (packages of ecosystems ailedger does not
    /// order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The incident it opened, updated or retracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<u64>,
    /// What the incident did: `opened`, `updated` or `retracted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The ledger's artifacts it affects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ImportView {
    pub results: Vec<RecordResult>,
}

/// Which records are new or changed (admin): send only those to `POST /v1/advisories`.
#[utoipa::path(post, path = paths::ADVISORIES_KNOWN, request_body = KnownRequest,
    responses((status = 200, body = KnownView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn known(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<KnownRequest>,
) -> Result<Json<KnownView>, ApiError> {
    if req.records.len() > MAX_KNOWN {
        return Err(ApiError::Invalid(format!(
            "records: {} pairs, over the limit of {MAX_KNOWN} per request",
            req.records.len()
        )));
    }
    let book = book(&state).await?;
    let changed = req
        .records
        .into_iter()
        .filter(|r| {
            book.advisories
                .get(&r.id)
                .is_none_or(|a| a.record.digest.to_string() != r.digest)
        })
        .map(|r| r.id)
        .collect();
    Ok(Json(KnownView { changed }))
}

/// Import OSV records (admin). Each is applied or refused on its own: a record that
/// violates the OSV schema gets `invalid` with the reason, and the others go on.
#[utoipa::path(post, path = paths::ADVISORIES, request_body = ImportRequest,
    responses((status = 200, body = ImportView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ImportRequest>,
) -> Result<Json<ImportView>, ApiError> {
    if req.records.len() > MAX_RECORDS {
        return Err(ApiError::Invalid(format!(
            "records: {} records, over the limit of {MAX_RECORDS} per request",
            req.records.len()
        )));
    }
    // Parsing and schema checks are CPU work: off the async runtime.
    let parsed = tokio::task::spawn_blocking(move || {
        req.records
            .iter()
            .map(|r| {
                check_schema(r)?;
                Advisory::from_osv(r).map_err(|e| e.to_string())
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("import task: {e}")))?;
    let mut book = book(&state).await?;
    let mut results: Vec<RecordResult> = Vec::with_capacity(parsed.len());
    // The position in `changed` of each record's latest version in this request.
    let mut changed: Vec<Advisory> = Vec::new();
    let mut slot: HashMap<String, usize> = HashMap::new();
    for (index, p) in parsed.into_iter().enumerate() {
        let mut r = RecordResult {
            index,
            id: None,
            status: String::new(),
            detail: None,
            incident: None,
            action: None,
            matched: vec![],
        };
        match p {
            Err(e) => {
                r.status = "invalid".into();
                r.detail = Some(e);
            }
            Ok((a, skipped)) => {
                r.id = Some(a.id.clone());
                if !skipped.is_empty() {
                    r.detail = Some(format!("skipped: {}", skipped.join("; ")));
                }
                let before = book.advisories.get(&a.id);
                if before.is_some_and(|b| b.record.digest == a.digest) {
                    r.status = "unchanged".into();
                } else {
                    r.status = if a.withdrawn.is_some() {
                        "withdrawn"
                    } else if before.is_some() {
                        "changed"
                    } else {
                        "new"
                    }
                    .into();
                    match slot.get(&a.id) {
                        Some(&i) => changed[i] = a,
                        None => {
                            slot.insert(a.id.clone(), changed.len());
                            changed.push(a);
                        }
                    }
                }
            }
        }
        results.push(r);
    }
    if changed.is_empty() {
        return Ok(Json(ImportView { results }));
    }
    // What each changed record affects in the ledger now.
    let index = state.index.clone();
    let records = changed.clone();
    let matched: Vec<Vec<String>> = tokio::task::spawn_blocking(move || {
        let refs: Vec<&Advisory> = records.iter().collect();
        let m = Matcher::for_advisories(&refs);
        let index = index.read().unwrap_or_else(|e| e.into_inner());
        let mut out = vec![Vec::new(); records.len()];
        if m.is_empty() {
            return out;
        }
        for (id, covers) in m.matched_in(&index) {
            for c in covers {
                if let Cover::Record(i) = c {
                    out[i as usize].push(id.to_owned());
                }
            }
        }
        out
    })
    .await
    .map_err(|e| ApiError::Internal(format!("match task: {e}")))?;
    // The entries: the records, then each incident's event. Opened incidents' ids are
    // their entries' seqs, read back after the append.
    let mut events: Vec<(usize, &'static str, Option<u64>, EntryData)> = Vec::new();
    for (i, a) in changed.iter().enumerate() {
        let live = book
            .advisories
            .get(&a.id)
            .and_then(|s| s.incident)
            .filter(|id| book.incidents.get(id).is_some_and(|x| x.state.is_live()));
        let event = match (a.withdrawn.as_deref(), live, matched[i].is_empty()) {
            (Some(when), Some(incident), _) => Some((
                "retracted",
                Some(incident),
                IncidentEvent::Retract {
                    incident,
                    note: format!("OSV {} was withdrawn ({when})", a.id),
                },
            )),
            (Some(_), None, _) => None,
            (None, Some(incident), _) => Some((
                "updated",
                Some(incident),
                IncidentEvent::Update {
                    incident,
                    note: format!(
                        "OSV {} changed (modified {}); it affects {} artifact(s) in the ledger",
                        a.id,
                        a.modified.as_deref().unwrap_or("?"),
                        matched[i].len()
                    ),
                },
            )),
            (None, None, false) => Some(("opened", None, open_event(a))),
            (None, None, true) => None,
        };
        if let Some((action, incident, e)) = event {
            events.push((i, action, incident, EntryData::Incident { incident: e }));
        }
    }
    let mut data = vec![EntryData::Advisory {
        advisories: changed.clone(),
    }];
    data.extend(events.iter().map(|e| e.3.clone()));
    let seqs = append_entries(&state, &mut book, &caller.name, data, None).await?;
    let mut outcome: HashMap<usize, (&'static str, u64)> = HashMap::new();
    for (k, (i, action, incident, _)) in events.iter().enumerate() {
        outcome.insert(*i, (action, incident.unwrap_or(seqs[k + 1])));
    }
    for r in &mut results {
        let Some(i) = r.id.as_ref().and_then(|id| slot.get(id)).copied() else {
            continue;
        };
        if r.status == "unchanged" {
            continue;
        }
        r.matched = matched[i].clone();
        if let Some((action, incident)) = outcome.get(&i) {
            r.action = Some((*action).into());
            r.incident = Some(*incident);
        }
    }
    tracing::info!(
        records = results.len(),
        applied = changed.len(),
        incidents = events.len(),
        by = %caller.name,
        "OSV import"
    );
    Ok(Json(ImportView { results }))
}

/// The incident an advisory opens when it matches something: its summary as the
/// reason; critical for malicious-package records (`MAL-…`), high for others.
pub(crate) fn open_event(a: &Advisory) -> IncidentEvent {
    IncidentEvent::Open {
        target: Target::Advisory { id: a.id.clone() },
        reason: a
            .summary
            .clone()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| format!("OSV {}", a.id)),
        severity: if a.id.starts_with("MAL-") {
            Severity::Critical
        } else {
            Severity::High
        },
        evidence: vec![],
        advisory: Some(a.id.clone()),
    }
}
