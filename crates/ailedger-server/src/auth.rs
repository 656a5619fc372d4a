//! Who may do what. Every route declares what each of its methods needs
//! ([`paths::ROUTES`](crate::paths::ROUTES)); [`authorize`] checks the caller's bearer
//! token against the derived `tokens` table and hands the handler a [`Caller`],
//! whose token name is the actor of every entry it writes. [`guard`] refuses what a
//! browser could forge before any route runs: requests for a host name this server was
//! not configured for (DNS rebinding) and writes carrying form content types.
//!
//! The records found are kept in a [`TokenCache`], so a request costs no query. It is
//! emptied whenever tokens may have changed: at once by this server's grants and
//! revocations, and whenever the index reads entries another writer of the database
//! appended (the tailer looks every 250 ms). A revocation therefore takes effect at once
//! on the server that records it and within a tail interval on the others.
//!
//! Failed authentications are counted per client address; past
//! [`MAX_FAILURES`] in [`FAILURE_WINDOW`] the address gets 429 until the window ends.

use std::{
    collections::HashMap,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Mutex,
    time::{Duration, Instant},
};

use ailedger_core::{
    EntryData,
    entry::format_time,
    token::{self, Scope, TokenGrant},
};
use ailedger_store::{Appended, NewEntry, Store};
use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::Response,
};

use crate::{ApiError, AppState, paths};

/// What a route's method needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (the OpenAPI document, the health check).
    Public,
    /// A read token, unless the server serves reads publicly.
    Read,
    /// A write token.
    Write,
    /// An admin token.
    Admin,
    /// Any valid token, whatever its scope (`whoami`).
    Token,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name: the actor of the entries this request writes.
    pub name: String,
    pub scope: Scope,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::Unauthorized("this needs a token".into()))
    }
}

/// Failed authentications one client address may make per [`FAILURE_WINDOW`].
pub const MAX_FAILURES: u32 = 20;
/// The window of [`MAX_FAILURES`].
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at most (a flood of addresses is forgotten, not stored).
const MAX_TRACKED: usize = 100_000;

/// The server's access settings.
#[derive(Debug, Default)]
pub struct AuthConfig {
    /// Reads need no token.
    pub public_read: bool,
    /// Host names (without port) requests may be addressed to; `None` accepts any.
    pub allowed_hosts: Option<Vec<String>>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl AuthConfig {
    pub fn new(public_read: bool, allowed_hosts: Option<Vec<String>>) -> Self {
        Self {
            public_read,
            allowed_hosts: allowed_hosts
                .map(|hs| hs.into_iter().map(|h| h.to_ascii_lowercase()).collect()),
            failures: Mutex::default(),
        }
    }

    /// Seconds until `ip` may try again, when it has failed too often.
    fn blocked_for(&self, ip: IpAddr) -> Option<u64> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (n, since) = failures.get(&ip)?;
        let left = FAILURE_WINDOW.checked_sub(since.elapsed())?;
        (*n >= MAX_FAILURES).then_some(left.as_secs().max(1))
    }

    fn record_failure(&self, ip: IpAddr) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_TRACKED {
            failures.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
            if failures.len() >= MAX_TRACKED {
                failures.clear();
            }
        }
        let entry = failures.entry(ip).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= FAILURE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }
}

/// Token records cached at most; past it the cache starts again.
const MAX_CACHED_TOKENS: usize = 10_000;

/// Token records by the hash of their secret, as the store gave them (see the module
/// documentation for when it is emptied).
#[derive(Debug, Default)]
pub struct TokenCache {
    /// The number of invalidations so far, and the records read since the last.
    inner: Mutex<(u64, HashMap<String, ailedger_store::TokenRecord>)>,
}

