//! Turning requests into entries: refs are resolved to artifact ids (against this
//! request's own declarations first, then the store), facts are validated, and the
//! [`EntryData`] of each write is assembled. Nothing here writes.

use std::collections::HashMap;

use ailedger_core::{
    ArtifactFact, ArtifactKind, EdgeFact, EdgeKind, EntryData, Ref, identity,
    manifest::{Manifest, ManifestFile, check_path},
};

use crate::{
    ApiError, AppState, ArtifactInput, DeployRequest, EdgeInput, LinkRequest, RegisterRequest,
};

/// Refs declared earlier in the same request or batch: canonical ref → artifact id.
pub(crate) type Local = HashMap<String, String>;

pub(crate) async fn resolve_ref(
    state: &AppState,
    local: &Local,
    input: &str,
) -> Result<String, ApiError> {
    let r: Ref = input.parse()?;
    let canonical = r.to_string();
    if let Some(id) = local.get(&canonical) {
        return Ok(id.clone());
    }
    if let Some(id) = state.memos.resolved.get(&canonical) {
        return Ok(id);
    }
    if let Some(id) = state.store.resolve(&canonical).await? {
        // An identified artifact is never merged away: what its alias names is final.
        if identity::is_identified(&id) {
            state.memos.resolved.insert_all([(canonical, id.clone())]);
        }
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
                let versions: Vec<&str> = found
                    .iter()
                    .filter_map(|(a, _)| a.strip_prefix(prefix.as_str()))
                    .collect();
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
    let mut fact = identity::declare(
        kind,
        input.ref_.as_deref(),
        input.name.as_deref(),
        input.version.as_deref(),
        &input.aliases,
    )
    .map_err(|e| ApiError::Invalid(format!("artifacts[{position}]: {e}")))?;
    if matches!(kind, ArtifactKind::Model | ArtifactKind::Dataset) {
        check_manifest(&fact.id, &input.attrs)?;
    }
    fact.attrs = input.attrs.clone();
    Ok(fact)
}

async fn edge_fact(state: &AppState, local: &Local, e: &EdgeInput) -> Result<EdgeFact, ApiError> {
    let edge = parse_edge(&e.edge)?;
    let mut paths = e.paths.clone();
    if !paths.is_empty() {
        if edge != EdgeKind::Contains {
            return Err(ApiError::Invalid(format!(
                "edge {} {} {}: paths are for contains edges only",
                e.from, e.edge, e.to
            )));
        }
        for p in &paths {
            check_path(p).map_err(|err| {
                ApiError::Invalid(format!("edge {} {} {}: {err}", e.from, e.edge, e.to))
            })?;
        }
        paths.sort_unstable();
        paths.dedup();
    }
    Ok(EdgeFact {
        from: resolve_ref(state, local, &e.from).await?,
        edge,
        to: resolve_ref(state, local, &e.to).await?,
        paths,
    })
}

pub(crate) async fn build_register(
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
    // Where each id is in `artifacts`: a repeated declaration is found by lookup, not by
    // a scan of the earlier ones (which made a large request quadratic).
    let mut at: HashMap<String, usize> = HashMap::with_capacity(req.artifacts.len());
    for (i, a) in req.artifacts.iter().enumerate() {
        let fact = artifact_fact(a, i)?;
        // Declaring one artifact twice in an entry merges the declarations.
        if let Some(prev) = at.get(&fact.id).and_then(|&j| artifacts.get_mut(j)) {
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
        at.insert(fact.id.clone(), artifacts.len());
        artifacts.push(fact);
    }
    let mut edges = Vec::with_capacity(req.edges.len());
    for e in &req.edges {
        edges.push(edge_fact(state, local, e).await?);
    }
    EdgeFact::sort_and_merge(&mut edges);
    Ok(EntryData::Register { artifacts, edges })
}

pub(crate) async fn build_links(
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
    EdgeFact::sort_and_merge(&mut edges);
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

pub(crate) async fn build_deploy(
    state: &AppState,
    local: &mut Local,
    req: &DeployRequest,
) -> Result<EntryData, ApiError> {
    check_segment("env", &req.env)?;
    check_segment("name", &req.name)?;
    let id = format!("deployment:{}/{}", req.env, req.name);
    let mut attrs = req.attrs.clone();
    attrs.insert("env".into(), req.env.clone().into());
    if let Some(owner) = &req.owner {
        ailedger_core::deployment::check_owner(owner)?;
        attrs.insert("owner".into(), owner.clone().into());
    }
    if let Some(contact) = &req.contact {
        attrs.insert(
            "contact".into(),
            ailedger_core::deployment::contact(contact)?.into(),
        );
    }
    let mut uses = Vec::with_capacity(req.uses.len());
    for u in &req.uses {
        uses.push(resolve_ref(state, local, u).await?);
    }
    if req.rollback_to_known_good {
        if !uses.is_empty() {
            return Err(ApiError::Invalid(
                "uses: give no uses with rollback_to_known_good (the known-good configuration is deployed)".into(),
            ));
        }
        uses = crate::routes::incidents::known_good_uses(state, &id).await?;
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

pub(crate) fn declared_ids(data: &EntryData) -> Vec<String> {
    match data {
        EntryData::Register { artifacts, .. } => artifacts.iter().map(|a| a.id.clone()).collect(),
        EntryData::Deploy { deployment, .. } => vec![deployment.id.clone()],
        _ => vec![],
    }
}
