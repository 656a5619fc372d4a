//! The router: one module per area of the API. [`table`] lists every route; the
//! router is built from it, so a new feature adds a module and rows here.

pub(crate) mod advisories;
pub(crate) mod check;
pub(crate) mod documents;
pub(crate) mod entries;
pub(crate) mod export;
pub(crate) mod graph;
pub(crate) mod incidents;
pub(crate) mod policy;
pub(crate) mod tokens;
pub(crate) mod webhooks;
pub(crate) mod write;

use ailedger_core::{EntryData, entry::format_time};
use ailedger_store::NewEntry;
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts},
    middleware,
    routing::{MethodRouter, delete, get, post, put},
};

use crate::{
    ApiError, AppState, MAX_BODY, WriteResponse, WrittenEntry,
    auth::{self, Caller},
    build::declared_ids,
    log, openapi, paths,
};

/// Every route of the API with its handlers. Paths come from [`paths`]; a test holds
/// this table to [`paths::ROUTES`] and to the OpenAPI document.
pub fn table(limits: &crate::Limits) -> Vec<(&'static str, MethodRouter<AppState>)> {
    let mut routes = vec![
        (paths::OPENAPI, get(|| async { Json(openapi()) })),
        (paths::HEALTHZ, get(|| async { "ok" })),
        (paths::STATUS, get(entries::status)),
        (paths::ARTIFACTS, post(write::register).get(graph::artifact)),
        (paths::BATCH, post(write::batch)),
        (paths::LINKS, post(write::link)),
        (paths::UNLINKS, post(write::unlink)),
        (paths::DEPLOYMENTS, post(write::deploy)),
        (paths::RESOLVE, get(graph::resolve)),
        (paths::IMPACT, get(graph::impact)),
        (paths::DEPS, get(graph::deps)),
        (paths::ENTRIES, get(entries::entries)),
        (paths::ENTRY, get(entries::entry)),
        (
            paths::DOCUMENTS,
            post(documents::ingest).layer(DefaultBodyLimit::max(
                usize::try_from(limits.document_bytes).unwrap_or(usize::MAX),
            )),
        ),
        (paths::DOCUMENT, get(documents::document)),
        (paths::TOKENS, post(tokens::create).get(tokens::list)),
        (paths::TOKEN, delete(tokens::revoke)),
        (paths::WHOAMI, get(tokens::whoami)),
        (paths::POLICY, put(policy::put).get(policy::get)),
        (paths::INCIDENTS, post(incidents::open).get(incidents::list)),
        (paths::INCIDENT, get(incidents::show)),
        (paths::INCIDENT_ACK, post(incidents::ack)),
        (paths::INCIDENT_RESOLVE, post(incidents::resolve)),
        (paths::INCIDENT_REPORT, get(incidents::report)),
        (
            paths::BLOCKLIST,
            post(incidents::block).get(incidents::blocklist),
        ),
        (paths::BLOCK, delete(incidents::unblock)),
        (
            paths::ADVISORIES,
            post(advisories::import).layer(DefaultBodyLimit::max(advisories::MAX_BODY)),
        ),
        (paths::ADVISORIES_KNOWN, post(advisories::known)),
        (paths::QUARANTINE, get(incidents::quarantined)),
        (paths::QUARANTINE_RELEASE, post(incidents::release)),
        (paths::WEBHOOKS, post(webhooks::create).get(webhooks::list)),
        (paths::WEBHOOK, delete(webhooks::remove)),
        (paths::WEBHOOK_DELIVERIES, get(webhooks::deliveries)),
        (paths::CHECK, post(check::check)),
        (paths::EXPORT_SPDX, get(export::spdx)),
        (paths::EXPORT_CYCLONEDX, get(export::cyclonedx)),
    ];
    routes.extend(log::routes());
    routes
}

/// The API router.
pub fn router(state: AppState) -> Router {
    table(&state.limits)
        .into_iter()
        .fold(Router::new(), |r, (path, handlers)| r.route(path, handlers))
        // After routing (the matched path says what the request needs) ...
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("method not allowed here".into())
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // ... and before it, for every request: host names and form content types.
        .layer(middleware::from_fn_with_state(state.clone(), auth::guard))
        .with_state(state)
}

/// JSON body extractor whose rejections are problem+json.
#[derive(Debug, FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub(crate) struct ApiJson<T>(pub(crate) T);

/// Query extractor whose rejections are problem+json.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub(crate) struct ApiQuery<T>(pub(crate) T);

/// Appends the entries of one write in one transaction and brings the index up to
/// them before answering (read-your-writes).
pub(crate) async fn write(
    state: &AppState,
    caller: &Caller,
    data: Vec<EntryData>,
) -> Result<Json<WriteResponse>, ApiError> {
    let actor = caller.name.clone();
    let watch = incidents::Watch::before(state, &data).await?;
    let meta: Vec<(String, Vec<String>)> = data
        .iter()
        .map(|d| (d.kind().to_owned(), declared_ids(d)))
        .collect();
    let started = std::time::Instant::now();
    // Committed with the writes waiting beside it, and answered once the index holds
    // it (the index takes the changes as the store made them, no read-back).
    let appended = crate::commit::append(
        state,
        data.into_iter()
            .map(|data| NewEntry {
                actor: actor.clone(),
                data,
            })
            .collect(),
    )
    .await?;
    tracing::debug!(
        entries = appended.len(),
        ms = started.elapsed().as_millis() as u64,
        "write"
    );
    let flags = watch.after(state, &actor).await?;
    // The entries of one write share their time: format it once.
    let mut time: Option<(i64, String)> = None;
    Ok(Json(WriteResponse {
        flags,
        entries: appended
            .into_iter()
            .zip(meta)
            .map(|(a, (kind, artifacts))| WrittenEntry {
                seq: a.seq,
                time: match &time {
                    Some((us, s)) if *us == a.time_us => s.clone(),
                    _ => time.insert((a.time_us, format_time(a.time_us))).1.clone(),
                },
                kind,
                leaf_hash: ailedger_core::Sha256Digest(a.leaf_hash).hex(),
                artifacts,
                notes: a.notes,
            })
            .collect(),
    }))
}

/// The time of each seq (RFC 3339, UTC): from the memo, or in one query per thousand
/// seqs.
pub(crate) async fn seq_times(
    state: &AppState,
    seqs: impl Iterator<Item = u64>,
) -> Result<std::collections::HashMap<u64, String>, ApiError> {
    let memo = &state.memos.times;
    let mut times = std::collections::HashMap::new();
    let missing: Vec<u64> = memo.with(|known| {
        seqs.filter(|seq| match known.get(seq) {
            Some(t) => {
                times.insert(*seq, *t);
                false
            }
            None => true,
        })
        .collect()
    });
    if !missing.is_empty() {
        let read = state.store.seq_times(&missing).await?;
        memo.insert_all(read.iter().copied());
        times.extend(read);
    }
    Ok(times
        .into_iter()
        .map(|(seq, t)| (seq, format_time(t)))
        .collect())
}
