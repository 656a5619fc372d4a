//! Python environments: requirements files, `pip freeze` output, Pipfile.lock,
//! poetry.lock and uv.lock. Each is an `environment` of the packages it pins
//! (`pkg:pypi/<name>@<version>`; unpinned requirements get a version-less purl).
//! Requirements, `pip freeze` and Pipfile.lock state no graph: the environment
//! `depends-on` every package. poetry.lock and uv.lock state one: each package's
//! dependencies are `depends-on` edges, and the environment depends on the roots
//! (`lock_graph`). Distribution hashes go into attributes; a SHA-256 becomes an alias
//! only when it is the package's single distribution file, since several wheel hashes
//! do not each identify the package.

use std::collections::HashMap;

use ailedger_core::{
    ArtifactKind, EdgeKind, Purl, Sha256Digest,
    purl::pep503,
    redact::{self, UrlRule},
};
use serde_json::{Map, Value, json};

use crate::{
    Error, Format,
    graph::{Ctx, fact, named_ref},
    hashes,
    json::{at, type_name},
    lock_graph::{LockGraph, name_environment},
};

/// One parsed requirement line.
#[derive(Debug, Default, PartialEq)]
struct Req {
    name: String,
    extras: Vec<String>,
    /// The specifier as written (`==1.2`, `>=1,<2`), empty if none.
    specifier: String,
    url: Option<String>,
    marker: Option<String>,
    hashes: Vec<String>,
}

impl Req {
    /// The exact version pinned by `==`/`===`, if any.
    fn pinned(&self) -> Option<&str> {
        let s = self.specifier.trim();
        let v = s
            .strip_prefix("===")
            .or_else(|| s.strip_prefix("=="))?
            .trim();
        (!v.is_empty() && !v.contains([',', '*', '<', '>', '!', '~', '='])).then_some(v)
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// Parses a PEP 508 requirement with pip's per-requirement `--hash` options.
fn parse_req(line: &str) -> Result<Req, String> {
    let mut req = Req::default();
    // Split off per-requirement options (`--hash=…`).
    let (body, opts) = match line.find(" --").or_else(|| line.find("\t--")) {
        Some(i) => (&line[..i], &line[i..]),
        None => (line, ""),
    };
    let mut it = opts.split_whitespace().peekable();
    while let Some(o) = it.next() {
        let val = if let Some(v) = o.strip_prefix("--hash=") {
            Some(v.to_owned())
        } else if o == "--hash" {
            it.next().map(str::to_owned)
        } else if o.starts_with("--") {
            // --global-option / --config-settings …: accepted, not recorded.
            if !o.contains('=') && it.peek().is_some_and(|n| !n.starts_with("--")) {
                it.next();
            }
            None
        } else {
            return Err(format!("unexpected {o:?} after the requirement"));
        };
        if let Some(v) = val {
            req.hashes.push(v);
        }
    }
    let (body, marker) = match body.split_once(';') {
        Some((b, m)) => (b.trim(), Some(m.trim().to_owned())),
        None => (body.trim(), None),
    };
    req.marker = marker.filter(|m| !m.is_empty());
    let name_end = body.find(|c: char| !is_name_char(c)).unwrap_or(body.len());
    let name = &body[..name_end];
    if name.is_empty()
        || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(format!(
            "{:?} does not start with a package name",
            hashes::truncate(body)
        ));
    }
    req.name = name.to_owned();
    let mut rest = body[name_end..].trim_start();
    if let Some(r) = rest.strip_prefix('[') {
        let (ex, after) = r.split_once(']').ok_or("unclosed extras bracket")?;
        req.extras = ex
            .split(',')
            .map(|e| e.trim().to_owned())
            .filter(|e| !e.is_empty())
            .collect();
        if req.extras.iter().any(|e| !e.chars().all(is_name_char)) {
            return Err(format!("bad extras [{ex}]"));
        }
        rest = after.trim_start();
    }
    if let Some(u) = rest.strip_prefix('@') {
        let u = u.trim();
        if u.is_empty() || u.contains(char::is_whitespace) {
            return Err("expected a URL after '@'".into());
        }
        req.url = Some(u.to_owned());
        return Ok(req);
    }
    let spec = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest)
        .trim();
    for clause in spec
        .split(',')
        .filter(|c| !c.trim().is_empty() || !spec.is_empty())
    {
        let c = clause.trim();
        if c.is_empty() {
            return Err("empty version clause".into());
        }
        let op_len = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"]
            .iter()
            .find(|op| c.starts_with(*op))
            .map(|op| op.len())
            .ok_or_else(|| format!("expected a version specifier (==, >=, ~=, …), found {c:?}"))?;
        let v = c[op_len..].trim();
        if v.is_empty()
            || !v.chars().all(|ch| {
                ch.is_ascii_alphanumeric() || matches!(ch, '.' | '*' | '+' | '!' | '_' | '-')
            })
        {
            return Err(format!("bad version in {c:?}"));
        }
    }
    req.specifier = spec.to_owned();
    Ok(req)
}

