//! Cargo.lock (v1–v4): every `[[package]]` is a package of the environment, and its
//! `dependencies` (`name`, `name version` or `name version (source)`, whichever is
//! unambiguous) are `depends-on` edges to the exact package named. Registry packages
//! are `pkg:cargo/name@version` with the lockfile's `checksum` (the SHA-256 of the
//! .crate file) as an alias; workspace members and git/path packages are local
//! projects and get `package:name@version` refs. The environment depends directly on
//! the packages without a `source` (workspace members and path packages: the
//! project's own code) and on anything they do not reach (`lock_graph`).

use std::collections::HashMap;

use ailedger_core::{ArtifactKind, Purl, Sha256Digest};
use serde_json::Value;

use crate::{
    Error,
    graph::{Ctx, fact, named_ref},
    lock_graph::{LockGraph, name_environment, project_name},
};

/// A `[[package]]` as far as dependency resolution needs it.
struct Pkg<'a> {
    art: usize,
    name: &'a str,
    version: &'a str,
    source: Option<&'a str>,
}

pub(crate) fn parse(t: toml::Table, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    if let Some(v) = t.get("version").and_then(toml::Value::as_integer) {
        ctx.doc_mut()
            .attrs
            .insert("cargo.lock-version".into(), Value::from(v));
    }
    let pkgs = match t.get("package") {
        Some(toml::Value::Array(a)) => a.as_slice(),
        None => &[],
        Some(_) => return Err(ctx.err("/package", "expected an array of [[package]] tables")),
    };
    ctx.check_count("/package", "packages", pkgs.len())?;
    let mut graph = LockGraph::default();
    let mut found: Vec<Pkg<'_>> = Vec::with_capacity(pkgs.len());
    for (i, p) in pkgs.iter().enumerate() {
        let ptr = format!("/package/{i}");
        let s = |k: &str| p.get(k).and_then(toml::Value::as_str);
        let name = s("name").ok_or_else(|| ctx.err(&ptr, "missing required \"name\""))?;
        let version = s("version").ok_or_else(|| ctx.err(&ptr, "missing required \"version\""))?;
        let source = s("source");
        let registry =
            source.is_some_and(|s| s.starts_with("registry+") || s.starts_with("sparse+"));
        let mut f = if registry {
            // The registry stays in the `source` attribute; the purl names the crate.
            let q: [(&str, &str); 0] = [];
            let purl = Purl::build("cargo", None, name, Some(version), q, None)
                .map_err(|e| ctx.err(&ptr, e.to_string()))?;
            fact(
                purl.to_string(),
                ArtifactKind::Package,
                Some(name.to_owned()),
                Some(version.to_owned()),
            )
        } else {
            let id = named_ref(ArtifactKind::Package, name, Some(version))
                .map_err(|e| ctx.err(&ptr, e))?;
            fact(
                id,
                ArtifactKind::Package,
                Some(name.to_owned()),
                Some(version.to_owned()),
            )
        };
        if let Some(src) = source {
            f.attrs.insert("source".into(), Value::from(src));
        }
        if let Some(c) = s("checksum") {
            let d = Sha256Digest::from_hex(c)
                .map_err(|e| ctx.err(&format!("{ptr}/checksum"), e.to_string()))?;
            f.attrs
                .insert("hashes".into(), serde_json::json!({ "SHA-256": d.hex() }));
            f.aliases.push(d.to_string());
        }
        let art = ctx.add_at(f)?;
        graph.package(art);
        if source.is_none() {
            graph.root(art);
        }
        found.push(Pkg {
            art,
            name,
            version,
            source,
        });
    }
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::with_capacity(found.len());
    for (i, p) in found.iter().enumerate() {
        by_name.entry(p.name).or_default().push(i);
    }
    for (i, p) in pkgs.iter().enumerate() {
        let Some(deps) = p.get("dependencies") else {
            continue;
        };
        let ptr = format!("/package/{i}/dependencies");
        let Some(deps) = deps.as_array() else {
            ctx.warn(
                &ptr,
                "expected an array of strings; no dependencies recorded",
            );
            continue;
        };
        for (j, d) in deps.iter().enumerate() {
            let ptr = format!("{ptr}/{j}");
            let Some(d) = d.as_str() else {
                ctx.warn(&ptr, "expected a string; no edge");
                continue;
            };
            match resolve(d, &found, &by_name) {
                Some(t) => graph.depends(found[i].art, found[t].art),
                None => ctx.warn(
                    &ptr,
                    format!("{d:?} names no [[package]] of the lockfile; no edge"),
                ),
            }
        }
    }
    // Named after the project's own packages that nothing else depends on.
    let depended_on = graph.depended_on();
    let own: Vec<&str> = found
        .iter()
        .filter(|p| p.source.is_none() && !depended_on.contains(&p.art))
        .map(|p| p.name)
        .collect();
    graph.finish(ctx)?;
    name_environment(ctx, project_name(&own).as_deref(), "Cargo.lock");
    Ok(())
}

/// The package a dependency entry names: `name`, `name version` or
/// `name version (source)`.
fn resolve(entry: &str, pkgs: &[Pkg<'_>], by_name: &HashMap<&str, Vec<usize>>) -> Option<usize> {
    let mut it = entry.splitn(3, ' ');
    let name = it.next()?;
    let version = it.next();
    let source = it
        .next()
        .map(|s| s.trim().trim_start_matches('(').trim_end_matches(')'));
    let candidates = by_name.get(name)?;
    let matches = |&&i: &&usize| {
        let p = &pkgs[i];
        version.is_none_or(|v| p.version == v) && source.is_none_or(|s| same_source(p.source, s))
    };
    candidates.iter().find(matches).copied()
}

/// Whether a package's `source` is the one a dependency entry names (git sources may
/// be written with or without their `#<commit>`).
fn same_source(have: Option<&str>, want: &str) -> bool {
    let Some(have) = have else {
        return false;
    };
    let base = |s: &str| s.split('#').next().unwrap_or(s).to_owned();
    have == want || base(have) == base(want)
}
