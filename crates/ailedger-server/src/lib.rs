//! ailedger's HTTP API. [`router`] builds the axum router over an [`AppState`]: a
//! [`Store`] and the in-memory graph index, which a background task keeps current by
//! tailing the store (so several servers on one PostgreSQL database see each other's
//! writes) and which every write on this server updates before it answers.
//!
//! **Architecture invariant:** handlers never panic on input; every client error is an
//! [`ApiError`] rendered as RFC 9457 problem+json with a 4xx status.

pub mod documents;
pub mod dto;
pub mod error;
pub mod log;

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, RwLockReadGuard},
    time::Duration,
};

use ailedger_core::{
    ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, EntryData, GraphIndex, Ref,
    entry::{format_time, parse_time},
    graph::GraphChanges,
    manifest::{Manifest, ManifestFile},
};
use ailedger_store::{NewEntry, Store};
use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, State},
    http::HeaderMap,
    routing::{get, post},
};
use serde::Deserialize;
use utoipa::OpenApi;

pub use dto::*;
pub use error::{ApiError, Problem};

/// Largest request body accepted (a batch of tens of thousands of registrations).
pub const MAX_BODY: usize = 64 * 1024 * 1024;
/// Most entries returned by one `GET /v1/entries`.
pub const MAX_ENTRIES_PAGE: u32 = 1000;
/// Header carrying the writer's declared name.
pub const ACTOR_HEADER: &str = "ailedger-actor";

/// Shared state of all handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub index: Arc<RwLock<GraphIndex>>,
    sync: Arc<tokio::sync::Mutex<()>>,
    /// Writes of this server between their start and their index update; the tailer
    /// waits for them rather than reading their rows back from the store.
    writing: Arc<std::sync::atomic::AtomicUsize>,
    backend: String,
    /// The tamper-evident log's keys and signer health (no key until set).
    pub log: log::LogState,
}

impl AppState {
    /// Builds the graph index from the store and wraps both.
    pub async fn new(
        store: Arc<dyn Store>,
        backend: &str,
    ) -> Result<Self, ailedger_store::StoreError> {
        let index = ailedger_store::build_index(store.as_ref()).await?;
        Ok(Self {
            store,
            index: Arc::new(RwLock::new(index)),
            sync: Arc::default(),
            writing: Arc::default(),
            backend: backend.to_owned(),
            log: log::LogState::default(),
        })
    }

    fn read_index(&self) -> RwLockReadGuard<'_, GraphIndex> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the index up to the store's head.
    pub async fn sync_index(&self) -> Result<u64, ApiError> {
        let _one_at_a_time = self.sync.lock().await;
        let after = self.read_index().head();
        let mut changes = GraphChanges::default();
        let head = self.store.load_into(&mut changes, after).await?;
        if head > after {
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            apply_changes(&mut index, changes, head)?;
        }
        Ok(head)
    }

    /// Applies the changes this server's own write made, when the index is exactly at
    /// the seq before them; otherwise (another writer came in between) reads from the
    /// store as the tailer does. Either way the index then includes the write.
    pub async fn sync_own_write(
        &self,
        first: u64,
        last: u64,
        changes: GraphChanges,
    ) -> Result<(), ApiError> {
        {
            let _one_at_a_time = self.sync.lock().await;
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            if index.head() + 1 == first {
                apply_changes(&mut index, changes, last)?;
                return Ok(());
            }
        }
        self.sync_index().await.map(|_| ())
    }

    /// Marks a write in flight until the guard drops.
    pub(crate) fn writing_guard(&self) -> WritingGuard {
        self.writing
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        WritingGuard(self.writing.clone())
    }

    /// Tails the store every `every` until the process ends.
    pub fn spawn_tailer(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if state.writing.load(std::sync::atomic::Ordering::Acquire) > 0 {
                    continue;
                }
                if let Err(e) = state.sync_index().await {
                    tracing::warn!(error = %e, "index sync failed");
                }
            }
        })
    }
}

