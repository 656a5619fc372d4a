//! package-lock.json v2/v3: every entry of the `packages` map under `node_modules/`
//! is a package (`pkg:npm/%40scope/name@version`; the installed name is the path after
//! the last `node_modules/`, or the entry's `name` for aliased installs). Workspace
//! packages (paths outside `node_modules`) are local projects and get named refs;
//! `link` entries stand for their target.
//!
//! Each entry's `dependencies`, `optionalDependencies` and `peerDependencies` (and the
//! root's and workspaces' `devDependencies`) are `depends-on` edges, resolved the way
//! Node finds an installed package: `<entry>/node_modules/<name>`, then the same in
//! each enclosing directory up to the top-level `node_modules/<name>`; a link is
//! followed to its target. The root entry (`""`) is the environment itself: what it
//! depends on, and every workspace package, the environment depends on directly
//! (`lock_graph`).

use std::collections::HashMap;

use ailedger_core::{ArtifactKind, Purl};
use serde_json::{Map, Value};

use crate::{
    Error,
    graph::{Ctx, fact, named_ref},
    json::{at, type_name},
    lock_graph::{LockGraph, name_environment},
};

/// Dependency maps of an entry; whether a name that resolves to nothing is a fault.
const DEP_MAPS: [(&str, bool); 4] = [
    ("dependencies", true),
    ("optionalDependencies", false),
    ("peerDependencies", false),
    ("devDependencies", true),
];

/// Where an installed path leads: a package (artifact index, or the environment for
/// the root) or a link to another path.
enum Entry<'a> {
    Package(usize),
    Link(&'a str),
}

pub(crate) fn parse(root: Value, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let pkgs = match root.get("packages") {
        Some(Value::Object(m)) => m,
        Some(other) => {
            return Err(ctx.err(
                "/packages",
                format!("expected an object, found {}", type_name(other)),
            ));
        }
        None => {
            return Err(ctx.err(
                "/packages",
                "missing \"packages\" (required in lockfileVersion 2 and 3)",
            ));
        }
    };
    ctx.check_count("/packages", "packages", pkgs.len())?;
    let mut graph = LockGraph::default();
    let mut entries: HashMap<&str, Entry<'_>> = HashMap::with_capacity(pkgs.len());
    for (path, p) in pkgs {
        let ptr = at("/packages", path);
        let Some(o) = p.as_object() else {
            return Err(ctx.err(&ptr, format!("expected an object, found {}", type_name(p))));
        };
        if path.is_empty() {
            // The root project: the environment itself.
            entries.insert(path, Entry::Package(0));
            continue;
        }
        if o.get("link").and_then(Value::as_bool) == Some(true) {
            let target = o.get("resolved").and_then(Value::as_str).unwrap_or("");
            entries.insert(path, Entry::Link(target));
            continue;
        }
        let installed = path
            .rfind("node_modules/")
            .map(|i| &path[i + "node_modules/".len()..]);
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .or(installed)
            .unwrap_or(path.as_str());
        let version = o
            .get("version")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty());
        let mut attrs = Map::new();
        for k in [
            "resolved",
            "integrity",
            "dev",
            "optional",
            "devOptional",
            "peer",
            "license",
            "inBundle",
        ] {
            if let Some(v) = o.get(k) {
                attrs.insert(k.into(), v.clone());
            }
        }
        attrs.insert("path".into(), Value::from(path.as_str()));
        let id = if installed.is_some()
            && !o
                .get("resolved")
                .and_then(Value::as_str)
                .is_some_and(|r| r.starts_with("file:"))
        {
            let (ns, n) = match name.split_once('/') {
                Some((s, n)) if s.starts_with('@') => (Some(s), n),
                _ => (None, name),
            };
            Purl::build("npm", ns, n, version, [], None)
                .map_err(|e| ctx.err(&ptr, e.to_string()))?
                .to_string()
        } else {
            named_ref(ArtifactKind::Package, name, version).map_err(|e| ctx.err(&ptr, e))?
        };
        let mut f = fact(
            id,
            ArtifactKind::Package,
            Some(name.to_owned()),
            version.map(str::to_owned),
        );
        f.attrs = attrs;
        let art = ctx.add_at(f)?;
        graph.package(art);
        if installed.is_none() {
            graph.root(art); // a workspace package: the project's own
        }
        entries.insert(path, Entry::Package(art));
    }
    let mut buf = String::new();
    for (path, p) in pkgs {
        let (Some(Entry::Package(from)), Some(o)) = (entries.get(path.as_str()), p.as_object())
        else {
            continue;
        };
        let from = *from;
        let workspace = !path.starts_with("node_modules/") && !path.contains("/node_modules/");
        for (key, required) in DEP_MAPS {
            if key == "devDependencies" && !workspace {
                continue; // an installed package's dev dependencies are not installed
            }
            let Some(Value::Object(deps)) = o.get(key) else {
                continue;
            };
            for name in deps.keys() {
                match resolve(&entries, path, name, &mut buf) {
                    Some(to) => graph.depends(from, to),
                    None if required => {
                        let whom = if path.is_empty() {
                            "the project".to_owned()
                        } else {
                            format!("{path:?}")
                        };
                        ctx.warn(
                            &at(&at(&at("/packages", path), key), name),
                            format!("{name} is installed nowhere {whom} can see it; no edge"),
                        );
                    }
                    None => {} // optional or peer, not installed
                }
            }
        }
    }
    graph.finish(ctx)?;
    // The project's name and version: `mcp-gateway@1.2.0 (package-lock.json, …)`.
    // (The version is part of the name, not the environment's version: a label is
    // `<kind>:<name>@<version>`, and the digest prefix belongs beside the name.)
    let field = |k: &str| {
        root.get(k)
            .or_else(|| pkgs.get("").and_then(|r| r.get(k)))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    let project = field("name").map(|n| match field("version") {
        Some(v) => format!("{n}@{v}"),
        None => n.to_owned(),
    });
    name_environment(ctx, project.as_deref(), "package-lock.json");
    Ok(())
}

/// The package `name` required from the entry at `from` resolves to, the way Node
/// looks it up: `<dir>/node_modules/<name>` for `from` and each enclosing directory
/// (skipping `node_modules` directories themselves), links followed.
fn resolve(
    entries: &HashMap<&str, Entry<'_>>,
    from: &str,
    name: &str,
    buf: &mut String,
) -> Option<usize> {
    let mut dir = from;
    loop {
        buf.clear();
        if !dir.is_empty() {
            buf.push_str(dir);
            buf.push('/');
        }
        buf.push_str("node_modules/");
        buf.push_str(name);
        if let Some(e) = entries.get(buf.as_str()) {
            return follow(entries, e);
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent(dir);
        while dir == "node_modules" || dir.ends_with("/node_modules") {
            dir = parent(dir);
        }
    }
}

/// The directory containing `path` (`""` at the top).
fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The package an entry stands for: itself, or a link's target (links to links
/// followed a few times; a link to nothing in the lockfile resolves to nothing).
fn follow(entries: &HashMap<&str, Entry<'_>>, e: &Entry<'_>) -> Option<usize> {
    let mut e = e;
    for _ in 0..8 {
        match e {
            Entry::Package(art) => return Some(*art),
            Entry::Link(target) => e = entries.get(target)?,
        }
    }
    None
}
