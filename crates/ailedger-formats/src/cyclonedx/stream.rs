//! CycloneDX JSON read as a stream: each element of `components` and `dependencies` is
//! parsed, checked and mapped on its own and then dropped, so the document is never
//! held as one `serde_json::Value` tree (about fourteen times its size in memory).
//!
//! This reader vouches only for what it can do exactly as the tree reader in the parent
//! module would: it runs the same code on the same values in the same order. Whenever
//! that cannot be guaranteed — a syntax error, a limit or a refusal anywhere, `metadata`
//! after `components`, a repeated key, `components` or `dependencies` that are not
//! arrays — it gives up and the caller parses the document as a tree, which then
//! reports the precise error. A test runs both readers over every CycloneDX fixture
//! and compares the documents they produce.

use std::collections::HashMap;

use ailedger_core::{ArtifactKind, Sha256Digest};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{Cdx, Dep, Head, dep_of};
use crate::{
    Encoding, Format, Options,
    graph::Ctx,
    json::{self, check_tree_at},
    schema::{self, CdxPart, Deviations},
};

/// How the document is checked against its schema.
pub(crate) enum SchemaCheck {
    /// Not at all (the caller checks it some other way).
    Off,
    /// Only the check, part by part as it streams (the skeleton, each component, each
    /// dependency); the document is not mapped (see [`schema_parts`]).
    Only,
}

/// Parses CycloneDX JSON as a stream; `None` when the tree reader must do it. The
/// document's digest is left [pending](Ctx::pending): the caller sets it, adds the
/// schema deviations and finishes the document.
pub(crate) fn parse<'o>(
    json: &[u8],
    opts: &'o Options,
    schema: SchemaCheck,
) -> Option<(Ctx<'o>, Format)> {
    run(json, opts, schema).map(|(ctx, format, _)| (ctx, format))
}

/// The part-by-part schema check of a CycloneDX JSON document, without mapping it: run on
/// another core while [`parse`] maps the document. `None` when the document is not one
/// the stream reads.
pub(crate) fn schema_parts(json: &[u8], opts: &Options) -> Option<Vec<crate::Warning>> {
    run(json, opts, SchemaCheck::Only).map(|(_, _, w)| w)
}

fn run<'o>(
    json: &[u8],
    opts: &'o Options,
    schema: SchemaCheck,
) -> Option<(Ctx<'o>, Format, Vec<crate::Warning>)> {
    let only = matches!(schema, SchemaCheck::Only);
    // The document's digest is computed beside this, on the schema check's core.
    let mut ctx = Ctx::pending(opts, "CycloneDX JSON".to_owned(), ArtifactKind::Sbom);
    let mut state = State {
        cdx: Cdx::new(&mut ctx),
        opts,
        root: Map::new(),
        head: None,
        deps: None,
        parts: match schema {
            SchemaCheck::Off => None,
            SchemaCheck::Only => Some(Parts::default()),
        },
        only,
        failed: false,
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    (&mut state).deserialize(&mut de).ok()?;
    de.end().ok()?;
    if state.failed {
        return None;
    }
    let State {
        mut cdx,
        mut root,
        head,
        deps,
        parts,
        ..
    } = state;

    // What the tree reader's format detection would have refused.
    if root.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        return None;
    }
    let version = root.get("specVersion").and_then(Value::as_str)?.to_owned();
    if !super::VERSIONS.contains(&version.as_str()) {
        return None;
    }
    let format = Format::CycloneDx {
        version: version.clone(),
        encoding: Encoding::Json,
    };

    // The skeleton's schema check, before `tail` takes attributes out of it.
    let deviations = match parts {
        Some(mut p) => {
            let mut skeleton = root.clone();
            if let Some(m) = p.metadata.take() {
                skeleton.insert("metadata".into(), m);
            }
            if p.had_components {
                skeleton.insert("components".into(), Value::Array(vec![]));
            }
            if deps.is_some() {
                skeleton.insert("dependencies".into(), Value::Array(vec![]));
            }
            if let Some(v) = schema::cdx_part(&version, CdxPart::Bom) {
                p.dev.get_or_insert_with(|| Deviations::new(&format));
                if let Some(d) = p.dev.as_mut() {
                    d.check(v, &Value::Object(skeleton), "");
                }
            }
            p.dev.map(Deviations::finish).unwrap_or_default()
        }
        None => Vec::new(),
    };

    if only {
        drop(cdx);
        return Some((ctx, format, deviations));
    }
    let head = match head {
        Some(h) => h,
        None => cdx.head(&mut root).ok()?,
    };
    cdx.tail(&mut root, head, Some(deps.unwrap_or_default()))
        .ok()?;
    drop(cdx);
    ctx.label = format.to_string();
    ctx.warn_all(deviations);
    Some((ctx, format, Vec::new()))
}