impl TokenCache {
    /// The cached record of `hash`, or the generation a lookup must present to
    /// [`TokenCache::insert`] what it then reads from the store.
    fn get(&self, hash: &str) -> Result<ailedger_store::TokenRecord, u64> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1.get(hash).cloned().ok_or(inner.0)
    }

    /// Keeps a record read from the store, unless the cache was emptied since the read
    /// began (the record may then be stale).
    fn insert(&self, generation: u64, record: ailedger_store::TokenRecord) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.0 != generation {
            return;
        }
        if inner.1.len() >= MAX_CACHED_TOKENS {
            inner.1.clear();
        }
        inner.1.insert(record.hash.clone(), record);
    }

    /// Forgets every record: tokens may have changed.
    pub fn invalidate(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0 += 1;
        inner.1.clear();
    }
}

/// The loopback names a server listening on loopback answers to by default.
pub fn loopback_hosts(listen: &SocketAddr) -> Vec<String> {
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "[::1]".to_owned(),
    ];
    let own = match listen.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    if !hosts.contains(&own) {
        hosts.push(own);
    }
    hosts
}

/// The host name of a `Host` header value, without its port.
fn host_name(value: &str) -> &str {
    if value.starts_with('[') {
        return value.split_inclusive(']').next().unwrap_or(value);
    }
    value.split(':').next().unwrap_or(value)
}

/// Refuses requests for a host name this server does not serve, and writes whose
/// content type a cross-site HTML form can send.
pub async fn guard(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if let Some(allowed) = &state.auth.allowed_hosts {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| host_name(h).to_ascii_lowercase());
        match host {
            Some(h) if allowed.contains(&h) => {}
            Some(h) => {
                return Err(ApiError::MisdirectedHost(format!(
                    "this server does not answer for host {h:?} (serve --allowed-host adds one)"
                )));
            }
            None => {
                return Err(ApiError::BadRequest("the Host header is missing".into()));
            }
        }
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let ctype = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let essence = ctype.split(';').next().unwrap_or("").trim();
        if matches!(
            essence,
            "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
        ) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "writes do not accept {essence} (a content type any web page can send); send the document as application/octet-stream or JSON as application/json"
            )));
        }
    }
    Ok(next.run(req).await)
}

