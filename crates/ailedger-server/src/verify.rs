//! Signed documents at ingest: the trust policy in force is read from the ledger and
//! compiled once per policy entry; documents are judged under it
//! (`ailedger_attest::judge`).

use std::collections::HashMap;

use ailedger_attest::{
    judge::{self, Known, Parsed, PolicyRef, TrustPolicy},
    policy::{PolicyFiles, PolicyFormat},
};
use ailedger_core::{ArtifactFact, ArtifactKind, DocumentInfo, EntryData, Sha256Digest};
use ailedger_store::Blob;
use axum::body::Bytes;

use crate::{ApiError, AppState, IngestView};

/// Compiles a policy, mapping its faults to a 422 naming the field.
pub(crate) fn compile(
    text: &str,
    format: Option<PolicyFormat>,
    files: &PolicyFiles,
    reference: Option<PolicyRef>,
) -> Result<(TrustPolicy, PolicyFormat), ApiError> {
    TrustPolicy::compile(text, format, files, reference)
        .map_err(|e| ApiError::Invalid(e.to_string()))
}

/// The trust policy in force now (the built-in empty one when none was set).
pub(crate) async fn policy_in_force(state: &AppState) -> Result<TrustPolicy, ApiError> {
    let Some(p) = crate::routes::policy::in_force(state, None).await? else {
        return TrustPolicy::empty()
            .map_err(|e| ApiError::Internal(format!("the built-in policy: {e}")));
    };
    let (seq, policy) = (p.seq, p.record);
    let reference = PolicyRef {
        seq,
        digest: policy.digest,
    };
    TrustPolicy::compile(
        &policy.text,
        PolicyFormat::from_name(&policy.format),
        &policy.files,
        Some(reference),
    )
    .map(|(p, _)| p)
    .map_err(|e| ApiError::Internal(format!("the policy of entry {seq}: {e}")))
}

/// What the ledger knows of each ref a document names.
async fn lookups(state: &AppState, keys: Vec<String>) -> Result<HashMap<String, Known>, ApiError> {
    let mut out = HashMap::with_capacity(keys.len());
    for key in keys {
        let Some(id) = state.store.resolve(&key).await? else {
            continue;
        };
        let Some(rec) = state.store.artifact(&id).await? else {
            continue;
        };
        let refs = std::iter::once(&rec.id).chain(&rec.aliases);
        out.insert(
            key,
            Known {
                sha256s: refs
                    .clone()
                    .filter(|r| r.starts_with("sha256:"))
                    .cloned()
                    .collect(),
                purls: refs.filter(|r| r.starts_with("pkg:")).cloned().collect(),
                source: rec
                    .attrs
                    .get("source")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned),
                kind: Some(rec.kind),
                id: rec.id,
            },
        );
    }
    Ok(out)
}

/// Ingests a signed (or unsigned) attestation: judged under the policy in force,
/// refused when the policy (or `require_verified`) says so, otherwise recorded as a
/// `document` entry whose attestation artifact carries the judgement.
pub(crate) async fn ingest_attestation(
    state: &AppState,
    actor: String,
    name: Option<String>,
    require_verified: bool,
    body: Bytes,
    parsed: Parsed,
) -> Result<IngestView, ApiError> {
    let label = name.clone().unwrap_or_else(|| "document".into());
    let policy = policy_in_force(state).await?;
    let known = lookups(state, parsed.lookup_keys()).await?;
    let (facts, policy) = tokio::task::spawn_blocking(move || {
        let facts = judge::judge(&parsed, &policy, &known);
        (facts, policy)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("verification task: {e}")))?;
    facts
        .judgement
        .admit(&policy, require_verified)
        .map_err(|why| ApiError::Invalid(format!("{label}: refused: {why}")))?;
    let digest = Sha256Digest::of(&body);
    let id = digest.to_string();
    let mut doc = ArtifactFact {
        id: id.clone(),
        kind: ArtifactKind::Attestation,
        name: Some(facts.name.clone()),
        version: None,
        aliases: vec![],
        attrs: facts.attrs.clone(),
    };
    if name.is_some() {
        doc.attrs
            .insert("file_name".into(), serde_json::Value::from(label.clone()));
    }
    let mut artifacts = vec![doc];
    artifacts.extend(facts.artifacts.iter().filter(|a| a.id != id).cloned());
    let edges = judge::edge_facts(&facts.edges, &id);
    let format = facts.judgement.format.clone();
    let (n_artifacts, n_edges) = (artifacts.len(), edges.len());
    let data = EntryData::Document {
        document: DocumentInfo {
            digest,
            format: format.clone(),
            size: body.len() as u64,
            name,
        },
        artifacts,
        edges,
        warnings: facts.warnings.clone(),
    };
    let (appended, flags) = crate::routes::documents::record(
        state,
        actor,
        data,
        Blob {
            digest,
            format: format.clone(),
            bytes: Vec::from(body),
        },
    )
    .await?;
    tracing::info!(
        seq = appended.seq,
        outcome = %facts.judgement.outcome,
        %format,
        "attestation ingested"
    );
    Ok(IngestView {
        digest: id,
        original_digest: None,
        format,
        seq: appended.seq,
        unchanged: false,
        artifacts: n_artifacts,
        added: appended.created,
        merged: n_artifacts - appended.created,
        edges: n_edges,
        warnings: facts.warnings,
        findings: vec![],
        includes: vec![],
        attestation: serde_json::to_value(&facts.judgement).ok(),
        flags,
    })
}
