//! The write endpoints: register, batch, link, unlink, deploy. Each builds its entries
//! (`crate::build`) and appends them through [`super::write`].

use ailedger_core::EntryData;
use axum::{Json, extract::State};

use super::{ApiJson, write};
use crate::{
    ApiError, AppState, BatchItem, BatchRequest, DeployRequest, LinkRequest, RegisterRequest,
    WriteResponse,
    auth::Caller,
    build::{Local, build_deploy, build_links, build_register},
    paths,
};

/// Register artifacts, and edges among them or to known artifacts, as one entry.
#[utoipa::path(post, path = paths::ARTIFACTS, request_body = RegisterRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let data = build_register(&state, &mut Local::new(), &req).await?;
    write(&state, &caller, vec![data]).await
}

/// Several writes in one transaction, each its own entry: all recorded or none.
#[utoipa::path(post, path = paths::BATCH, request_body = BatchRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    if req.entries.is_empty() {
        return Err(ApiError::Invalid("entries is empty".into()));
    }
    let mut local = Local::new();
    let mut data = Vec::with_capacity(req.entries.len());
    for (i, item) in req.entries.iter().enumerate() {
        let d = match item {
            BatchItem::Register(r) => build_register(&state, &mut local, r).await,
            BatchItem::Link(l) => build_links(&state, &local, l)
                .await
                .map(|edges| EntryData::Link { edges }),
            BatchItem::Unlink(l) => build_links(&state, &local, l)
                .await
                .map(|edges| EntryData::Unlink { edges }),
            BatchItem::Deploy(d) => build_deploy(&state, &mut local, d).await,
        };
        data.push(d.map_err(|e| e.prefixed(&format!("entries[{i}]: ")))?);
    }
    write(&state, &caller, data).await
}

/// Start edges between known artifacts.
#[utoipa::path(post, path = paths::LINKS, request_body = LinkRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn link(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let edges = build_links(&state, &Local::new(), &req).await?;
    write(&state, &caller, vec![EntryData::Link { edges }]).await
}

/// End active edges.
#[utoipa::path(post, path = paths::UNLINKS, request_body = LinkRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn unlink(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let edges = build_links(&state, &Local::new(), &req).await?;
    write(&state, &caller, vec![EntryData::Unlink { edges }]).await
}

/// Set what a deployment consumes now; edges to anything it no longer lists end.
#[utoipa::path(post, path = paths::DEPLOYMENTS, request_body = DeployRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn deploy(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<DeployRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let data = build_deploy(&state, &mut Local::new(), &req).await?;
    write(&state, &caller, vec![data]).await
}