/// The bearer token of a request, if it sent one.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not text".into()))?;
    match v.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(t.trim())),
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <token>`".into(),
        )),
    }
}

/// Checks the request's token against what its route needs; on success the handler
/// finds a [`Caller`] in the request's extensions (when a token was given).
pub async fn authorize(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(needed) = matched
        .as_ref()
        .and_then(|m| paths::access(m.as_str(), req.method().as_str()))
    else {
        // Not a route with this method: the router's fallbacks answer.
        return Ok(next.run(req).await);
    };
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    let secret = bearer(req.headers())?;
    let optional = needed == Access::Public || (needed == Access::Read && state.auth.public_read);
    let Some(secret) = secret else {
        if optional {
            return Ok(next.run(req).await);
        }
        return Err(ApiError::Unauthorized(
            "this needs a token: send `Authorization: Bearer <token>` (the CLI reads AILEDGER_TOKEN or `ailedger login`)".into(),
        ));
    };
    if let Some(secs) = state.auth.blocked_for(ip) {
        return Err(ApiError::TooManyRequests {
            detail: format!("too many failed authentications from this address; retry in {secs} s"),
            retry_after: secs,
        });
    }
    let hash = token::hash_secret(secret).to_string();
    let record = if !token::looks_like_secret(secret) {
        None
    } else {
        match state.tokens.get(&hash) {
            Ok(r) => Some(r),
            Err(generation) => {
                let r = state.store.token_by_hash(&hash).await?;
                if let Some(r) = &r {
                    state.tokens.insert(generation, r.clone());
                }
                r
            }
        }
    };
    // The row was found by the secret's hash; comparing the hashes again in constant
    // time keeps the check independent of how the database compares.
    let record = record.filter(|r| {
        use subtle::ConstantTimeEq as _;
        bool::from(r.hash.as_bytes().ct_eq(hash.as_bytes()))
    });
    let caller = match record {
        Some(r) if r.is_active(ailedger_store::now_us()) => Caller {
            name: r.name,
            scope: r.scope,
        },
        Some(r) if r.revoked_seq.is_some() => {
            state.auth.record_failure(ip);
            return Err(ApiError::Unauthorized(format!(
                "the token {} was revoked",
                r.name
            )));
        }
        Some(r) => {
            state.auth.record_failure(ip);
            return Err(ApiError::Unauthorized(format!(
                "the token {} has expired",
                r.name
            )));
        }
        None => {
            state.auth.record_failure(ip);
            return Err(ApiError::Unauthorized("unknown token".into()));
        }
    };
    let ok = match needed {
        Access::Public | Access::Token => true,
        Access::Read => caller.scope.allows(Scope::Read),
        Access::Write => caller.scope.allows(Scope::Write),
        Access::Admin => caller.scope.allows(Scope::Admin),
    };
    if !ok {
        let scope = match needed {
            Access::Admin => Scope::Admin,
            Access::Write => Scope::Write,
            _ => Scope::Read,
        };
        return Err(ApiError::Forbidden(format!(
            "this needs the {scope} scope; the token {} has {}",
            caller.name, caller.scope
        )));
    }
    req.extensions_mut().insert(caller);
    Ok(next.run(req).await)
}

/// A new token's secret (shown once) and the entry that granted it.
#[derive(Debug)]
pub struct Created {
    pub secret: String,
    pub grant: TokenGrant,
    pub appended: Appended,
}

/// Grants a token: a fresh secret from the system's random source ([`new_secret`]),
/// its hash in a `token` entry written by `actor`. `expires_us` is when it stops working.
pub async fn create_token(
    store: &dyn Store,
    actor: &str,
    name: &str,
    scope: Scope,
    expires_us: Option<i64>,
) -> Result<Created, ApiError> {
    token::check_name(name)?;
    grant_token(store, actor, name, scope, expires_us, new_secret()?).await
}

/// A fresh token secret: 32 bytes from the system's random source.
pub fn new_secret() -> Result<String, ApiError> {
    let mut random = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random)
        .map_err(|_| ApiError::Internal("no randomness for a token".into()))?;
    Ok(token::secret_from_bytes(&random))
}

/// Records the grant of a token whose secret the caller made with [`new_secret`] (and
/// may have stored first, so that no grant exists whose secret nobody holds).
pub async fn grant_token(
    store: &dyn Store,
    actor: &str,
    name: &str,
    scope: Scope,
    expires_us: Option<i64>,
    secret: String,
) -> Result<Created, ApiError> {
    token::check_name(name)?;
    let grant = TokenGrant {
        name: name.to_owned(),
        scope,
        hash: token::hash_secret(&secret),
        expires: expires_us.map(format_time),
    };
    let mut appended = store
        .append(vec![NewEntry {
            actor: actor.to_owned(),
            data: EntryData::Token {
                token: grant.clone(),
            },
        }])
        .await?;
    let appended = appended
        .pop()
        .ok_or_else(|| ApiError::Internal("append returned no entry".into()))?;
    Ok(Created {
        secret,
        grant,
        appended,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_lose_their_port() {
        assert_eq!(host_name("localhost:8080"), "localhost");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_name("[::1]:80"), "[::1]");
        assert_eq!(host_name("[::1]"), "[::1]");
    }

    #[test]
    fn failures_block_an_address_for_the_window() {
        let cfg = AuthConfig::default();
        let ip: IpAddr = "192.0.2.7"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        for _ in 0..MAX_FAILURES - 1 {
            cfg.record_failure(ip);
        }
        assert_eq!(cfg.blocked_for(ip), None);
        cfg.record_failure(ip);
        assert!(cfg.blocked_for(ip).is_some_and(|s| s <= 60));
        assert_eq!(cfg.blocked_for(IpAddr::V4(Ipv4Addr::LOCALHOST)), None);
    }
}
