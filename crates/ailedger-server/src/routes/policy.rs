//! The trust policy (`PUT /v1/policy`, admin; `GET /v1/policy`, read). A policy is a
//! ledger entry: the latest one at a seq is the one in force there, and every
//! verification result names it.

use ailedger_attest::policy::{PolicyFile, PolicyFormat};
use ailedger_core::{EntryData, PolicyRecord, Sha256Digest, entry::format_time};
use ailedger_store::NewEntry;
use axum::{Json, extract::State};
use serde::Deserialize;

use super::{ApiJson, ApiQuery};
use crate::{
    ApiError, AppState, PolicyRequest, PolicyView, WriteResponse, WrittenEntry, auth::Caller, paths,
};

/// Largest policy text plus files accepted.
const MAX_POLICY: usize = 8 * 1024 * 1024;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyQuery {
    /// The policy in force at this seq (default: now).
    at: Option<u64>,
}

/// A policy entry: who put which policy in force when.
pub(crate) struct InForce {
    pub(crate) seq: u64,
    pub(crate) time_us: i64,
    pub(crate) actor: String,
    pub(crate) record: PolicyRecord,
}

/// The policy in force at `at` (default: now): the latest `policy` entry at or before
/// it, or `None` when no policy was ever set.
pub(crate) async fn in_force(
    state: &AppState,
    at: Option<u64>,
) -> Result<Option<InForce>, ApiError> {
    let Some(stored) = state.store.latest_policy(at).await? else {
        return Ok(None);
    };
    let entry = stored.decode()?;
    let EntryData::Policy { policy } = entry.data else {
        return Err(ApiError::Internal(format!(
            "entry {} is not a policy",
            entry.seq
        )));
    };
    Ok(Some(InForce {
        seq: entry.seq,
        time_us: entry.time_us,
        actor: entry.actor,
        record: policy,
    }))
}

/// Checks a submitted policy as the verifier will read it, and makes its record.
pub(crate) fn record_of(req: PolicyRequest) -> Result<PolicyRecord, ApiError> {
    let size = req.text.len() + req.files.values().map(String::len).sum::<usize>();
    if size > MAX_POLICY {
        return Err(ApiError::Invalid(format!(
            "policy: {size} bytes with its files, over the limit of {MAX_POLICY}"
        )));
    }
    let format = match req.format.as_deref() {
        None => None,
        Some(f) => Some(PolicyFormat::from_name(f).ok_or_else(|| {
            ApiError::Invalid(format!("policy: format {f:?}: expected toml or yaml"))
        })?),
    };
    let (_, format) = crate::verify::compile(&req.text, format, &req.files, None)?;
    Ok(PolicyRecord {
        digest: Sha256Digest::of(req.text.as_bytes()),
        format: format.as_str().into(),
        text: req.text,
        files: req.files,
    })
}

/// Put a trust policy in force (admin). It judges every signed document ingested
/// after it; it is checked first, and refused with the field at fault.
#[utoipa::path(put, path = paths::POLICY, request_body = PolicyRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn put(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<PolicyRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let policy = record_of(req)?;
    let digest = policy.digest;
    let mut appended = state
        .store
        .append(vec![NewEntry {
            actor: caller.name.clone(),
            data: EntryData::Policy { policy },
        }])
        .await?;
    let a = appended
        .pop()
        .ok_or_else(|| ApiError::Internal("append returned no entry".into()))?;
    tracing::info!(seq = a.seq, %digest, by = %caller.name, "trust policy set");
    Ok(Json(WriteResponse {
        flags: vec![],
        entries: vec![WrittenEntry {
            seq: a.seq,
            time: format_time(a.time_us),
            kind: "policy".into(),
            leaf_hash: Sha256Digest(a.leaf_hash).hex(),
            artifacts: vec![],
            notes: a.notes,
        }],
    }))
}

/// The trust policy in force (now, or at `at`), or the built-in empty policy when none
/// was ever set.
#[utoipa::path(get, path = paths::POLICY, params(PolicyQuery),
    responses((status = 200, body = PolicyView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn get(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PolicyQuery>,
) -> Result<Json<PolicyView>, ApiError> {
    let Some(p) = in_force(&state, q.at).await? else {
        return Ok(Json(PolicyView {
            seq: None,
            time: None,
            actor: None,
            digest: None,
            format: None,
            text: None,
            files: Default::default(),
            policy: serde_json::to_value(PolicyFile::empty())
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        }));
    };
    let (file, _) = PolicyFile::parse(&p.record.text, PolicyFormat::from_name(&p.record.format))
        .map_err(|e| ApiError::Internal(format!("policy at seq {}: {e}", p.seq)))?;
    let policy = p.record;
    Ok(Json(PolicyView {
        seq: Some(p.seq),
        time: Some(format_time(p.time_us)),
        actor: Some(p.actor),
        digest: Some(policy.digest.to_string()),
        format: Some(policy.format),
        text: Some(policy.text),
        files: policy.files,
        policy: serde_json::to_value(file).map_err(|e| ApiError::Internal(e.to_string()))?,
    }))
}