/// Applies changes read or made up to `head`; an edge naming an unknown artifact means
/// the store and the index disagree.
fn apply_changes(index: &mut GraphIndex, changes: GraphChanges, head: u64) -> Result<(), ApiError> {
    let unknown = changes.apply_to(index);
    index.set_head(head);
    match unknown.first() {
        Some(row) => Err(ApiError::Internal(format!(
            "edge row names an unknown artifact: {row:?}"
        ))),
        None => Ok(()),
    }
}

/// Counts a write in flight (see [`AppState::writing_guard`]).
#[derive(Debug)]
pub(crate) struct WritingGuard(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for WritingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ailedger",
        description = "A tamper-evident ledger of an AI supply chain: register artifacts and edges, ask for blast radius and dependencies, read the ledger."
    ),
    paths(
        documents::ingest,
        documents::document,
        register,
        batch,
        link,
        unlink,
        deploy,
        artifact,
        resolve,
        impact,
        deps,
        entries,
        entry,
        status
    ),
    components(schemas(
        ArtifactInput,
        EdgeInput,
        RegisterRequest,
        LinkRequest,
        DeployRequest,
        BatchRequest,
        BatchItem,
        WriteResponse,
        WrittenEntry,
        ArtifactView,
        EdgeView,
        TraversalView,
        HitView,
        Step,
        EntryView,
        EntriesView,
        ResolveView,
        StatusView,
        Problem,
        documents::IngestView
    ))
)]
struct ApiDoc;

/// The OpenAPI document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(log::LogApi::openapi());
    doc
}

/// Compiles the schemas of the current document formats on a blocking thread, so the
/// first ingest of each does not wait for it (older versions compile on first use).
pub fn warm_up_parsers() -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(ailedger_formats::warm_up_schemas)
}