struct State<'a, 'c, 'o> {
    cdx: Cdx<'c, 'o>,
    opts: &'a Options,
    /// Every top-level key but `components` and `dependencies`.
    root: Map<String, Value>,
    /// Set once `components` has been read.
    head: Option<Head>,
    deps: Option<Vec<Dep>>,
    parts: Option<Parts>,
    /// Check only: nothing is mapped.
    only: bool,
    /// Set when the stream hit something only the tree reader may answer.
    failed: bool,
}

/// The part-by-part schema check.
#[derive(Default)]
struct Parts {
    dev: Option<Deviations>,
    had_components: bool,
    /// `metadata` as written (the reader takes it apart before the skeleton is
    /// checked).
    metadata: Option<Value>,
    /// Digest of each element's canonical JSON → its index (`uniqueItems`).
    seen: HashMap<[u8; 32], usize>,
    /// The canonical JSON of the element at hand (one buffer, reused).
    buf: Vec<u8>,
}

impl State<'_, '_, '_> {
    /// Checks a value found at `depth` against the limits.
    fn limits_ok(&self, v: &Value, depth: usize) -> bool {
        !matches!(v, Value::Array(_) | Value::Object(_) | Value::String(_))
            || check_tree_at(v, depth, "", &self.opts.limits).is_ok()
    }

    /// The part check of one array element; `false` when the stream must give up
    /// (the spec version is not known yet).
    fn check_part(&mut self, part: CdxPart, array: &str, i: usize, v: &Value) -> bool {
        let Some(p) = self.parts.as_mut() else {
            return true;
        };
        // The spec version must come before the arrays.
        let Some(version) = self.root.get("specVersion").and_then(Value::as_str) else {
            return false;
        };
        let Some(validator) = schema::cdx_part(version, part) else {
            return false;
        };
        let dev = p.dev.get_or_insert_with(|| {
            Deviations::new(&Format::CycloneDx {
                version: version.to_owned(),
                encoding: Encoding::Json,
            })
        });
        // Most elements conform: the pointer is made only for those that do not.
        if !validator.is_valid(v) {
            dev.check(validator, v, &format!("/{array}/{i}"));
        }
        let canonical = &mut p.buf;
        canonical.clear();
        if ailedger_core::canonical::write_value(v, canonical).is_err() {
            return false;
        }
        // Components and dependencies are numbered apart: their digests cannot clash
        // (a component has a `type`, a dependency does not… but do not rely on it).
        canonical.push(match part {
            CdxPart::Component => b'c',
            _ => b'd',
        });
        let digest = Sha256Digest::of(canonical).0;
        if let Some(first) = p.seen.insert(digest, i) {
            dev.add(
                &format!("/{array}"),
                &format!("items {first} and {i} are equal, but the items must be unique"),
            );
        }
        true
    }
}

impl<'de> DeserializeSeed<'de> for &mut State<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

/// Stops the stream: the tree reader takes over.
fn give_up<E: de::Error>(state: &mut State<'_, '_, '_>) -> E {
    state.failed = true;
    E::custom("streaming reader gives up")
}