/// Logical lines: continuation backslashes joined, comments removed; with the
/// 1-based number of the physical line each starts on.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if cur.is_empty() {
            start = i + 1;
        }
        // A comment starts at `#` at the line start or after whitespace.
        let mut line = raw;
        if line.trim_start().starts_with('#') {
            line = "";
        } else if let Some(p) = line.find(" #").or_else(|| line.find("\t#")) {
            line = &line[..p];
        }
        match line.trim_end().strip_suffix('\\') {
            Some(l) => {
                cur.push_str(l);
                cur.push(' ');
            }
            None => {
                cur.push_str(line);
                let l = cur.trim().to_owned();
                if !l.is_empty() {
                    out.push((start, l));
                }
                cur.clear();
            }
        }
    }
    let l = cur.trim().to_owned();
    if !l.is_empty() {
        out.push((start, l));
    }
    out
}

const OPTIONS_WITH_VALUE: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--no-binary",
    "--only-binary",
    "--use-feature",
    "--config-settings",
];
const OPTIONS_FLAG: &[&str] = &["--pre", "--prefer-binary", "--require-hashes", "--no-index"];

enum Line {
    Req(Req),
    Opt(String, Option<String>),
    Url(String),
}

fn classify_line(l: &str) -> Result<Line, String> {
    if l.starts_with('-') {
        let (opt, val) = match l.split_once(['=', ' ', '\t']) {
            Some((o, v)) => (o, Some(v.trim().to_owned())),
            None => (l, None),
        };
        if OPTIONS_WITH_VALUE.contains(&opt) {
            if val.as_deref().is_none_or(str::is_empty) {
                return Err(format!("option {opt} needs a value"));
            }
            return Ok(Line::Opt(opt.to_owned(), val));
        }
        if OPTIONS_FLAG.contains(&opt) {
            return Ok(Line::Opt(opt.to_owned(), None));
        }
        return Err(format!("unknown option {opt:?}"));
    }
    if l.contains("://") && !l.contains(" @ ") && !l.contains('@')
        || l.starts_with('.')
        || l.starts_with('/')
    {
        return Ok(Line::Url(l.to_owned()));
    }
    parse_req(l).map(Line::Req)
}

/// Tells requirements files from `pip freeze` output (or neither).
pub(crate) fn classify(text: &str) -> Option<Format> {
    let lines = logical_lines(text);
    let mut freeze = !text.lines().any(|l| {
        let t = l.trim_start();
        (t.starts_with('#') && !t.starts_with("# Editable")) || l.contains(" #")
    });
    let mut any = false;
    for (_, l) in &lines {
        match classify_line(l).ok()? {
            Line::Req(r) => {
                any = true;
                if r.url.is_none()
                    && (r.pinned().is_none()
                        || !r.extras.is_empty()
                        || r.marker.is_some()
                        || !r.hashes.is_empty())
                {
                    freeze = false;
                }
            }
            Line::Opt(o, _) => {
                any = true;
                if o != "-e" && o != "--editable" {
                    freeze = false;
                }
            }
            Line::Url(_) => freeze = false,
        }
    }
    any.then_some(if freeze {
        Format::PipFreeze
    } else {
        Format::RequirementsTxt
    })
}