/// The API router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/openapi.json", get(|| async { Json(openapi()) }))
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/status", get(status))
        .route("/v1/artifacts", post(register).get(artifact))
        .route("/v1/batch", post(batch))
        .route("/v1/links", post(link))
        .route("/v1/unlinks", post(unlink))
        .route("/v1/deployments", post(deploy))
        .route("/v1/resolve", get(resolve))
        .route("/v1/impact", get(impact))
        .route("/v1/deps", get(deps))
        .route("/v1/entries", get(entries))
        .route("/v1/entries/{seq}", get(entry))
        .route(
            "/v1/documents",
            post(documents::ingest).layer(DefaultBodyLimit::max(documents::MAX_DOCUMENT)),
        )
        .route("/v1/documents/{digest}", get(documents::document))
        .merge(log::routes())
        .fallback(|| async { ApiError::NotFound("no such endpoint".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("method not allowed here".into())
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// JSON body extractor whose rejections are problem+json.
#[derive(Debug, FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
struct ApiJson<T>(T);

/// Query extractor whose rejections are problem+json.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
struct ApiQuery<T>(T);

fn actor(headers: &HeaderMap) -> Result<String, ApiError> {
    let Some(v) = headers.get(ACTOR_HEADER) else {
        return Ok("anonymous".into());
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::BadRequest(format!("{ACTOR_HEADER} is not visible ASCII")))?;
    if v.is_empty() || v.len() > 200 {
        return Err(ApiError::BadRequest(format!(
            "{ACTOR_HEADER} must be 1 to 200 characters"
        )));
    }
    Ok(v.to_owned())
}

/// Refs declared earlier in the same request or batch: canonical ref → artifact id.
type Local = HashMap<String, String>;

async fn resolve_ref(state: &AppState, local: &Local, input: &str) -> Result<String, ApiError> {
    let r: Ref = input.parse()?;
    let canonical = r.to_string();
    if let Some(id) = local.get(&canonical) {
        return Ok(id.clone());
    }
    if let Some(id) = state.store.resolve(&canonical).await? {
        return Ok(id);
    }
    // `model:name` without a version: the one version known, if there is only one.
    if let Ref::Named { version: None, .. } = r {
        let prefix = format!("{canonical}@");
        let found = state.store.aliases_with_prefix(&prefix, 11).await?;
        let mut ids: Vec<&String> = found.iter().map(|(_, id)| id).collect();
        ids.dedup();
        match ids.as_slice() {
            [one] => return Ok((*one).clone()),
            [] => {}
            many => {
                let versions: Vec<&str> = found.iter().map(|(a, _)| &a[prefix.len()..]).collect();
                return Err(ApiError::Conflict(format!(
                    "{input} is ambiguous: {} versions known ({}{}); say which with @<version>",
                    many.len(),
                    versions.join(", "),
                    if found.len() > 10 { ", …" } else { "" }
                )));
            }
        }
    }
    Err(ApiError::NotFound(format!("unknown ref {input}")))
}

fn parse_kind(s: &str) -> Result<ArtifactKind, ApiError> {
    Ok(s.parse::<ArtifactKind>()?)
}

fn parse_edge(s: &str) -> Result<EdgeKind, ApiError> {
    Ok(s.parse::<EdgeKind>()?)
}

/// Checks that a model's or dataset's declared manifest hashes to its id.
fn check_manifest(
    id: &str,
    attrs: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), ApiError> {
    let Some(m) = attrs.get("manifest") else {
        return Ok(());
    };
    let files: Vec<ManifestFile> = serde_json::from_value(m.clone())
        .map_err(|e| ApiError::Invalid(format!("{id}: attrs.manifest: {e}")))?;
    let manifest = Manifest::new(files)?;
    let digest = manifest.digest().to_string();
    if digest != id {
        return Err(ApiError::Invalid(format!(
            "{id}: its manifest hashes to {digest}, not to its ref"
        )));
    }
    Ok(())
}

fn artifact_fact(input: &ArtifactInput, position: usize) -> Result<ArtifactFact, ApiError> {
    let kind = parse_kind(&input.kind)?;
    let (id, implied) = match (&input.ref_, &input.name) {
        (Some(r), _) => {
            let r: Ref = r.parse()?;
            (r.to_string(), r)
        }
        (None, Some(name)) => {
            let r = Ref::named(kind, name, input.version.as_deref())?;
            (r.to_string(), r)
        }
        (None, None) => {
            return Err(ApiError::Invalid(format!(
                "artifacts[{position}]: give a ref or a name"
            )));
        }
    };
    let (mut name, mut version) = (input.name.clone(), input.version.clone());
    if let Ref::Purl(p) = &implied {
        name = name.or_else(|| Some(p.full_name()));
        version = version.or_else(|| p.version().map(str::to_owned));
    }
    let mut aliases = Vec::new();
    for a in &input.aliases {
        let r: Ref = a.parse()?;
        aliases.push(r.to_string());
    }
    // A model or dataset known by digest also answers to its name and version, and so
    // does a package known by a versioned purl: an artifact some document knew only by
    // that name is then merged into it (identity merging, ARCHITECTURE.md), whichever
    // way the purl arrives.
    match (&implied, &name) {
        (Ref::Digest(_), Some(n)) => {
            aliases.push(Ref::named(kind, n, version.as_deref())?.to_string());
        }
        (Ref::Purl(_), Some(n)) if version.is_some() => {
            aliases.push(Ref::named(kind, n, version.as_deref())?.to_string());
        }
        _ => {}
    }
    aliases.retain(|a| *a != id);
    aliases.sort();
    aliases.dedup();
    if matches!(kind, ArtifactKind::Model | ArtifactKind::Dataset) {
        check_manifest(&id, &input.attrs)?;
    }
    Ok(ArtifactFact {
        id,
        kind,
        name,
        version,
        aliases,
        attrs: input.attrs.clone(),
    })
}

async fn edge_fact(state: &AppState, local: &Local, e: &EdgeInput) -> Result<EdgeFact, ApiError> {
    Ok(EdgeFact {
        from: resolve_ref(state, local, &e.from).await?,
        edge: parse_edge(&e.edge)?,
        to: resolve_ref(state, local, &e.to).await?,
    })
}

async fn build_register(
    state: &AppState,
    local: &mut Local,
    req: &RegisterRequest,
) -> Result<EntryData, ApiError> {
    if req.artifacts.is_empty() && req.edges.is_empty() {
        return Err(ApiError::Invalid(
            "nothing to register: artifacts is empty".into(),
        ));
    }
    let mut artifacts: Vec<ArtifactFact> = Vec::with_capacity(req.artifacts.len());
    for (i, a) in req.artifacts.iter().enumerate() {
        let fact = artifact_fact(a, i)?;
        // Declaring one artifact twice in an entry merges the declarations.
        if let Some(prev) = artifacts.iter_mut().find(|p| p.id == fact.id) {
            prev.attrs.extend(fact.attrs);
            prev.aliases.extend(fact.aliases);
            prev.aliases.sort();
            prev.aliases.dedup();
            continue;
        }
        local.insert(fact.id.clone(), fact.id.clone());
        for alias in &fact.aliases {
            local
                .entry(alias.clone())
                .or_insert_with(|| fact.id.clone());
        }
        artifacts.push(fact);
    }
    let mut edges = Vec::with_capacity(req.edges.len());
    for e in &req.edges {
        edges.push(edge_fact(state, local, e).await?);
    }
    edges.sort();
    edges.dedup();
    Ok(EntryData::Register { artifacts, edges })
}

async fn build_links(
    state: &AppState,
    local: &Local,
    req: &LinkRequest,
) -> Result<Vec<EdgeFact>, ApiError> {
    if req.edges.is_empty() {
        return Err(ApiError::Invalid("edges is empty".into()));
    }
    let mut edges = Vec::with_capacity(req.edges.len());
    for e in &req.edges {
        edges.push(edge_fact(state, local, e).await?);
    }
    edges.sort();
    edges.dedup();
    Ok(edges)
}

fn check_segment(what: &str, s: &str) -> Result<(), ApiError> {
    if s.is_empty()
        || s.contains('/')
        || s.contains('@')
        || s.trim() != s
        || s.chars().any(char::is_control)
    {
        return Err(ApiError::Invalid(format!(
            "{what} {s:?} must be non-empty, without '/', '@', control characters or surrounding spaces"
        )));
    }
    Ok(())
}

async fn build_deploy(
    state: &AppState,
    local: &mut Local,
    req: &DeployRequest,
) -> Result<EntryData, ApiError> {
    check_segment("env", &req.env)?;
    check_segment("name", &req.name)?;
    let id = format!("deployment:{}/{}", req.env, req.name);
    let mut attrs = req.attrs.clone();
    attrs.insert("env".into(), req.env.clone().into());
    let mut uses = Vec::with_capacity(req.uses.len());
    for u in &req.uses {
        uses.push(resolve_ref(state, local, u).await?);
    }
    uses.sort();
    uses.dedup();
    if uses.contains(&id) {
        return Err(ApiError::Invalid(format!("{id} cannot use itself")));
    }
    local.insert(id.clone(), id.clone());
    Ok(EntryData::Deploy {
        deployment: ArtifactFact {
            id,
            kind: ArtifactKind::Deployment,
            name: Some(req.name.clone()),
            version: None,
            aliases: vec![],
            attrs,
        },
        uses,
    })
}

fn declared_ids(data: &EntryData) -> Vec<String> {
    match data {
        EntryData::Register { artifacts, .. } => artifacts.iter().map(|a| a.id.clone()).collect(),
        EntryData::Deploy { deployment, .. } => vec![deployment.id.clone()],
        _ => vec![],
    }
}

async fn write(
    state: &AppState,
    headers: &HeaderMap,
    data: Vec<EntryData>,
) -> Result<Json<WriteResponse>, ApiError> {
    let actor = actor(headers)?;
    let meta: Vec<(String, Vec<String>)> = data
        .iter()
        .map(|d| (d.kind().to_owned(), declared_ids(d)))
        .collect();
    let started = std::time::Instant::now();
    // The index takes this write's changes as the store made them (no read-back); the
    // tailer waits until then.
    let _writing = state.writing_guard();
    let (appended, changes) = state
        .store
        .append_indexed(
            data.into_iter()
                .map(|data| NewEntry {
                    actor: actor.clone(),
                    data,
                })
                .collect(),
            None,
        )
        .await?;
    let appended_at = started.elapsed();
    if let (Some(first), Some(last)) = (appended.first(), appended.last()) {
        state.sync_own_write(first.seq, last.seq, changes).await?;
    }
    tracing::debug!(
        entries = appended.len(),
        append_ms = appended_at.as_millis() as u64,
        sync_ms = (started.elapsed() - appended_at).as_millis() as u64,
        "write"
    );
    // The entries of one write share their time: format it once.
    let mut time: Option<(i64, String)> = None;
    Ok(Json(WriteResponse {
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

/// Register artifacts, and edges among them or to known artifacts, as one entry.
#[utoipa::path(post, path = "/v1/artifacts", request_body = RegisterRequest,
    params(("ailedger-actor" = Option<String>, Header, description = "who writes")),
    responses((status = 200, body = WriteResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let data = build_register(&state, &mut Local::new(), &req).await?;
    write(&state, &headers, vec![data]).await
}

/// Several writes in one transaction, each its own entry: all recorded or none.
#[utoipa::path(post, path = "/v1/batch", request_body = BatchRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn batch(
    State(state): State<AppState>,
    headers: HeaderMap,
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
        data.push(d.map_err(|e| prefix_error(&format!("entries[{i}]: "), e))?);
    }
    write(&state, &headers, data).await
}

fn prefix_error(prefix: &str, e: ApiError) -> ApiError {
    match e {
        ApiError::BadRequest(m) => ApiError::BadRequest(format!("{prefix}{m}")),
        ApiError::Invalid(m) => ApiError::Invalid(format!("{prefix}{m}")),
        ApiError::NotFound(m) => ApiError::NotFound(format!("{prefix}{m}")),
        ApiError::Conflict(m) => ApiError::Conflict(format!("{prefix}{m}")),
        other => other,
    }
}

/// Start edges between known artifacts.
#[utoipa::path(post, path = "/v1/links", request_body = LinkRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn link(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let edges = build_links(&state, &Local::new(), &req).await?;
    write(&state, &headers, vec![EntryData::Link { edges }]).await
}

/// End active edges.
#[utoipa::path(post, path = "/v1/unlinks", request_body = LinkRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn unlink(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LinkRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let edges = build_links(&state, &Local::new(), &req).await?;
    write(&state, &headers, vec![EntryData::Unlink { edges }]).await
}

/// Set what a deployment consumes now; edges to anything it no longer lists end.
#[utoipa::path(post, path = "/v1/deployments", request_body = DeployRequest,
    responses((status = 200, body = WriteResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn deploy(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<DeployRequest>,
) -> Result<Json<WriteResponse>, ApiError> {
    let data = build_deploy(&state, &mut Local::new(), &req).await?;
    write(&state, &headers, vec![data]).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct RefQuery {
    /// Any ref: `sha256:<hex>`, a purl, or `<kind>:<name>[@<version>]`.
    #[serde(rename = "ref")]
    ref_: String,
}

/// An artifact with its aliases, attributes and edges.
#[utoipa::path(get, path = "/v1/artifacts", params(RefQuery),
    responses((status = 200, body = ArtifactView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn artifact(
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
    Ok(Json(ArtifactView {
        id: rec.id,
        kind: rec.kind.to_string(),
        name: rec.name,
        version: rec.version,
        aliases: rec.aliases,
        attrs: rec.attrs,
        first_seq: rec.first_seq,
        last_seq: rec.last_seq,
        edges: edges
            .into_iter()
            .map(|e| EdgeView {
                from: e.from.to_string(),
                edge: e.edge.to_string(),
                to: e.to.to_string(),
                since_seq: e.since,
                until_seq: e.until,
            })
            .collect(),
    }))
}

/// The artifact id a ref names.
#[utoipa::path(get, path = "/v1/resolve", params(RefQuery),
    responses((status = 200, body = ResolveView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn resolve(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RefQuery>,
) -> Result<Json<ResolveView>, ApiError> {
    let id = resolve_ref(&state, &Local::new(), &q.ref_).await?;
    Ok(Json(ResolveView { ref_: q.ref_, id }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct TraversalQuery {
    /// Any ref: `sha256:<hex>`, a purl, or `<kind>:<name>[@<version>]`.
    #[serde(rename = "ref")]
    ref_: String,
    /// Answer from history: the ledger as it was at this RFC 3339 time.
    as_of: Option<String>,
}

/// Blast radius: everything that transitively consumes the artifact, nearest first,
/// each with one shortest path back to it.
#[utoipa::path(get, path = "/v1/impact", params(TraversalQuery),
    responses((status = 200, body = TraversalView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn impact(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TraversalQuery>,
) -> Result<Json<TraversalView>, ApiError> {
    traverse(&state, q, true).await.map(Json)
}

/// Everything the artifact transitively consumes, nearest first.
#[utoipa::path(get, path = "/v1/deps", params(TraversalQuery),
    responses((status = 200, body = TraversalView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn deps(
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
            path: h
                .path
                .into_iter()
                .map(|(e, to)| Step {
                    edge: e.to_string(),
                    to: to.to_owned(),
                    label: index.label_of(to).map(str::to_owned),
                })
                .collect(),
            severity: index.severity_of(h.id).map(|s| s.to_string()),
            since_seq: h.since,
        })
        .collect();
    Ok(TraversalView {
        ref_: q.ref_,
        label: index.label_of(&id).map(str::to_owned),
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct EntriesQuery {
    /// Entries with seq greater than this (default 0).
    after: Option<u64>,
    /// At most this many (default and maximum 1000).
    limit: Option<u32>,
}

fn entry_view(e: ailedger_store::StoredEntry) -> Result<EntryView, ApiError> {
    let body = serde_json::from_slice(&e.body)
        .map_err(|err| ApiError::Internal(format!("entry {}: {err}", e.seq)))?;
    Ok(EntryView {
        seq: e.seq,
        time: format_time(e.time_us),
        actor: e.actor,
        kind: e.kind,
        leaf_hash: ailedger_core::Sha256Digest(e.leaf_hash).hex(),
        body,
    })
}

/// Ledger entries in seq order.
#[utoipa::path(get, path = "/v1/entries", params(EntriesQuery),
    responses((status = 200, body = EntriesView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn entries(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Json<EntriesView>, ApiError> {
    let limit = q
        .limit
        .unwrap_or(MAX_ENTRIES_PAGE)
        .clamp(1, MAX_ENTRIES_PAGE);
    let head = state.store.head().await?;
    let entries = state.store.entries(q.after.unwrap_or(0), limit).await?;
    Ok(Json(EntriesView {
        head,
        entries: entries
            .into_iter()
            .map(entry_view)
            .collect::<Result<_, _>>()?,
    }))
}

/// One ledger entry.
#[utoipa::path(get, path = "/v1/entries/{seq}", params(("seq" = u64, Path, description = "entry seq, from 1")),
    responses((status = 200, body = EntryView), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
async fn entry(
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
        Some(e) if e.seq == seq => Ok(Json(entry_view(e)?)),
        _ => Err(ApiError::NotFound(format!("no entry {seq}"))),
    }
}

/// Ledger head, index head and sizes.
#[utoipa::path(get, path = "/v1/status", responses((status = 200, body = StatusView)))]
async fn status(State(state): State<AppState>) -> Result<Json<StatusView>, ApiError> {
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