impl<'de> Visitor<'de> for &mut State<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CycloneDX JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key.len() > self.opts.limits.max_string_len {
                return Err(give_up(self));
            }
            match key.as_str() {
                "components" if self.head.is_none() => {
                    // `metadata` has been read (or is absent): its component comes
                    // first, as in the tree reader.
                    if let Some(p) = self.parts.as_mut() {
                        p.had_components = true;
                        p.metadata = self.root.get("metadata").cloned();
                    }
                    if self.only {
                        self.head = Some(Head {
                            subject: None,
                            metadata: Map::new(),
                            top: Vec::new(),
                        });
                        map.next_value_seed(Components(self))?;
                        continue;
                    }
                    let mut meta = Map::new();
                    if let Some(m) = self.root.get_mut("metadata") {
                        meta.insert("metadata".into(), m.take());
                    }
                    let head = self.cdx.head(&mut meta).map_err(|_| give_up(self))?;
                    if let Some(m) = meta.remove("metadata") {
                        self.root.insert("metadata".into(), m);
                    }
                    self.head = Some(head);
                    map.next_value_seed(Components(self))?;
                }
                "dependencies" if self.deps.is_none() => {
                    map.next_value_seed(Dependencies(self))?;
                }
                "components" | "dependencies" => return Err(give_up(self)),
                "metadata" if self.head.is_some() => return Err(give_up(self)),
                _ => {
                    let v: Value = map.next_value()?;
                    if self.root.contains_key(&key) || !self.limits_ok(&v, 2) {
                        return Err(give_up(self));
                    }
                    if !self.only {
                        let mut ptr = String::new();
                        json::push(&mut ptr, &key);
                        self.cdx
                            .collect_refs(&v, &mut ptr)
                            .map_err(|_| give_up(self))?;
                    }
                    self.root.insert(key, v);
                }
            }
        }
        Ok(())
    }
}

struct Components<'s, 'a, 'c, 'o>(&'s mut State<'a, 'c, 'o>);

impl<'de> DeserializeSeed<'de> for Components<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Components<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of components")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let s = self.0;
        let mut i = 0usize;
        let mut ptr = String::new();
        while let Some(mut c) = seq.next_element::<Value>()? {
            if !s.limits_ok(&c, 3) || !s.check_part(CdxPart::Component, "components", i, &c) {
                return Err(give_up(s));
            }
            if s.only {
                i += 1;
                continue;
            }
            ptr.clear();
            ptr.push_str("/components/");
            ptr.push_str(itoa::Buffer::new().format(i));
            let len = ptr.len();
            s.cdx.collect_refs(&c, &mut ptr).map_err(|_| give_up(s))?;
            ptr.truncate(len);
            let id = s.cdx.component(&mut c, &ptr).map_err(|_| give_up(s))?;
            if let Some(h) = s.head.as_mut() {
                h.top.push(id);
            }
            i += 1;
        }
        Ok(())
    }
}

struct Dependencies<'s, 'a, 'c, 'o>(&'s mut State<'a, 'c, 'o>);

impl<'de> DeserializeSeed<'de> for Dependencies<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Dependencies<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of dependencies")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let s = self.0;
        let mut deps = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut ptr = String::new();
        let mut i = 0usize;
        while let Some(d) = seq.next_element::<Value>()? {
            if !s.limits_ok(&d, 3) || !s.check_part(CdxPart::Dependency, "dependencies", i, &d) {
                return Err(give_up(s));
            }
            i += 1;
            if s.only {
                continue;
            }
            let i = i - 1;
            // A dependency's bom-refs count too (the tree reader collects them all).
            ptr.clear();
            ptr.push_str("/dependencies/");
            ptr.push_str(itoa::Buffer::new().format(i));
            s.cdx.collect_refs(&d, &mut ptr).map_err(|_| give_up(s))?;
            deps.push(dep_of(s.cdx.ctx, &d, i).map_err(|_| give_up(s))?);
        }
        s.deps = Some(deps);
        Ok(())
    }
}