/// A PyPI package of the environment.
struct Pkg<'a> {
    name: &'a str,
    version: Option<&'a str>,
    /// `(algorithm, hex)` pairs, already validated.
    hashes: Vec<(&'static str, String)>,
    attrs: Map<String, Value>,
    /// A local or VCS project, not a registry package: named ref, not a purl.
    local: bool,
    repository_url: Option<&'a str>,
}

/// Adds a package; returns its artifact index.
fn add_pkg(ctx: &mut Ctx<'_>, p: Pkg<'_>, ptr: &str) -> Result<usize, Error> {
    let mut attrs = p.attrs;
    let id = if p.local {
        named_ref(ArtifactKind::Package, p.name, p.version).map_err(|e| ctx.err(ptr, e))?
    } else {
        let q: Vec<(&str, &str)> = p
            .repository_url
            .map(|u| ("repository_url", u))
            .into_iter()
            .collect();
        Purl::build("pypi", None, p.name, p.version, q, None)
            .map_err(|e| ctx.err(ptr, e.to_string()))?
            .to_string()
    };
    let mut f = fact(
        id,
        ArtifactKind::Package,
        Some(p.name.to_owned()),
        p.version.map(str::to_owned),
    );
    let sha256: Vec<&String> = p
        .hashes
        .iter()
        .filter(|(a, _)| *a == "SHA-256")
        .map(|(_, h)| h)
        .collect();
    if sha256.len() == 1
        && let Ok(d) = Sha256Digest::from_hex(sha256[0])
    {
        f.aliases.push(d.to_string());
    }
    if !p.hashes.is_empty() {
        let list: Vec<Value> = p
            .hashes
            .iter()
            .map(|(a, h)| json!({ "alg": a, "content": h }))
            .collect();
        attrs.insert("hashes".into(), Value::Array(list));
    }
    f.attrs = attrs;
    ctx.add_at(f)
}

/// Adds a package the environment depends on directly.
fn add_direct(ctx: &mut Ctx<'_>, p: Pkg<'_>, ptr: &str) -> Result<(), Error> {
    let art = add_pkg(ctx, p, ptr)?;
    ctx.edge_at(0, EdgeKind::DependsOn, art)
}

/// `sha256:hex` / `sha256=hex` → validated pair.
fn split_hash(h: &str) -> Result<(&'static str, String), String> {
    let (alg, val) = h
        .split_once([':', '='])
        .ok_or_else(|| format!("hash {h:?} is not <algorithm>:<hex>"))?;
    hashes::check(alg, val)
}

