//! The CI/CD policy gate (`POST /v1/check`, read): gathers a release's components —
//! the subject and everything it transitively consumes, from the index — with their
//! records, attestations, describing documents and containment, and hands them to
//! `ailedger_attest::gate::check`, which decides.

use std::collections::{HashMap, HashSet};

use ailedger_attest::{
    gate::{
        self, AttestationFacts, Component, Containment, DescribingDocument, GateInput, GateRules,
        PolicyUsed, Report,
    },
    policy::{PolicyFile, PolicyFormat},
};
use ailedger_core::{EdgeKind, Sha256Digest};
use axum::{Json, extract::State};

use super::ApiJson;
use crate::{
    ApiError, AppState, CheckPolicy, CheckRequest,
    build::{Local, resolve_ref},
    paths,
};

/// Largest policy text a check accepts.
const MAX_POLICY: usize = 1024 * 1024;

/// Open incidents, blocklist entries and quarantine of each of `ids` (only the ids
/// with any are in the map).
pub(crate) async fn containment_of(
    state: &AppState,
    ids: &[&str],
) -> Result<HashMap<String, Containment>, ApiError> {
    super::incidents::covering(state, ids).await
}

/// The gate section to apply and where it came from: the request's policy, else the
/// policy in force, else none.
async fn rules_for(
    state: &AppState,
    given: Option<CheckPolicy>,
) -> Result<(Option<GateRules>, PolicyUsed), ApiError> {
    if let Some(p) = given {
        if p.text.len() > MAX_POLICY {
            return Err(ApiError::BadRequest(format!(
                "policy.text: {} bytes, over the limit of {MAX_POLICY}",
                p.text.len()
            )));
        }
        let format = match p.format.as_deref() {
            None => None,
            Some(f) => Some(PolicyFormat::from_name(f).ok_or_else(|| {
                ApiError::BadRequest(format!("policy.format: {f:?}: expected toml or yaml"))
            })?),
        };
        let (file, _) = PolicyFile::parse(&p.text, format)
            .map_err(|e| ApiError::BadRequest(format!("policy.text: {e}")))?;
        return Ok((
            file.gate,
            PolicyUsed {
                source: "request".into(),
                digest: Some(Sha256Digest::of(p.text.as_bytes()).to_string()),
                seq: None,
            },
        ));
    }
    let Some(p) = super::policy::in_force(state, None).await? else {
        return Ok((
            None,
            PolicyUsed {
                source: "none".into(),
                digest: None,
                seq: None,
            },
        ));
    };
    let (file, _) = PolicyFile::parse(&p.record.text, PolicyFormat::from_name(&p.record.format))
        .map_err(|e| ApiError::Internal(format!("the policy of entry {}: {e}", p.seq)))?;
    Ok((
        file.gate,
        PolicyUsed {
            source: "ledger".into(),
            digest: Some(p.record.digest.to_string()),
            seq: Some(p.seq),
        },
    ))
}

/// What the index says about one component.
struct Indexed {
    id: String,
    attesters: Vec<String>,
    describers: Vec<DescribingDocument>,
}

/// The gate's view of these artifacts (all in the index): records, attestations,
/// describing documents, containment and, when ages matter, first-registered times.
pub(crate) async fn components(
    state: &AppState,
    ids: &[String],
    rules: Option<&GateRules>,
) -> Result<Vec<Component>, ApiError> {
    let indexed: Vec<Indexed> = {
        let index = state.read_index();
        ids.iter()
            .map(|c| Indexed {
                id: c.clone(),
                attesters: index
                    .sources_of(c, EdgeKind::Attests, None)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                describers: index
                    .sources_of(c, EdgeKind::Describes, None)
                    .into_iter()
                    .filter_map(|d| {
                        Some(DescribingDocument {
                            id: d.to_owned(),
                            kind: index.kind_of(d)?,
                        })
                    })
                    .collect(),
            })
            .collect()
    };
    // Every record at once: the components and their attestations.
    let mut wanted: Vec<String> = indexed.iter().map(|c| c.id.clone()).collect();
    let mut seen: HashSet<&str> = indexed.iter().map(|c| c.id.as_str()).collect();
    let attesters: Vec<&String> = indexed.iter().flat_map(|c| &c.attesters).collect();
    let mut extra = Vec::new();
    for a in attesters {
        if seen.insert(a.as_str()) {
            extra.push(a.clone());
        }
    }
    wanted.extend(extra);
    let mut records: HashMap<String, ailedger_store::ArtifactRecord> = state
        .store
        .artifacts(&wanted)
        .await?
        .into_iter()
        .map(|r| (r.id.clone(), r))
        .collect();
    let ages_matter = rules.is_some_and(|r| r.max_model_age_days.is_some());
    let times: HashMap<u64, i64> = if ages_matter {
        let seqs: Vec<u64> = indexed
            .iter()
            .filter_map(|c| records.get(&c.id))
            .map(|r| r.first_seq)
            .collect();
        state.store.seq_times(&seqs).await?.into_iter().collect()
    } else {
        HashMap::new()
    };
    let ids: Vec<&str> = indexed.iter().map(|c| c.id.as_str()).collect();
    let mut containment = containment_of(state, &ids).await?;
    // Attestations first (their records may be shared), then each component's own
    // record, moved out.
    let attestations: Vec<Vec<AttestationFacts>> = indexed
        .iter()
        .map(|c| {
            c.attesters
                .iter()
                .filter_map(|a| records.get(a))
                .flat_map(|a| AttestationFacts::from_attrs(&a.id, &a.attrs, &c.id))
                .collect()
        })
        .collect();
    let mut components = Vec::with_capacity(indexed.len());
    for (c, attestations) in indexed.into_iter().zip(attestations) {
        let rec = records.remove(&c.id).ok_or_else(|| {
            ApiError::Internal(format!("{} is in the index but has no record", c.id))
        })?;
        components.push(Component {
            first_registered_us: times.get(&rec.first_seq).copied(),
            containment: containment.remove(&c.id).unwrap_or_default(),
            id: rec.id,
            kind: rec.kind,
            name: rec.name,
            version: rec.version,
            aliases: rec.aliases,
            attrs: rec.attrs,
            attestations,
            described_by: c.describers,
        });
    }
    Ok(components)
}

