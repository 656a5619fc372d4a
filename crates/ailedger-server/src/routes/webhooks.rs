//! Webhook subscriptions (admin): add, list, remove, and each one's deliveries. The
//! subscriptions and their queue are kept beside the ledger, not in it (a subscription
//! holds its signing secret); the events themselves come from ledger entries (see
//! `crate::webhooks`).

use ailedger_core::{entry::format_time, event};
use ailedger_store::webhook::{DeliveryState, NewWebhook, WebhookRecord};
use axum::{
    Json,
    extract::{Path, State},
};
use serde::Deserialize;

use super::{ApiJson, ApiQuery};
use crate::{
    ApiError, AppState, DeliveriesView, DeliveryView, WebhookCreated, WebhookRequest, WebhookView,
    WebhooksView, auth::Caller, paths, webhooks,
};

/// Deliveries listed when no limit is given, and the most listed.
const DEFAULT_DELIVERIES: u32 = 50;
const MAX_DELIVERIES: u32 = 1000;

fn parse_id(id: &str) -> Result<u64, ApiError> {
    id.parse()
        .map_err(|_| ApiError::Invalid(format!("webhook id {id:?}: expected a number")))
}

/// Subscribe a URL to events (admin). The answer holds the signing secret, shown only
/// now.
#[utoipa::path(post, path = paths::WEBHOOKS, request_body = WebhookRequest,
    responses((status = 200, body = WebhookCreated), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<WebhookRequest>,
) -> Result<Json<WebhookCreated>, ApiError> {
    webhooks::check_url(&req.url, state.webhooks.allow_http)?;
    event::check_filter(&req.events).map_err(|e| ApiError::Invalid(format!("events: {e}")))?;
    let mut events = req.events;
    events.dedup();
    let hook = state
        .store
        .add_webhook(NewWebhook {
            url: req.url,
            events,
            secret: webhooks::new_secret()?,
            created_by: caller.name.clone(),
            created_us: ailedger_store::now_us(),
        })
        .await?;
    tracing::info!(webhook = hook.id, url = %hook.url, by = %caller.name, "webhook added");
    Ok(Json(WebhookCreated {
        id: hook.id,
        url: hook.url,
        events: hook.events,
        secret: hook.secret,
        after_seq: hook.after_seq,
        created: format_time(hook.created_us),
    }))
}

/// Every active subscription with its delivery counts and last error (admin). Never a
/// secret.
#[utoipa::path(get, path = paths::WEBHOOKS,
    responses((status = 200, body = WebhooksView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<WebhooksView>, ApiError> {
    let mut webhooks = Vec::new();
    for hook in state.store.webhooks(false).await? {
        webhooks.push(view(&state, hook).await?);
    }
    Ok(Json(WebhooksView { webhooks }))
}

/// A subscription as listed: never its secret, with its delivery counts.
async fn view(state: &AppState, hook: WebhookRecord) -> Result<WebhookView, ApiError> {
    let stats = state.store.webhook_stats(hook.id).await?;
    Ok(WebhookView {
        id: hook.id,
        url: hook.url,
        events: hook.events,
        after_seq: hook.after_seq,
        created: format_time(hook.created_us),
        created_by: hook.created_by,
        removed: hook.removed_us.map(format_time),
        pending: stats.pending,
        delivered: stats.delivered,
        failed: stats.failed,
        last_error: stats.last_error,
    })
}

/// Remove a subscription (admin): nothing more is queued for it, and its pending
/// deliveries fail. Answers with the subscription as it now stands.
#[utoipa::path(delete, path = paths::WEBHOOK, params(("id" = u64, Path, description = "the subscription's id")),
    responses((status = 200, body = WebhookView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, ApiError> {
    let id = parse_id(&id)?;
    if !state
        .store
        .remove_webhook(id, ailedger_store::now_us())
        .await?
    {
        return Err(ApiError::NotFound(format!("no active webhook {id}")));
    }
    tracing::info!(webhook = id, by = %caller.name, "webhook removed");
    let hook = state
        .store
        .webhook(id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("webhook {id} gone after its removal")))?;
    Ok(Json(view(&state, hook).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeliveriesQuery {
    /// Most deliveries to list (default 50, at most 1000).
    limit: Option<u32>,
}

/// A subscription's most recent deliveries, newest first (admin): state, attempts,
/// the last answer or error.
#[utoipa::path(get, path = paths::WEBHOOK_DELIVERIES,
    params(("id" = u64, Path, description = "the subscription's id"), DeliveriesQuery),
    responses((status = 200, body = DeliveriesView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<DeliveriesView>, ApiError> {
    let id = parse_id(&id)?;
    let limit = q.limit.unwrap_or(DEFAULT_DELIVERIES);
    if limit == 0 || limit > MAX_DELIVERIES {
        return Err(ApiError::Invalid(format!(
            "limit {limit}: expected 1 to {MAX_DELIVERIES}"
        )));
    }
    if state.store.webhook(id).await?.is_none() {
        return Err(ApiError::NotFound(format!("no webhook {id}")));
    }
    let deliveries = state
        .store
        .deliveries(id, limit)
        .await?
        .into_iter()
        .map(|d| DeliveryView {
            id: d.id,
            event: d.event_type,
            seq: d.seq,
            state: d.state.to_string(),
            attempts: d.attempts,
            next_attempt: (d.state == DeliveryState::Pending)
                .then(|| format_time(d.next_attempt_us)),
            last_status: d.last_status,
            last_error: d.last_error,
            created: format_time(d.created_us),
            delivered: d.delivered_us.map(format_time),
        })
        .collect();
    Ok(Json(DeliveriesView {
        webhook: id,
        deliveries,
    }))
}
