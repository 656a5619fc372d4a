//! The read endpoints over artifacts and the graph index: an artifact with its edges,
//! ref resolution, and the two traversals (impact and deps), now or as of a past time.

use ailedger_core::{ArtifactKind, EdgeKind, entry::parse_time};
use axum::{Json, extract::State};
use serde::Deserialize;
use serde_json::Value;

use super::{ApiQuery, seq_times};
use crate::{
    ApiError, AppState, ArtifactView, AttestationView, EdgeView, HitView, ResolveView,
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
    /// At most this many hits (default 1000; at most the server's `--traversal-max`,
    /// 10,000 unless configured). The answer says `truncated` when more follow.
    limit: Option<u32>,
    /// Go no further than this many edges from the artifact.
    depth: Option<u32>,
    /// Continue an earlier answer: its `next`. The other parameters must be the same.
    cursor: Option<String>,
}

/// Blast radius: everything that transitively consumes the artifact, nearest first,
/// each naming the hit it was reached from (its shortest path back to the artifact).
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

/// Where a traversal answer continues: the ledger state it describes and the position
/// of the next hit. Written `<at_seq>.<offset>`; opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    at: u64,
    offset: u64,
}

impl Cursor {
    fn parse(s: &str) -> Result<Self, ApiError> {
        let bad = || ApiError::Invalid(format!("cursor {s:?} is not a cursor this server gave"));
        let (at, offset) = s.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            at: at.parse().map_err(|_| bad())?,
            offset: offset.parse().map_err(|_| bad())?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.at, self.offset)
    }
}

/// The part of a traversal answer built under the index's read lock.
struct Page {
    at_seq: u64,
    kind: String,
    label: Option<String>,
    total: usize,
    deployment_count: usize,
    hits: Vec<HitView>,
    ancestors: Vec<HitView>,
}

async fn traverse(
    state: &AppState,
    q: TraversalQuery,
    impact: bool,
) -> Result<TraversalView, ApiError> {
    let limits = state.limits;
    let limit = match q.limit {
        None => limits.traversal_default,
        Some(0) => return Err(ApiError::Invalid("limit must be at least 1".into())),
        Some(n) if n > limits.traversal_max => {
            return Err(ApiError::Invalid(format!(
                "limit {n} is above the traversal limit of this server ({}, serve --traversal-max); \
                 page with the answer's `next` cursor instead",
                limits.traversal_max
            )));
        }
        Some(n) => n,
    };
    let cursor = q.cursor.as_deref().map(Cursor::parse).transpose()?;
    let id = resolve_ref(state, &Local::new(), &q.ref_).await?;
    let at = match (&cursor, &q.as_of) {
        (Some(c), _) => Some(c.at),
        (None, Some(t)) => Some(state.store.seq_at(parse_time(t)?).await?),
        (None, None) => None,
    };
    if !state.read_index().contains(&id) {
        state.sync_index().await?;
    }
    let offset = cursor.map_or(0, |c| c.offset);
    let depth = q.depth;
    // The walk and the page are built on a blocking thread: a large graph must not
    // hold an async worker. The walk is linear in what it reaches and each hit names
    // its parent, so the read lock is held for a bounded time (writers waiting for it
    // block new readers: a stream of reads cannot starve them).
    let page = {
        let state = state.clone();
        let id = id.clone();
        tokio::task::spawn_blocking(move || {
            page(&state, &id, at, impact, depth, offset, limit as usize)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("traversal task: {e}")))?
    }
    .ok_or_else(|| ApiError::NotFound(format!("unknown ref {}", q.ref_)))?;
    let Page {
        at_seq,
        kind,
        label,
        total,
        deployment_count,
        mut hits,
        mut ancestors,
    } = page;
    let times = seq_times(state, hits.iter().chain(&ancestors).map(|h| h.since_seq)).await?;
    for h in hits.iter_mut().chain(&mut ancestors) {
        h.since = times.get(&h.since_seq).cloned();
    }
    let end = offset + hits.len() as u64;
    let truncated = end < total as u64;
    Ok(TraversalView {
        ref_: q.ref_,
        label,
        id,
        kind,
        direction: if impact { "impact" } else { "deps" }.into(),
        at_seq,
        as_of: q.as_of,
        depth,
        count: hits.len(),
        total,
        deployment_count,
        deployments: hits
            .iter()
            .filter(|h| h.kind == ArtifactKind::Deployment.as_str())
            .map(|h| h.id.clone())
            .collect(),
        hits,
        offset,
        truncated,
        next: truncated.then(|| {
            Cursor {
                at: at_seq,
                offset: end,
            }
            .to_string()
        }),
        ancestors,
    })
}

/// Walks the index and builds the hits at `offset..offset + limit`, with the earlier
/// hits their paths pass through; `None` when the index does not hold `id`.
fn page(
    state: &AppState,
    id: &str,
    at: Option<u64>,
    impact: bool,
    depth: Option<u32>,
    offset: u64,
    limit: usize,
) -> Option<Page> {
    let index = state.read_index();
    let at_seq = at.unwrap_or(index.head());
    let all = index.traverse(id, at, impact, depth)?;
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
    let end = start.saturating_add(limit).min(all.len());
    let view = |i: usize| {
        let h = &all[i];
        let parent = h.parent.map(|p| all[p as usize].id).unwrap_or(id);
        // An impact hit consumes its parent; a deps hit is consumed by it.
        let (from, into) = if impact {
            (h.id, parent)
        } else {
            (parent, h.id)
        };
        HitView {
            id: h.id.to_owned(),
            label: index.label_of(h.id).map(str::to_owned),
            kind: h.kind.to_string(),
            depth: h.depth,
            pos: i as u64,
            parent: h.parent.map(u64::from),
            edge: h.edge.to_string(),
            paths: index
                .edge_paths(from, into)
                .iter()
                .map(|p| p.to_string())
                .collect(),
            severity: index.severity_of(h.id).map(|s| s.to_string()),
            verification: index
                .verification_of(h.id, at)
                .map(|v| v.as_str().to_owned()),
            since_seq: h.since,
            since: None,
        }
    };
    // The earlier hits on this page's paths, once each, in position order.
    let mut before = std::collections::BTreeSet::new();
    for h in &all[start..end] {
        let mut p = h.parent;
        while let Some(i) = p.map(|i| i as usize).filter(|&i| i < start) {
            if !before.insert(i) {
                break;
            }
            p = all[i].parent;
        }
    }
    Some(Page {
        at_seq,
        kind: index.kind_of(id).map(|k| k.to_string()).unwrap_or_default(),
        label: index.label_of(id).map(str::to_owned),
        total: all.len(),
        deployment_count: all
            .iter()
            .filter(|h| h.kind == ArtifactKind::Deployment)
            .count(),
        hits: (start..end).map(view).collect(),
        ancestors: before.into_iter().map(view).collect(),
    })
}
