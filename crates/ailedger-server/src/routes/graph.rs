//! The read endpoints over artifacts and the graph index: an artifact with its edges,
//! ref resolution, and the two traversals (impact and deps), now or as of a past time.

use ailedger_core::{ArtifactKind, EdgeKind, entry::parse_time};
use axum::{Json, extract::State};
use serde::Deserialize;
use serde_json::Value;

use super::{ApiQuery, seq_times};
use crate::{
    ApiError, AppState, ArtifactView, AttestationView, EdgeView, HitView, ResolveView, Step,
    TraversalView,
    build::{Local, resolve_ref},
    paths,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefQuery {
    /// Any ref: `sha256:<hex>`, a purl, or `<kind>:<name>[@<version>]`.
    #[serde(rename = "ref")]
    ref_: String,
}

/// An artifact with its aliases, attributes and edges.
#[utoipa::path(get, path = paths::ARTIFACTS, params(RefQuery),
    responses((status = 200, body = ArtifactView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn artifact(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RefQuery>,
) -> Result<Json<ArtifactView>, ApiError> {
    let id = resolve_ref(&state, &Local::new(), &q.ref_).await?;
    let rec = state
        .store
        .artifact(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("unknown ref {}", q.ref_)))?;
    let edges = state.store.edges_of(&id).await?;
    let times = seq_times(
        &state,
        edges
            .iter()
            .flat_map(|e| std::iter::once(e.since).chain(e.until))
            .chain([rec.first_seq, rec.last_seq]),
    )
    .await?;
    let mut attestations = Vec::new();
    for e in edges
        .iter()
        .filter(|e| e.edge == EdgeKind::Attests && *e.to == *id && e.until.is_none())
    {
        if let Some(a) = state.store.artifact(&e.from).await? {
            attestations.extend(attestation_view(&a, &id));
        }
    }
    attestations.sort_by_key(|a| std::cmp::Reverse(a.seq));
    Ok(Json(ArtifactView {
        id: rec.id,
        kind: rec.kind.to_string(),
        name: rec.name,
        version: rec.version,
        aliases: rec.aliases,
        attrs: rec.attrs,
        first_seq: rec.first_seq,
        last_seq: rec.last_seq,
        first: times.get(&rec.first_seq).cloned(),
        last: times.get(&rec.last_seq).cloned(),
        edges: edges
            .into_iter()
            .map(|e| EdgeView {
                from: e.from.to_string(),
                edge: e.edge.to_string(),
                to: e.to.to_string(),
                since_seq: e.since,
                since: times.get(&e.since).cloned(),
                until_seq: e.until,
                until: e.until.and_then(|u| times.get(&u).cloned()),
                paths: e.paths,
            })
            .collect(),
        attestations,
    }))
}

/// What an attestation artifact's judgement says about `subject`.
fn attestation_view(a: &ailedger_store::ArtifactRecord, subject: &str) -> Option<AttestationView> {
    let j = a.attrs.get("attestation")?;
    let items = j.get("items")?.as_array()?;
    // The item about this subject (a JSON Lines file holds several).
    let item = items
        .iter()
        .find(|i| {
            i.get("subjects")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(subject)))
        })
        .or_else(|| items.first())?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(AttestationView {
        id: a.id.clone(),
        seq: a.first_seq,
        format: text(j, "format").unwrap_or_default(),
        outcome: text(item, "outcome").unwrap_or_default(),
        reason: text(item, "reason").unwrap_or_default(),
        predicate_type: text(item, "predicate_type"),
        signers: item
            .get("signers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        policy_seq: j
            .get("policy")
            .and_then(|p| p.get("seq"))
            .and_then(Value::as_u64),
        slsa_level: item
            .get("slsa")
            .and_then(|s| s.get("level"))
            .and_then(Value::as_u64),
        builder: item.get("slsa").and_then(|s| text(s, "builder")),
    })
}

/// The artifact id a ref names.
#[utoipa::path(get, path = paths::RESOLVE, params(RefQuery),
    responses((status = 200, body = ResolveView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn resolve(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RefQuery>,
) -> Result<Json<ResolveView>, ApiError> {
    let id = resolve_ref(&state, &Local::new(), &q.ref_).await?;
    Ok(Json(ResolveView { ref_: q.ref_, id }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct TraversalQuery {
    /// Any ref: `sha256:<hex>`, a purl, or `<kind>:<name>[@<version>]`.
    #[serde(rename = "ref")]
    ref_: String,
    /// Answer from history: the ledger as it was at this RFC 3339 time.
    as_of: Option<String>,
}

/// Blast radius: everything that transitively consumes the artifact, nearest first,
/// each with one shortest path back to it.
#[utoipa::path(get, path = paths::IMPACT, params(TraversalQuery),
    responses((status = 200, body = TraversalView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn impact(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TraversalQuery>,
) -> Result<Json<TraversalView>, ApiError> {
    traverse(&state, q, true).await.map(Json)
}

/// Everything the artifact transitively consumes, nearest first.
#[utoipa::path(get, path = paths::DEPS, params(TraversalQuery),
    responses((status = 200, body = TraversalView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn deps(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TraversalQuery>,
) -> Result<Json<TraversalView>, ApiError> {
    traverse(&state, q, false).await.map(Json)
}

async fn traverse(
    state: &AppState,
    q: TraversalQuery,
    impact: bool,
) -> Result<TraversalView, ApiError> {
    let id = resolve_ref(state, &Local::new(), &q.ref_).await?;
    let at = match &q.as_of {
        Some(t) => Some(state.store.seq_at(parse_time(t)?).await?),
        None => None,
    };
    if !state.read_index().contains(&id) {
        state.sync_index().await?;
    }
    let (at_seq, kind, deployments, mut hits, label) = {
        let index = state.read_index();
        let at_seq = at.unwrap_or(index.head());
        let hits = if impact {
            index.impact(&id, at)
        } else {
            index.deps(&id, at)
        }
        .ok_or_else(|| ApiError::NotFound(format!("unknown ref {}", q.ref_)))?;
        let kind = index
            .kind_of(&id)
            .map(|k| k.to_string())
            .unwrap_or_default();
        let deployments = hits
            .iter()
            .filter(|h| h.kind == ArtifactKind::Deployment)
            .map(|h| h.id.to_owned())
            .collect();
        let hits: Vec<HitView> = hits
            .into_iter()
            .map(|h| HitView {
                id: h.id.to_owned(),
                label: index.label_of(h.id).map(str::to_owned),
                kind: h.kind.to_string(),
                depth: h.depth,
                path: {
                    // Each step leads from the previous artifact (first: the hit) to `to`;
                    // an impact path follows edges forwards, a deps path backwards.
                    let mut at = h.id;
                    h.path
                        .into_iter()
                        .map(|(e, to)| {
                            let (from, into) = if impact { (at, to) } else { (to, at) };
                            at = to;
                            Step {
                                edge: e.to_string(),
                                to: to.to_owned(),
                                label: index.label_of(to).map(str::to_owned),
                                paths: index
                                    .edge_paths(from, into)
                                    .iter()
                                    .map(|p| p.to_string())
                                    .collect(),
                            }
                        })
                        .collect()
                },
                severity: index.severity_of(h.id).map(|s| s.to_string()),
                verification: index
                    .verification_of(h.id, at)
                    .map(|v| v.as_str().to_owned()),
                since_seq: h.since,
                since: None,
            })
            .collect();
        let label = index.label_of(&id).map(str::to_owned);
        (at_seq, kind, deployments, hits, label)
    };
    let times = seq_times(state, hits.iter().map(|h| h.since_seq)).await?;
    for h in &mut hits {
        h.since = times.get(&h.since_seq).cloned();
    }
    Ok(TraversalView {
        ref_: q.ref_,
        label,
        id,
        kind,
        direction: if impact { "impact" } else { "deps" }.into(),
        at_seq,
        as_of: q.as_of,
        count: hits.len(),
        deployments,
        hits,
    })
}