pub(crate) fn requirements(text: &str, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    let lines = logical_lines(text);
    ctx.check_count("1:1", "lines", lines.len())?;
    let mut indexes = Vec::new();
    for (n, l) in lines {
        let ptr = format!("{n}:1");
        match classify_line(&l).map_err(|e| ctx.err(&ptr, e))? {
            Line::Opt(o, v) => match (o.as_str(), v) {
                ("-r" | "--requirement" | "-c" | "--constraint", Some(v)) => ctx.includes.push(v),
                ("-e" | "--editable", Some(v)) => {
                    ctx.warn(
                        &ptr,
                        format!(
                            "editable install {:?} is not recorded as a package",
                            hashes::truncate(&redact::text(&v, UrlRule::Locator))
                        ),
                    );
                }
                ("-i" | "--index-url" | "--extra-index-url" | "-f" | "--find-links", Some(v)) => {
                    // Index URLs may carry credentials (ailedger_core::redact).
                    let clean = redact::url(&v, UrlRule::Locator).into_owned();
                    indexes.push(Value::from(clean));
                }
                _ => {}
            },
            Line::Url(u) => {
                ctx.warn(
                    &ptr,
                    format!(
                        "direct reference {:?} names no package; not recorded",
                        hashes::truncate(&redact::text(&u, UrlRule::Locator))
                    ),
                );
            }
            Line::Req(r) => {
                let mut hs = Vec::new();
                for h in &r.hashes {
                    hs.push(split_hash(h).map_err(|e| ctx.err(&ptr, e))?);
                }
                let mut attrs = Map::new();
                if !r.specifier.is_empty() && r.pinned().is_none() {
                    attrs.insert("specifier".into(), Value::from(r.specifier.clone()));
                }
                if !r.extras.is_empty() {
                    attrs.insert("extras".into(), json!(r.extras));
                }
                if let Some(m) = &r.marker {
                    attrs.insert("marker".into(), Value::from(m.clone()));
                }
                if let Some(u) = &r.url {
                    ctx.warn(
                        &ptr,
                        format!(
                            "{} is installed from a direct URL; recorded without a version",
                            r.name
                        ),
                    );
                    attrs.insert(
                        "url".into(),
                        Value::from(redact::url(u, UrlRule::Locator).into_owned()),
                    );
                }
                attrs.insert("pinned".into(), Value::from(r.pinned().is_some()));
                let pkg = Pkg {
                    name: &r.name,
                    version: r.pinned(),
                    hashes: hs,
                    attrs,
                    local: false,
                    repository_url: None,
                };
                add_direct(ctx, pkg, &ptr)?;
            }
        }
    }
    if !indexes.is_empty() {
        ctx.doc_mut()
            .attrs
            .insert("indexes".into(), Value::Array(indexes));
    }
    let label = ctx.label.clone();
    name_environment(ctx, None, &label);
    Ok(())
}

pub(crate) fn pipfile_lock(root: Value, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    for group in ["default", "develop"] {
        let Some(g) = root.get(group) else { continue };
        let Value::Object(g) = g else {
            return Err(ctx.err(
                &format!("/{group}"),
                format!("expected an object, found {}", type_name(g)),
            ));
        };
        ctx.check_count(&format!("/{group}"), "packages", g.len())?;
        for (name, p) in g {
            let ptr = at(&format!("/{group}"), name);
            let version = p
                .get("version")
                .and_then(Value::as_str)
                .map(|v| v.trim_start_matches("===").trim_start_matches("=="));
            let mut hs = Vec::new();
            if let Some(Value::Array(list)) = p.get("hashes") {
                for (i, h) in list.iter().enumerate() {
                    let h = h.as_str().ok_or_else(|| {
                        ctx.err(&format!("{ptr}/hashes/{i}"), "expected a string")
                    })?;
                    hs.push(split_hash(h).map_err(|e| ctx.err(&format!("{ptr}/hashes/{i}"), e))?);
                }
            }
            let mut attrs = Map::new();
            attrs.insert("group".into(), Value::from(group));
            for k in ["markers", "index", "extras"] {
                if let Some(v) = p.get(k) {
                    attrs.insert(k.into(), v.clone());
                }
            }
            let local =
                p.get("path").is_some() || p.get("git").is_some() || p.get("file").is_some();
            let pkg = Pkg {
                name,
                version: version.filter(|v| !v.is_empty()),
                hashes: hs,
                attrs,
                local,
                repository_url: None,
            };
            add_direct(ctx, pkg, &ptr)?;
        }
    }
    name_environment(ctx, None, "Pipfile.lock");
    Ok(())
}

fn toml_str<'a>(t: &'a toml::Value, k: &str) -> Option<&'a str> {
    t.get(k).and_then(toml::Value::as_str)
}

fn packages<'a>(t: &'a toml::Table, ctx: &Ctx<'_>) -> Result<&'a [toml::Value], Error> {
    match t.get("package") {
        Some(toml::Value::Array(a)) => {
            ctx.check_count("/package", "packages", a.len())?;
            Ok(a)
        }
        None => Ok(&[]),
        Some(_) => Err(ctx.err("/package", "expected an array of [[package]] tables")),
    }
}

