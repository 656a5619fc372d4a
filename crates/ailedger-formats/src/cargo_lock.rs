//! Cargo.lock (v1–v4): every `[[package]]` is a package the environment depends on.
//! Registry packages are `pkg:cargo/name@version` with the lockfile's `checksum` (the
//! SHA-256 of the .crate file) as an alias; workspace members and git/path packages
//! are local projects and get `package:name@version` refs.

use ailedger_core::{ArtifactKind, EdgeKind, Purl, Sha256Digest};
use serde_json::Value;

use crate::{
    Error,
    graph::{Ctx, fact, named_ref},
};

pub(crate) fn parse(t: toml::Table, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let doc = ctx.doc_id();
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
        let id = ctx.add(f)?;
        ctx.edge(&doc, EdgeKind::DependsOn, &id)?;
    }
    Ok(())
}
