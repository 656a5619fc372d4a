//! package-lock.json v2/v3: every entry of the `packages` map under `node_modules/`
//! is a package (`pkg:npm/%40scope/name@version`; the installed name is the path after
//! the last `node_modules/`, or the entry's `name` for aliased installs) that the
//! environment depends on. Workspace packages (paths outside `node_modules`) are local
//! projects and get named refs; `link` entries are skipped (their target is listed).

use ailedger_core::{ArtifactKind, EdgeKind, Purl};
use serde_json::{Map, Value};

use crate::{
    Error,
    graph::{Ctx, fact, named_ref},
    json::{at, type_name},
};

pub(crate) fn parse(root: Value, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let doc = ctx.doc_id();
    if let Some(n) = root.get("name").and_then(Value::as_str) {
        let d = ctx.doc_mut();
        d.name = Some(n.to_owned());
        d.version = root
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
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
    for (path, p) in pkgs {
        if path.is_empty() {
            continue; // the root project: the environment itself
        }
        let ptr = at("/packages", path);
        let Some(o) = p.as_object() else {
            return Err(ctx.err(&ptr, format!("expected an object, found {}", type_name(p))));
        };
        if o.get("link").and_then(Value::as_bool) == Some(true) {
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
        let id = ctx.add(f)?;
        ctx.edge(&doc, EdgeKind::DependsOn, &id)?;
    }
    Ok(())
}