pub(crate) fn poetry_lock(t: toml::Table, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    if let Some(m) = t.get("metadata") {
        for k in ["lock-version", "content-hash", "python-versions"] {
            if let Some(v) = toml_str(m, k) {
                ctx.doc_mut()
                    .attrs
                    .insert(format!("poetry.{k}"), Value::from(v));
            }
        }
    }
    let pkgs = packages(&t, ctx)?;
    let mut graph = LockGraph::default();
    let mut found = Locked::default();
    for (i, p) in pkgs.iter().enumerate() {
        let ptr = format!("/package/{i}");
        let name = toml_str(p, "name").ok_or_else(|| ctx.err(&ptr, "missing required \"name\""))?;
        let version =
            toml_str(p, "version").ok_or_else(|| ctx.err(&ptr, "missing required \"version\""))?;
        let mut hs = Vec::new();
        let mut files = Vec::new();
        if let Some(toml::Value::Array(fs)) = p.get("files") {
            for (j, f) in fs.iter().enumerate() {
                if let Some(h) = toml_str(f, "hash") {
                    hs.push(
                        split_hash(h).map_err(|e| ctx.err(&format!("{ptr}/files/{j}/hash"), e))?,
                    );
                }
                if let Some(n) = toml_str(f, "file") {
                    files.push(Value::from(n));
                }
            }
        }
        let mut attrs = Map::new();
        if !files.is_empty() {
            attrs.insert("files".into(), Value::Array(files));
        }
        for k in ["category", "optional", "python-versions", "description"] {
            if let Some(v) = p.get(k) {
                attrs.insert(k.into(), toml_to_json(v));
            }
        }
        let source_type = p.get("source").and_then(|s| toml_str(s, "type"));
        let local = matches!(source_type, Some("git" | "directory" | "file" | "url"));
        let repo = match source_type {
            Some("legacy") => p.get("source").and_then(|s| toml_str(s, "url")),
            _ => None,
        };
        if let Some(s) = p.get("source") {
            attrs.insert("source".into(), toml_to_json(s));
        }
        let art = add_pkg(
            ctx,
            Pkg {
                name,
                version: Some(version),
                hashes: hs,
                attrs,
                local,
                repository_url: repo,
            },
            &ptr,
        )?;
        graph.package(art);
        found.add(art, name, Some(version));
    }
    for (i, p) in pkgs.iter().enumerate() {
        let Some(deps) = p.get("dependencies") else {
            continue;
        };
        let ptr = format!("/package/{i}/dependencies");
        let Some(deps) = deps.as_table() else {
            ctx.warn(&ptr, "expected a table; no dependencies recorded");
            continue;
        };
        let from = found.arts[i];
        for (name, spec) in deps {
            // `"*"`, `{version = "…", markers = "…", optional = true}`, or an array of
            // such tables (one per marker).
            let specs: Vec<&toml::Value> = match spec {
                toml::Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            let pins: Vec<&str> = specs
                .iter()
                .filter_map(|s| match s {
                    toml::Value::String(v) => Some(v.as_str()),
                    other => toml_str(other, "version"),
                })
                .filter_map(exact_version)
                .collect();
            let targets = found.resolve(
                name,
                |v| pins.is_empty() || v.is_some_and(|v| pins.contains(&v)),
                true,
            );
            if targets.is_empty() {
                // Markers and extras may name packages never locked (another platform,
                // an extra not chosen): no edge, and nothing to warn about.
                let conditional = specs.iter().all(|s| {
                    s.get("markers").is_some()
                        || s.get("optional").and_then(toml::Value::as_bool) == Some(true)
                });
                if !conditional {
                    ctx.warn(
                        &at(&ptr, name),
                        format!("{name} is not a [[package]] of the lockfile; no edge"),
                    );
                }
            }
            for to in targets {
                graph.depends(from, found.arts[to]);
            }
        }
    }
    graph.finish(ctx)?;
    name_environment(ctx, None, "poetry.lock");
    Ok(())
}

/// The version a poetry constraint pins exactly (`1.2.3`, `==1.2.3`), if any.
fn exact_version(spec: &str) -> Option<&str> {
    let v = spec.trim();
    let v = v.strip_prefix("==").unwrap_or(v).trim();
    let pinned = !v.is_empty()
        && v.starts_with(|c: char| c.is_ascii_digit())
        && !v.contains([',', '*', '<', '>', '!', '~', '=', '^', ' ', '|']);
    pinned.then_some(v)
}

/// The packages of a poetry.lock or uv.lock, found by PEP 503 name.
#[derive(Default)]
struct Locked<'a> {
    /// Artifact index of each `[[package]]`, in file order.
    arts: Vec<usize>,
    by_name: HashMap<String, Vec<(usize, Option<&'a str>)>>,
}

impl<'a> Locked<'a> {
    fn add(&mut self, art: usize, name: &str, version: Option<&'a str>) {
        self.arts.push(art);
        self.by_name
            .entry(pep503(name))
            .or_default()
            .push((self.arts.len() - 1, version));
    }

    /// The positions of the packages called `name` whose version `pick` accepts; with
    /// `or_all`, every package called `name` if it accepts none (poetry locks one per
    /// marker and does not say which a constraint meant).
    fn resolve(&self, name: &str, pick: impl Fn(Option<&str>) -> bool, or_all: bool) -> Vec<usize> {
        let Some(all) = self.by_name.get(&pep503(name)) else {
            return Vec::new();
        };
        let chosen: Vec<usize> = all
            .iter()
            .filter(|(_, v)| pick(*v))
            .map(|&(i, _)| i)
            .collect();
        if chosen.is_empty() && or_all {
            all.iter().map(|&(i, _)| i).collect()
        } else {
            chosen
        }
    }
}

pub(crate) fn uv_lock(t: toml::Table, ctx: &mut Ctx<'_>) -> Result<(), Error> {
    if let Some(v) = t.get("requires-python").and_then(toml::Value::as_str) {
        ctx.doc_mut()
            .attrs
            .insert("requires-python".into(), Value::from(v));
    }
    let pkgs = packages(&t, ctx)?;
    let mut graph = LockGraph::default();
    let mut found = Locked::default();
    // The package at the workspace root, else the first workspace member.
    let (mut project, mut member) = (None, None);
    for (i, p) in pkgs.iter().enumerate() {
        let ptr = format!("/package/{i}");
        let name = toml_str(p, "name").ok_or_else(|| ctx.err(&ptr, "missing required \"name\""))?;
        let version = toml_str(p, "version");
        let source = p.get("source");
        let registry = source.and_then(|s| toml_str(s, "registry"));
        let local = registry.is_none();
        // The index URL stays in `source`; the purl names the package, not the mirror.
        let repo = None;
        let mut hs = Vec::new();
        let mut dists = Vec::new();
        let mut push = |d: &toml::Value, ptr: &str, ctx: &Ctx<'_>| -> Result<(), Error> {
            if let Some(h) = toml_str(d, "hash") {
                hs.push(split_hash(h).map_err(|e| ctx.err(ptr, e))?);
            }
            if let Some(u) = toml_str(d, "url") {
                dists.push(Value::from(u.rsplit('/').next().unwrap_or(u)));
            }
            Ok(())
        };
        if let Some(sd) = p.get("sdist") {
            push(sd, &format!("{ptr}/sdist/hash"), ctx)?;
        }
        if let Some(toml::Value::Array(ws)) = p.get("wheels") {
            for (j, w) in ws.iter().enumerate() {
                push(w, &format!("{ptr}/wheels/{j}/hash"), ctx)?;
            }
        }
        let mut attrs = Map::new();
        if !dists.is_empty() {
            attrs.insert("files".into(), Value::Array(dists));
        }
        if let Some(s) = source {
            attrs.insert("source".into(), toml_to_json(s));
        }
        if local {
            ctx.warn(&ptr, format!("{name} is not from a package index; recorded as package:{name}, not a PyPI purl"));
        }
        let art = add_pkg(
            ctx,
            Pkg {
                name,
                version,
                hashes: hs,
                attrs,
                local,
                repository_url: repo,
            },
            &ptr,
        )?;
        graph.package(art);
        found.add(art, name, version);
        // The project and its workspace members: the environment's own packages.
        let own = source.and_then(|s| toml_str(s, "editable").or_else(|| toml_str(s, "virtual")));
        if let Some(path) = own {
            graph.root(art);
            if path == "." {
                project = Some(name);
            }
            member = member.or(Some(name));
        }
    }
    for (i, p) in pkgs.iter().enumerate() {
        let from = found.arts[i];
        let ptr = format!("/package/{i}");
        let mut lists: Vec<(String, &toml::Value)> = Vec::new();
        if let Some(d) = p.get("dependencies") {
            lists.push((format!("{ptr}/dependencies"), d));
        }
        for group in ["optional-dependencies", "dev-dependencies"] {
            if let Some(toml::Value::Table(g)) = p.get(group) {
                for (k, d) in g {
                    lists.push((at(&format!("{ptr}/{group}"), k), d));
                }
            }
        }
        for (ptr, list) in lists {
            let Some(list) = list.as_array() else {
                ctx.warn(&ptr, "expected an array of dependencies; none recorded");
                continue;
            };
            for (j, d) in list.iter().enumerate() {
                let Some(name) = toml_str(d, "name") else {
                    ctx.warn(
                        &format!("{ptr}/{j}"),
                        "a dependency without a name; no edge",
                    );
                    continue;
                };
                // `version` and `source` are written when the name alone is ambiguous.
                let version = toml_str(d, "version");
                let source = d.get("source");
                let targets: Vec<usize> = found
                    .resolve(name, |v| version.is_none_or(|w| v == Some(w)), false)
                    .into_iter()
                    .filter(|&k| source.is_none_or(|s| pkgs[k].get("source") == Some(s)))
                    .collect();
                if targets.is_empty() {
                    ctx.warn(
                        &format!("{ptr}/{j}"),
                        format!("{name} is not a [[package]] of the lockfile; no edge"),
                    );
                }
                for to in targets {
                    graph.depends(from, found.arts[to]);
                }
            }
        }
    }
    graph.finish(ctx)?;
    name_environment(ctx, project.or(member), "uv.lock");
    Ok(())
}

