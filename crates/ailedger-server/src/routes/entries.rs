//! The ledger itself: entries in seq order, one entry, and the status summary.
//!
//! Entries are served as stored, never decoded first ([`EntryView::of`]): an auditor
//! must see a corrupt body as it is, not a server error.

use axum::{
    Json,
    extract::{Path, State},
};
use serde::Deserialize;

use super::ApiQuery;
use crate::{ApiError, AppState, EntriesView, EntryView, MAX_ENTRIES_PAGE, StatusView, paths};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct EntriesQuery {
    /// Entries with seq greater than this (default 0).
    after: Option<u64>,
    /// At most this many (default and maximum 1000). A page also ends before its bodies
    /// pass the server's page budget (16 MiB unless configured), and a body above the
    /// inline limit (1 MiB) is given by reference (`body_ref`): read it one at a time.
    limit: Option<u32>,
}

/// Ledger entries in seq order.
#[utoipa::path(get, path = paths::ENTRIES, params(EntriesQuery),
    responses((status = 200, body = EntriesView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn entries(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Json<EntriesView>, ApiError> {
    let limit = q
        .limit
        .unwrap_or(MAX_ENTRIES_PAGE)
        .clamp(1, MAX_ENTRIES_PAGE);
    let head = state.store.head().await?;
    let budget = ailedger_store::PageBudget {
        inline_max: state.limits.entry_inline_bytes,
        page_bytes: state.limits.entries_page_bytes,
    };
    let entries = state
        .store
        .entries_page(q.after.unwrap_or(0), limit, budget)
        .await?;
    Ok(Json(EntriesView {
        head,
        entries: entries.into_iter().map(EntryView::of_page).collect(),
    }))
}

/// One ledger entry.
#[utoipa::path(get, path = paths::ENTRY, params(("seq" = u64, Path, description = "entry seq, from 1")),
    responses((status = 200, body = EntryView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn entry(
    State(state): State<AppState>,
    Path(seq): Path<String>,
) -> Result<Json<EntryView>, ApiError> {
    let seq: u64 = seq
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("seq {seq:?} is not a number")))?;
    if seq == 0 {
        return Err(ApiError::BadRequest("seq starts at 1".into()));
    }
    let mut found = state.store.entries(seq - 1, 1).await?;
    match found.pop() {
        Some(e) if e.seq == seq => Ok(Json(EntryView::of(e))),
        _ => Err(ApiError::NotFound(format!("no entry {seq}"))),
    }
}

/// Ledger head, index head and sizes.
#[utoipa::path(get, path = paths::STATUS, responses((status = 200, body = StatusView)))]
pub(crate) async fn status(State(state): State<AppState>) -> Result<Json<StatusView>, ApiError> {
    let c = state.store.counts().await?;
    Ok(Json(StatusView {
        head: c.entries,
        index_head: state.read_index().head(),
        artifacts: c.artifacts,
        edges: c.edges,
        backend: state.backend.clone(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}