/// The gate section of the policy in force, when it turns quarantine on.
pub(crate) async fn quarantine_rules(
    state: &AppState,
) -> Result<Option<(GateRules, PolicyUsed)>, ApiError> {
    let (rules, used) = rules_for(state, None).await?;
    Ok(rules.filter(|r| r.quarantine).map(|r| (r, used)))
}

/// Each artifact checked on its own (not what it consumes) under `rules`, apart from
/// its quarantine: the failures that keep it quarantined (empty: it passes).
pub(crate) async fn held_back(
    state: &AppState,
    ids: &[String],
    rules: &GateRules,
    policy: &PolicyUsed,
) -> Result<Vec<(String, Vec<gate::Failure>)>, ApiError> {
    let components = components(state, ids, Some(rules)).await?;
    let at_seq = state.read_index().head();
    let now_us = ailedger_store::now_us();
    let rules = rules.clone();
    let policy = policy.clone();
    tokio::task::spawn_blocking(move || {
        components
            .iter()
            .map(|c| {
                let report = gate::check(&GateInput {
                    subject: &c.id,
                    components: std::slice::from_ref(c),
                    rules: Some(&rules),
                    policy: policy.clone(),
                    at_seq,
                    now_us,
                });
                let failures = report
                    .failures
                    .into_iter()
                    .filter(|f| f.code != gate::Code::Quarantined)
                    .collect();
                (c.id.clone(), failures)
            })
            .collect()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("gate task: {e}")))
}

/// Check a release against the policy gate: the subject and everything it
/// transitively consumes, under the `gate` section of the given policy or of the
/// policy in force. `passed: false` with `failures` (code, knob, artifact, message,
/// recommendation) when it fails; see docs/policy-gate.md.
#[utoipa::path(post, path = paths::CHECK, request_body = CheckRequest,
    responses((status = 200, body = Object, description = "The gate's report (docs/policy-gate.md)"),
        (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn check(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<CheckRequest>,
) -> Result<Json<Report>, ApiError> {
    let (rules, policy) = rules_for(&state, req.policy).await?;
    let id = resolve_ref(&state, &Local::new(), &req.ref_).await?;
    if !state.read_index().contains(&id) {
        state.sync_index().await?;
    }
    let (at_seq, ids) = {
        let index = state.read_index();
        let hits = index
            .deps(&id, None)
            .ok_or_else(|| ApiError::NotFound(format!("unknown ref {}", req.ref_)))?;
        let ids: Vec<String> = std::iter::once(id.clone())
            .chain(hits.iter().map(|h| h.id.to_owned()))
            .collect();
        (index.head(), ids)
    };
    let components = components(&state, &ids, rules.as_ref()).await?;
    let now_us = ailedger_store::now_us();
    let report = tokio::task::spawn_blocking(move || {
        gate::check(&GateInput {
            subject: &id,
            components: &components,
            rules: rules.as_ref(),
            policy,
            at_seq,
            now_us,
        })
    })
    .await
    .map_err(|e| ApiError::Internal(format!("gate task: {e}")))?;
    Ok(Json(report))
}