pub(crate) fn toml_to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::from(s.as_str()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::Datetime(d) => Value::from(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_lines() {
        let r = parse_req(
            "requests[socks,security]>=2.8.1,<3 ; python_version < \"3.8\" --hash=sha256:aa",
        )
        .unwrap();
        assert_eq!(r.name, "requests");
        assert_eq!(r.extras, ["socks", "security"]);
        assert_eq!(r.specifier, ">=2.8.1,<3");
        assert_eq!(r.marker.as_deref(), Some("python_version < \"3.8\""));
        assert_eq!(r.hashes, ["sha256:aa"]);
        assert_eq!(parse_req("torch==2.4.1").unwrap().pinned(), Some("2.4.1"));
        assert_eq!(parse_req("torch==2.*").unwrap().pinned(), None);
        assert!(parse_req("hello world").is_err());
        assert!(
            parse_req("pkg @ https://x.invalid/p.whl")
                .unwrap()
                .url
                .is_some()
        );
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify("torch==2.4.1\nnumpy==2.0.0\n"),
            Some(Format::PipFreeze)
        );
        assert_eq!(
            classify("# deps\ntorch>=2\n-r base.txt\n"),
            Some(Format::RequirementsTxt)
        );
        assert_eq!(classify("This is not a requirements file.\n"), None);
        assert_eq!(classify("\n\n"), None);
    }
}
