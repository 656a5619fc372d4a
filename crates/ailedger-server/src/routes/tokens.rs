//! Token management (admin): grant, list, revoke; and `whoami` for any token. Grants
//! and revocations are ledger entries written by the admin token's name; the secret
//! is in the answer to the grant only.

use ailedger_core::{
    EntryData,
    entry::{format_time, parse_time},
    token::{self, Scope},
};
use ailedger_store::NewEntry;
use axum::{
    Json,
    extract::{Path, State},
};

use super::ApiJson;
use crate::{
    ApiError, AppState, TokenCreated, TokenRequest, TokenView, TokensView, WhoamiView,
    WriteResponse, WrittenEntry,
    auth::{self, Caller},
    paths,
};

/// When a token given `expires` stops working: a lifetime from now (`90d`, `12h`,
/// `30m`) or an RFC 3339 time in the future.
fn expiry(expires: &str, now_us: i64) -> Result<i64, ApiError> {
    let lifetime = |n: &str, unit_us: i64| -> Option<i64> {
        let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
        now_us.checked_add(n.checked_mul(unit_us)?)
    };
    const MINUTE_US: i64 = 60_000_000;
    let at = match expires.char_indices().last() {
        Some((i, 'd')) => lifetime(&expires[..i], 24 * 60 * MINUTE_US),
        Some((i, 'h')) => lifetime(&expires[..i], 60 * MINUTE_US),
        Some((i, 'm')) => lifetime(&expires[..i], MINUTE_US),
        _ => parse_time(expires).ok(),
    }
    .ok_or_else(|| {
        ApiError::Invalid(format!(
            "expires {expires:?}: expected a lifetime such as 90d, 12h, 30m, or an RFC 3339 time"
        ))
    })?;
    if at <= now_us {
        return Err(ApiError::Invalid(format!(
            "expires {expires:?} is not in the future"
        )));
    }
    // Whole seconds: the entry records the time in canonical RFC 3339.
    Ok(at - at.rem_euclid(1_000_000))
}

/// Grant a token (admin). Its secret is in this answer only.
#[utoipa::path(post, path = paths::TOKENS, request_body = TokenRequest,
    responses((status = 200, body = TokenCreated), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<TokenCreated>, ApiError> {
    let scope: Scope = req.scope.parse()?;
    let expires_us = match &req.expires {
        Some(e) => Some(expiry(e, ailedger_store::now_us())?),
        None => None,
    };
    let created = auth::create_token(
        state.store.as_ref(),
        &caller.name,
        &req.name,
        scope,
        expires_us,
    )
    .await?;
    tracing::info!(token = %req.name, %scope, by = %caller.name, "token granted");
    Ok(Json(TokenCreated {
        name: created.grant.name,
        scope: scope.to_string(),
        expires: created.grant.expires,
        secret: created.secret,
        seq: created.appended.seq,
    }))
}

/// Every token, revoked and expired ones included (admin). Never a secret.
#[utoipa::path(get, path = paths::TOKENS,
    responses((status = 200, body = TokensView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<TokensView>, ApiError> {
    let now = ailedger_store::now_us();
    let records = state.store.tokens().await?;
    let seqs: Vec<u64> = records
        .iter()
        .flat_map(|t| std::iter::once(t.created_seq).chain(t.revoked_seq))
        .collect();
    let times = super::seq_times(&state, seqs.into_iter()).await?;
    let tokens = records
        .into_iter()
        .map(|t| TokenView {
            active: t.is_active(now),
            name: t.name,
            scope: t.scope.to_string(),
            expires: t.expires_us.map(format_time),
            created: times.get(&t.created_seq).cloned(),
            created_seq: t.created_seq,
            revoked: t.revoked_seq.and_then(|s| times.get(&s).cloned()),
            revoked_seq: t.revoked_seq,
        })
        .collect();
    Ok(Json(TokensView { tokens }))
}

/// Revoke a token (admin): it stops working at once, on every server of the ledger.
#[utoipa::path(delete, path = paths::TOKEN, params(("name" = String, Path, description = "the token's name")),
    responses((status = 200, body = WriteResponse), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<WriteResponse>, ApiError> {
    token::check_name(&name)?;
    let mut appended = state
        .store
        .append(vec![NewEntry {
            actor: caller.name.clone(),
            data: EntryData::TokenRevoke { name: name.clone() },
        }])
        .await?;
    // Its record changed: no request may be let in by the cached one.
    state.tokens.invalidate();
    let a = appended
        .pop()
        .ok_or_else(|| ApiError::Internal("append returned no entry".into()))?;
    tracing::info!(token = %name, by = %caller.name, "token revoked");
    Ok(Json(WriteResponse {
        flags: vec![],
        entries: vec![WrittenEntry {
            seq: a.seq,
            time: format_time(a.time_us),
            kind: "token-revoke".into(),
            leaf_hash: ailedger_core::Sha256Digest(a.leaf_hash).hex(),
            artifacts: vec![],
            notes: a.notes,
        }],
    }))
}

/// The request's token: its name and scope.
#[utoipa::path(get, path = paths::WHOAMI,
    responses((status = 200, body = WhoamiView), (status = "4XX", body = crate::Problem, content_type = "application/problem+json")))]
pub(crate) async fn whoami(caller: Caller) -> Json<WhoamiView> {
    Json(WhoamiView {
        name: caller.name,
        scope: caller.scope.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries() {
        let now = 1_800_000_000_000_000;
        assert_eq!(expiry("90d", now).ok(), Some(now + 90 * 86_400_000_000));
        assert_eq!(expiry("1h", now).ok(), Some(now + 3_600_000_000));
        assert!(expiry("2099-01-01T00:00:00Z", now).is_ok());
        for bad in ["0d", "-1d", "d", "90x", "2020-01-01T00:00:00Z", "soon", ""] {
            assert!(expiry(bad, now).is_err(), "{bad}");
        }
    }
}
